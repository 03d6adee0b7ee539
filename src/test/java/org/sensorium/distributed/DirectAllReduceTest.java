package org.sensorium.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The direct-buffer all-reduce and the gradient averaging on it, on real loopback sockets between threads (one rank
 * each), against sums worked out by hand.
 */
class DirectAllReduceTest {

    static ByteBuffer direct(float... v) {
        ByteBuffer b = ByteBuffer.allocateDirect(v.length * Float.BYTES).order(ByteOrder.nativeOrder());
        b.asFloatBuffer().put(v);
        return b;
    }

    static float[] floats(ByteBuffer b) {
        float[] v = new float[b.remaining() / Float.BYTES];
        b.asFloatBuffer().get(v);
        return v;
    }

    /** Rank r holds 10^r x (1, 2, ..., n): the sum is 111 x (1 .. n) on 3 ranks, 11 x (1 .. n) on 2. */
    static float[] allReduced(Collective g, int n) {
        float base = (float) Math.pow(10, g.rank());
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = base * (i + 1);
        }
        ByteBuffer b = direct(v);
        g.allReduce(b);
        assertEquals(0, b.position());
        assertEquals(n * Float.BYTES, b.limit());
        return floats(b);
    }

    @Test
    void oddLengthsOneAndZeroElementsOnThreeRanks() throws Exception {
        // 7 floats over 3 ranks: segments of 2, 2 and 3; 1 float: two empty segments; 0 floats: nothing moves
        List<float[][]> out = GroupTest.onRanks(3, Duration.ofSeconds(20),
                g -> new float[][] {allReduced(g, 7), allReduced(g, 1), allReduced(g, 0), allReduced(g, 2)});
        for (float[][] r : out) {
            assertArrayEquals(new float[] {111, 222, 333, 444, 555, 666, 777}, r[0]);
            assertArrayEquals(new float[] {111}, r[1]);
            assertArrayEquals(new float[] {}, r[2]);
            assertArrayEquals(new float[] {111, 222}, r[3]);
        }
    }

    @Test
    void oddLengthsAndManyPiecesOnTwoRanks() throws Exception {
        int big = 3 * RingAllReduce.PIECE_BYTES / Float.BYTES + 5; // several pieces per segment, the last one short
        List<float[][]> out = GroupTest.onRanks(2, Duration.ofSeconds(20), g -> new float[][] {allReduced(g, 3), allReduced(g, 1),
                allReduced(g, 0), allReduced(g, big)});
        for (float[][] r : out) {
            assertArrayEquals(new float[] {11, 22, 33}, r[0]);
            assertArrayEquals(new float[] {11}, r[1]);
            assertArrayEquals(new float[] {}, r[2]);
            for (int i = 0; i < big; i++) {
                assertEquals(11f * (i + 1), r[3][i], 11f * (i + 1) * 1e-6f, "element " + i); // 11 x (i+1) is exact below 2^24 / 11
            }
        }
        assertArrayEquals(out.get(0)[3], out.get(1)[3]); // bitwise the same on both ranks
    }

    @Test
    void aBufferThatIsNotDirectFloatsInNativeOrderIsRefused() {
        ByteOrder other = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        try (Collective c = Collective.local()) {
            assertThrows(IllegalArgumentException.class, () -> c.allReduce(ByteBuffer.allocate(8).order(ByteOrder.nativeOrder())));
            assertThrows(IllegalArgumentException.class, () -> c.allReduce(ByteBuffer.allocateDirect(8).order(other)));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> c.allReduce(ByteBuffer.allocateDirect(6).order(ByteOrder.nativeOrder())));
            assertEquals(true, e.getMessage().contains("6 bytes"), e.getMessage());
        }
    }

    @Test
    void averageGradientsLeavesEveryGradientEqualToTheMean() throws Exception {
        int world = 3;
        try (NDManager base = NDManager.newBaseManager()) {
            // rank r's gradients, made by backward on this thread (one collector at a time):
            // w (2, 3) = (r + 1) x (1 .. 6), b (7) = 10^r, s (1) = r
            List<Map<String, NDArray>> params = new ArrayList<>();
            for (int r = 0; r < world; r++) {
                Map<String, NDArray> m = new LinkedHashMap<>();
                m.put("w", base.zeros(new Shape(2, 3)));
                m.put("b", base.zeros(new Shape(7)));
                m.put("s", base.zeros(new Shape(1)));
                m.values().forEach(p -> p.setRequiresGradient(true));
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray coeff = base.arange(1f, 7f).reshape(2, 3).mul(r + 1);
                    gc.backward(m.get("w").mul(coeff).sum().add(m.get("b").mul((float) Math.pow(10, r)).sum()).add(m.get("s").mul(r).sum()));
                }
                params.add(m);
            }
            // buckets of at most 2 floats: w and b are buckets of their own, s one more
            List<Map<String, float[]>> after = GroupTest.onRanks(world, Duration.ofSeconds(20), g -> {
                Map<String, NDArray> mine = params.get(g.rank());
                DataParallel dp = new DataParallel(g, () -> mine, 2.0 * Float.BYTES / (1 << 20), 0);
                for (int step = 0; step < 2; step++) { // twice: the buffers are reused; the mean of equal means is the mean
                    try (NDManager sub = base.newSubManager()) {
                        dp.averageGradients(sub);
                    }
                }
                Map<String, float[]> grads = new LinkedHashMap<>();
                for (Map.Entry<String, NDArray> e : mine.entrySet()) {
                    try (NDArray grad = e.getValue().getGradient()) {
                        grads.put(e.getKey(), grad.toFloatArray());
                    }
                }
                return grads;
            });
            // the mean as the trainer defines it: the sum over the ranks, x (1 / w) in float32
            float inv = 1f / world;
            float[] w = new float[6];
            for (int i = 0; i < 6; i++) {
                w[i] = (1 + 2 + 3) * (i + 1) * inv; // 2 x (1 .. 6)
            }
            float[] b = new float[7];
            java.util.Arrays.fill(b, 111 * inv);      // 37
            for (Map<String, float[]> grads : after) {
                assertArrayEquals(w, grads.get("w"));
                assertArrayEquals(new float[] {2, 4, 6, 8, 10, 12}, grads.get("w"));
                assertArrayEquals(b, grads.get("b"));
                assertEquals(37f, grads.get("b")[0]);
                assertArrayEquals(new float[] {(0 + 1 + 2) * inv}, grads.get("s"));
            }
        }
    }
}
