package org.sensorium.distributed;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker group's collectives over TCP: every rank r keeps one connection to rank r+1 (it sends there) and
 * one from rank r-1 (it receives there), both authenticated by the job's secret ({@link Handshake}). On that
 * ring: all-reduce (Patarasuk &amp; Yuan's bandwidth-optimal reduce-scatter then all-gather, 2 (w-1)/w of the
 * data sent per rank, as NCCL's ring), all-gather, broadcast and barrier. Every collective must be called by
 * every rank in the same order with the same sizes (all-gather's blocks may differ).
 *
 * <p>Every blocking wait ends within the timeout: a peer that stops answering, or closes its connection because
 * its process died, raises a {@link DistException} naming the peer's rank and address. One group per thread
 * at a time; it is not thread-safe.
 */
public final class Group implements Collective {
    private static final Logger LOG = LoggerFactory.getLogger(Group.class);
    /** Largest piece of a collective in flight at once: bounds the buffers, not the message size. */
    static final int CHUNK_BYTES = 4 << 20;

    private final int rank, world;
    private final InetSocketAddress nextAddress, prevAddress;
    private final Duration timeout;
    private final SocketChannel next, prev; // null when world == 1
    private final Selector selector;
    private final ByteBuffer sendBuf, recvBuf;
    private final float[] scratch;
    private long bytesSent;
    private long nanos; // spent in collectives since the last takeSeconds

    private Group(int rank, int world, InetSocketAddress nextAddress, InetSocketAddress prevAddress, Duration timeout,
            SocketChannel next, SocketChannel prev) throws IOException {
        this.rank = rank;
        this.world = world;
        this.nextAddress = nextAddress;
        this.prevAddress = prevAddress;
        this.timeout = timeout;
        this.next = next;
        this.prev = prev;
        if (world > 1) {
            selector = Selector.open();
            next.configureBlocking(false);
            prev.configureBlocking(false);
            next.register(selector, 0);
            prev.register(selector, 0);
            sendBuf = ByteBuffer.allocateDirect(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            recvBuf = ByteBuffer.allocateDirect(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            scratch = new float[CHUNK_BYTES / Float.BYTES];
        } else {
            selector = null;
            sendBuf = recvBuf = null;
            scratch = null;
        }
    }

    /**
     * Joins the group: accepts rank r-1's connection on the listener while connecting to rank r+1 (retrying
     * until it listens), each authenticated; connections that fail the handshake are logged and refused.
     *
     * @param listener bound to spec.self(), or null to bind it here; closed once the ring stands
     * @throws DistException when a neighbour is not there, or not authenticated, within the timeout
     */
    public static Collective join(WorkerSpec spec, ServerSocketChannel listener) {
        int w = spec.worldSize(), r = spec.rank();
        if (w == 1) {
            closeQuietly(listener);
            return Collective.local();
        }
        long deadline = System.nanoTime() + spec.timeout().toNanos();
        int prevRank = (r - 1 + w) % w, nextRank = (r + 1) % w;
        InetSocketAddress nextAddr = resolved(spec.peers().get(nextRank)), prevAddr = resolved(spec.peers().get(prevRank));
        ExecutorService acceptor = Executors.newSingleThreadExecutor(t -> {
            Thread th = new Thread(t, "sensorium-accept");
            th.setDaemon(true);
            return th;
        });
        SocketChannel next = null;
        try {
            ServerSocketChannel l = listener != null ? listener : bind(spec.self());
            Future<SocketChannel> prev = acceptor.submit(() -> acceptFrom(l, spec, prevRank, prevAddr, deadline));
            try {
                next = connectTo(nextAddr, spec, nextRank, deadline);
                SocketChannel p = prev.get(Math.max(1, deadline - System.nanoTime()) + TimeUnit.SECONDS.toNanos(1), TimeUnit.NANOSECONDS);
                LOG.info("rank {}/{}: ring connected (to rank {} at {}, from rank {} at {})", r, w, nextRank,
                        WorkerSpec.format(nextAddr), prevRank, WorkerSpec.format(prevAddr));
                return new Group(r, w, nextAddr, prevAddr, spec.timeout(), next, p);
            } finally {
                closeQuietly(l);
            }
        } catch (ExecutionException e) {
            closeQuietly(next);
            throw e.getCause() instanceof DistException d ? d : new DistException("rank " + r + ": " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            closeQuietly(next);
            throw new DistException(String.format("rank %d: no authenticated connection from rank %d (%s) within %.0f s", r, prevRank,
                    WorkerSpec.format(prevAddr), spec.timeout().toMillis() / 1000.0));
        } catch (IOException e) {
            closeQuietly(next);
            throw new DistException("rank " + r + ": cannot listen on " + WorkerSpec.format(spec.self()) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeQuietly(next);
            throw new DistException("rank " + r + ": interrupted while joining the group", e);
        } finally {
            acceptor.shutdownNow();
        }
    }

    /** Binds a listener to a worker's address (loopback unless the launcher gave another interface). */
    public static ServerSocketChannel bind(InetSocketAddress self) throws IOException {
        ServerSocketChannel l = ServerSocketChannel.open();
        l.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        l.bind(resolved(self), 16);
        return l;
    }

    private static SocketChannel connectTo(InetSocketAddress to, WorkerSpec spec, int peer, long deadline) throws IOException, InterruptedException {
        IOException last = null;
        while (System.nanoTime() < deadline) {
            SocketChannel ch = SocketChannel.open();
            try {
                ch.socket().connect(to, (int) Math.max(1, Math.min(2000, (deadline - System.nanoTime()) / 1_000_000)));
            } catch (IOException e) { // not listening yet: the peer's JVM may still be starting
                last = e;
                closeQuietly(ch);
                Thread.sleep(50);
                continue;
            }
            try {
                configure(ch);
                ch.socket().setSoTimeout(handshakeMillis(spec, deadline));
                Handshake.connect(new DataInputStream(ch.socket().getInputStream()), new DataOutputStream(ch.socket().getOutputStream()),
                        spec.secret(), spec.rank(), peer);
                ch.socket().setSoTimeout(0);
                return ch;
            } catch (IOException e) {
                closeQuietly(ch);
                throw new DistException("rank " + spec.rank() + ": rank " + peer + " at " + WorkerSpec.format(to) + " "
                        + (e instanceof Handshake.Refused ? e.getMessage() : "failed the handshake: " + e), e);
            }
        }
        throw new DistException(String.format("rank %d: rank %d at %s did not accept a connection within %.0f s (%s)", spec.rank(), peer,
                WorkerSpec.format(to), spec.timeout().toMillis() / 1000.0, last == null ? "no attempt" : last.getMessage()));
    }

    private static SocketChannel acceptFrom(ServerSocketChannel listener, WorkerSpec spec, int peer, InetSocketAddress peerAddr,
            long deadline) throws IOException {
        listener.configureBlocking(false);
        try (Selector s = Selector.open()) {
            listener.register(s, SelectionKey.OP_ACCEPT);
            while (true) {
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    throw new DistException(String.format("rank %d: no authenticated connection from rank %d (%s) within %.0f s",
                            spec.rank(), peer, WorkerSpec.format(peerAddr), spec.timeout().toMillis() / 1000.0));
                }
                s.select(left);
                s.selectedKeys().clear();
                SocketChannel ch = listener.accept();
                if (ch == null) {
                    continue;
                }
                ch.configureBlocking(true);
                try {
                    configure(ch);
                    ch.socket().setSoTimeout(handshakeMillis(spec, deadline));
                    Handshake.accept(new DataInputStream(ch.socket().getInputStream()), new DataOutputStream(ch.socket().getOutputStream()),
                            spec.secret(), spec.rank(), peer);
                    ch.socket().setSoTimeout(0);
                    return ch;
                } catch (IOException e) {
                    String why = e instanceof Handshake.Refused ? e.getMessage()
                            : e instanceof SocketTimeoutException ? "sent no complete handshake in time" : e.toString();
                    LOG.warn("rank {}: refused a connection from {}: {}", spec.rank(), ch.socket().getRemoteSocketAddress(), why);
                    closeQuietly(ch);
                }
            }
        }
    }

    /** A handshake gets at most 10 s of the join's time: a silent stranger cannot hold the listener for long. */
    private static int handshakeMillis(WorkerSpec spec, long deadline) {
        return (int) Math.max(1, Math.min(10_000, Math.min(spec.timeout().toMillis(), (deadline - System.nanoTime()) / 1_000_000 + 1000)));
    }

    private static void configure(SocketChannel ch) throws IOException {
        ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
        ch.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
        ch.setOption(StandardSocketOptions.SO_SNDBUF, 4 << 20);
        ch.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
    }

    private static InetSocketAddress resolved(InetSocketAddress a) {
        return a.isUnresolved() ? new InetSocketAddress(a.getHostString(), a.getPort()) : a;
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
     * Sums data across all ranks in place; every rank ends with the same sum (each segment is added in
     * ring order by one rank and then copied, so the results are bitwise identical on every rank).
     */
    @Override
    public void allReduce(float[] data) {
        if (world == 1) {
            return;
        }
        long t0 = System.nanoTime();
        int n = data.length;
        // segment k: [start(k), start(k+1))
        for (int s = 0; s < world - 1; s++) { // reduce-scatter: after it, rank r holds the sum of segment (r+1) % w
            int send = Math.floorMod(rank - s, world), recv = Math.floorMod(rank - s - 1, world);
            exchangeFloats(data, start(send, n), start(send + 1, n), start(recv, n), start(recv + 1, n), true);
        }
        for (int s = 0; s < world - 1; s++) { // all-gather of the summed segments
            int send = Math.floorMod(rank + 1 - s, world), recv = Math.floorMod(rank - s, world);
            exchangeFloats(data, start(send, n), start(send + 1, n), start(recv, n), start(recv + 1, n), false);
        }
        nanos += System.nanoTime() - t0;
    }

    private int start(int segment, int n) {
        return (int) ((long) n * segment / world);
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

    // ---- the ring's two directions, full duplex so that neither side blocks the other ----

    /**
     * Sends data[sendFrom, sendTo) to the next rank while receiving [recvFrom, recvTo) from the previous, adding or
     * copying it. Streams: the send buffer is refilled and the received floats are consumed as the sockets move
     * them, so neither side waits for a whole chunk (the adds are the same, element by element, in the same order).
     */
    private void exchangeFloats(float[] data, int sendFrom, int sendTo, int recvFrom, int recvTo, boolean add) {
        long deadline = System.nanoTime() + timeout.toNanos();
        SelectionKey wk = next.keyFor(selector), rk = prev.keyFor(selector);
        int sent = sendFrom, recvd = recvFrom;
        sendBuf.clear().flip();  // empty, ready to drain
        recvBuf.clear();         // empty, ready to fill
        try {
            while (sent < sendTo || sendBuf.hasRemaining() || recvd < recvTo) {
                boolean progress = false;
                if (sendBuf.remaining() < Float.BYTES && sent < sendTo) { // refill with whole floats
                    sendBuf.compact();
                    int n = Math.min(sendTo - sent, sendBuf.remaining() / Float.BYTES);
                    sendBuf.asFloatBuffer().put(data, sent, n);
                    sendBuf.position(sendBuf.position() + n * Float.BYTES).flip();
                    sent += n;
                }
                if (sendBuf.hasRemaining()) {
                    int n = write(sendBuf, "all-reduce");
                    bytesSent += n;
                    progress |= n > 0;
                }
                if (recvd < recvTo) {
                    // never past this segment: the bytes after it are the peer's next message
                    recvBuf.limit((int) Math.min(recvBuf.capacity(), (long) (recvTo - recvd) * Float.BYTES));
                    int n = read(recvBuf, "all-reduce");
                    progress |= n > 0;
                    int floats = recvBuf.position() / Float.BYTES;
                    if (floats > 0) {
                        recvBuf.flip();
                        FloatBuffer fb = recvBuf.asFloatBuffer();
                        if (add) {
                            fb.get(scratch, 0, floats); // one bulk copy, then a loop the JIT vectorises
                            for (int i = 0; i < floats; i++) {
                                data[recvd + i] += scratch[i];
                            }
                        } else {
                            fb.get(data, recvd, floats);
                        }
                        recvd += floats;
                        recvBuf.position(floats * Float.BYTES);
                        recvBuf.compact();
                    }
                }
                if (progress) {
                    continue;
                }
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    throw timedOut(sendBuf.hasRemaining() || sent < sendTo, recvd < recvTo, "all-reduce");
                }
                wk.interestOps(sendBuf.hasRemaining() ? SelectionKey.OP_WRITE : 0);
                rk.interestOps(recvd < recvTo ? SelectionKey.OP_READ : 0);
                selector.select(left);
                selector.selectedKeys().clear();
            }
        } catch (IOException e) {
            throw new DistException("rank " + rank + ": all-reduce failed: " + e.getMessage(), e);
        }
    }

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

    private int write(ByteBuffer out, String what) {
        try {
            return next.write(out);
        } catch (IOException e) {
            throw new DistException(String.format("rank %d: %s: lost the connection to rank %d (%s): %s (did its process die?)",
                    rank, what, nextRank(), WorkerSpec.format(nextAddress), e.getMessage()), e);
        }
    }

    private int read(ByteBuffer in, String what) {
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

    private DistException timedOut(boolean sending, boolean receiving, String what) {
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

    private static void closeQuietly(java.io.Closeable c) {
        if (c != null) {
            try {
                c.close();
            } catch (IOException e) {
                // closing after a failure: the first error is the one reported
            }
        }
    }

    @Override
    public double takeSeconds() {
        double s = nanos / 1e9;
        nanos = 0;
        return s;
    }

    @Override
    public void close() {
        closeQuietly(next);
        closeQuietly(prev);
        closeQuietly(selector);
    }
}
