package org.sensorium.distributed;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A {@link Group}'s ring all-reduce of a direct buffer, in place and pipelined. The ring is Patarasuk &amp; Yuan's
 * (reduce-scatter, then all-gather: 2 (w-1) steps, segment k is floats [n k / w, n (k+1) / w)); each step's segment
 * travels in pieces of {@link #PIECE_BYTES}, and the two directions run on two threads:
 * <ul>
 *   <li>the sender (a thread of its own) writes pieces to rank r+1 straight from the buffer; a piece that this rank
 *       must reduce or receive first (every step after the first) waits until the receiver has it;
 *   <li>the receiver (the caller's thread) reads pieces from rank r-1: in the reduce-scatter into a scratch buffer,
 *       then adds them into the buffer while the kernel receives the next ones and the sender sends; in the
 *       all-gather straight into the buffer.
 * </ul>
 * So the adds of one piece overlap the wire of the next, no float is copied into or out of a Java array, and the
 * only copies are the kernel's. Each float's sum is formed as before (this rank's value + the partial sum received,
 * in ring order, by the one rank that owns its segment, then copied), so every rank gets bitwise the same sums.
 *
 * <p>Every wait ends within the timeout without progress; a failure on either thread stops the other and is thrown
 * from {@link #run}. After a failure the ring's streams are out of step: the group must be closed.
 */
final class RingAllReduce implements AutoCloseable {
    /** The pipeline's grain: small enough that the sender follows the receiver closely, large enough per syscall. */
    static final int PIECE_BYTES = 256 << 10;

    private static final int PIECE_FLOATS = PIECE_BYTES / Float.BYTES;

    /** Floats [from, to) of the buffer, moved in ring step `step`. */
    private record Piece(int step, int from, int to) {}

    private final Group group;
    private final int rank, world;
    private final SocketChannel next, prev;
    private final Selector recvSelector, sendSelector;
    private final long timeoutNanos;
    private final ByteBuffer scratch = ByteBuffer.allocateDirect(PIECE_BYTES).order(ByteOrder.nativeOrder());
    private final FloatBuffer scratchFloats = scratch.asFloatBuffer(); // the same bytes, whatever scratch's limit
    private final ExecutorService sender;

    // one run's shared state: pieces the receiver has finished (guarded by this), a failure on either side
    private int received;
    private volatile boolean aborted;

    RingAllReduce(Group group, int rank, int world, SocketChannel next, SocketChannel prev, Selector recvSelector, long timeoutNanos)
            throws IOException {
        this.group = group;
        this.rank = rank;
        this.world = world;
        this.next = next;
        this.prev = prev;
        this.recvSelector = recvSelector;
        this.timeoutNanos = timeoutNanos;
        this.sendSelector = Selector.open();
        next.register(sendSelector, SelectionKey.OP_WRITE);
        this.sender = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "sensorium-send-" + rank);
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Sums the floats of data, from its position to its limit, over the ranks in place (position and limit are
     * left as they were).
     *
     * @return bytes sent to rank r+1
     * @throws DistException when a neighbour fails, closes its connection or stalls for the timeout
     */
    long run(ByteBuffer data) {
        ByteBuffer buf = data.slice().order(ByteOrder.nativeOrder()); // float i at byte 4 i
        int n = buf.capacity() / Float.BYTES;
        List<Piece> sends = new ArrayList<>(), recvs = new ArrayList<>();
        int[] firstRecv = new int[2 * (world - 1)]; // step -> index of its first piece in recvs
        for (int t = 0; t < 2 * (world - 1); t++) {
            firstRecv[t] = recvs.size();
            cut(sends, t, sendSegment(t), n);
            cut(recvs, t, recvSegment(t), n);
        }
        synchronized (this) {
            received = 0;
        }
        aborted = false;
        Future<Long> sent = sender.submit(() -> send(buf, sends, firstRecv));
        try {
            receive(buf, recvs);
        } catch (Aborted e) {
            // the sender failed first: await throws its failure
        } catch (RuntimeException e) {
            abort();
            awaitQuietly(sent);
            throw e;
        }
        return await(sent);
    }

    /** Segment sent in step t: reduce-scatter steps t &lt; w-1 send (r - t), all-gather steps (r + 1 - (t - w + 1)). */
    private int sendSegment(int t) {
        return t < world - 1 ? Math.floorMod(rank - t, world) : Math.floorMod(rank + 1 - (t - world + 1), world);
    }

    /** Segment received in step t: one behind the sent one, and what step t+1 sends. */
    private int recvSegment(int t) {
        return Math.floorMod(sendSegment(t) - 1, world);
    }

    private void cut(List<Piece> out, int step, int segment, int n) {
        int from = (int) ((long) n * segment / world), to = (int) ((long) n * (segment + 1) / world);
        for (int a = from; a < to; a += PIECE_FLOATS) {
            out.add(new Piece(step, a, Math.min(to, a + PIECE_FLOATS)));
        }
    }

    /** The sender's loop: every piece in order, each after the receiver has the same floats of the step before. */
    private long send(ByteBuffer buf, List<Piece> sends, int[] firstRecv) {
        long bytes = 0;
        int step = -1, inStep = 0;
        try {
            for (Piece p : sends) {
                inStep = p.step() == step ? inStep + 1 : 0;
                step = p.step();
                if (step > 0) {
                    awaitReceived(firstRecv[step - 1] + inStep + 1); // what step-1 received is what step sends
                }
                ByteBuffer out = buf.duplicate().limit(p.to() * Float.BYTES).position(p.from() * Float.BYTES);
                bytes += writeFully(out);
            }
            return bytes;
        } catch (RuntimeException e) {
            abort();
            throw e;
        }
    }

    /** The receiver's loop: reads every piece, adds it in during the reduce-scatter, and tells the sender. */
    private void receive(ByteBuffer buf, List<Piece> recvs) {
        FloatBuffer sums = buf.asFloatBuffer(), in = scratchFloats;
        for (Piece p : recvs) {
            boolean add = p.step() < world - 1;
            int len = p.to() - p.from();
            if (add) {
                readFully(scratch.clear().limit(len * Float.BYTES));
                for (int i = 0, j = p.from(); i < len; i++, j++) { // this rank's value + the partial sum so far
                    sums.put(j, sums.get(j) + in.get(i));
                }
            } else {
                readFully(buf.duplicate().limit(p.to() * Float.BYTES).position(p.from() * Float.BYTES));
            }
            synchronized (this) {
                received++;
                notifyAll();
            }
        }
    }

    private synchronized void awaitReceived(int count) {
        long deadline = System.nanoTime() + timeoutNanos;
        while (received < count && !aborted) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw group.timedOut(false, true, "all-reduce");
            }
            try {
                TimeUnit.NANOSECONDS.timedWait(this, left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DistException("rank " + rank + ": all-reduce interrupted", e);
            }
        }
        checkAborted();
    }

    /** Writes all of out to rank r+1 (non-blocking writes; waits for room at most the timeout without progress). */
    private int writeFully(ByteBuffer out) {
        int total = out.remaining();
        long deadline = System.nanoTime() + timeoutNanos;
        try {
            while (out.hasRemaining()) {
                checkAborted();
                if (group.write(out, "all-reduce") > 0) {
                    deadline = System.nanoTime() + timeoutNanos;
                    continue;
                }
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    throw group.timedOut(true, false, "all-reduce");
                }
                sendSelector.select(left);
                sendSelector.selectedKeys().clear();
            }
        } catch (IOException e) {
            throw new DistException("rank " + rank + ": all-reduce failed: " + e.getMessage(), e);
        }
        return total;
    }

    /** Fills in from rank r-1 (non-blocking reads; waits for bytes at most the timeout without progress). */
    private void readFully(ByteBuffer in) {
        SelectionKey rk = prev.keyFor(recvSelector), wk = next.keyFor(recvSelector);
        long deadline = System.nanoTime() + timeoutNanos;
        try {
            while (in.hasRemaining()) {
                checkAborted();
                if (group.read(in, "all-reduce") > 0) {
                    deadline = System.nanoTime() + timeoutNanos;
                    continue;
                }
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    throw group.timedOut(false, true, "all-reduce");
                }
                wk.interestOps(0);
                rk.interestOps(SelectionKey.OP_READ);
                recvSelector.select(left);
                recvSelector.selectedKeys().clear();
            }
        } catch (IOException e) {
            throw new DistException("rank " + rank + ": all-reduce failed: " + e.getMessage(), e);
        }
    }

    private void checkAborted() {
        if (aborted) {
            throw new Aborted();
        }
    }

    /** Stops the other thread: it throws {@link Aborted} at its next check, and the first failure is reported. */
    private void abort() {
        aborted = true;
        synchronized (this) {
            notifyAll();
        }
        sendSelector.wakeup();
        recvSelector.wakeup();
    }

    /** The sender's result, or its failure (the receiver was stopped by it: the sender's is the first error). */
    private long await(Future<Long> sent) {
        try {
            return sent.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new DistException("rank " + rank + ": all-reduce failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            abort();
            throw new DistException("rank " + rank + ": all-reduce interrupted", e);
        }
    }

    private void awaitQuietly(Future<Long> sent) {
        try {
            sent.get(timeoutNanos, TimeUnit.NANOSECONDS);
        } catch (ExecutionException | TimeoutException e) {
            // the receiver's failure came first and is the one reported
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Thrown on one side when the other failed; never escapes {@link #run} (the first failure does). */
    private static final class Aborted extends DistException {
        Aborted() {
            super("all-reduce stopped: the other direction failed");
        }
    }

    @Override
    public void close() {
        sender.shutdownNow();
        Ring.closeQuietly(sendSelector);
    }
}
