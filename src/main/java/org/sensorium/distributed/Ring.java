package org.sensorium.distributed;

import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Forming a worker group's ring: rank r accepts rank r-1's connection on its listener while it connects to rank
 * r+1, retrying until that rank listens (its JVM may still be starting), and both connections must prove the
 * job's secret ({@link Handshake}) before they count. Anyone who reaches the listener can connect to it, so the
 * acceptor does each handshake on a thread of its own with a short deadline, and the connector tries again when a
 * handshake fails in a way a new attempt may cure: connections that say nothing cannot keep the peer out. The collectives that run over the ring are {@link Group}'s;
 * this class only stands it up, so that every failure to do so is reported in one place, naming the peer.
 *
 * <p>Every wait ends by one deadline, the spec's timeout from the start of the join.
 */
final class Ring {
    private static final Logger LOG = LoggerFactory.getLogger(Ring.class);

    /**
     * How long an accepted connection may stay silent. A worker's connector sends its first bytes as soon as it has
     * connected, so 2 s is ample even on a loaded machine, and a silent stranger's connection holds a handshake
     * slot no longer than that.
     */
    static final int FIRST_BYTES_MILLIS = 2_000;

    /**
     * How long one handshake may take, on either side (never past the join's deadline): four short messages and two
     * HMACs take milliseconds, so a handshake still going after 5 s is a stalled or trickling peer. The connector
     * then tries again on a fresh connection.
     */
    static final int HANDSHAKE_MILLIS = 5_000;

    /**
     * Accepted connections in handshake at once, each on its own thread: enough that silent strangers cannot crowd
     * out the real peer, few enough that a flood cannot exhaust threads. Beyond it a connection is closed at once.
     */
    static final int MAX_HANDSHAKES = 64;

    /**
     * Connections the kernel queues for the listener before it accepts them: room for a burst of strangers'
     * connections besides the peer's, whose connect would otherwise wait for the kernel's SYN retries (1 s, 3 s...).
     */
    private static final int BACKLOG = 2 * MAX_HANDSHAKES;

    /** The connector's pause after a failed attempt, doubled after each up to the max. */
    private static final long RETRY_FIRST_MILLIS = 50, RETRY_MAX_MILLIS = 500;

    private Ring() {}

    /**
     * A rank's two connections once the ring stands: it sends to next and receives from prev. Both are
     * non-blocking and registered (with no interest yet) on selector, which the exchange loops wait on.
     */
    record Links(SocketChannel next, InetSocketAddress nextAddress, SocketChannel prev, InetSocketAddress prevAddress,
            Selector selector) {}

    /**
     * Connects this rank to its two neighbours (world size &gt; 1), each authenticated; connections that fail the
     * handshake are logged and refused, and accepting goes on.
     *
     * @param listener bound to spec.self(), or null to bind it here; closed once the ring stands
     * @throws DistException when a neighbour is not there, or not authenticated, within the timeout
     */
    static Links join(WorkerSpec spec, ServerSocketChannel listener) {
        int w = spec.worldSize(), r = spec.rank();
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
                return links(next, nextAddr, p, prevAddr);
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

    /** Makes both connections non-blocking on one selector: the exchange loops move both directions at once. */
    private static Links links(SocketChannel next, InetSocketAddress nextAddr, SocketChannel prev, InetSocketAddress prevAddr)
            throws IOException {
        Selector selector = Selector.open();
        next.configureBlocking(false);
        prev.configureBlocking(false);
        next.register(selector, 0);
        prev.register(selector, 0);
        return new Links(next, nextAddr, prev, prevAddr, selector);
    }

    /** Binds a listener to a worker's address (loopback unless the launcher gave another interface). */
    static ServerSocketChannel bind(InetSocketAddress self) throws IOException {
        ServerSocketChannel l = ServerSocketChannel.open();
        l.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        l.bind(resolved(self), BACKLOG);
        return l;
    }

    /**
     * Connects to rank peer and proves the secret to it, trying again (connect and handshake both, on a fresh
     * connection, after a short pause) until the join's deadline whenever a retry may cure the failure: the peer
     * does not listen yet (its JVM may still be starting), or its acceptor closed or reset our connection, or the
     * handshake timed out (its acceptor may have been full with a flood of strangers' connections, which it closes
     * at once). Only a wrong proof of the secret from the peer ends the join at once ({@link Handshake.WrongSecret}):
     * secrets and ranks do not change during a join, so retrying would only hide a misconfigured job until the
     * timeout, and the worker of another job found at that address would stay there.
     */
    private static SocketChannel connectTo(InetSocketAddress to, WorkerSpec spec, int peer, long deadline) throws InterruptedException {
        String last = "no attempt";
        boolean connected = false; // did any attempt get past the TCP connect (for the final message)
        long pauseMillis = RETRY_FIRST_MILLIS;
        while (System.nanoTime() < deadline) {
            SocketChannel ch = null;
            boolean handshaking = false;
            try {
                ch = SocketChannel.open();
                ch.socket().connect(to, (int) Math.max(1, Math.min(2000, (deadline - System.nanoTime()) / 1_000_000)));
                handshaking = connected = true;
                configure(ch);
                long by = Math.min(deadline, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(HANDSHAKE_MILLIS));
                Handshake.connect(new DataInputStream(new DeadlineInput(ch.socket(), by, by)),
                        new DataOutputStream(ch.socket().getOutputStream()), spec.secret(), spec.rank(), peer);
                ch.socket().setSoTimeout(0);
                return ch;
            } catch (Handshake.WrongSecret e) {
                closeQuietly(ch);
                throw new DistException("rank " + spec.rank() + ": rank " + peer + " at " + WorkerSpec.format(to) + " " + e.getMessage(), e);
            } catch (IOException e) {
                closeQuietly(ch);
                last = e instanceof Handshake.Refused ? e.getMessage() : e.toString();
                if (handshaking) { // unusual (a flood, a loaded peer): say so; a peer not listening yet is not
                    LOG.warn("rank {}: handshake with rank {} at {} failed ({}); trying again", spec.rank(), peer, WorkerSpec.format(to), last);
                } else {
                    LOG.debug("rank {}: rank {} at {} not reachable yet: {}", spec.rank(), peer, WorkerSpec.format(to), last);
                }
            }
            Thread.sleep(Math.max(1, Math.min(pauseMillis, (deadline - System.nanoTime()) / 1_000_000)));
            pauseMillis = Math.min(2 * pauseMillis, RETRY_MAX_MILLIS);
        }
        throw new DistException(String.format("rank %d: rank %d at %s %s within %.0f s (last attempt: %s)", spec.rank(), peer,
                WorkerSpec.format(to), connected ? "did not complete the handshake" : "did not accept a connection",
                spec.timeout().toMillis() / 1000.0, last));
    }

    /**
     * Accepts connections until one is rank peer and proves the secret. Each accepted connection does its handshake
     * on a thread of its own, so that a silent or slow one cannot keep the real peer waiting; at most
     * {@link #MAX_HANDSHAKES} at once, and a connection beyond that is closed at once (the real peer's connector
     * retries). The first connection to complete the handshake wins; the rest are closed when the join ends, and
     * strangers are logged and dropped as they fail.
     */
    private static SocketChannel acceptFrom(ServerSocketChannel listener, WorkerSpec spec, int peer, InetSocketAddress peerAddr,
            long deadline) throws IOException {
        listener.configureBlocking(false);
        try (Selector s = Selector.open()) {
            listener.register(s, SelectionKey.OP_ACCEPT);
            Handshakes handshakes = new Handshakes(s);
            SocketChannel won = null;
            try {
                while ((won = handshakes.winner()) == null) {
                    long left = (deadline - System.nanoTime()) / 1_000_000;
                    if (left <= 0) {
                        throw new DistException(String.format("rank %d: no authenticated connection from rank %d (%s) within %.0f s",
                                spec.rank(), peer, WorkerSpec.format(peerAddr), spec.timeout().toMillis() / 1000.0));
                    }
                    s.select(left); // a handler's win wakes it up
                    s.selectedKeys().clear();
                    for (SocketChannel ch = listener.accept(); ch != null; ch = listener.accept()) {
                        if (handshakes.add(ch)) {
                            SocketChannel accepted = ch;
                            Thread t = new Thread(() -> handshakeFrom(accepted, spec, peer, deadline, handshakes),
                                    "sensorium-handshake-" + spec.rank());
                            t.setDaemon(true); // never keeps a JVM alive: it ends by the handshake's deadline anyway
                            t.start();
                        } else {
                            handshakes.turnedAway(ch, spec.rank());
                        }
                    }
                }
                return won;
            } finally {
                handshakes.end(won, spec.rank());
            }
        }
    }

    /** One accepted connection's handshake, on its own thread: hands a success to handshakes, else logs and closes. */
    private static void handshakeFrom(SocketChannel ch, WorkerSpec spec, int peer, long deadline, Handshakes handshakes) {
        Object from = ch.socket().getRemoteSocketAddress();
        try {
            ch.configureBlocking(true);
            configure(ch);
            // the connector sends its first bytes as soon as it connects: a connection silent for FIRST_BYTES_MILLIS
            // is not a worker; neither deadline goes past the join's
            long now = System.nanoTime();
            long by = Math.min(deadline, now + TimeUnit.MILLISECONDS.toNanos(HANDSHAKE_MILLIS));
            long firstBy = Math.min(by, now + TimeUnit.MILLISECONDS.toNanos(FIRST_BYTES_MILLIS));
            Handshake.accept(new DataInputStream(new DeadlineInput(ch.socket(), firstBy, by)), new DataOutputStream(ch.socket().getOutputStream()),
                    spec.secret(), spec.rank(), peer);
            ch.socket().setSoTimeout(0);
        } catch (IOException e) {
            if (handshakes.lost(ch)) { // else the join is over and closed it: nothing to report
                String why = e instanceof Handshake.Refused || e instanceof SocketTimeoutException ? e.getMessage() : e.toString();
                LOG.warn("rank {}: refused a connection from {}: {}", spec.rank(), from, why);
            }
            closeQuietly(ch);
            return;
        }
        handshakes.won(ch, spec.rank(), peer, from);
    }

    /**
     * The acceptor's connections in handshake during one join, and the first that completed it. Shared by the
     * accepting thread and the handshake threads, hence synchronized.
     */
    private static final class Handshakes {
        private final Selector acceptSelector;
        private final Set<SocketChannel> open = new HashSet<>();
        private SocketChannel winner;
        private boolean over;
        private int turnedAway;

        Handshakes(Selector acceptSelector) {
            this.acceptSelector = acceptSelector;
        }

        /** @return false when MAX_HANDSHAKES are already in progress or the join is over: close ch at once */
        synchronized boolean add(SocketChannel ch) {
            if (over || open.size() >= MAX_HANDSHAKES) {
                return false;
            }
            open.add(ch);
            return true;
        }

        /** Closes a connection that found no free handshake slot; logs the first of a join only (a flood is many). */
        synchronized void turnedAway(SocketChannel ch, int rank) {
            if (turnedAway++ == 0) {
                LOG.warn("rank {}: closed a connection from {} at once: {} handshakes already in progress (a flood of connections?)",
                        rank, ch.socket().getRemoteSocketAddress(), MAX_HANDSHAKES);
            }
            closeQuietly(ch);
        }

        /**
         * ch completed the handshake: the first to do so is the ring's link and the accepting thread is woken to take
         * it; a later one, or one after the join ended, is closed.
         */
        synchronized void won(SocketChannel ch, int rank, int peer, Object from) {
            open.remove(ch);
            if (winner == null && !over) {
                winner = ch;
                acceptSelector.wakeup();
                return;
            }
            if (!over) { // the peer's connector gave up on a connection that, on this side, had just succeeded
                LOG.warn("rank {}: closed a second authenticated connection from rank {} ({}): the ring already has one", rank, peer, from);
            }
            closeQuietly(ch);
        }

        /** @return false when the join is already over (the failure is then only the join closing ch) */
        synchronized boolean lost(SocketChannel ch) {
            return open.remove(ch) && !over;
        }

        synchronized SocketChannel winner() {
            return winner;
        }

        /** The join is over: closes every connection still in handshake (their threads then end), and a winner not taken. */
        synchronized void end(SocketChannel taken, int rank) {
            over = true;
            open.forEach(Ring::closeQuietly);
            open.clear();
            if (winner != null && winner != taken) {
                closeQuietly(winner);
            }
            if (turnedAway > 1) {
                LOG.warn("rank {}: closed {} connections at once during the join, with {} handshakes in progress", rank, turnedAway, MAX_HANDSHAKES);
            }
        }
    }

    /**
     * A socket's input whose reads all end by a deadline. A socket's read timeout bounds each read alone, so a
     * peer sending one byte at a time could stretch a handshake without end; this sets it, before every read, to
     * what is left. Until the first byte arrives the deadline is firstBy (a silent connection is dropped sooner),
     * after it by.
     */
    private static final class DeadlineInput extends InputStream {
        private final Socket socket;
        private final InputStream in;
        private final long firstBy, by;
        private boolean started;

        DeadlineInput(Socket socket, long firstBy, long by) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
            this.firstBy = firstBy;
            this.by = by;
        }

        @Override
        public int read() throws IOException {
            byte[] b = new byte[1];
            return read(b, 0, 1) < 0 ? -1 : b[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            long leftMillis = ((started ? by : firstBy) - System.nanoTime()) / 1_000_000;
            try {
                if (leftMillis <= 0) {
                    throw new SocketTimeoutException();
                }
                socket.setSoTimeout((int) leftMillis);
                int n = in.read(b, off, len);
                started |= n > 0;
                return n;
            } catch (SocketTimeoutException e) {
                throw new SocketTimeoutException(started ? "sent no complete handshake in time" : "sent nothing in time");
            }
        }
    }

    /** The ring's socket options (also the benchmark's loopback copy, so that it compares like with like). */
    static void configure(SocketChannel ch) throws IOException {
        ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
        ch.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
        ch.setOption(StandardSocketOptions.SO_SNDBUF, 4 << 20);
        ch.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
    }

    private static InetSocketAddress resolved(InetSocketAddress a) {
        return a.isUnresolved() ? new InetSocketAddress(a.getHostString(), a.getPort()) : a;
    }

    static void closeQuietly(Closeable c) {
        if (c != null) {
            try {
                c.close();
            } catch (IOException e) {
                // closing after a failure: the first error is the one reported
            }
        }
    }
}
