package org.sensorium.objective;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.sensorium.model.Layers;

/**
 * Local logits (dist.local_loss) against full ones, rank by rank of a simulated world: 3 ranks of 2 rows, N = 6,
 * one row without its pair (so the ranks own 2, 1 and 2 of the n = 5 rows). Each rank's share and its gradient with
 * respect to every gathered row must match, and the shares must add up to one worker's loss over all rows.
 */
class LocalLossTest {
    static final int W = 3, B = 2, N = W * B, E = 4, K = 3;
    static final boolean[] PRESENT = {true, true, true, false, true, true}; // rank 1's second row lacks b
    static final boolean[] ALL = {true, true, true, true, true, true};
    static final double TOL = 1e-6;

    /** A share's value and its gradient with respect to each input (row-major), inputs given as values and shapes. */
    record Grad(double value, List<float[]> grads) {}

    static Grad grad(Function<List<NDArray>, NDArray> f, List<float[]> values, List<Shape> shapes) {
        try (NDManager m = NDManager.newBaseManager()) {
            List<NDArray> in = new ArrayList<>();
            for (int i = 0; i < values.size(); i++) {
                NDArray x = m.create(values.get(i), shapes.get(i));
                x.setRequiresGradient(true);
                in.add(x);
            }
            double v;
            List<float[]> g = new ArrayList<>();
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray loss = f.apply(in);
                v = loss.getFloat();
                gc.backward(loss);
                for (NDArray x : in) {
                    g.add(x.getGradient().toFloatArray());
                }
            }
            return new Grad(v, g);
        }
    }

    static void assertSame(Grad full, Grad local, String what) {
        assertEquals(full.value(), local.value(), TOL, what + ": value");
        double max = 0;
        for (int i = 0; i < full.grads().size(); i++) {
            float[] a = full.grads().get(i), b = local.grads().get(i);
            for (int j = 0; j < a.length; j++) {
                assertEquals(a[j], b[j], TOL, what + ": d/d input " + i + "[" + j + "]");
                max = Math.max(max, Math.abs(a[j] - b[j]));
            }
        }
        System.err.printf("LocalLossTest %s: share %.3g apart, gradients at most %.3g%n", what,
                Math.abs(full.value() - local.value()), max);
    }

    static float[] unitRows(Random r, int rows, int dim) {
        float[] x = new float[rows * dim];
        for (int i = 0; i < rows; i++) {
            double norm = 0;
            for (int j = 0; j < dim; j++) {
                x[i * dim + j] = (float) r.nextGaussian();
                norm += x[i * dim + j] * x[i * dim + j];
            }
            for (int j = 0; j < dim; j++) {
                x[i * dim + j] /= (float) Math.sqrt(norm);
            }
        }
        return x;
    }

    static float[] own(int rank) {
        float[] o = new float[N];
        for (int i = rank * B; i < (rank + 1) * B; i++) {
            o[i] = 1;
        }
        return o;
    }

    @Test
    void ownRowsAmongThoseWithAPair() {
        assertEquals(new GlobalBatch.Own(5, 0, 2), GlobalBatch.Own.of(own(0), PRESENT));
        assertEquals(new GlobalBatch.Own(5, 2, 1), GlobalBatch.Own.of(own(1), PRESENT));
        assertEquals(new GlobalBatch.Own(5, 3, 2), GlobalBatch.Own.of(own(2), PRESENT));
        assertEquals(0, GlobalBatch.Own.of(own(1), new boolean[] {true, true, false, false, true, true}).count());
    }

    /** The symmetric InfoNCE share (contrastive, keyframe_context), with a learnt scale and with a fixed temperature. */
    @Test
    void symmetricInfoNceSharesAndGradientsMatchRankByRank() {
        Random r = new Random(3);
        float[] a = unitRows(r, N, E), b = unitRows(r, N, E);
        for (boolean learnt : new boolean[] {true, false}) {
            double total = 0;
            for (int rank = 0; rank < W; rank++) {
                float[] o = own(rank);
                int[] shape = new int[4];
                Function<Boolean, Function<List<NDArray>, NDArray>> share = local -> in -> {
                    GlobalBatch.Part p = GlobalBatch.symmetricInfoNce("a", "b", 10f, local).of(Map.of("a", in.get(0), "b", in.get(1)),
                            Map.of("a", ALL, "b", PRESENT), o, learnt ? in.get(2) : null);
                    shape[local ? 2 : 0] = p.rows();
                    shape[local ? 3 : 1] = p.cols();
                    return p.loss();
                };
                List<float[]> values = List.of(a, b, new float[] {7f});
                List<Shape> shapes = List.of(new Shape(N, E), new Shape(N, E), new Shape());
                Grad full = grad(share.apply(false), values, shapes), local = grad(share.apply(true), values, shapes);
                assertSame(full, local, "rank " + rank + (learnt ? " learnt scale" : " fixed temperature"));
                assertEquals(5, shape[0]);
                assertEquals(5, shape[1]);
                assertEquals(GlobalBatch.Own.of(o, PRESENT).count(), shape[2], "rows of the local logits: this rank's");
                assertEquals(5, shape[3], "columns of the local logits: the group's");
                total += local.value();
            }
            // the shares add up to one worker's loss over the 5 rows with both
            try (NDManager m = NDManager.newBaseManager()) {
                NDArray xa = Contrastive.rows(m.create(a, new Shape(N, E)), PRESENT), xb = Contrastive.rows(m.create(b, new Shape(N, E)), PRESENT);
                assertEquals(Contrastive.infoNce(xa, xb, m.create(learnt ? 7f : 10f)).getFloat(), total, TOL);
            }
        }
    }

    /** A rank none of whose rows has the pair: a zero share and zero gradients, as with the full logits. */
    @Test
    void aRankWithoutRowsGivesZero() {
        Random r = new Random(11);
        float[] a = unitRows(r, N, E), b = unitRows(r, N, E);
        boolean[] present = {true, true, false, false, true, true};
        for (boolean local : new boolean[] {false, true}) {
            Grad g = grad(in -> GlobalBatch.symmetricInfoNce("a", "b", 10f, local).of(Map.of("a", in.get(0), "b", in.get(1)),
                    Map.of("a", ALL, "b", present), own(1), null).loss(), List.of(a, b), List.of(new Shape(N, E), new Shape(N, E)));
            assertEquals(0, g.value(), 0);
            for (float[] x : g.grads()) {
                for (float v : x) {
                    assertEquals(0, v, 0, local ? "local" : "full");
                }
            }
        }
    }

    /** MIL-NCE: this rank's clips' and bags' r_i from (n_r, n x K) logits against the full (n, n x K) ones. */
    @Test
    void milNcePerSampleAndGradientsMatchRankByRank() {
        Random r = new Random(5);
        int n = 5;
        float[] v = unitRows(r, n, E), t = unitRows(r, n * K, E);
        boolean[] valid = {true, true, false, true, true, true, true, false, false, true, true, true, false, true, true}; // (n, K)
        List<float[]> values = List.of(v, t, new float[] {5f});
        List<Shape> shapes = List.of(new Shape(n, E), new Shape(n, K, E), new Shape());
        double total = 0;
        for (GlobalBatch.Own o : List.of(new GlobalBatch.Own(n, 0, 2), new GlobalBatch.Own(n, 2, 1), new GlobalBatch.Own(n, 3, 2))) {
            Grad full = grad(in -> {
                float[] mine = new float[n];
                for (int i = o.from(); i < o.from() + o.count(); i++) {
                    mine[i] = 1;
                }
                NDArray mask = in.get(0).getManager().create(valid, new Shape(n, K));
                NDArray rs = MilNce.perSample(in.get(0), in.get(1), mask, in.get(2)).mul(in.get(0).getManager().create(mine)).sum();
                return Layers.scale(rs, 0.5f / n);                                  // the share, as MilNce's
            }, values, shapes);
            Grad local = grad(in -> Layers.scale(MilNce.localPerSample(in.get(0), in.get(1),
                    in.get(0).getManager().create(valid, new Shape(n, K)), o, in.get(2)).sum(), 0.5f / n), values, shapes);
            assertSame(full, local, "mil_nce rows " + o);
            total += local.value();
        }
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray loss = MilNce.milNce(m.create(v, new Shape(n, E)), m.create(t, new Shape(n, K, E)), m.create(valid, new Shape(n, K)),
                    m.create(5f));
            assertEquals(loss.getFloat(), total, TOL);
        }
    }

    /** NT-Xent: this rank's rows of both views from (2n_r, 2n) logits against the full (2n, 2n) ones. */
    @Test
    void ntXentRowsAndGradientsMatchRankByRank() {
        Random r = new Random(7);
        int n = 5;
        float[] z1 = unitRows(r, n, E), z2 = unitRows(r, n, E);
        List<float[]> values = List.of(z1, z2);
        List<Shape> shapes = List.of(new Shape(n, E), new Shape(n, E));
        double total = 0;
        for (GlobalBatch.Own o : List.of(new GlobalBatch.Own(n, 0, 2), new GlobalBatch.Own(n, 2, 1), new GlobalBatch.Own(n, 3, 2))) {
            Grad full = grad(in -> {
                float[] mine = new float[2 * n];
                for (int i = o.from(); i < o.from() + o.count(); i++) {
                    mine[i] = 1;
                    mine[n + i] = 1;
                }
                NDArray picked = TwoView.picked(in.get(0), in.get(1), 0.1f).mul(in.get(0).getManager().create(mine)).sum();
                return Layers.scale(picked, -1f / (2 * n));                         // the share, as TwoView's
            }, values, shapes);
            Grad local = grad(in -> Layers.scale(TwoView.localPicked(in.get(0), in.get(1), o, 0.1f).sum(), -1f / (2 * n)),
                    values, shapes);
            assertSame(full, local, "two_view rows " + o);
            total += local.value();
        }
        try (NDManager m = NDManager.newBaseManager()) {
            assertEquals(TwoView.ntXent(m.create(z1, new Shape(n, E)), m.create(z2, new Shape(n, E)), 0.1f).getFloat(),
                    total, TOL);
        }
    }
}
