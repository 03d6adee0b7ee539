package org.sensorium.distributed;

import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
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
 * job's secret ({@link Handshake}) before they count. The collectives that run over the ring are {@link Group}'s;
 * this class only stands it up, so that every failure to do so is reported in one place, naming the peer.
 *
 * <p>Every wait ends by one deadline, the spec's timeout from the start of the join.
 */
final class Ring {
    private static final Logger LOG = LoggerFactory.getLogger(Ring.class);

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
        l.bind(resolved(self), 16);
        return l;
    }

    /** Connects to rank peer, retrying while it does not listen yet, then proves the secret to it. */
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
            return authenticatedTo(ch, to, spec, peer, deadline);
        }
        throw new DistException(String.format("rank %d: rank %d at %s did not accept a connection within %.0f s (%s)", spec.rank(), peer,
                WorkerSpec.format(to), spec.timeout().toMillis() / 1000.0, last == null ? "no attempt" : last.getMessage()));
    }

    /** The connector's handshake on a fresh connection; a failure ends the join, since the peer is the one expected. */
    private static SocketChannel authenticatedTo(SocketChannel ch, InetSocketAddress to, WorkerSpec spec, int peer, long deadline) {
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

    /** Accepts connections until one is rank peer and proves the secret; strangers are logged and dropped. */
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
                if (ch != null && authenticatedFrom(ch, spec, peer, deadline)) {
                    return ch;
                }
            }
        }
    }

    /**
     * The acceptor's handshake on an accepted connection.
     *
     * @return false (the connection logged and closed) when it is not rank peer holding the secret
     */
    private static boolean authenticatedFrom(SocketChannel ch, WorkerSpec spec, int peer, long deadline) throws IOException {
        ch.configureBlocking(true);
        try {
            configure(ch);
            ch.socket().setSoTimeout(handshakeMillis(spec, deadline));
            Handshake.accept(new DataInputStream(ch.socket().getInputStream()), new DataOutputStream(ch.socket().getOutputStream()),
                    spec.secret(), spec.rank(), peer);
            ch.socket().setSoTimeout(0);
            return true;
        } catch (IOException e) {
            String why = e instanceof Handshake.Refused ? e.getMessage()
                    : e instanceof SocketTimeoutException ? "sent no complete handshake in time" : e.toString();
            LOG.warn("rank {}: refused a connection from {}: {}", spec.rank(), ch.socket().getRemoteSocketAddress(), why);
            closeQuietly(ch);
            return false;
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
