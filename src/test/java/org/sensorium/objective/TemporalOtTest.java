package org.sensorium.objective;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.config.ConfigLoader;
import org.sensorium.data.Batch;
import org.sensorium.model.ModelOutput;
import org.sensorium.model.Params;
import org.sensorium.config.Modality;

class TemporalOtTest {

    /** IMU only, 2 s clips at 50 Hz in patches of 10: T = 10 frames of 0.2 s; width 4, E = 3, K = 3. */
    static Config tiny(String... more) {
        List<String> sets = new ArrayList<>(List.of("data.modalities=[imu]", "objectives.contrastive.weight=0",
                "objectives.temporal_ot.weight=1", "objectives.temporal_ot.windows=0", "objectives.temporal_ot.prototypes=3", "model.width=4", "model.heads=1",
                "model.embed_dim=3", "objectives.temporal_ot.coherence_near=0.2", "objectives.temporal_ot.coherence_far=1.0"));
        sets.addAll(List.of(more));
        return ConfigLoader.load(null, sets).config();
    }

    @Test
    void assignmentLossByHand() {
        // One clip of 2 frames, K = 2, tau = 1. S row 0 = [ln 3, 0] -> P = [3/4, 1/4]; row 1 = 0 -> [1/2, 1/2].
        // Q = [[1, 0], [1/2, 1/2]]: L = -(ln 3/4 + 1/2 ln 1/2 + 1/2 ln 1/2) / 2 = 0.490415
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray s = m.create(new float[] {(float) Math.log(3), 0, 0, 0}, new Shape(1, 2, 2));
            double[][][] q = {{{1, 0}, {0.5, 0.5}}};
            assertEquals(0.490415, TemporalOt.assignment(s, q, 1.0).getFloat(), 1e-6);
        }
    }

    @Test
    void coherenceWindowsAndLossByHand() {
        // 3 frames 1 s apart, near 1 s, far 1.5 s: neighbours are positives, frames 2 s apart negatives.
        float[][][] w = TemporalCoherence.windows(3, 1.0, 1.0, 1.5);
        assertArrayEquals(new float[] {0, 1, 0}, w[0][0]);
        assertArrayEquals(new float[] {1, 0, 1}, w[0][1]);
        assertArrayEquals(new float[] {0, 0, 1}, w[1][0]);
        assertArrayEquals(new float[] {0, 0, 0}, w[1][1]);
        float[] anchors = TemporalCoherence.anchors(w[0], w[1]);
        assertArrayEquals(new float[] {1, 0, 1}, anchors); // the middle frame has no negative
        // z0 = (1, 0), z1 = (0.6, 0.8), z2 = (0, 1), tau 1: sims z0.z1 = 0.6, z0.z2 = 0, z1.z2 = 0.8.
        // Anchor 0: -log(e^0.6 / (e^0.6 + e^0)) = log(1 + e^-0.6) = 0.437488; anchor 2: log(1 + e^-0.8) = 0.371101.
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray z = m.create(new float[] {1, 0, 0.6f, 0.8f, 0, 1}, new Shape(1, 3, 2));
            assertEquals((0.437488 + 0.371101) / 2, TemporalCoherence.coherence(z, w[0], w[1], anchors, 1.0).getFloat(), 1e-6);
        }
    }

    @Test
    void orderAgreementIsTheLongestNonDecreasingShare() {
        assertEquals(1.0, TemporalOt.orderAgreement(new int[] {0, 0, 1, 1, 2}), 1e-12);
        assertEquals(0.8, TemporalOt.orderAgreement(new int[] {0, 2, 1, 1, 3}), 1e-12); // 0 1 1 3
        assertEquals(0.25, TemporalOt.orderAgreement(new int[] {3, 2, 1, 0}), 1e-12);
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        SplittableRandom r = new SplittableRandom(2);
        double[][][] q = new double[2][10][3];
        for (double[][] plan : q) {
            for (double[] row : plan) {
                double a = r.nextDouble(), b = r.nextDouble() * (1 - a);
                row[0] = a;
                row[1] = b;
                row[2] = 1 - a - b;
            }
        }
        float[] s = new float[2 * 10 * 3];
        for (int i = 0; i < s.length; i++) {
            s[i] = (float) r.nextDouble(-1, 1);
        }
        GradCheck.check(x -> TemporalOt.assignment(x, q, 0.5), s, new Shape(2, 10, 3), 2e-4);
        float[][][] w = TemporalCoherence.windows(6, 0.5, 0.5, 1.0);
        float[] anchors = TemporalCoherence.anchors(w[0], w[1]);
        float[] z = new float[2 * 6 * 3];
        for (int i = 0; i < z.length; i++) {
            z[i] = (float) r.nextDouble(-0.5, 0.5);
        }
        GradCheck.check(x -> TemporalCoherence.coherence(x, w[0], w[1], anchors, 0.5), z, new Shape(2, 6, 3), 5e-4);

        // The whole differentiable path, trunk tokens -> frames -> projection -> scores -> both terms (Q held fixed).
        try (NDManager m = NDManager.newBaseManager(); Params p = new Params(m, 1)) {
            TemporalOt tot = new TemporalOt(tiny(), p);
            float[][][] cw = TemporalCoherence.windows(10, 0.2, 0.2, 1.0);
            float[] ca = TemporalCoherence.anchors(cw[0], cw[1]);
            float[] tokens = new float[2 * 10 * 4];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = (float) r.nextDouble(-1, 1);
            }
            boolean[] both = {true, true};
            GradCheck.check(x -> {
                NDArray f = tot.frameEmbeddings(x, both);
                return TemporalOt.assignment(tot.scores(f), q, 0.1).add(TemporalCoherence.coherence(f, cw[0], cw[1], ca, 0.1));
            }, tokens, new Shape(2, 10, 4), 5e-3);
        }
    }

    @Test
    void lossesNameTheirTermsAndLogOrderAndUsage() {
        try (NDManager m = NDManager.newBaseManager(); Params p = new Params(m, 1)) {
            TemporalOt tot = new TemporalOt(tiny("objectives.temporal_ot.coherence_weight=0.5"), p);
            assertEquals(10, tot.steps());
            SplittableRandom r = new SplittableRandom(4);
            float[] tokens = new float[3 * 10 * 4];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = (float) r.nextDouble(-1, 1);
            }
            NDArray h = m.create(tokens, new Shape(3, 10, 4));
            Batch batch = new Batch(List.of("a", "b", "c"), java.util.Arrays.asList(null, null, null), Map.of(Modality.IMU, h),
                    Map.of(Modality.IMU, new boolean[] {true, false, true}), Map.of());
            ModelOutput out = new ModelOutput(Map.of(Modality.IMU, h), Map.of(), null);
            Map<String, NDArray> terms = tot.losses(out, batch);
            assertEquals(List.of("temporal_ot/imu", "temporal_ot/imu/coherence"), List.copyOf(terms.keySet()));
            double ot = terms.get("temporal_ot/imu").getFloat();
            assertTrue(ot > 0 && ot < 10 * Math.log(3), "cross-entropy " + ot);
            // coherence_weight 0.5 is inside the term: the unweighted value over the two present clips, halved
            float[][][] w = TemporalCoherence.windows(10, 0.2, 0.2, 1.0);
            NDArray z = tot.frameEmbeddings(h, new boolean[] {true, false, true});
            assertEquals(0.5 * TemporalCoherence.coherence(z, w[0], w[1], TemporalCoherence.anchors(w[0], w[1]), 0.1).getFloat(),
                    terms.get("temporal_ot/imu/coherence").getFloat(), 1e-6);
            Map<String, Double> stats = tot.stats();
            double entropy = stats.get("temporal_ot/imu/usage_entropy");
            assertTrue(entropy > 0 && entropy <= Math.log(3) + 1e-9, stats.toString());
            double order = stats.get("temporal_ot/imu/order_agreement");
            assertTrue(order > 0 && order <= 1, stats.toString());
            assertTrue(stats.containsKey("temporal_ot/imu/dead_prototypes") && stats.containsKey("temporal_ot/imu/pseudo_label_agreement"));
            List<TemporalOt.Prediction> pred = tot.predict(out, batch); // the clips that have IMU: a and c
            assertEquals(List.of("a", "c"), pred.stream().map(x -> x.sequence().id()).toList());
            assertEquals(10, pred.get(0).argmax().length);
            assertEquals(10, pred.get(1).transport().length);
            assertEquals(0.1, pred.get(1).sequence().times()[0], 1e-12); // clip at 0 (the batch's default start), frames of 0.2 s
        }
        // A strong prior (rho 100 against cosine scores / 0.05 of at most 20) orders the transport's argmax.
        try (NDManager m = NDManager.newBaseManager(); Params p = new Params(m, 1)) {
            TemporalOt tot = new TemporalOt(tiny("objectives.temporal_ot.rho=100.0"), p);
            SplittableRandom r = new SplittableRandom(4);
            float[] tokens = new float[10 * 4];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = (float) r.nextDouble(-1, 1);
            }
            NDArray h = m.create(tokens, new Shape(1, 10, 4));
            Batch batch = new Batch(List.of("a"), java.util.Arrays.asList((String) null), Map.of(Modality.IMU, h),
                    Map.of(Modality.IMU, new boolean[] {true}), Map.of());
            int[] order = tot.predict(new ModelOutput(Map.of(Modality.IMU, h), Map.of(), null), batch).get(0).transport();
            assertArrayEquals(new int[] {0, 0, 0, 1, 1, 1, 1, 2, 2, 2}, order, java.util.Arrays.toString(order));
        }
    }

    @Test
    void framesArePlacedInTheirRecording() {
        try (NDManager m = NDManager.newBaseManager(); Params p = new Params(m, 1)) {
            TemporalOt tot = new TemporalOt(tiny(), p); // 2 s clips, 10 frames of 0.2 s
            double[] r = tot.times(3.0, 8.0);       // a clip from 3 s of an 8 s recording
            assertEquals(3.1 / 8, r[0], 1e-12);
            assertEquals(4.9 / 8, r[9], 1e-12);
            double[] whole = tot.times(0.0, Double.NaN); // span unknown: the clip is the recording
            assertEquals(0.05, whole[0], 1e-12);
            assertEquals(0.95, whole[9], 1e-12);
        }
    }

    @Test
    void windowsOfOneSampleMakeASequenceOfFrames() {
        // windows = 3, clips of 2 s: a sequence is 3 consecutive rows of one id, all with IMU; a frame is a clip's
        // embedding at its middle. Rows: a a a | b b b (one without IMU) | c c (incomplete).
        try (NDManager m = NDManager.newBaseManager(); Params p = new Params(m, 1)) {
            TemporalOt tot = new TemporalOt(tiny("objectives.temporal_ot.windows=3", "objectives.temporal_ot.coherence_near=2.0",
                    "objectives.temporal_ot.coherence_far=3.0"), p);
            assertEquals(3, tot.steps());
            List<String> ids = List.of("a", "a", "a", "b", "b", "b", "c", "c");
            boolean[] imu = {true, true, true, true, false, true, true, true};
            double[] starts = {0, 2.5, 5, 0, 3, 6, 0, 4};
            double[] spans = {8, 8, 8, 9, 9, 9, 6, 6};
            SplittableRandom r = new SplittableRandom(5);
            float[] e = new float[8 * 3];
            for (int i = 0; i < e.length; i++) {
                e[i] = (float) r.nextDouble(-1, 1);
            }
            NDArray emb = m.create(e, new Shape(8, 3));
            emb = emb.div(emb.norm(new int[] {1}, true));
            NDArray tokens = m.zeros(new Shape(8, 10, 4));
            List<Batch.Timing> timing = new java.util.ArrayList<>();
            for (int i = 0; i < 8; i++) {
                timing.add(new Batch.Timing(starts[i], spans[i], 0));
            }
            Batch batch = new Batch(ids, java.util.Collections.nCopies(8, (String) null), Map.of(Modality.IMU, tokens),
                    Map.of(Modality.IMU, imu), Map.of(), timing);
            List<TemporalOt.Sequence> seqs = tot.sequences(batch);
            assertEquals(1, seqs.size());
            assertArrayEquals(new int[] {0, 1, 2}, seqs.get(0).rows());
            assertArrayEquals(new double[] {1, 3.5, 6}, seqs.get(0).times(), 1e-12);
            assertEquals(8.0, seqs.get(0).span());
            ModelOutput out = new ModelOutput(Map.of(Modality.IMU, tokens), Map.of(Modality.IMU, emb), null);
            Map<String, NDArray> terms = tot.losses(out, batch);
            // frames 2.5 s apart: neighbours (within 2 s? no: 2.5 > 2) -- so no anchors and no coherence term
            assertEquals(List.of("temporal_ot/imu"), List.copyOf(terms.keySet()));
            // the term is the cross-entropy of the sequence's own scores (the first three embeddings) against its plan
            NDArray z = emb.get("0:3").expandDims(0);
            NDArray s = tot.scores(z);
            double[][] sc = new double[3][3];
            float[] flat = s.toFloatArray();
            for (int i = 0; i < 9; i++) {
                sc[i / 3][i % 3] = flat[i];
            }
            double expected = TemporalOt.assignment(s, new double[][][] {tot.plan(sc, seqs.get(0))}, 0.1).getFloat();
            assertEquals(expected, terms.get("temporal_ot/imu").getFloat(), 1e-6);
            assertEquals(1, tot.predict(out, batch).size());
        }
        ConfigException one = assertThrows(ConfigException.class, () -> tiny("objectives.temporal_ot.windows=1"));
        assertTrue(one.getMessage().contains("objectives.temporal_ot.windows"), one.getMessage());
    }

    @Test
    void configErrorsNameTheKey() {
        ConfigException text = assertThrows(ConfigException.class, () -> tiny("objectives.temporal_ot.modality=text"));
        assertTrue(text.getMessage().contains("objectives.temporal_ot.modality"), text.getMessage());
        ConfigException absent = assertThrows(ConfigException.class, () -> tiny("objectives.temporal_ot.modality=video"));
        assertTrue(absent.getMessage().contains("objectives.temporal_ot.modality") && absent.getMessage().contains("data.modalities"),
                absent.getMessage());
        ConfigException far = assertThrows(ConfigException.class, () -> tiny("objectives.temporal_ot.coherence_far=0.1"));
        assertTrue(far.getMessage().contains("objectives.temporal_ot.coherence_far"), far.getMessage());
        try (NDManager m = NDManager.newBaseManager(); Params p = new Params(m, 1)) {
            ConfigException none = assertThrows(ConfigException.class,
                    () -> new TemporalOt(tiny("objectives.temporal_ot.coherence_far=2.0"), p)); // nothing is 2 s from anything in 2 s
            assertTrue(none.getMessage().contains("objectives.temporal_ot.coherence_far"), none.getMessage());
        }
        assertEquals(2, TemporalOt.frames(Modality.VIDEO, tiny().modalities(), 1.0)[0]); // 4 fps x 1 s / tubelets of 2
        assertEquals(16, TemporalOt.frames(Modality.VIDEO, tiny().modalities(), 1.0)[1]); // (32 / 8)^2
    }
}
