package org.sensorium.objective;

import org.sensorium.config.Objectives;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.config.ConfigLoader;
import org.sensorium.data.Batch;
import org.sensorium.model.SensoriumModel;
import org.sensorium.config.Modality;
import org.sensorium.train.AdamW;

class MaskedTokensTest {

    @Test
    void randomMaskingTakesTheRoundedShareOfValidPositionsWithTheSmallestNoise() {
        float[][] noise = {{0.9f, 0.1f, 0.5f, 0.3f}, {0.2f, 0.8f, 0.1f, 0.6f}, {0.4f, 0.3f, 0.2f, 0.1f}};
        boolean[][] valid = {{true, true, true, true}, {true, true, true, false}, {true, false, false, false}};
        // row 0: round(0.5 * 4) = 2 -> the two smallest, positions 1 (0.1) and 3 (0.3)
        // row 1: 3 valid, round(1.5) = 2 -> positions 2 (0.1) and 0 (0.2); position 3 is padding
        // row 2: 1 valid position: nothing is left to predict it from, so nothing is masked
        boolean[][] mask = Masking.random(noise, valid, 0.5);
        assertArrayEquals(new boolean[] {false, true, false, true}, mask[0]);
        assertArrayEquals(new boolean[] {true, false, true, false}, mask[1]);
        assertArrayEquals(new boolean[] {false, false, false, false}, mask[2]);
        // round(0.9 * 4) = 4 would mask everything: kept at 3; round(0.1 * 4) = 0 is raised to 1
        boolean[][] high = Masking.random(new float[][] {noise[0]}, new boolean[][] {valid[0]}, 0.9);
        assertArrayEquals(new boolean[] {false, true, true, true}, high[0]);
        boolean[][] low = Masking.random(new float[][] {noise[0]}, new boolean[][] {valid[0]}, 0.1);
        assertArrayEquals(new boolean[] {false, true, false, false}, low[0]);
    }

    @Test
    void squaredErrorOverMaskedPositionsOnlyByHand() {
        // position 0: ((1-0)^2 + (2-0)^2) / 2 = 2.5; position 2: ((3-1)^2 + (-1-1)^2) / 2 = 4; position 1 is not
        // masked, however wrong. L = (2.5 + 4) / 2 = 3.25
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray pred = m.create(new float[] {1, 2, 0, 0, 3, -1}, new Shape(1, 3, 2));
            NDArray target = m.create(new float[] {0, 0, 5, 5, 1, 1}, new Shape(1, 3, 2));
            NDArray mask = m.create(new float[] {1, 0, 1}, new Shape(1, 3));
            assertEquals(3.25f, Masking.mse(pred, target, mask, 2).getFloat(), 1e-6f);
        }
    }

    @Test
    void squaredErrorGradientMatchesFiniteDifferences() {
        float[] target = {0.3f, -0.2f, 0.5f, 0.1f, 0.4f, -0.6f, -0.3f, 0.2f, 0.0f, 0.7f, -0.1f, 0.2f};
        float[] pred = {0.1f, 0.2f, -0.4f, 0.5f, -0.5f, 0.3f, 0.0f, 0.3f, 0.1f, -0.2f, 0.6f, 0.4f};
        GradCheck.check(p -> Masking.mse(p, p.getManager().create(target, new Shape(2, 2, 3)),
                p.getManager().create(new float[] {1, 0, 1, 1}, new Shape(2, 2)), 3), pred, new Shape(2, 2, 3), 2e-4);
    }

    @Test
    void targetNormalisationsByHand() {
        float s = (float) (1 / Math.sqrt(1 + Masking.EPS));
        try (NDManager m = NDManager.newBaseManager()) {
            // instance: one sample, one channel over tokens [1, 3] (mean 2, variance 1); the padded 100 is left out
            NDArray x = m.create(new float[] {1, 3, 100}, new Shape(1, 3, 1));
            NDArray valid = m.create(new boolean[] {true, true, false}, new Shape(1, 3));
            float[] in = Masking.instanceNorm(x, valid).toFloatArray();
            assertEquals(-s, in[0], 1e-6f);
            assertEquals(s, in[1], 1e-6f);
            assertArrayEquals(new float[] {-s, s}, Masking.instanceNorm(x.get(":, :2, :"), null).toFloatArray(), 1e-6f);
            // layer: one token over channels [1, 3]
            assertArrayEquals(new float[] {-s, s}, Masking.layerNorm(m.create(new float[] {1, 3}, new Shape(1, 1, 2))).toFloatArray(), 1e-6f);
        }
    }

    @Test
    void teacherMomentumRampsLinearlyThenStays() {
        Objectives.MaskedTokens c = new Objectives.MaskedTokens(1f, List.of(Modality.VIDEO), 0.5, 1, "instance", 0.9f, 0.99f, 10);
        assertEquals(0.9f, MaskedTokens.momentum(c, 0), 1e-7f);
        assertEquals(0.945f, MaskedTokens.momentum(c, 5), 1e-6f);
        assertEquals(0.99f, MaskedTokens.momentum(c, 10), 1e-7f);
        assertEquals(0.99f, MaskedTokens.momentum(c, 200), 1e-7f);
        Objectives.MaskedTokens fixed = new Objectives.MaskedTokens(1f, List.of(Modality.VIDEO), 0.5, 1, "instance", 0.9f, 0.99f, 0);
        assertEquals(0.9f, MaskedTokens.momentum(fixed, 200), 1e-7f);
    }

    @Test
    void gradientThroughTheMaskedStudentMatchesFiniteDifferences() {
        // d L / d mask token, through stem replacement, the positions, two blocks and the final norm
        Config c = MaskedFixtures.tiny();
        try (NDManager root = NDManager.newBaseManager(); SensoriumModel model = new SensoriumModel(c, root)) {
            Batch batch = MaskedFixtures.batch(root, c, 2, 3, Map.of());
            NDArray mask = root.create(new float[] {1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0, 1}, new Shape(2, 8));
            float[] target = new float[2 * 8 * 8];
            java.util.SplittableRandom r = new java.util.SplittableRandom(4);
            for (int i = 0; i < target.length; i++) {
                target[i] = (float) r.nextGaussian();
            }
            NDArray y = root.create(target, new Shape(2, 8, 8));
            float[] token = new float[8];
            for (int i = 0; i < 8; i++) {
                token[i] = (float) r.nextGaussian() * 0.5f;
            }
            GradCheck.check(t -> Masking.mse(model.maskedTokens(batch.input(Modality.VIDEO), batch.valid(Modality.VIDEO), Modality.VIDEO, mask, t, false), y, mask, 7),
                    token, new Shape(1, 1, 8), 1e-3);
        }
    }

    @Test
    void theTeacherStartsAsTheStudentAndNeverGetsAGradient() {
        Config c = MaskedFixtures.tiny("objectives.masked_tokens.weight=1");
        try (NDManager root = NDManager.newBaseManager(); SensoriumModel model = new SensoriumModel(c, root)) {
            MaskedTokens o = new MaskedTokens(c, model);
            try (NDManager sm = root.newSubManager()) {
                // sample 1 has no IMU: its tokens are never masked, so it adds nothing to the IMU term
                Batch batch = MaskedFixtures.batch(sm, c, 3, 1, Map.of(Modality.IMU, new boolean[] {true, false, true}));
                Map<String, NDArray> terms;
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    terms = o.losses(null, batch); // the teacher's first use, inside the collector as in training
                    gc.backward(terms.get("masked_tokens/video").add(terms.get("masked_tokens/imu")));
                }
                SensoriumModel teacher = o.teacher().model();
                List<NDArray> t = teacher.blockOutputs(batch.input(Modality.VIDEO), batch.valid(Modality.VIDEO), Modality.VIDEO, false);
                List<NDArray> s = model.blockOutputs(batch.input(Modality.VIDEO), batch.valid(Modality.VIDEO), Modality.VIDEO, false);
                for (int i = 0; i < t.size(); i++) {
                    assertArrayEquals(s.get(i).toFloatArray(), t.get(i).toFloatArray(), 1e-6f, "block " + i);
                }
                assertEquals(List.of("masked_tokens/video", "masked_tokens/imu"), List.copyOf(terms.keySet()));
                // an untrained linear head on normalised targets: about the targets' mean square (1), plus the head's output
                float video = terms.get("masked_tokens/video").getFloat();
                assertTrue(video > 0.5f && video < 2f, "video " + video);
                assertTrue(o.stats().get("masked_tokens/video/target_var") > 0, o.stats().toString());
                for (Map.Entry<String, NDArray> p : teacher.params().all().entrySet()) {
                    assertFalse(p.getValue().hasGradient(), "teacher " + p.getKey() + " records a gradient");
                }
                for (String name : List.of("objective.masked_tokens.video.mask", "objective.masked_tokens.imu.head.weight",
                        "trunk.0.attn.qkv.weight", "stem.video.proj.weight")) {
                    NDArray g = model.params().all().get(name).getGradient();
                    assertTrue(g.abs().sum().getFloat() > 0, name + " got no gradient");
                }
            }
        }
    }

    @Test
    void configErrorsNameTheKey() {
        assertEquals(0f, ConfigLoader.load(null, List.of()).config().objectives().maskedTokens().weight()); // off by default
        Map<String, List<String>> cases = Map.of(
                "objectives.masked_tokens.mask_ratio", List.of("objectives.masked_tokens.mask_ratio=1.0"),
                "objectives.masked_tokens.modalities", List.of("objectives.masked_tokens.weight=1",
                        "data.modalities=[video, text]", "objectives.contrastive.pairs=[video-text]"),
                "objectives.masked_tokens.top_k_layers", List.of("objectives.masked_tokens.weight=1", "model.depth=2",
                        "objectives.masked_tokens.top_k_layers=3"),
                "objectives.masked_tokens.target_norm", List.of("objectives.masked_tokens.target_norm=batch"),
                "objectives.masked_tokens.teacher_momentum", List.of("objectives.masked_tokens.teacher_momentum=1.5"));
        for (Map.Entry<String, List<String>> e : cases.entrySet()) {
            ConfigException x = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, e.getValue()), e.getKey());
            assertEquals(e.getKey(), x.key(), x.getMessage());
        }
        ConfigException zero = assertThrows(ConfigException.class,
                () -> ConfigLoader.load(null, List.of("objectives.masked_tokens.mask_ratio=0.0")));
        assertTrue(zero.getMessage().contains("(0, 1)"), zero.getMessage());
        ConfigException bag = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of(
                "objectives.masked_tokens.weight=1", "objectives.masked_tokens.modalities=[text]", "modalities.text.bag=2")));
        assertEquals("objectives.masked_tokens.modalities", bag.key());
    }

    @Test
    void stepsWithBothMaskedObjectivesLeaveNoArraysBehind() {
        // Teachers, mask tokens and decoder live with the parameters; everything a step makes dies with its manager.
        Config c = MaskedFixtures.tiny("objectives.contrastive.weight=0", "objectives.masked_tokens.weight=1",
                "objectives.masked_segments.weight=1");
        try (NDManager root = NDManager.newBaseManager(); SensoriumModel model = new SensoriumModel(c, root)) {
            List<Objective.Weighted> objectives = ObjectiveKind.enabled(c, model);
            AdamW opt = new AdamW(model.params(), 0.9f, 0.98f, 1e-6f, 0.05f);
            int before = -1;
            for (int step = 0; step < 4; step++) {
                try (NDManager sm = root.newSubManager()) {
                    Batch batch = MaskedFixtures.batch(sm, c, 3, step, Map.of());
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        NDArray total = null;
                        for (Objective.Weighted o : objectives) {
                            for (NDArray t : o.objective().losses(new Step(batch, null)).values()) {
                                total = total == null ? t : total.add(t);
                            }
                        }
                        gc.backward(total);
                    }
                    AdamW.GradNorms n = opt.norms(sm);
                    opt.step(sm, n, 1e-3f, 1f);
                    opt.zeroGradients(sm);
                }
                objectives.forEach(o -> o.objective().afterStep(0));
                int now = model.params().manager().getManagedArrays().size();
                before = step == 0 ? now : before;
                assertEquals(before, now, "arrays owned by the parameters' manager after step " + step);
            }
        }
    }
}
