package org.sensorium.job;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigLoader;
import org.sensorium.data.Batch;
import org.sensorium.data.Loader;
import org.sensorium.data.Manifest;
import org.sensorium.data.ManifestEntry;
import org.sensorium.modality.SkipLog;
import org.sensorium.eval.Retrieval;
import org.sensorium.model.SensoriumModel;
import org.sensorium.config.Modality;
import org.sensorium.modality.ModalityAdapter;
import org.sensorium.modality.video.VideoAdapter;
import org.sensorium.objective.MotionPrediction;
import org.sensorium.objective.Objective;

/**
 * Each compressed-video objective trained alone on the built-in sample set improves its held-out measure over
 * the untrained model (the same config and seed, so the run's own starting point): for context matching, the
 * clip-to-key-frame look R@1 and R@5 with each side augmented as in training, the future motion field's squared error for motion prediction (also below predicting the
 * held-out mean field). Several minutes on a shared CPU, so tagged slow; prints the numbers.
 */
@Tag("slow")
class CompressedObjectivesSlowTest {
    static final int STEPS = Integer.getInteger("sensorium.slow.steps", 150);

    /** The run's settings: video only, 1 s clips (the sample set's recordings last 2 s), contrastive off. */
    static List<String> sets(Path dir, String name, String... more) {
        List<String> s = new ArrayList<>(List.of("run.dir=" + dir.resolve("runs"), "run.name=" + name,
                "data.cache_dir=" + System.getProperty("sensorium.slow.cache", dir.resolve("cache").toString()),
                "data.synth_samples=640", "data.modalities=[video]", "data.clip_seconds=1.0",
                "objectives.contrastive.weight=0", "train.steps=" + STEPS, "train.batch_size=32", "train.accumulate=1",
                "train.warmup_steps=15", "train.checkpoint_every=0", "train.progress=false"));
        s.addAll(List.of(more));
        return s;
    }

    @Test
    void keyframeContextImprovesHeldOutKeyframeRetrieval(@TempDir Path dir) throws Exception {
        Map<String, Pretrain.HeldOut> h = Pretrain.start(ConfigLoader.load(null, sets(dir, "keyframe",
                "objectives.keyframe_context.weight=1"))).heldOut();
        Pretrain.HeldOut r1 = h.get("keyframe_context/R@1");
        Pretrain.HeldOut look = h.get("keyframe_context/augmented_look_R@1");
        Pretrain.HeldOut r5 = h.get("keyframe_context/augmented_R@5");
        System.out.printf("keyframe_context, %d steps: held-out video->keyframe R@1 %.3f -> %.3f; augmented: look R@1 %.3f -> %.3f"
                + " (chance %.3f), R@5 %.3f -> %.3f%n", STEPS, r1.start(), r1.end(), look.start(), look.end(),
                h.get("keyframe_context/look_chance").end(), r5.start(), r5.end());
        // augmented pairs, as training sees them: unaugmented ones are matched by an untrained encoder copying pixels
        assertTrue(look.end() > look.start() && r5.end() > r5.start(), h.toString());
    }

    @Test
    void motionPredictionImprovesHeldOutMotionError(@TempDir Path dir) throws Exception {
        // from the clip's own motion field (the default source), so motion is decoded too
        Map<String, Pretrain.HeldOut> h = Pretrain.start(ConfigLoader.load(null, sets(dir, "motion",
                "data.modalities=[video, motion]", "objectives.motion_prediction.weight=1"))).heldOut();
        Pretrain.HeldOut mse = h.get("motion_prediction/mse");
        System.out.printf("motion_prediction, %d steps: held-out future-field MSE over %.0f samples: %.4f -> %.4f"
                        + " (zero field %.4f, held-out mean field %.4f)%n", STEPS, h.get("motion_prediction/n").end(),
                mse.start(), mse.end(), h.get("motion_prediction/zero_field_mse").end(), h.get("motion_prediction/mean_field_mse").end());
        assertTrue(mse.end() < mse.start() && mse.end() < h.get("motion_prediction/mean_field_mse").end(), h.toString());
    }
}
