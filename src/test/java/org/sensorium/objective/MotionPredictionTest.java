package org.sensorium.objective;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.config.ConfigLoader;
import org.sensorium.data.Batch;
import org.sensorium.data.Loader;
import org.sensorium.model.ModelOutput;
import org.sensorium.model.Params;
import org.sensorium.model.SensoriumModel;
import org.sensorium.config.Modality;

class MotionPredictionTest {

    @Test
    void mseByHand() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray yhat = m.create(new float[][] {{1, 2}, {3, 4}});
            NDArray y = m.create(new float[][] {{1, 0}, {0, 4}});
            NDArray all = m.ones(new Shape(2, 2));
            assertEquals((0 + 4 + 9 + 0) / 4.0, MotionPrediction.mse(yhat, y, all).getFloat(), 1e-6); // 3.25
            // an unmeasured value (an intra-coded cell) neither adds error nor counts: (0 + 4 + 0) / 3
            NDArray measured = m.create(new float[][] {{1, 1}, {0, 1}});
            assertEquals(4 / 3.0, MotionPrediction.mse(yhat, y, measured).getFloat(), 1e-6);
        }
    }

    @Test
    void onlySamplesWithAFutureFieldCountAndTheZeroFieldIsLogged() {
        try (NDManager m = NDManager.newBaseManager()) {
            Params params = new Params(m, 1);
            MotionPrediction o = new MotionPrediction(Modality.VIDEO, 1, 2, 3, new long[] {1, 1, 1, 2}, 1, params); // F = 2 per sample
            // W2 = 0, b2 = (1, -1): every clip predicts the field (1, -1) whatever its features
            params.all().get("objective.motion_prediction.fc2.weight").set(new float[6]);
            params.all().get("objective.motion_prediction.fc2.bias").set(new float[] {1, -1});
            ModelOutput out = new ModelOutput(Map.of(Modality.VIDEO, m.randomNormal(new Shape(3, 4, 2))), Map.of(), null);
            // sample 1 has no future (its recording ended): zeros that must not count
            Batch future = batch(Modality.MOTION, m.create(new float[] {2, 0, 9, 9, 1, 3}, new Shape(3, 1, 1, 1, 2)), true, false, true);
            Map<String, NDArray> terms = o.losses(new Step(batch(Modality.VIDEO, null, true, true, true), out, Map.of(Batch.Extra.FUTURE_MOTION, new Step.Pass(future, null))));
            // kept targets (2, 0), (1, 3) against (1, -1): (1 + 1 + 0 + 16) / 4 = 4.5; zero field (4 + 0 + 1 + 9) / 4 = 3.5
            assertEquals(4.5, terms.get("motion_prediction").getFloat(), 1e-6);
            assertEquals(3.5, o.stats().get("motion_prediction/zero_field_mse"), 1e-6);
            assertEquals(2 / 3.0, o.stats().get("motion_prediction/with_target"), 1e-12);
            // a clip without video does not count either; no sample with both, or no future batch: no term
            Map<String, NDArray> one = o.losses(new Step(batch(Modality.VIDEO, null, true, true, false), out, Map.of(Batch.Extra.FUTURE_MOTION, new Step.Pass(future, null))));
            assertEquals((1 + 1) / 2.0, one.get("motion_prediction").getFloat(), 1e-6);
            assertTrue(o.losses(new Step(batch(Modality.VIDEO, null, false, true, false), out, Map.of(Batch.Extra.FUTURE_MOTION, new Step.Pass(future, null)))).isEmpty());
            assertEquals(0.0, o.stats().get("motion_prediction/with_target"));
            assertTrue(o.losses(new Step(batch(Modality.VIDEO, null, true, true, true), out)).isEmpty());
            // sample 2's cell unmeasured (intra coded): only sample 0's (2, 0) counts, (1 + 1) / 2; zero field 4 / 2
            Batch masked = new Batch(List.of("s0", "s1", "s2"), Collections.nCopies(3, null),
                    Map.of(Modality.MOTION, future.input(Modality.MOTION)), Map.of(Modality.MOTION, new boolean[] {true, false, true}),
                    Map.of(Modality.MOTION, m.create(new boolean[] {true, true, false}, new Shape(3, 1))));
            Map<String, NDArray> part = o.losses(new Step(batch(Modality.VIDEO, null, true, true, true), out, Map.of(Batch.Extra.FUTURE_MOTION, new Step.Pass(masked, null))));
            assertEquals(1.0, part.get("motion_prediction").getFloat(), 1e-6);
            assertEquals(2.0, o.stats().get("motion_prediction/zero_field_mse"), 1e-6);
            assertEquals(0.5, o.stats().get("motion_prediction/measured"), 1e-12);
        }
    }

    @Test
    void theDecoderReadsTheLastTimeStepOnly() {
        try (NDManager m = NDManager.newBaseManager()) {
            MotionPrediction o = new MotionPrediction(Modality.MOTION, 2, 2, 3, new long[] {1, 1, 1, 2}, 1, new Params(m, 1));
            assertEquals(Modality.MOTION, o.from());
            // (1, 4, 2) tokens in 2 time steps of 2: changing the first step's tokens changes nothing
            NDArray a = m.create(new float[] {9, 9, -9, 9, 0.5f, -1, 1.5f, 2}, new Shape(1, 4, 2));
            NDArray b = m.create(new float[] {0, 0, 3, 3, 0.5f, -1, 1.5f, 2}, new Shape(1, 4, 2));
            NDArray c = m.create(new float[] {9, 9, -9, 9, 1, 0.5f, 1, 0.5f}, new Shape(1, 4, 2)); // same last-step mean
            assertArrayEquals(o.predict(a).toFloatArray(), o.predict(b).toFloatArray(), 1e-6f);
            assertArrayEquals(o.predict(a).toFloatArray(), o.predict(c).toFloatArray(), 1e-6f);
        }
    }

    @Test
    void readingAllTokensKeepsWhereEachIs() {
        try (NDManager m = NDManager.newBaseManager()) {
            // 2 time steps of 2 tokens of width 2: the decoder reads the last step's 2 tokens side by side (4 values)
            MotionPrediction o = new MotionPrediction(Modality.VIDEO, 2, 2, 3, new long[] {1, 1, 1, 2}, 1, new Params(m, 1),
                    Double.NaN, 2);
            NDArray a = m.create(new float[] {9, 9, -9, 9, 0.5f, -1, 1.5f, 2}, new Shape(1, 4, 2));
            NDArray b = m.create(new float[] {0, 0, 3, 3, 0.5f, -1, 1.5f, 2}, new Shape(1, 4, 2));      // first step differs
            NDArray swapped = m.create(new float[] {9, 9, -9, 9, 1.5f, 2, 0.5f, -1}, new Shape(1, 4, 2)); // same mean, tokens swapped
            assertArrayEquals(o.predict(a).toFloatArray(), o.predict(b).toFloatArray(), 1e-6f);
            assertEquals(2, o.predict(a).getShape().get(1));
            float[] pa = o.predict(a).toFloatArray(), ps = o.predict(swapped).toFloatArray();
            assertTrue(Math.abs(pa[0] - ps[0]) + Math.abs(pa[1] - ps[1]) > 1e-6, "the mean would not tell these apart");
        }
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        float[] h = {0.5f, -1.2f, 0.3f, 0.9f, -0.4f, 0.1f};                          // (2, 3) pooled features
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray w1 = m.create(new float[] {0.4f, -0.7f, 1.1f, 0.2f, 0.9f, -0.5f, -1.3f, 0.6f, 0.8f, 0.3f, -0.2f, 0.7f}, new Shape(4, 3));
            NDArray b1 = m.create(new float[] {0.1f, -0.2f, 0.05f, 0f});
            NDArray w2 = m.create(new float[] {0.5f, -0.4f, 0.3f, 1.2f, -0.8f, 0.6f, 0.2f, -0.1f}, new Shape(2, 4));
            NDArray b2 = m.create(new float[] {0.2f, -0.3f});
            float[] y = {1f, -0.5f, 0.3f, 2f};
            float[] measured = {1f, 0f, 1f, 1f};
            GradCheck.check(x -> MotionPrediction.mse(MotionPrediction.decode(x, w1, b1, w2, b2), x.getManager().create(y, new Shape(2, 2)),
                            x.getManager().create(measured, new Shape(2, 2))),
                    h, new Shape(2, 3), 2e-3);
        }
    }

    @Test
    void configSwitchesItAndNamesBadKeys() {
        Config off = ConfigLoader.load(null, List.of()).config();
        assertEquals(0f, off.objectives().motionPrediction().weight());
        try (NDManager m = NDManager.newBaseManager()) {
            assertTrue(ObjectiveKind.enabled(off, new SensoriumModel(off, m)).stream().noneMatch(w -> w.objective() instanceof MotionPrediction));
            assertEquals(0.0, ObjectiveKind.needs(List.of()).futureSeconds());
            Config on = ConfigLoader.load(null, List.of("objectives.motion_prediction.weight=2", "objectives.contrastive.weight=0",
                    "data.modalities=[video, motion]")).config();
            SensoriumModel model = new SensoriumModel(on, m);
            Params params = model.params();
            List<Objective.Weighted> objectives = ObjectiveKind.enabled(on, model);
            assertEquals(1, objectives.size());
            MotionPrediction p = (MotionPrediction) objectives.get(0).objective();
            assertEquals(Modality.MOTION, p.from());
            assertArrayEquals(new long[] {1, 8, 8, 2}, p.fieldShape());                 // 0.25 s at 4 fps on the 8 x 8 grid
            assertTrue(params.all().containsKey("objective.motion_prediction.fc2.weight"));
            Loader.Views views = Loader.Views.of(ObjectiveKind.needs(objectives), on.modalities(), on.data().clipSeconds());
            assertEquals(0.25, views.needs().futureSeconds());
            assertArrayEquals(new long[] {1, 8, 8, 2}, views.future().inputShape());
        }
        for (String[] bad : new String[][] {
                {"objectives.motion_prediction.horizon_seconds=0.1", "objectives.motion_prediction.horizon_seconds"}, // 0.4 fields at 4 fps
                {"objectives.motion_prediction.horizon_seconds=0", "objectives.motion_prediction.horizon_seconds"},
                {"objectives.motion_prediction.hidden=0", "objectives.motion_prediction.hidden"},
                {"objectives.motion_prediction.weight=-1", "objectives.motion_prediction.weight"},
                {"objectives.motion_prediction.from=audio", "objectives.motion_prediction.from"}}) {
            ConfigException e = assertThrows(ConfigException.class,
                    () -> ConfigLoader.load(null, List.of("objectives.motion_prediction.weight=1",
                            "data.modalities=[video, motion, audio, text, imu]", bad[0])), bad[0]);
            assertEquals(bad[1], e.key(), bad[0]);
        }
        // the source must be decoded: motion by default, so the default modalities (no motion) are refused by name
        ConfigException source = assertThrows(ConfigException.class, () -> ConfigLoader.load(null,
                List.of("objectives.motion_prediction.weight=1")));
        assertEquals("objectives.motion_prediction.from", source.key());
        assertTrue(source.getMessage().contains("motion is not in data.modalities"), source.getMessage());
        ConfigLoader.load(null, List.of("objectives.motion_prediction.weight=1", "objectives.motion_prediction.from=video"));
    }

    /** A batch of modality m (input x, may be null) with the given presence. */
    private static Batch batch(Modality m, NDArray x, boolean... present) {
        List<String> ids = new java.util.ArrayList<>();
        for (int i = 0; i < present.length; i++) {
            ids.add("s" + i);
        }
        return new Batch(ids, Collections.nCopies(present.length, null), x == null ? Map.of() : Map.of(m, x), Map.of(m, present), Map.of());
    }

    @Test
    void poolingAveragesCellsAndTheConfigNamesABadPool() {
        try (NDManager m = NDManager.newBaseManager()) {
            // one future frame on a 2 x 2 grid, (dx, dy) per cell: (1, 0) (3, 0) / (0, 4) (0, 0); pool 2 -> (1, 1)
            float[] field = {1, 0, 3, 0, 0, 4, 0, 0};
            MotionPrediction o = new MotionPrediction(Modality.VIDEO, 1, 2, 3, new long[] {1, 2, 2, 2}, 2, new Params(m, 1));
            assertArrayEquals(new long[] {1, 1, 1, 2}, o.fieldShape());
            assertArrayEquals(new float[] {1, 1}, o.pool(field, null)[0], 1e-6f);
            assertArrayEquals(new float[] {1, 1}, o.pool(field, null)[1], 1e-6f);
            // the top-right cell unmeasured: the mean of the other three, (1 + 0 + 0, 0 + 4 + 0) / 3
            assertArrayEquals(new float[] {1 / 3f, 4 / 3f}, o.pool(field, new boolean[] {true, false, true, true})[0], 1e-6f);
            // nothing measured (a key frame): value 0, not counted
            assertArrayEquals(new float[] {0, 0}, o.pool(field, new boolean[4])[0], 1e-6f);
            assertArrayEquals(new float[] {0, 0}, o.pool(field, new boolean[4])[1], 1e-6f);
            MotionPrediction same = new MotionPrediction(Modality.VIDEO, 1, 2, 3, new long[] {1, 2, 2, 2}, 1, new Params(m, 2));
            assertArrayEquals(field, same.pool(field, null)[0], 1e-6f);
            assertArrayEquals(new float[] {1, 1, 0, 0, 1, 1, 1, 1}, same.pool(field, new boolean[] {true, false, true, true})[1], 1e-6f);
            org.sensorium.config.ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(
                    org.sensorium.config.ConfigException.class,
                    () -> new MotionPrediction(Modality.VIDEO, 1, 2, 3, new long[] {1, 8, 8, 2}, 3, new Params(m, 3)));
            assertTrue(e.getMessage().contains("objectives.motion_prediction.pool"), e.getMessage());
        }
    }
}
