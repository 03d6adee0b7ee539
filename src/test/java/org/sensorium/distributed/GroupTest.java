package org.sensorium.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** The collectives on real loopback sockets between threads, each thread one rank with its own channels. */
class GroupTest {
    static final byte[] SECRET = "0123456789abcdef0123456789abcdef".getBytes();

    /** Listeners bound to free loopback ports, one per rank. */
    static List<ServerSocketChannel> listeners(int n) throws IOException {
        List<ServerSocketChannel> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(Group.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)));
        }
        return out;
    }

    static List<InetSocketAddress> addresses(List<ServerSocketChannel> ls) throws IOException {
        List<InetSocketAddress> out = new ArrayList<>();
        for (ServerSocketChannel l : ls) {
            out.add((InetSocketAddress) l.getLocalAddress());
        }
        return out;
    }

    /** Runs body(group) as every rank of a world on its own thread; returns each rank's result. */
    static <T> List<T> onRanks(int world, Duration timeout, Function<Collective, T> body) throws Exception {
        List<ServerSocketChannel> ls = listeners(world);
        List<InetSocketAddress> peers = addresses(ls);
        ExecutorService pool = Executors.newFixedThreadPool(world);
        try {
            List<Future<T>> fs = new ArrayList<>();
            for (int r = 0; r < world; r++) {
                WorkerSpec spec = new WorkerSpec(r, world, peers, "cpu", SECRET, timeout);
                ServerSocketChannel l = ls.get(r);
                fs.add(pool.submit(() -> {
                    try (Collective g = Group.join(spec, l)) {
                        return body.apply(g);
                    }
                }));
            }
            List<T> out = new ArrayList<>();
            for (Future<T> f : fs) {
                out.add(f.get(60, TimeUnit.SECONDS));
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void allReduceOfKnownArraysWithWorld3() throws Exception {
        // 5 floats over 3 ranks: segments of 1, 2 and 2 elements
        List<float[]> sums = onRanks(3, Duration.ofSeconds(20), g -> {
            float base = (float) Math.pow(10, g.rank());       // 1, 10, 100
            float[] x = {base, 2 * base, 3 * base, 4 * base, 5 * base};
            g.allReduce(x);
            return x;
        });
        for (float[] s : sums) {
            assertArrayEquals(new float[] {111, 222, 333, 444, 555}, s);
        }
        // fewer elements than ranks: some segments are empty
        List<float[]> tiny = onRanks(3, Duration.ofSeconds(20), g -> {
            float[] x = {g.rank(), 1};
            g.allReduce(x);
            return x;
        });
        tiny.forEach(x -> assertArrayEquals(new float[] {3, 3}, x));
    }

    @Test
    void allReduceLargerThanOneChunk() throws Exception {
        int n = Group.CHUNK_BYTES / Float.BYTES * 2 + 7; // three chunks per rank's half
        List<float[]> sums = onRanks(2, Duration.ofSeconds(30), g -> {
            float[] x = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = g.rank() == 0 ? i % 1000 : 0.5f;
            }
            g.allReduce(x);
            return x;
        });
        for (float[] s : sums) {
            assertEquals(0.5f, s[0]);
            assertEquals(999.5f, s[999]);
            assertEquals((n - 1) % 1000 + 0.5f, s[n - 1]);
        }
        assertArrayEquals(sums.get(0), sums.get(1));
    }

    @Test
    void allGatherBroadcastAndBarrier() throws Exception {
        List<float[][]> gathered = onRanks(3, Duration.ofSeconds(20), g -> {
            float[] mine = new float[g.rank() + 1];                  // rank r contributes r + 1 copies of r
            java.util.Arrays.fill(mine, g.rank());
            float[][] all = g.allGather(mine);
            float[] b = g.rank() == 1 ? new float[] {7, 8, 9} : new float[3];
            g.broadcast(b, 1);
            g.barrier();
            return new float[][] {all[0], all[1], all[2], b};
        });
        for (float[][] r : gathered) {
            assertArrayEquals(new float[] {0}, r[0]);
            assertArrayEquals(new float[] {1, 1}, r[1]);
            assertArrayEquals(new float[] {2, 2, 2}, r[2]);
            assertArrayEquals(new float[] {7, 8, 9}, r[3]);
        }
    }

    @Test
    void aVanishedPeerIsNamedWithinTheTimeout() throws Exception {
        List<ServerSocketChannel> ls = listeners(2);
        List<InetSocketAddress> peers = addresses(ls);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Duration timeout = Duration.ofSeconds(3);
            Future<Collective> one = pool.submit(() -> Group.join(new WorkerSpec(1, 2, peers, "cpu", SECRET, timeout), ls.get(1)));
            Collective zero = Group.join(new WorkerSpec(0, 2, peers, "cpu", SECRET, timeout), ls.get(0));
            Collective g1 = one.get(20, TimeUnit.SECONDS);

            // rank 1 is alive but never calls the collective: rank 0 gives up after the timeout, naming it
            long t0 = System.nanoTime();
            DistException hang = assertThrows(DistException.class, () -> zero.allReduce(new float[1 << 20]));
            double waited = (System.nanoTime() - t0) / 1e9;
            assertTrue(waited >= 2.5 && waited < 10, "waited " + waited + " s");
            assertTrue(hang.getMessage().contains("rank 1") && hang.getMessage().contains("timed out"), hang.getMessage());
            zero.close();

            // the peer's process ends (its sockets close): the other side learns it at once, naming it; the same
            // addresses again (the first join closed its listeners), bound by join itself this time
            Future<Collective> again1 = pool.submit(() -> Group.join(new WorkerSpec(1, 2, peers, "cpu", SECRET, timeout), null));
            Collective again0 = Group.join(new WorkerSpec(0, 2, peers, "cpu", SECRET, timeout), null);
            again1.get(20, TimeUnit.SECONDS).close();
            t0 = System.nanoTime();
            DistException gone = assertThrows(DistException.class, () -> again0.allReduce(new float[] {1, 2, 3}));
            assertTrue((System.nanoTime() - t0) / 1e9 < 3, "a closed peer is noticed without waiting for the timeout");
            assertTrue(gone.getMessage().contains("rank 1") && gone.getMessage().contains(WorkerSpec.format(peers.get(1))),
                    gone.getMessage());
            again0.close();
            g1.close();
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aConnectionWithoutTheSecretIsRefusedAndTheRingStillForms() throws Exception {
        List<ServerSocketChannel> ls = listeners(2);
        List<InetSocketAddress> peers = addresses(ls);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Duration timeout = Duration.ofSeconds(10);
            Future<Collective> zero = pool.submit(() -> Group.join(new WorkerSpec(0, 2, peers, "cpu", SECRET, timeout), ls.get(0)));
            // a stranger claiming to be rank 1 but holding another secret: refused by rank 0
            Handshake.Refused refused = assertThrows(Handshake.Refused.class, () -> {
                try (SocketChannel ch = SocketChannel.open(peers.get(0))) {
                    ch.socket().setSoTimeout(5000);
                    Handshake.connect(new DataInputStream(ch.socket().getInputStream()), new DataOutputStream(ch.socket().getOutputStream()),
                            "another secret, another job....".getBytes(), 1, 0);
                }
            });
            assertTrue(refused.getMessage().contains("prove the job's secret"), refused.getMessage());
            // the real rank 1 still joins
            Future<Collective> one = pool.submit(() -> Group.join(new WorkerSpec(1, 2, peers, "cpu", SECRET, timeout), ls.get(1)));
            try (Collective g0 = zero.get(20, TimeUnit.SECONDS); Collective g1 = one.get(20, TimeUnit.SECONDS)) {
                Future<float[]> r1 = pool.submit(() -> {
                    float[] x = {1};
                    g1.allReduce(x);
                    return x;
                });
                float[] x = {2};
                g0.allReduce(x);
                assertArrayEquals(new float[] {3}, x);
                assertArrayEquals(new float[] {3}, r1.get(10, TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aWorkerWithTheWrongSecretCannotJoin() throws Exception {
        List<ServerSocketChannel> ls = listeners(2);
        List<InetSocketAddress> peers = addresses(ls);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Duration timeout = Duration.ofSeconds(3);
            byte[] other = "fedcba9876543210fedcba9876543210".getBytes();
            Future<Collective> zero = pool.submit(() -> Group.join(new WorkerSpec(0, 2, peers, "cpu", SECRET, timeout), ls.get(0)));
            DistException e = assertThrows(DistException.class,
                    () -> Group.join(new WorkerSpec(1, 2, peers, "cpu", other, timeout), ls.get(1)));
            // whichever side checks first: rank 1 finds rank 0's proof wrong, or rank 0 refuses rank 1's and quits
            assertTrue(e.getMessage().contains("rank 0") && (e.getMessage().contains("secret") || e.getMessage().contains("handshake")),
                    e.getMessage());
            ExecutionException z = assertThrows(ExecutionException.class, () -> zero.get(20, TimeUnit.SECONDS));
            assertTrue(z.getCause().getMessage().contains("rank 1"), z.getCause().getMessage());
        } finally {
            pool.shutdownNow();
        }
    }
}
