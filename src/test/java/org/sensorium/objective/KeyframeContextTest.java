package org.sensorium.objective;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
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
import org.sensorium.config.ConfigLoader;
import org.sensorium.data.Batch;
import org.sensorium.model.ModelOutput;
import org.sensorium.model.Params;
import org.sensorium.model.SensoriumModel;
import org.sensorium.config.Modality;

class KeyframeContextTest {

    @Test
    void lossByHand() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray e = m.create(new float[][] {{1, 0}, {0, 1}});
            // S = I / tau: each row and column -log(e^(1/tau) / (e^(1/tau) + 1)) = log(1 + e^(-1/tau))
            assertEquals(Math.log(1 + Math.exp(-1)), KeyframeContext.loss(e, e, 1f).getFloat(), 1e-6);   // 0.313262
            assertEquals(Math.log(1 + Math.exp(-2)), KeyframeContext.loss(e, e, 0.5f).getFloat(), 1e-6); // 0.126928
            // both clips nearest the first key frame: S = [[1, 1], [0, 0]]. Rows (clip -> key frame): log 2 each.
            // Columns (key frame -> clip), S^T = [[1, 0], [1, 0]]: log(e + 1) - 1 and log(e + 1). Mean of both directions.
            NDArray k = m.create(new float[][] {{1, 0}, {1, 0}});
            double expected = (Math.log(2) + Math.log(1 + Math.E) - 0.5) / 2;                            // 0.753205
            assertEquals(expected, KeyframeContext.loss(e, k, 1f).getFloat(), 1e-6);
            // four identical rows: every candidate ties, log 4
            NDArray same = m.create(new float[][] {{1, 0}, {1, 0}, {1, 0}, {1, 0}});
            assertEquals(Math.log(4), KeyframeContext.loss(same, same, 0.1f).getFloat(), 1e-5);
        }
    }

    @Test
    void onlySamplesWithAClipAndAKeyFrameCount() {
        try (NDManager m = NDManager.newBaseManager()) {
            Batch batch = batch(true, true, true);
            ModelOutput clips = output(m.create(new float[][] {{1, 0}, {0.6f, 0.8f}, {0, 1}}));
            // sample 1 has no key frame: its row of the key-frame output is whatever the zeros encoded to
            ModelOutput keys = output(m.create(new float[][] {{1, 0}, {0.8f, 0.6f}, {0, 1}}));
            KeyframeContext o = new KeyframeContext(1f);
            Map<String, NDArray> terms = o.losses(new Step(batch, clips, Map.of(Batch.Extra.KEYFRAME, new Step.Pass(batch(true, false, true), keys))));
            assertEquals(Math.log(1 + Math.exp(-1)), terms.get("keyframe_context").getFloat(), 1e-6); // samples 0 and 2 only
            assertEquals(1.0, o.stats().get("keyframe_context/r1"));
            assertEquals(2 / 3.0, o.stats().get("keyframe_context/with_keyframe"), 1e-12);
            // one pair has no negatives; no key frames at all (e.g. no sample of the micro-batch had one): no term
            assertTrue(o.losses(new Step(batch, clips, Map.of(Batch.Extra.KEYFRAME, new Step.Pass(batch(false, false, true), keys)))).isEmpty());
            assertTrue(o.losses(new Step(batch, clips)).isEmpty());
        }
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        float[] z = {0.6f, 0.8f, -1f, 0f, 0.28f, -0.96f};
        float[] k = {0.8f, 0.6f, -0.6f, 0.8f, 0f, -1f};
        GradCheck.check(x -> KeyframeContext.loss(x, x.getManager().create(k, new Shape(3, 2)), 0.5f), z, new Shape(3, 2), 2e-3);
        GradCheck.check(x -> KeyframeContext.loss(x.getManager().create(z, new Shape(3, 2)), x, 0.5f), k, new Shape(3, 2), 2e-3);
    }

    @Test
    void configSwitchesItAndNamesBadKeys() {
        Config off = ConfigLoader.load(null, List.of()).config();
        assertEquals(0f, off.objectives().keyframeContext().weight());
        try (NDManager m = NDManager.newBaseManager()) {
            assertTrue(ObjectiveKind.enabled(off, new SensoriumModel(off, m)).stream().noneMatch(w -> w.objective() instanceof KeyframeContext));
            assertFalse(ObjectiveKind.needs(List.of()).keyframes()); // no key frame decoded
            Config on = ConfigLoader.load(null, List.of("objectives.keyframe_context.weight=0.5", "objectives.contrastive.weight=0")).config();
            List<Objective.Weighted> objectives = ObjectiveKind.enabled(on, new SensoriumModel(on, m));
            assertEquals(1, objectives.size());
            assertTrue(objectives.get(0).objective() instanceof KeyframeContext);
            assertEquals(0.5f, objectives.get(0).weight());
            assertTrue(ObjectiveKind.needs(objectives).keyframes());
        }
        ConfigException video = assertThrows(ConfigException.class, () -> ConfigLoader.load(null,
                List.of("objectives.keyframe_context.weight=1", "data.modalities=[audio, text]", "objectives.contrastive.pairs=[audio-text]")));
        assertEquals("objectives.keyframe_context.weight", video.key());
        ConfigException tau = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of("objectives.keyframe_context.temperature=0")));
        assertEquals("objectives.keyframe_context.temperature", tau.key());
        ConfigException negative = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of("objectives.keyframe_context.weight=-1")));
        assertEquals("objectives.keyframe_context.weight", negative.key());
    }

    private static Batch batch(boolean... present) {
        List<String> ids = new java.util.ArrayList<>();
        for (int i = 0; i < present.length; i++) {
            ids.add("s" + i);
        }
        return new Batch(ids, java.util.Collections.nCopies(present.length, null), Map.of(), Map.of(Modality.VIDEO, present), Map.of());
    }

    private static ModelOutput output(NDArray videoEmbeddings) {
        return new ModelOutput(Map.of(), Map.of(Modality.VIDEO, videoEmbeddings), null);
    }
}
