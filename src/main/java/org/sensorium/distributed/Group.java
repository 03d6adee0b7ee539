package org.sensorium.distributed;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;

/**
 * A worker group's collectives over TCP: every rank r keeps one connection to rank r+1 (it sends there) and
 * one from rank r-1 (it receives there), both authenticated by the job's secret; {@link Ring} forms that ring,
 * this class runs the collectives over it. On the ring: all-reduce (Patarasuk &amp; Yuan's bandwidth-optimal
 * reduce-scatter then all-gather, 2 (w-1)/w of the data sent per rank, as NCCL's ring), all-gather, broadcast
 * and barrier. Every collective must be called by every rank in the same order with the same sizes
 * (all-gather's blocks may differ).
 *
 * <p>Every blocking wait ends within the timeout: a peer that stops answering, or closes its connection because
 * its process died, raises a {@link DistException} naming the peer's rank and address. Not thread-safe: one
 * thread at a time calls the collectives ({@link DataParallel} hands its all-reduces to a thread of its own and
 * waits for them before it returns); the all-reduce itself sends on a thread of its own ({@link RingAllReduce}).
 */
public final class Group implements Collective {
    /** Largest piece of a collective in flight at once: bounds the buffers, not the message size. */
    static final int CHUNK_BYTES = 4 << 20;

    private final int rank, world;
    private final InetSocketAddress nextAddress, prevAddress;
    private final Duration timeout;
    private final SocketChannel next, prev;
    private final Selector selector;
    private final ByteBuffer sendBuf, recvBuf;
    private final RingAllReduce ring;
    private ShmAllReduce shm; // the all-reduce's carrier when the group chose shared memory, else null (the ring)
    private ByteBuffer arrayBuf; // float[] all-reduces pass through it (native order); made at first use
    private long bytesSent;
    private long nanos; // spent in collectives since the last takeSeconds

    private Group(int rank, int world, Duration timeout, Ring.Links links) {
        this.rank = rank;
        this.world = world;
        this.timeout = timeout;
        this.next = links.next();
        this.prev = links.prev();
        this.nextAddress = links.nextAddress();
        this.prevAddress = links.prevAddress();
        this.selector = links.selector();
        sendBuf = ByteBuffer.allocateDirect(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        recvBuf = ByteBuffer.allocateDirect(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        try {
            ring = new RingAllReduce(this, rank, world, next, prev, selector, timeout.toNanos());
        } catch (IOException e) {
            close();
            throw new DistException("rank " + rank + ": cannot open a selector for the all-reduce's sender: " + e.getMessage(), e);
        }
    }

    /**
     * Joins the group: accepts rank r-1's connection on the listener while connecting to rank r+1 (retrying
     * until it listens), each authenticated; connections that fail the handshake are logged and refused
     * ({@link Ring}). A group of one needs no connection and gets {@link Collective#local()}.
     *
     * @param listener bound to spec.self(), or null to bind it here; closed once the ring stands
     * @throws DistException when a neighbour is not there, or not authenticated, within the timeout
     */
    public static Collective join(WorkerSpec spec, ServerSocketChannel listener) {
        return join(spec, listener, Transport.TCP);
    }

    /**
     * Joins the group as {@link #join(WorkerSpec, ServerSocketChannel)}, then sets up the all-reduce's transport:
     * shm ({@link ShmAllReduce}, every rank on this host), tcp (the ring), or auto (shm when {@link Transport#sameHost}
     * and every rank could map the segments, else the ring). Every rank must pass the same transport.
     *
     * @throws DistException as the TCP join, or (shm) naming the rank that cannot use shared memory and why
     */
    public static Collective join(WorkerSpec spec, ServerSocketChannel listener, Transport transport) {
        return join(spec, listener, transport, ShmAllReduce.DIR, ShmAllReduce.SEGMENT_BYTES);
    }

    /** With the segments' directory and bound given (tests). */
    static Collective join(WorkerSpec spec, ServerSocketChannel listener, Transport transport, java.nio.file.Path dir, int segmentBytes) {
        if (spec.worldSize() == 1) {
            Ring.closeQuietly(listener);
            return Collective.local();
        }
        Group g = new Group(spec.rank(), spec.worldSize(), spec.timeout(), Ring.join(spec, listener));
        if (transport == Transport.SHM || transport == Transport.AUTO && Transport.sameHost(spec, dir)) {
            try {
                g.shm = ShmAllReduce.open(g, spec.secret(), spec.peers().get(0).getPort(), dir, segmentBytes, g::sync,
                        transport == Transport.SHM);
            } catch (RuntimeException e) {
                g.close();
                throw e;
            }
        }
        return g;
    }

    /** The all-reduce's transport: shm or tcp. */
    public Transport transport() {
        return shm != null ? Transport.SHM : Transport.TCP;
    }

    /** Binds a listener to a worker's address (loopback unless the launcher gave another interface). */
    public static ServerSocketChannel bind(InetSocketAddress self) throws IOException {
        return Ring.bind(self);
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int worldSize() {
        return world;
    }

    /** Bytes this rank has sent since it joined (benchmarks). */
    public long bytesSent() {
        return bytesSent;
    }

    /**
     * Sums data across all ranks in place, copied into a direct buffer and back (for small calls: the trainer's
     * gradients use {@link #allReduce(ByteBuffer)} without the copies).
     */
    @Override
    public void allReduce(float[] data) {
        if (world == 1) {
            return;
        }
        int bytes = Math.multiplyExact(data.length, Float.BYTES);
        if (arrayBuf == null || arrayBuf.capacity() < bytes) { // grown, never shrunk: the same calls come every step
            long doubled = 2L * (arrayBuf == null ? 0 : arrayBuf.capacity());
            arrayBuf = ByteBuffer.allocateDirect((int) Math.max(bytes, Math.min(doubled, Integer.MAX_VALUE))).order(ByteOrder.nativeOrder());
        }
        ByteBuffer b = arrayBuf.clear().limit(bytes);
        b.asFloatBuffer().put(data);
        allReduce(b);
        b.asFloatBuffer().get(data);
    }

    /**
     * Sums the floats of data (position to limit, native byte order) across all ranks in place, pipelined
     * ({@link RingAllReduce}); every rank ends with bitwise the same sums (each segment is added in ring order by one
     * rank and then copied). Position and limit are left as they were.
     *
     * @throws IllegalArgumentException when data is not a direct buffer in native order holding whole floats
     */
    @Override
    public void allReduce(ByteBuffer data) {
        Collective.checkFloats(data);
        if (world == 1) {
            return;
        }
        long t0 = System.nanoTime();
        if (shm != null) {
            shm.run(data);
        } else {
            bytesSent += ring.run(data);
        }
        nanos += System.nanoTime() - t0;
    }

    /** Every rank's block, in rank order (blocks may differ in length). */
    @Override
    public float[][] allGather(float[] mine) {
        byte[][] bytes = allGatherBytes(toBytes(mine));
        float[][] out = new float[world][];
        for (int i = 0; i < world; i++) {
            out[i] = i == rank ? mine.clone() : toFloats(bytes[i]);
        }
        return out;
    }

    /** Every rank's bytes, in rank order. */
    @Override
    public byte[][] allGatherBytes(byte[] mine) {
        long t0 = System.nanoTime();
        byte[][] out = new byte[world][];
        out[rank] = mine;
        for (int s = 0; s < world - 1; s++) {
            int send = Math.floorMod(rank - s, world), recv = Math.floorMod(rank - s - 1, world);
            out[recv] = exchangeBlock(out[send]);
        }
        nanos += System.nanoTime() - t0;
        return out;
    }

    /** Root's bytes on every rank (along the ring; each rank forwards what it received). */
    @Override
    public byte[] broadcastBytes(byte[] data, int root) {
        if (world == 1) {
            return data;
        }
        long t0 = System.nanoTime();
        try {
            return relay(data, root);
        } finally {
            nanos += System.nanoTime() - t0;
        }
    }

    private byte[] relay(byte[] data, int root) {
        boolean forward = Math.floorMod(rank + 1, world) != root;
        if (rank == root) {
            exchangeBlockOneWay(data, true, false);
            return data;
        }
        byte[] got = exchangeBlockOneWay(null, false, true);
        if (forward) {
            exchangeBlockOneWay(got, true, false);
        }
        return got;
    }

    /** Root's floats copied into data on every rank (data's length must be the same everywhere). */
    @Override
    public void broadcast(float[] data, int root) {
        float[] got = toFloats(broadcastBytes(rank == root ? toBytes(data) : new byte[0], root));
        if (rank != root) {
            if (got.length != data.length) {
                throw new DistException("rank " + rank + ": broadcast of " + got.length + " floats into " + data.length);
            }
            System.arraycopy(got, 0, data, 0, data.length);
        }
    }

    /** Returns once every rank has called it (or fails within the timeout naming the neighbour that did not answer). */
    @Override
    public void barrier() {
        allGatherBytes(new byte[0]);
    }

    /** The barrier inside another collective: its time is that collective's. */
    private void sync() {
        for (int s = 0; s < world - 1; s++) {
            exchangeBlock(new byte[0]);
        }
    }

    // ---- the ring's two directions, full duplex so that neither side blocks the other ----

    /** Sends block to the next rank while receiving one (of a length announced first) from the previous. */
    private byte[] exchangeBlock(byte[] block) {
        sendBuf.clear().putInt(block.length).flip();
        recvBuf.clear().limit(Integer.BYTES);
        transfer(sendBuf, recvBuf, "all-gather");
        int len = recvBuf.flip().getInt();
        return streamBytes(block, true, new byte[checkLength(len)], true, "all-gather");
    }

    private byte[] exchangeBlockOneWay(byte[] block, boolean send, boolean receive) {
        sendBuf.clear();
        if (send) {
            sendBuf.putInt(block.length);
        }
        sendBuf.flip();
        recvBuf.clear().limit(receive ? Integer.BYTES : 0);
        transfer(sendBuf, recvBuf, "broadcast");
        byte[] in = receive ? new byte[checkLength(recvBuf.flip().getInt())] : null;
        return streamBytes(send ? block : new byte[0], send, in, receive, "broadcast");
    }

    private int checkLength(int len) {
        if (len < 0) {
            throw new DistException("rank " + rank + ": rank " + prevRank() + " (" + WorkerSpec.format(prevAddress)
                    + ") sent a negative block length: not in step with this rank's collectives");
        }
        return len;
    }

    private byte[] streamBytes(byte[] out, boolean send, byte[] in, boolean receive, String what) {
        int outLen = send ? out.length : 0, inLen = receive ? in.length : 0;
        int o = 0, i = 0;
        while (o < outLen || i < inLen) {
            int sn = Math.min(CHUNK_BYTES, outLen - o), rn = Math.min(CHUNK_BYTES, inLen - i);
            sendBuf.clear().put(out, o, sn).flip();
            recvBuf.clear().limit(rn);
            transfer(sendBuf, recvBuf, what);
            recvBuf.flip().get(in == null ? new byte[0] : in, i, rn);
            o += sn;
            i += rn;
        }
        return in;
    }

    /** Writes out (to next) and fills in (from prev) concurrently, failing within the timeout. */
    private void transfer(ByteBuffer out, ByteBuffer in, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        SelectionKey wk = next.keyFor(selector), rk = prev.keyFor(selector);
        try {
            while (out.hasRemaining() || in.hasRemaining()) {
                boolean progress = false;
                if (out.hasRemaining()) {
                    int n = write(out, what);
                    bytesSent += n;
                    progress |= n > 0;
                }
                if (in.hasRemaining()) {
                    int n = read(in, what);
                    progress |= n > 0;
                }
                if (progress) {
                    continue;
                }
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    throw timedOut(out.hasRemaining(), in.hasRemaining(), what);
                }
                wk.interestOps(out.hasRemaining() ? SelectionKey.OP_WRITE : 0);
                rk.interestOps(in.hasRemaining() ? SelectionKey.OP_READ : 0);
                selector.select(left);
                selector.selectedKeys().clear();
            }
        } catch (IOException e) {
            throw new DistException("rank " + rank + ": " + what + " failed: " + e.getMessage(), e);
        }
    }

    int write(ByteBuffer out, String what) {
        try {
            return next.write(out);
        } catch (IOException e) {
            throw new DistException(String.format("rank %d: %s: lost the connection to rank %d (%s): %s (did its process die?)",
                    rank, what, nextRank(), WorkerSpec.format(nextAddress), e.getMessage()), e);
        }
    }

    int read(ByteBuffer in, String what) {
        int n;
        try {
            n = prev.read(in);
        } catch (IOException e) {
            throw new DistException(String.format("rank %d: %s: lost the connection from rank %d (%s): %s (did its process die?)",
                    rank, what, prevRank(), WorkerSpec.format(prevAddress), e.getMessage()), e);
        }
        if (n < 0) {
            throw new DistException(String.format("rank %d: %s: rank %d (%s) closed its connection (its process ended or failed)",
                    rank, what, prevRank(), WorkerSpec.format(prevAddress)));
        }
        return n;
    }

    DistException timedOut(boolean sending, boolean receiving, String what) {
        String who = receiving
                ? String.format("rank %d (%s) sent nothing", prevRank(), WorkerSpec.format(prevAddress))
                : String.format("rank %d (%s) took nothing", nextRank(), WorkerSpec.format(nextAddress));
        return new DistException(String.format("rank %d: %s timed out after %.0f s: %s (it hangs, died or is not in step)",
                rank, what, timeout.toMillis() / 1000.0, who));
    }

    private int nextRank() {
        return (rank + 1) % world;
    }

    private int prevRank() {
        return (rank - 1 + world) % world;
    }

    static byte[] toBytes(float[] f) {
        ByteBuffer b = ByteBuffer.allocate(f.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(f);
        return b.array();
    }

    static float[] toFloats(byte[] b) {
        float[] f = new float[b.length / Float.BYTES];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
        return f;
    }

    @Override
    public double takeSeconds() {
        double s = nanos / 1e9;
        nanos = 0;
        return s;
    }

    @Override
    public void close() {
        if (ring != null) {
            ring.close();
        }
        Ring.closeQuietly(next);
        Ring.closeQuietly(prev);
        Ring.closeQuietly(selector);
        if (shm != null) { // after the links: an all-reduce at a barrier on another thread fails now, then the segments go
            shm.close();
        }
    }
}
