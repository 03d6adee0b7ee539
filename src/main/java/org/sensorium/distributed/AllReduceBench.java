package org.sensorium.distributed;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * `sensorium bench allreduce`: the ring all-reduce between worker JVMs against copies of the same bytes in one
 * process. Bus bandwidth as NCCL's tests define it: algbw = bytes / time, busbw = algbw x 2 (w - 1) / w (the
 * share of the data each rank must send and receive), so that it compares with a link's copy bandwidth.
 */
public final class AllReduceBench {
    private AllReduceBench() {}

    /**
     * One size's timings (seconds per all-reduce, each after a barrier) and its CPU cost: cpuSeconds is the user +
     * system time of all ranks' processes per all-reduce, which a loaded machine inflates far less than the wall time.
     */
    public record Row(long bytes, double medianSeconds, double bestSeconds, double algBw, double busBw, double cpuSeconds) {}

    /** A copy's best rate (bytes per second, per stream) and the CPU time (user + system, all threads) of one copy. */
    public record Copy(double bytesPerSecond, double cpuSeconds) {}

    /** The copies of one size: memcpy (bytes per second), one loopback socket copy, two at once in opposite directions. */
    public record Copies(double memcpy, Copy socket, Copy duplex) {}

    /** CPU time of this process (all threads, user + system), nanoseconds. */
    static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /**
     * Run by every rank of the group: all-reduces of each size on a direct buffer (the gradients' path); rank 0's
     * rows are returned (others: empty).
     */
    public static List<Row> measure(Collective g, long[] bytes, int reps) {
        List<Row> rows = new ArrayList<>();
        for (long b : bytes) {
            ByteBuffer x = ByteBuffer.allocateDirect(Math.toIntExact(b)).order(ByteOrder.nativeOrder());
            FloatBuffer f = x.asFloatBuffer();
            for (int i = 0; i < f.capacity(); i++) {
                f.put(i, 1f);
            }
            g.allReduce(x); // warm-up: the JIT, the socket buffers
            double[] t = new double[reps];
            long cpu0 = processCpuNanos();
            for (int i = 0; i < reps; i++) {
                g.barrier();
                long t0 = System.nanoTime();
                g.allReduce(x);
                t[i] = (System.nanoTime() - t0) / 1e9;
            }
            float[] cpu = {(processCpuNanos() - cpu0) / 1e9f / reps}; // this rank's, barriers included
            g.allReduce(cpu);
            Arrays.sort(t);
            double median = t[reps / 2];
            double alg = b / median;
            rows.add(new Row(b, median, t[0], alg, alg * 2.0 * (g.worldSize() - 1) / g.worldSize(), cpu[0]));
        }
        return g.rank() == 0 ? rows : List.of();
    }

    /** Bytes per second of copying the same bytes in this process (System.arraycopy of float arrays), best of reps. */
    public static double memcpy(long bytes, int reps) {
        float[] a = new float[Math.toIntExact(bytes / Float.BYTES)], b = new float[a.length];
        Arrays.fill(a, 1f);
        double best = Double.MAX_VALUE;
        for (int i = 0; i <= reps; i++) {
            long t0 = System.nanoTime();
            System.arraycopy(a, 0, b, 0, a.length);
            double s = (System.nanoTime() - t0) / 1e9;
            if (i > 0) {
                best = Math.min(best, s);
            }
        }
        return bytes / best;
    }

    /**
     * Bytes per second of sending the same bytes through loopback TCP connections between threads of this process:
     * the ring's socket options ({@link Ring#configure}), from one direct buffer into another (no Java array on either
     * side, as the all-reduce), a writer and a reader thread per connection, best of reps. streams = 1 is one copy;
     * streams = 2 is two copies at once in opposite directions, what each rank of a 2-rank ring does (it sends the
     * bytes and receives as many); the rate is per stream.
     */
    public static Copy socketCopy(long bytes, int reps, int streams) throws IOException, InterruptedException {
        try (ServerSocketChannel l = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            SocketChannel[] tx = new SocketChannel[streams], rx = new SocketChannel[streams];
            try {
                ByteBuffer[] src = new ByteBuffer[streams], dst = new ByteBuffer[streams];
                for (int i = 0; i < streams; i++) {
                    tx[i] = SocketChannel.open(l.getLocalAddress());
                    rx[i] = l.accept();
                    Ring.configure(tx[i]);
                    Ring.configure(rx[i]);
                    src[i] = ByteBuffer.allocateDirect(Math.toIntExact(bytes));
                    dst[i] = ByteBuffer.allocateDirect(Math.toIntExact(bytes));
                }
                double best = Double.MAX_VALUE;
                long cpu = 0;
                for (int rep = 0; rep <= reps; rep++) { // rep 0 warms up
                    List<Thread> threads = new ArrayList<>();
                    for (int i = 0; i < streams; i++) {
                        threads.add(copier(tx[i], src[i].clear(), true));
                        threads.add(copier(rx[i], dst[i].clear(), false));
                    }
                    long t0 = System.nanoTime(), cpu0 = processCpuNanos();
                    threads.forEach(Thread::start);
                    for (Thread t : threads) {
                        t.join();
                    }
                    double sec = (System.nanoTime() - t0) / 1e9;
                    if (rep > 0) {
                        cpu += processCpuNanos() - cpu0;
                    }
                    for (ByteBuffer d : dst) {
                        if (d.hasRemaining()) {
                            throw new IOException("loopback copy ended with " + d.remaining() + " bytes not received");
                        }
                    }
                    if (rep > 0) {
                        best = Math.min(best, sec);
                    }
                }
                return new Copy(bytes / best, cpu / 1e9 / reps);
            } finally {
                for (int i = 0; i < streams; i++) {
                    Ring.closeQuietly(tx[i]);
                    Ring.closeQuietly(rx[i]);
                }
            }
        }
    }

    /** A thread that writes all of buf to ch, or fills buf from it (blocking channel). */
    private static Thread copier(SocketChannel ch, ByteBuffer buf, boolean write) {
        return new Thread(() -> {
            try {
                while (buf.hasRemaining()) {
                    if (write) {
                        ch.write(buf);
                    } else if (ch.read(buf) < 0) {
                        return;
                    }
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, write ? "sensorium-copy-tx" : "sensorium-copy-rx");
    }

    /** The table, sizes in MB, bandwidths in GB/s (10^9 bytes), then the CPU seconds each operation cost. */
    public static String table(int world, String transport, List<Row> rows, Map<Long, Copies> copies, int reps) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("all-reduce of float32 (direct buffers) between %d JVMs on loopback over %s, median of %d (after a barrier each);%n",
                world, transport.equals("shm") ? "shared memory (shm)" : transport.equals("tcp") ? "the TCP ring (tcp)" : transport, reps));
        sb.append("copies of the same bytes in one process of this run (direct buffers, the ring's socket options), best of the same count;\n");
        sb.append("duplex: two socket copies at once in opposite directions (each rank of a 2-rank ring sends and receives the bytes), GB/s each:\n");
        sb.append(String.format("  %6s %9s %10s %10s %11s %8s %11s %8s %11s %8s%n", "MB", "time s", "algbw GB/s", "busbw GB/s",
                "memcpy GB/s", "x memcpy", "socket GB/s", "x socket", "duplex GB/s", "x duplex"));
        for (Row r : rows) {
            Copies c = copies.get(r.bytes());
            double socket = c.socket().bytesPerSecond(), duplex = c.duplex().bytesPerSecond();
            sb.append(String.format("  %6d %9.4f %10.3f %10.3f %11.3f %8.3f %11.3f %8.3f %11.3f %8.3f%n", r.bytes() >> 20, r.medianSeconds(),
                    r.algBw() / 1e9, r.busBw() / 1e9, c.memcpy() / 1e9, r.busBw() / c.memcpy(), socket / 1e9, r.busBw() / socket,
                    duplex / 1e9, r.busBw() / duplex));
        }
        sb.append("CPU seconds (user + system, all threads) per operation, mean of the timed repetitions:\n");
        sb.append(String.format("  %6s %18s %12s %12s %16s%n", "MB", "all-reduce, ranks", "socket copy", "duplex copy", "all-reduce / socket"));
        for (Row r : rows) {
            Copies c = copies.get(r.bytes());
            double socketCpu = c.socket().cpuSeconds(); // 0 when the copy took less than the CPU clock's tick
            sb.append(String.format("  %6d %18.4f %12.4f %12.4f %16s%n", r.bytes() >> 20, r.cpuSeconds(), socketCpu,
                    c.duplex().cpuSeconds(), socketCpu > 0 ? String.format("%.2f", r.cpuSeconds() / socketCpu) : "-"));
        }
        return sb.toString();
    }

    /** Rows as JSON-friendly maps. */
    public static List<Map<String, Object>> toMaps(List<Row> rows) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Row r : rows) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("bytes", r.bytes());
            m.put("median_s", r.medianSeconds());
            m.put("best_s", r.bestSeconds());
            m.put("algbw", r.algBw());
            m.put("busbw", r.busBw());
            m.put("cpu_s", r.cpuSeconds());
            out.add(m);
        }
        return out;
    }
}
