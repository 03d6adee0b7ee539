package org.sensorium.job;

import org.sensorium.objective.ObjectiveKind;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigLoader;
import org.sensorium.data.Manifest;
import org.sensorium.data.ManifestEntry;
import org.sensorium.modality.SkipLog;
import org.sensorium.eval.TemporalSegmentation;
import org.sensorium.model.SensoriumModel;
import org.sensorium.objective.Objective;

/**
 * Temporal OT alone on the generated long recordings (60 recordings of 4 motions in one order, IMU,
 * windows of 1 s, 8 per recording) improves held-out frame-level segmentation over the same model
 * untrained, and beats cutting each recording into 4 equal parts, which knows the order and nothing else.
 */
class TemporalOtHeldOutTest {

    @Test
    void trainingImprovesHeldOutSegmentationBeyondTheEqualSplit(@TempDir Path dir) throws Exception {
        List<String> sets = new ArrayList<>(List.of("run.dir=" + dir.resolve("runs"), "run.name=tot",
                "data.cache_dir=" + dir.resolve("cache"), "data.synth_long=60", "data.synth_segments=4", "data.clip_seconds=1.0",
                "data.modalities=[imu]", "objectives.contrastive.weight=0", "objectives.temporal_ot.weight=1",
                "objectives.temporal_ot.windows=8", "model.width=32", "model.heads=2", "model.depth=1", "model.embed_dim=16",
                "train.steps=60", "train.batch_size=8", "train.accumulate=1", "train.warmup_steps=5", "train.lr=0.003",
                "train.checkpoint_every=0", "train.progress=false", "eval.pairs=[]"));
        ConfigLoader.Resolved resolved = ConfigLoader.load(null, sets);
        Config cfg = resolved.config();
        List<ManifestEntry> heldOut = Manifest.read(Manifest.forRun(cfg.data())).stream()
                .filter(e -> !e.split().equals("train")).toList();

        TemporalSegmentation.Report before; // the run's own starting point: parameters are drawn from run.seed
        try (NDManager root = NDManager.newBaseManager(); SensoriumModel model = new SensoriumModel(cfg, root)) {
            List<Objective.Weighted> objectives = ObjectiveKind.enabled(cfg, model);
            before = Pretrain.segmentation(cfg, model, objectives, heldOut, root, new SkipLog(false));
        }
        TemporalSegmentation.Report after = Pretrain.start(resolved).segmentation();
        assertNotNull(before);
        assertNotNull(after);
        String numbers = "untrained " + before.toMap() + "\ntrained   " + after.toMap();
        System.out.println(numbers);
        assertTrue(after.argmax().n() == 12 * 8 && after.recordings() == 12, numbers);
        assertTrue(after.argmax().mof() > before.argmax().mof() + 0.15, numbers);
        assertTrue(after.argmax().nmi() > before.argmax().nmi() + 0.1, numbers);
        assertTrue(after.argmax().mof() > after.argmax().equalSplitMof() + 0.05, numbers);
    }
}
