package org.sensorium.objective;

import org.sensorium.config.Objectives;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.config.ConfigLoader;
import org.sensorium.data.Batch;
import org.sensorium.data.PseudoLabelFile;
import org.sensorium.model.ModelOutput;
import org.sensorium.model.Params;
import org.sensorium.config.Modality;

class PseudoLabelsTest {

    /** A pseudo-label file of audio clusters with k = 2. */
    static Path file(Path dir, String name, List<String> ids, int... clusters) throws Exception {
        Path f = dir.resolve(name);
        PseudoLabelFile.write(f, Modality.AUDIO, 2, Map.of("note", name), ids, clusters);
        return f;
    }

    @Test
    void lossOverTheLabelledSamplesThatHaveTheModalityByHand(@TempDir Path dir) throws Exception {
        // The head before session 13 (standardise false): logits = Z W^T + b on the unit rows.
        // s0 and s1 count; s2 has no pseudo-label, s3 no video: both left out, whatever their embeddings.
        Path f = file(dir, "a.jsonl", List.of("s0", "s1", "s3"), 0, 0, 1);
        try (NDManager m = NDManager.newBaseManager(); Params params = new Params(m, 1)) {
            PseudoLabels o = new PseudoLabels(new Objectives.PseudoLabels(1f, f.toString(), Modality.VIDEO, 2, false, 0.1f), 2, params);
            // W = ln 3 * I, b = 0. s0: z = (1, 0), logits (ln 3, 0), p = (3/4, 1/4), y = 0: -ln 3/4 = 0.2876821.
            // s1: z = (0, 1), logits (0, ln 3), p = (1/4, 3/4), y = 0: -ln 1/4 = 1.3862944 (and its argmax is wrong).
            // L = (ln 4/3 + ln 4) / 2 = ln(16/3) / 2 = 0.8369882; accuracy 1/2.
            float l3 = (float) Math.log(3);
            head(params, ".weight").set(new float[] {l3, 0, 0, l3});
            NDArray z = m.create(new float[][] {{1, 0}, {0, 1}, {1, 0}, {0, 1}});             // (4, E=2)
            Batch batch = new Batch(List.of("s0", "s1", "s2", "s3"), Arrays.asList(null, null, null, null),
                    Map.of(Modality.VIDEO, z), Map.of(Modality.VIDEO, new boolean[] {true, true, true, false}), Map.of());
            ModelOutput out = new ModelOutput(Map.of(), Map.of(Modality.VIDEO, z), null);
            Map<String, NDArray> terms = o.losses(out, batch);
            assertEquals(List.of("pseudo_labels/video"), List.copyOf(terms.keySet()));
            assertEquals(Math.log(16 / 3.0) / 2, terms.get("pseudo_labels/video").getFloat(), 1e-6);
            assertEquals(0.8369882, terms.get("pseudo_labels/video").getFloat(), 1e-6);
            assertEquals(0.5, o.stats().get("pseudo_labels/video/accuracy"), 1e-12);

            // No sample of the batch is labelled and has video: no term.
            Batch none = new Batch(List.of("s2", "s3"), Arrays.asList(null, null), Map.of(Modality.VIDEO, z.get("0:2")),
                    Map.of(Modality.VIDEO, new boolean[] {true, false}), Map.of());
            assertTrue(o.losses(new ModelOutput(Map.of(), Map.of(Modality.VIDEO, z.get("0:2")), null), none).isEmpty());
        }
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        checkGradients(z -> z, 2e-4);
    }

    @Test
    void standardisedLogitsLossRunningStatisticsAndHeldOutByHand(@TempDir Path dir) throws Exception {
        Path f = file(dir, "a.jsonl", List.of("s0", "s1", "s2"), 1, 0, 0);
        try (NDManager m = NDManager.newBaseManager(); Params params = new Params(m, 1)) {
            PseudoLabels o = new PseudoLabels(new Objectives.PseudoLabels(1f, f.toString(), Modality.VIDEO, 2, true, 0.1f), 2, params);
            head(params, ".weight").set(new float[] {1, 1, 0, 0}); // W = [[1, 1], [0, 0]]
            head(params, ".bias").set(new float[] {0, 0.5f});      // b = (0, 0.5)
            assertEquals(2, params.buffers().size());
            assertEquals(6, params.count());                         // W and b only
            // Z = [[0, 0], [1, 2], [2, 4]]: mean (1, 2), biased variance (2/3, 8/3), so X = [[-a, -a], [0, 0], [a, a]] with
            // a = sqrt(3/2) = 1.2247449 (eps 1e-5 moves it by 1e-5). Logits (-2a, 0.5), (0, 0.5), (2a, 0.5);
            // y = (1, 0, 0): -log p = ln(1 + e^(-2a - 0.5)) = 0.0510414, ln(1 + e^0.5) = 0.9740770,
            // ln(1 + e^(0.5 - 2a)) = 0.1330846; L = 0.3860677; argmax (1, 1, 0): accuracy 2/3.
            NDArray z = m.create(new float[][] {{0, 0}, {1, 2}, {2, 4}}); // (n=3, E=2)
            float a = (float) Math.sqrt(1.5);
            assertArrayEquals(new float[] {-a, -a, 0, 0, a, a}, PseudoLabels.batchStandardised(z).toFloatArray(), 1e-4f);
            Batch batch = new Batch(List.of("s0", "s1", "s2"), Arrays.asList(null, null, null), Map.of(Modality.VIDEO, z),
                    Map.of(Modality.VIDEO, new boolean[] {true, true, true}), Map.of());
            Map<String, NDArray> terms = o.losses(new ModelOutput(Map.of(), Map.of(Modality.VIDEO, z), null), batch);
            assertEquals(0.3860677, terms.get("pseudo_labels/video").getFloat(), 2e-5);
            assertEquals(2 / 3.0, o.stats().get("pseudo_labels/video/accuracy"), 1e-12);

            // Running statistics after one step, m = 0.1, from (0, 0) and (1, 1): mean 0.1 (1, 2) = (0.1, 0.2); unbiased
            // variance (2/2, 8/2) = (1, 4), so 0.9 (1, 1) + 0.1 (1, 4) = (1.0, 1.3).
            assertArrayEquals(new float[] {0.1f, 0.2f}, buffer(params, ".running_mean").toFloatArray(), 1e-6f);
            assertArrayEquals(new float[] {1.0f, 1.3f}, buffer(params, ".running_var").toFloatArray(), 1e-6f);

            // Held out, with the running statistics: s1 z = (1, 2) -> x = (0.9, 1.8 / sqrt 1.3 = 1.5787) -> logits
            // (2.479, 0.5): 0, right. s0 z = (0.1, 0.6) -> x = (0, 0.4 / sqrt 1.3 = 0.3508) -> (0.351, 0.5): 1, right
            // (raw Z would give (0.7, 0.5): 0, wrong; its own batch statistics would give logits (-2, 0.5) and (2, 0.5)).
            NDArray held = m.create(new float[][] {{1, 2}, {0.1f, 0.6f}});
            HeldOut.Scored s = o.correct(new ModelOutput(Map.of(), Map.of(Modality.VIDEO, held), null), new Batch(
                    List.of("s1", "s0"), Arrays.asList(null, null), Map.of(Modality.VIDEO, held),
                    Map.of(Modality.VIDEO, new boolean[] {true, true}), Map.of()));
            assertEquals(2, s.hits());
            assertArrayEquals(new int[] {0, 1}, s.truth());
            // The held-out pass does not move the running statistics.
            assertArrayEquals(new float[] {0.1f, 0.2f}, buffer(params, ".running_mean").toFloatArray(), 1e-6f);
        }
    }

    @Test
    void standardisedGradientMatchesFiniteDifferences() {
        // Through the batch's mean and variance too (BatchNorm's gradient), for Z and for W.
        checkGradients(PseudoLabels::batchStandardised, 5e-4);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray za = m.create(Z);
            za.setRequiresGradient(true);
            float[] gz;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(PseudoLabels.crossEntropy(PseudoLabels.logits(PseudoLabels.batchStandardised(za), m.create(W), m.create(B)), Y));
                gz = za.getGradient().toFloatArray();
            }
            for (int j = 0; j < 3; j++) {
                assertEquals(0, gz[j] + gz[3 + j] + gz[6 + j], 1e-5, "shifting a dimension of every row changes nothing, so its gradients sum to 0");
            }
        }
    }

    @Test
    void onNearlyCollinearRowsOnlyTheStandardisedHeadLearns() {
        // Session 11's diagnosis in small: 16 unit rows z_i = (1, 0.05 s_i, 0, 0) / |.|, s_i = +-1 alternately, cluster
        // y_i = (s_i > 0): mean pairwise cosine about 0.995. Standardised, dimension 1 is exactly s_i (the others are
        // constant, so 0), and 50 plain gradient steps (lr 0.5) on W and b take the loss from ln 2 = 0.693 to below 0.1.
        // On raw z the same steps see a 20x smaller gradient on that dimension and the loss stays near ln 2 (above 0.6).
        int n = 16;
        float norm = (float) Math.sqrt(1 + 0.05 * 0.05);
        float[][] z = new float[n][];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            int sign = i % 2 == 0 ? 1 : -1;
            z[i] = new float[] {1 / norm, 0.05f * sign / norm, 0, 0};
            y[i] = sign > 0 ? 1 : 0;
        }
        assertTrue(train(z, y, true) < 0.1);
        assertTrue(train(z, y, false) > 0.6);
    }

    /** The loss after 50 gradient steps (lr 0.5) of a head (K=2, E=4) from W = 0, b = 0 on fixed rows z. */
    private static double train(float[][] z, int[] y, boolean standardise) {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray w = m.zeros(new ai.djl.ndarray.types.Shape(2, 4)), b = m.zeros(new ai.djl.ndarray.types.Shape(2));
            w.setRequiresGradient(true);
            b.setRequiresGradient(true);
            double loss = Double.NaN;
            for (int step = 0; step <= 50; step++) {
                try (NDManager sm = m.newSubManager()) {
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        NDArray za = sm.create(z);
                        NDArray l = PseudoLabels.crossEntropy(PseudoLabels.logits(standardise ? PseudoLabels.batchStandardised(za) : za, w, b), y);
                        loss = l.getFloat();
                        if (step == 50) {
                            break;
                        }
                        gc.backward(l);
                    }
                    for (NDArray p : List.of(w, b)) {
                        NDArray g = p.getGradient();
                        g.attach(sm);
                        p.set(p.sub(g.mul(0.5f)).toFloatArray());
                        g.set(new ai.djl.ndarray.index.NDIndex("..."), 0f); // the collector accumulates across steps
                    }
                }
            }
            return loss;
        }
    }

    @Test
    void aMissingFileOrAnotherKIsAConfigErrorNamingTheKey(@TempDir Path dir) throws Exception {
        Path f = file(dir, "a.jsonl", List.of("s0", "s1"), 0, 1);
        try (NDManager m = NDManager.newBaseManager(); Params params = new Params(m, 1)) {
            ConfigException missing = assertThrows(ConfigException.class, () -> new PseudoLabels(
                    new Objectives.PseudoLabels(1f, dir.resolve("nope.jsonl").toString(), Modality.VIDEO, 2, true, 0.1f), 4, params));
            assertEquals("objectives.pseudo_labels.file", missing.key());
            assertTrue(missing.getMessage().contains("nope.jsonl"), missing.getMessage());
            ConfigException k = assertThrows(ConfigException.class,
                    () -> new PseudoLabels(new Objectives.PseudoLabels(1f, f.toString(), Modality.VIDEO, 32, true, 0.1f), 4, params));
            assertEquals("objectives.pseudo_labels.k", k.key());
        ConfigException momentum = assertThrows(ConfigException.class,
                () -> ConfigLoader.load(null, List.of("objectives.pseudo_labels.momentum=0")));
        assertEquals("objectives.pseudo_labels.momentum", momentum.key());
        assertTrue(ConfigLoader.load(null, List.of()).config().objectives().pseudoLabels().standardise());
            assertTrue(k.getMessage().contains("k = 2"), k.getMessage());
        }
    }

    @Test
    void theConfigNamesTheKeyItRejects() {
        ConfigException file = assertThrows(ConfigException.class,
                () -> ConfigLoader.load(null, List.of("objectives.pseudo_labels.weight=1")));
        assertEquals("objectives.pseudo_labels.file", file.key());
        ConfigException modality = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of(
                "objectives.pseudo_labels.weight=1", "objectives.pseudo_labels.file=x.jsonl", "data.modalities=[audio, text]",
                "objectives.contrastive.pairs=[audio-text]")));
        assertEquals("objectives.pseudo_labels.modality", modality.key());
        ConfigException k = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of("objectives.pseudo_labels.k=1")));
        assertEquals("objectives.pseudo_labels.k", k.key());
        ConfigException momentum = assertThrows(ConfigException.class,
                () -> ConfigLoader.load(null, List.of("objectives.pseudo_labels.momentum=0")));
        assertEquals("objectives.pseudo_labels.momentum", momentum.key());
        assertTrue(ConfigLoader.load(null, List.of()).config().objectives().pseudoLabels().standardise());
        assertEquals(0f, ConfigLoader.load(null, List.of()).config().objectives().pseudoLabels().weight()); // off by default
    }

    @Test
    void eachClusteringGetsItsOwnHead(@TempDir Path dir) throws Exception {
        // Re-clustering renumbers the clusters, so the head of another file must not carry over (DeepCluster resets it).
        Path a = file(dir, "a.jsonl", List.of("s0", "s1"), 0, 1);
        Path b = file(dir, "b.jsonl", List.of("s0", "s1"), 1, 0);
        try (NDManager m = NDManager.newBaseManager(); Params pa = new Params(m, 1); Params pb = new Params(m, 1)) {
            new PseudoLabels(new Objectives.PseudoLabels(1f, a.toString(), Modality.VIDEO, 2, true, 0.1f), 4, pa);
            new PseudoLabels(new Objectives.PseudoLabels(1f, b.toString(), Modality.VIDEO, 2, true, 0.1f), 4, pb);
            assertNotEquals(pa.all().keySet(), pb.all().keySet());
            assertTrue(pa.all().keySet().stream().allMatch(Params::ofObjective), pa.all().keySet().toString());
        }
    }

    private static NDArray head(Params params, String suffix) {
        return params.all().entrySet().stream().filter(e -> e.getKey().startsWith("objective.pseudo_labels.")
                && e.getKey().endsWith(suffix)).findFirst().orElseThrow().getValue();
    }

    private static NDArray buffer(Params params, String suffix) {
        return params.buffers().entrySet().stream().filter(e -> e.getKey().startsWith("objective.pseudo_labels.")
                && e.getKey().endsWith(suffix)).findFirst().orElseThrow().getValue();
    }

    // The gradient checks' tiny case: Z (n=3, E=3) unit rows, W (K=2, E=3), b (K), the clusters y.
    private static final float[][] Z = {{0.6f, -0.8f, 0.0f}, {0.0f, 0.6f, 0.8f}, {-0.48f, 0.6f, 0.64f}};
    private static final float[][] W = {{0.5f, -0.2f, 0.3f}, {-0.4f, 0.9f, 0.1f}};
    private static final float[] B = {0.1f, -0.3f};
    private static final int[] Y = {1, 0, 1};

    /** d L / d Z and d L / d W of L = crossEntropy(x(Z) W^T + b, y) against central finite differences. */
    private static void checkGradients(java.util.function.UnaryOperator<NDArray> x, double tol) {
        GradCheck.check(z -> PseudoLabels.crossEntropy(PseudoLabels.logits(x.apply(z), z.getManager().create(W), z.getManager().create(B)), Y),
                flat(Z), new Shape(3, 3), tol);
        GradCheck.check(w -> PseudoLabels.crossEntropy(PseudoLabels.logits(x.apply(w.getManager().create(Z)), w, w.getManager().create(B)), Y),
                flat(W), new Shape(2, 3), tol);
    }

    private static float[] flat(float[][] x) {
        float[] f = new float[x.length * x[0].length];
        for (int i = 0; i < x.length; i++) {
            System.arraycopy(x[i], 0, f, i * x[0].length, x[0].length);
        }
        return f;
    }
}
