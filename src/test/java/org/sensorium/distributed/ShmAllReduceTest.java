package org.sensorium.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shared-memory all-reduce between threads (one rank each, the segments in a temporary folder, the barriers on
 * real loopback sockets), against sums worked out by hand and against the TCP ring.
 */
class ShmAllReduceTest {
    @TempDir
    Path dir;

    /** Runs body as every rank of a group joined with transport; segmentBytes bounds each rank's segment. */
    static <T> List<T> onRanks(int world, Transport transport, Path dir, int segmentBytes, Function<Group, T> body) throws Exception {
        List<ServerSocketChannel> ls = GroupTest.listeners(world);
        List<InetSocketAddress> peers = GroupTest.addresses(ls);
        ExecutorService pool = Executors.newFixedThreadPool(world);
        try {
            List<Future<T>> fs = new ArrayList<>();
            for (int r = 0; r < world; r++) {
                WorkerSpec spec = new WorkerSpec(r, world, peers, "cpu", GroupTest.SECRET, Duration.ofSeconds(20));
                ServerSocketChannel l = ls.get(r);
                fs.add(pool.submit(() -> {
                    try (Collective g = Group.join(spec, l, transport, dir, segmentBytes)) {
                        return body.apply((Group) g);
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

    private List<String> files() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).toList();
        }
    }

    @Test
    void oddLengthsOnThreeRanksInPiecesOfTwoFloatsPerSlot() throws Exception {
        int segment = 3 * 2 * Float.BYTES; // 2 floats per rank's slot: 7 floats take 2 pieces, 101 take 17
        List<float[][]> out = onRanks(3, Transport.SHM, dir, segment, g -> {
            assertEquals(Transport.SHM, g.transport());
            return new float[][] {DirectAllReduceTest.allReduced(g, 7), DirectAllReduceTest.allReduced(g, 1),
                    DirectAllReduceTest.allReduced(g, 0), DirectAllReduceTest.allReduced(g, 101)};
        });
        for (float[][] r : out) {
            assertArrayEquals(new float[] {111, 222, 333, 444, 555, 666, 777}, r[0]);
            assertArrayEquals(new float[] {111}, r[1]);
            assertArrayEquals(new float[] {}, r[2]);
            for (int i = 0; i < 101; i++) {
                assertEquals(111f * (i + 1), r[3][i], "element " + i);
            }
        }
    }

    @Test
    void oddLengthsOnTwoRanksLongerThanOnePiece() throws Exception {
        int segment = 2 * 4 * Float.BYTES; // 4 floats per slot
        List<float[][]> out = onRanks(2, Transport.SHM, dir, segment, g -> new float[][] {DirectAllReduceTest.allReduced(g, 7),
                DirectAllReduceTest.allReduced(g, 1), DirectAllReduceTest.allReduced(g, 0), DirectAllReduceTest.allReduced(g, 9),
                DirectAllReduceTest.allReduced(g, 10_001)});
        for (float[][] r : out) {
            assertArrayEquals(new float[] {11, 22, 33, 44, 55, 66, 77}, r[0]);
            assertArrayEquals(new float[] {11}, r[1]);
            assertArrayEquals(new float[] {}, r[2]);
            assertArrayEquals(new float[] {11, 22, 33, 44, 55, 66, 77, 88, 99}, r[3]);
            for (int i = 0; i < 10_001; i++) {
                assertEquals(11f * (i + 1), r[4][i], "element " + i); // exact: 11 x 10001 is far below 2^24
            }
        }
    }

    /** Floats of every magnitude, whose sums depend on the order of addition. */
    private static float[] noisy(int rank, int n) {
        Random rnd = new Random(1000 + rank);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(9) - 4));
        }
        return v;
    }

    @Test
    void bitwiseTheRingsSumsOnThreeAndFourRanks() throws Exception {
        for (int world : new int[] {3, 4}) {
            int n = 1_003;
            Function<Group, float[]> body = g -> {
                ByteBuffer b = DirectAllReduceTest.direct(noisy(g.rank(), n));
                g.allReduce(b);
                return DirectAllReduceTest.floats(b);
            };
            List<float[]> ring = onRanks(world, Transport.TCP, dir, ShmAllReduce.SEGMENT_BYTES, body);
            List<float[]> shm = onRanks(world, Transport.SHM, dir, world * 16 * Float.BYTES, body); // many pieces
            for (int r = 0; r < world; r++) {
                assertArrayEquals(ring.get(0), ring.get(r));
                assertArrayEquals(ring.get(0), shm.get(r), "rank " + r + " of " + world); // bitwise (floatToIntBits)
            }
            // the order matters for these numbers: summed from rank 0 up, some float differs from the ring's sums
            float[][] x = new float[world][];
            for (int r = 0; r < world; r++) {
                x[r] = noisy(r, n);
            }
            int differ = 0;
            for (int i = 0; i < n; i++) {
                float s = 0;
                for (int r = world - 1; r >= 0; r--) {
                    s += x[r][i];
                }
                differ += Float.floatToIntBits(s) != Float.floatToIntBits(ring.get(0)[i]) ? 1 : 0;
            }
            assertTrue(differ > 0, "the test's numbers must be sensitive to the order of addition");
        }
    }

    @Test
    void segmentFilesAreGoneOnceJoinedAndAfterClose() throws Exception {
        List<List<String>> during = onRanks(2, Transport.SHM, dir, 1 << 20, g -> {
            DirectAllReduceTest.allReduced(g, 1000);
            try {
                return files();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        during.forEach(f -> assertEquals(List.of(), f)); // unlinked once every rank mapped them: a crash leaves nothing
        assertEquals(List.of(), files());
    }

    @Test
    void autoPicksSharedMemoryOnLoopbackAndTheRingWithoutTheFolder() throws Exception {
        onRanks(2, Transport.AUTO, dir, 1 << 20, g -> {
            assertEquals(Transport.SHM, g.transport());
            return null;
        });
        Path missing = dir.resolve("no-such-folder");
        List<float[]> sums = onRanks(2, Transport.AUTO, missing, 1 << 20, g -> {
            assertEquals(Transport.TCP, g.transport());
            return DirectAllReduceTest.allReduced(g, 3);
        });
        sums.forEach(s -> assertArrayEquals(new float[] {11, 22, 33}, s));
    }

    @Test
    void shmFailsNamingTheKeyWhenTheFolderIsMissing() throws Exception {
        Path missing = dir.resolve("no-such-folder");
        ExecutionException e = assertThrows(ExecutionException.class, () -> onRanks(2, Transport.SHM, missing, 1 << 20, g -> null));
        assertTrue(e.getCause() instanceof DistException, e.getCause().toString());
        String m = e.getCause().getMessage();
        assertTrue(m.contains("dist.transport=shm") && m.contains("no-such-folder") && m.contains("not a directory"), m);
        assertEquals(1, m.lines().count(), m);
    }

    @Test
    void aFullFolderIsNamedWithItsFreeSpace() throws Exception {
        long free = Files.getFileStore(dir).getUsableSpace();
        String why = ShmAllReduce.checkDir(dir, free + (1L << 30));
        assertNotNull(why);
        assertTrue(why.contains("is full") && why.contains("MB free"), why);
        assertEquals(null, ShmAllReduce.checkDir(dir, 1));
    }

    @Test
    void transportNamesParseAndTyposNameTheKey() {
        assertEquals(Transport.SHM, Transport.parse("dist.transport", "shm"));
        assertEquals(Transport.AUTO, Transport.fromEnv(java.util.Map.of())); // dist.transport's default
        assertEquals(Transport.AUTO, Transport.fromEnv(java.util.Map.of(Transport.ENV, "auto")));
        DistException e = assertThrows(DistException.class, () -> Transport.parse("dist.transport", "nccl"));
        assertEquals("dist.transport: 'nccl' is not auto, tcp or shm", e.getMessage());
    }
}
