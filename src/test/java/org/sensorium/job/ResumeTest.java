package org.sensorium.job;

import org.sensorium.train.Checkpoint;
import org.sensorium.config.Json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.config.ConfigLoader;

/**
 * N steps straight == k steps, a crash, and a resume from the step-k checkpoint, to 1e-5, with
 * dropout and drop-path on and two libtorch threads. (This test found the freed-constant bug behind
 * {@link org.sensorium.model.Layers#scale}: before it, the first run in a JVM drifted in half the tries.)
 */
class ResumeTest {

    static List<String> tiny(Path dir, String name) {
        return new ArrayList<>(List.of("run.dir=" + dir.resolve("runs"), "run.name=" + name,
                "data.cache_dir=" + dir.resolve("cache"), "data.synth_samples=48",
                "model.width=32", "model.heads=2", "model.embed_dim=16", "model.dropout=0.1", "model.drop_path=0.2", "model.depth=2",
                "modalities.text.max_length=12", "train.steps=6", "train.batch_size=16", "train.accumulate=2",
                "train.warmup_steps=2", "train.checkpoint_every=3", "train.keep_checkpoints=5",
                "train.progress=false", "eval.at_end=false"));
    }

    static List<Double> losses(Path metrics) throws Exception {
        List<Double> out = new ArrayList<>();
        for (String line : Files.readAllLines(metrics)) {
            out.add(((Number) Json.MAPPER.readValue(line, Map.class).get("loss")).doubleValue());
        }
        return out;
    }

    @Test
    void resumedRunMatchesTheStraightRun(@TempDir Path dir) throws Exception {
        Pretrain.start(ConfigLoader.load(null, tiny(dir, "straight")));
        List<Double> straight = losses(dir.resolve("runs/straight/metrics.jsonl"));
        assertEquals(6, straight.size());

        // The same run, "killed" right after its step-3 checkpoint: later checkpoints never happened.
        Pretrain.start(ConfigLoader.load(null, tiny(dir, "crashed")));
        Path run = dir.resolve("runs/crashed");
        Checkpoint.deleteTree(run.resolve("checkpoints/step-0000006"));
        assertNotNull(Checkpoint.latest(run));
        assertEquals(3, Checkpoint.readState(Checkpoint.latest(run)).step());
        // 16-sample steps over 38 training samples: step 3 ends mid-epoch (epoch 1, position 16).
        assertEquals(new org.sensorium.data.Loader.Cursor(1, 16), Checkpoint.readState(Checkpoint.latest(run)).cursor());

        Pretrain.resume(run, List.of());
        List<Double> resumed = losses(run.resolve("metrics.jsonl"));
        assertEquals(6, resumed.size());
        for (int i = 0; i < 6; i++) {
            assertEquals(straight.get(i), resumed.get(i), 1e-5, "loss of step " + (i + 1) + ": straight " + straight + ", resumed " + resumed);
        }
    }

    /**
     * The same with both masked objectives next to contrastive: their EMA teachers (momentum 0.5, so they
     * move a lot per step) and decoder must come back from the step-3 checkpoint, and their masks replay.
     */
    @Test
    void resumedRunWithEmaTeachersMatchesTheStraightRun(@TempDir Path dir) throws Exception {
        List<String> masked = List.of("objectives.masked_tokens.weight=1", "objectives.masked_tokens.modalities=[video, imu]",
                "objectives.masked_tokens.teacher_momentum=0.5", "objectives.masked_tokens.teacher_momentum_end=0.6",
                "objectives.masked_tokens.teacher_momentum_steps=4",
                "objectives.masked_segments.weight=0.5", "objectives.masked_segments.teacher_momentum=0.5",
                "objectives.masked_segments.decoder_width=16");
        List<String> straightArgs = tiny(dir, "straight");
        straightArgs.addAll(masked);
        Pretrain.start(ConfigLoader.load(null, straightArgs));
        List<Double> straight = losses(dir.resolve("runs/straight/metrics.jsonl"));

        List<String> crashedArgs = tiny(dir, "crashed");
        crashedArgs.addAll(masked);
        Pretrain.start(ConfigLoader.load(null, crashedArgs));
        Path run = dir.resolve("runs/crashed");
        Checkpoint.deleteTree(run.resolve("checkpoints/step-0000006"));
        assertTrue(Files.isRegularFile(run.resolve("checkpoints/step-0000003/teacher-masked_tokens.ndlist")));
        assertTrue(Files.isRegularFile(run.resolve("checkpoints/step-0000003/teacher-masked_segments.ndlist")));

        Pretrain.resume(run, List.of());
        List<Double> resumed = losses(run.resolve("metrics.jsonl"));
        assertEquals(6, resumed.size());
        for (int i = 0; i < 6; i++) {
            assertEquals(straight.get(i), resumed.get(i), 1e-5, "loss of step " + (i + 1) + ": straight " + straight + ", resumed " + resumed);
        }
    }
}
