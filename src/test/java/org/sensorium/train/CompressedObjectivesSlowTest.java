package org.sensorium.train;

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
import org.sensorium.data.SkipLog;
import org.sensorium.eval.ContextEval;
import org.sensorium.eval.Retrieval;
import org.sensorium.model.SensoriumModel;
import org.sensorium.modality.Modality;
import org.sensorium.modality.ModalityAdapter;
import org.sensorium.modality.video.VideoAdapter;
import org.sensorium.objective.MotionPrediction;
import org.sensorium.objective.Objective;

/**
 * Each compressed-video objective trained alone on the built-in sample set improves its held-out measure over
 * the untrained model (the same config and seed, so the run's own starting point): video-to-key-frame R@1 for
 * context matching, the future motion field's squared error for motion prediction (also below predicting the
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

    /** The held-out measures of the untrained model of config (its initial weights, objective heads included). */
    static Map<String, Double> untrained(Config cfg) throws Exception {
        List<ManifestEntry> val = Manifest.read(Pretrain.manifestPath(cfg.data())).stream().filter(e -> !e.split().equals("train")).toList();
        try (NDManager root = NDManager.newBaseManager(); SensoriumModel model = new SensoriumModel(cfg, root)) {
            List<Objective.Weighted> objectives = Objective.fromConfig(cfg, model.params());
            Loader.SecondViews views = Objective.secondViews(cfg, objectives);
            Map<Modality, ModalityAdapter> video = Map.of(Modality.VIDEO, new VideoAdapter(cfg.modalities().video(), cfg.data().clipSeconds()));
            List<Batch.Decoded> decoded = Loader.decodeAll(val, video, cfg.data().clipSeconds(), 0, 1, 2, cfg.run().seed(), new SkipLog(false), views);
            Map<String, Double> out = new java.util.LinkedHashMap<>();
            if (views.keyframes() != null) {
                Retrieval.Result r = ContextEval.keyframeRetrieval(model, decoded, 64, root);
                out.put("R@1", r.r1());
                out.put("R@5", r.r5());
                out.put("n", (double) r.n());
            }
            for (Objective.Weighted w : objectives) {
                if (w.objective() instanceof MotionPrediction p) {
                    ContextEval.MotionError e = ContextEval.motionError(model, p, decoded, 64, root);
                    out.put("mse", e.mse());
                    out.put("mean_field_mse", e.meanFieldMse());
                    out.put("zero_field_mse", e.zeroFieldMse());
                }
            }
            return out;
        }
    }

    @Test
    void keyframeContextImprovesHeldOutKeyframeRetrieval(@TempDir Path dir) throws Exception {
        ConfigLoader.Resolved r = ConfigLoader.load(null, sets(dir, "keyframe", "objectives.keyframe_context.weight=1"));
        Map<String, Double> before = untrained(r.config());
        Retrieval.Result after = Pretrain.start(r).retrieval().get("video->keyframe");
        System.out.printf("keyframe_context, %d steps: held-out video->keyframe over %d: R@1 %.3f -> %.3f, R@5 %.3f -> %.3f (chance %.4f)%n",
                STEPS, after.n(), before.get("R@1"), after.r1(), before.get("R@5"), after.r5(), after.chance());
        assertTrue(after.r1() > before.get("R@1") && after.r5() > before.get("R@5"), before + " -> " + after);
    }

    @Test
    void motionPredictionImprovesHeldOutMotionError(@TempDir Path dir) throws Exception {
        ConfigLoader.Resolved r = ConfigLoader.load(null, sets(dir, "motion", "objectives.motion_prediction.weight=1"));
        Map<String, Double> before = untrained(r.config());
        Map<String, Double> after = Pretrain.start(r).heldOut();
        System.out.printf("motion_prediction, %d steps: held-out future-field MSE over %.0f samples: %.4f -> %.4f"
                        + " (zero field %.4f, held-out mean field %.4f)%n", STEPS, after.get("motion_prediction/n"),
                before.get("mse"), after.get("motion_prediction/mse"), after.get("motion_prediction/zero_field_mse"),
                after.get("motion_prediction/mean_field_mse"));
        double mse = after.get("motion_prediction/mse");
        assertTrue(mse < before.get("mse") && mse < after.get("motion_prediction/mean_field_mse"), before + " -> " + after);
    }
}
