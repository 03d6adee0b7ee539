package org.sensorium.objective;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.config.Modality;
import org.sensorium.data.Batch;
import org.sensorium.model.ModelOutput;
import org.sensorium.model.SensoriumModel;

class MotionStatisticsTest {

    static Config tiny(String... extra) {
        List<String> sets = new java.util.ArrayList<>(List.of("data.modalities=[video, motion]", "objectives.contrastive.weight=0",
                "objectives.motion_statistics.weight=1"));
        sets.addAll(List.of(extra));
        return MaskedFixtures.tiny(sets.toArray(String[]::new));
    }

    @Test
    void labelsByHand() {
        // one field of 2 x 2 cells, 2 x 2 regions (a cell each): |(1,0)| = 1, |(0,3)| = 3, |(-1,-1)| = 1.41, |(0,0)| = 0
        // -> region 1 (top right); its vector (0, 3) points down (+y): angle pi/2, bin floor((pi/2 + pi/8) / (pi/4)) = 2
        // of 8; its one pixel is pure green, hue 1/3 of the circle: bin floor(8 / 3) = 2
        float[] field = {1, 0, 0, 3, -1, -1, 0, 0};
        float[] rgb = {1, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0};
        assertEquals(new MotionStatistics.Labels(1, 2, 2),
                MotionStatistics.labels(field, new int[] {1, 2, 2}, rgb, new int[] {1, 2, 2}, 2, 8, 8, 0.1f));
        // the largest cell moving left, (-5, 0): angle pi, (pi + pi/8 + 2 pi) / (pi/4) = 12.5 -> 12 mod 8 = 4;
        // its pixel pure blue, hue 2/3: bin floor(16 / 3) = 5
        float[] left = {0, 0, 0, 0, -5, 0, 0, 0};
        float[] blue = {1, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0};
        assertEquals(new MotionStatistics.Labels(2, 4, 5),
                MotionStatistics.labels(left, new int[] {1, 2, 2}, blue, new int[] {1, 2, 2}, 2, 8, 8, 0.1f));
        // up-right (1, -1): angle -pi/4, (-pi/4 + pi/8 + 2 pi) / (pi/4) = 7.5 -> bin 7
        float[] upRight = {1, -1, 0, 0, 0, 0, 0, 0};
        assertEquals(7, MotionStatistics.labels(upRight, new int[] {1, 2, 2}, blue, new int[] {1, 2, 2}, 2, 8, 8, 0.1f).direction());
    }

    @Test
    void hueBinsAndTheGreyClass() {
        assertEquals(0, MotionStatistics.hueBin(1f, 0f, 0f, 8, 0.1f));          // red: hue 0
        assertEquals(1, MotionStatistics.hueBin(1f, 1f, 0f, 8, 0.1f));          // yellow: hue 1/6, bin floor(8/6) = 1
        assertEquals(8, MotionStatistics.hueBin(0.5f, 0.5f, 0.5f, 8, 0.1f));    // grey: no hue, class 8
        assertEquals(8, MotionStatistics.hueBin(1f, 0.95f, 0.95f, 8, 0.1f));    // saturation 0.05 < 0.1
        float[] grey = new float[12];
        java.util.Arrays.fill(grey, 0.5f);
        assertEquals(8, MotionStatistics.dominantHue(grey, new int[] {1, 2, 2}, 0, 0, 2, 8, 0.1f));
    }

    @Test
    void regionMeansByHand() {
        // 2 time steps of 2 x 2 patches, 2 x 2 regions: region r holds patch r of each step, so tokens r and 4 + r
        // with weight 1/2 each
        float[] a = MotionStatistics.regionMeans(8, 2, 2, 2);
        float[] expected = new float[8 * 4];
        for (int r = 0; r < 4; r++) {
            expected[r * 4 + r] = 0.5f;
            expected[(4 + r) * 4 + r] = 0.5f;
        }
        assertArrayEquals(expected, a);
        // 4 x 4 patches in 2 x 2 regions, one step: patch (1, 2) = token 6 lies in region (0, 1) = 1, weight 1/4
        float[] b = MotionStatistics.regionMeans(16, 4, 4, 2);
        assertEquals(0.25f, b[6 * 4 + 1]);
        for (int r = 0; r < 4; r++) { // each region averages: its column sums to 1
            float sum = 0;
            for (int t = 0; t < 16; t++) {
                sum += b[t * 4 + r];
            }
            assertEquals(1f, sum, 1e-6f);
        }
        try (NDManager m = NDManager.newBaseManager()) {
            // tokens 0..7 of width 1 -> region means (0 + 4) / 2, (1 + 5) / 2, ... = 2, 3, 4, 5
            Config c = tiny();
            MotionStatistics o = new MotionStatistics(c, 1, new org.sensorium.model.Params(m, 1));
            NDArray tokens = m.create(new float[] {0, 1, 2, 3, 4, 5, 6, 7}, new Shape(1, 8, 1));
            assertArrayEquals(new float[] {2, 3, 4, 5}, o.regionFeatures(tokens).toFloatArray());
        }
    }

    @Test
    void crossEntropyAndMajorityByHand() {
        try (NDManager m = NDManager.newBaseManager()) {
            // uniform logits over 4 classes: -log(1/4) = ln 4
            NDArray y = MotionStatistics.oneHot(m, new int[] {0, 3}, 4);
            assertEquals(Math.log(4), MotionStatistics.crossEntropy(m.zeros(new Shape(2, 4)), y).getFloat(), 1e-6);
            // logits (ln 3, 0), label 0: softmax 3/4, loss ln(4/3)
            NDArray logits = m.create(new float[] {(float) Math.log(3), 0}, new Shape(1, 2));
            assertEquals(Math.log(4.0 / 3), MotionStatistics.crossEntropy(logits, MotionStatistics.oneHot(m, new int[] {0}, 2)).getFloat(), 1e-6);
        }
        assertEquals(0.5, org.sensorium.eval.Classification.majorityShare(new int[] {1, 1, 2, 3}));
        assertEquals(0.75, MotionStatistics.accuracy(new int[] {1, 1, 2, 0}, new int[] {1, 1, 2, 3}));
    }

    @Test
    void threeTermsFromTheVideoTokensAndTheirGradient() {
        // tokens averaged per region -> the three linear heads -> cross-entropy to labels of the batch's own field and
        // frames; each term's gradient on its own (a float32 loss of about 5 is too coarse for finite differences)
        Config c = tiny();
        try (NDManager root = NDManager.newBaseManager(); SensoriumModel model = new SensoriumModel(c, root)) {
            MotionStatistics o = new MotionStatistics(c, c.model().width(), model.params());
            Batch batch = MaskedFixtures.batch(root, c, 2, 4, Map.of());
            int n = model.tokens(Modality.VIDEO), d = c.model().width();
            java.util.SplittableRandom r = new java.util.SplittableRandom(3);
            float[] tokens = new float[2 * n * d];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = (float) r.nextGaussian();
            }
            java.util.function.Function<NDArray, Map<String, NDArray>> terms =
                    x -> o.losses(new Step(batch, new ModelOutput(Map.of(Modality.VIDEO, x), Map.of(), null)));
            Map<String, NDArray> start = terms.apply(root.create(tokens, new Shape(2, n, d)));
            List<String> names = List.of("motion_statistics/region", "motion_statistics/direction", "motion_statistics/hue");
            assertEquals(names, List.copyOf(start.keySet()));
            // heads start near zero: each term is about ln(classes): ln 4, ln 8, ln 9
            double[] uniform = {Math.log(4), Math.log(8), Math.log(9)};
            for (int k = 0; k < 3; k++) {
                assertEquals(uniform[k], start.get(names.get(k)).getFloat(), 0.1, names.get(k));
                String name = names.get(k);
                GradCheck.check(x -> terms.apply(x).get(name), tokens, new Shape(2, n, d), 5e-4);
            }
        }
    }

    @Test
    void needsMotionAndRegionsThatDivideTheGrid() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> MaskedFixtures.tiny("objectives.contrastive.weight=0", "objectives.motion_statistics.weight=1"));
        assertTrue(e.getMessage().contains("objectives.motion_statistics.weight"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> tiny("objectives.motion_statistics.regions=3"));
        assertTrue(e.getMessage().contains("objectives.motion_statistics.regions"), e.getMessage());
    }
}
