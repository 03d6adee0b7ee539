package org.sensorium.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.config.ConfigLoader;
import org.sensorium.data.Loader;
import org.sensorium.data.SampleSetGenerator;
import org.sensorium.data.ShardWriter;
import org.sensorium.train.Checkpoint;

/** {@link ResumeTest}'s exact resume on the same sample set packed into shards: the step-3 checkpoint is mid-shard. */
class ShardResumeTest {

    @Test
    void resumedRunFromShardsMatchesTheStraightRun(@TempDir Path dir) throws Exception {
        Path manifest = SampleSetGenerator.ensure(dir.resolve("cache"), 48, 7);
        // about 36 kB a sample: 200 kB shards hold 5 or so; 38 training samples in 8 shards, the 10 held-out in 2
        ShardWriter.write(manifest, dir.resolve("shards"), ShardWriter.parseSize("200KB"));
        String index = "data.manifest=" + dir.resolve("shards/index.json");
        List<String> straightArgs = ResumeTest.tiny(dir, "straight");
        straightArgs.addAll(List.of(index, "data.shuffle_buffer=8"));
        Pretrain.start(ConfigLoader.load(null, straightArgs));
        List<Double> straight = ResumeTest.losses(dir.resolve("runs/straight/metrics.jsonl"));
        assertEquals(6, straight.size());

        List<String> crashedArgs = ResumeTest.tiny(dir, "crashed");
        crashedArgs.addAll(List.of(index, "data.shuffle_buffer=8"));
        Pretrain.start(ConfigLoader.load(null, crashedArgs));
        Path run = dir.resolve("runs/crashed");
        Checkpoint.deleteTree(run.resolve("checkpoints/step-0000006"));
        // 16-sample steps over 38 training samples: step 3 ends mid-epoch, and mid-shard (16 is not a shard boundary)
        assertEquals(new Loader.Cursor(1, 16), Checkpoint.readState(Checkpoint.latest(run)).cursor());

        Pretrain.resume(run, List.of());
        List<Double> resumed = ResumeTest.losses(run.resolve("metrics.jsonl"));
        assertEquals(6, resumed.size());
        for (int i = 0; i < 6; i++) {
            assertEquals(straight.get(i), resumed.get(i), 1e-5, "loss of step " + (i + 1) + ": straight " + straight + ", resumed " + resumed);
        }
        assertTrue(straight.stream().allMatch(Double::isFinite));
    }

    /** Evaluation during training on a run that streams shards: the held-out samples copied out are what it embeds. */
    @Test
    void evaluationDuringTrainingRunsOnTheHeldOutSamplesOfAShardRun(@TempDir Path dir) throws Exception {
        Path manifest = SampleSetGenerator.ensure(dir.resolve("cache"), 48, 7);
        ShardWriter.write(manifest, dir.resolve("shards"), ShardWriter.parseSize("200KB"));
        List<String> sets = DuringEvalTest.evaluating(dir, "shards-eval");
        sets.addAll(List.of("data.manifest=" + dir.resolve("shards/index.json"), "data.shuffle_buffer=8"));
        Pretrain.start(ConfigLoader.load(null, sets));
        Path run = dir.resolve("runs/shards-eval");
        java.util.Map<Integer, java.util.Map<String, Object>> lines = DuringEvalTest.lines(run.resolve("metrics.jsonl"));
        for (int step : List.of(2, 4, 6)) {
            // retrieval over the 10 held-out samples decoded out of the shards: with 10 candidates R@10 is 1 exactly
            // (the old code stopped here: "a shard index: only pretrain streams shards")
            assertEquals(1.0, ((Number) lines.get(step).get("eval/retrieval/video->text/R@10")).doubleValue(), "step " + step);
            assertTrue(lines.get(step).containsKey(DuringEvalTest.METRIC), "step " + step);
        }
        assertTrue(Checkpoint.isCheckpoint(run.resolve("checkpoints/best")));
    }
}
