package org.sensorium.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Silent TCP connections to a worker's port while its group forms (issue 16, item 8): anyone who can reach the
 * port may open them, and they must not keep the real peer out. Real loopback sockets, two ranks on two threads.
 */
class JoinFloodTest {

    @Test
    void fiftySilentConnectionsDoNotStopTheGroupFromForming() throws Exception {
        assertFormsUnderFlood(50);
    }

    @Test
    void moreSilentConnectionsThanTheAcceptorHandlesAtOnce() throws Exception {
        // beyond the acceptor's bound the excess is closed at once, perhaps the real peer's connection too:
        // its connector retries, and gets in once the silent ones' first-bytes deadline has freed their slots
        assertFormsUnderFlood(200);
    }

    /**
     * Opens n silent connections (connected, sending nothing, left open) to rank 1's port, half before either
     * rank joins and half once rank 1 is joining; the 2-rank group must still form within a few seconds and sum.
     */
    private static void assertFormsUnderFlood(int n) throws Exception {
        List<ServerSocketChannel> ls = GroupTest.listeners(2);
        List<InetSocketAddress> peers = GroupTest.addresses(ls);
        List<SocketChannel> silent = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(3);
        Duration timeout = Duration.ofSeconds(15);
        try {
            openSilent(silent, peers.get(1), n / 2);
            Future<Collective> one = pool.submit(() -> Group.join(new WorkerSpec(1, 2, peers, "cpu", GroupTest.SECRET, timeout), ls.get(1)));
            openSilent(silent, peers.get(1), n - n / 2);
            // the flood is in place (or as much of it as the kernel let in within 5 s) before the real peer arrives
            int connected = awaitConnected(silent, 5);
            assertTrue(connected >= n / 2, connected + " of " + n + " silent connections got through");
            long t0 = System.nanoTime();
            Future<Collective> zero = pool.submit(() -> Group.join(new WorkerSpec(0, 2, peers, "cpu", GroupTest.SECRET, timeout), ls.get(0)));
            try (Collective g0 = zero.get(30, TimeUnit.SECONDS); Collective g1 = one.get(30, TimeUnit.SECONDS)) {
                double formed = (System.nanoTime() - t0) / 1e9;
                // a silent connection holds a handshake slot for 2 s at most; the old acceptor waited 10 s on each
                assertTrue(formed < 5, "the group took " + formed + " s to form under " + n + " silent connections");
                Future<float[]> r1 = pool.submit(() -> {
                    float[] x = {1, 10};
                    g1.allReduce(x);
                    return x;
                });
                float[] x = {2, 20};
                g0.allReduce(x);
                assertArrayEquals(new float[] {3, 30}, x);
                assertArrayEquals(new float[] {3, 30}, r1.get(10, TimeUnit.SECONDS));
            }
        } finally {
            silent.forEach(Ring::closeQuietly);
            pool.shutdownNow();
        }
    }

    /**
     * Waits up to the given seconds for the connects to complete (the peer's kernel accepted them, whether or not
     * the worker took them off its queue yet); a connect that failed counts as not connected.
     *
     * @return how many completed
     */
    private static int awaitConnected(List<SocketChannel> chs, int seconds) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (true) {
            int done = 0, failed = 0;
            for (SocketChannel ch : chs) {
                try {
                    done += ch.isConnected() || ch.finishConnect() ? 1 : 0;
                } catch (IOException e) {
                    failed++;
                }
            }
            if (done + failed == chs.size() || System.nanoTime() > until) {
                return done;
            }
            Thread.sleep(20);
        }
    }

    /**
     * Starts n connections to the address and sends nothing on them. Non-blocking connects: once the listener's
     * backlog is full the kernel completes them later (SYN retries), as a flood from outside would arrive.
     */
    private static void openSilent(List<SocketChannel> out, InetSocketAddress to, int n) throws Exception {
        for (int i = 0; i < n; i++) {
            SocketChannel ch = SocketChannel.open();
            ch.configureBlocking(false);
            ch.connect(to);
            out.add(ch);
        }
    }
}
