package org.sensorium.cli.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.data.SampleSetGenerator;
import org.sensorium.config.Json;
import org.sensorium.job.Pretrain;

/**
 * The cluster launcher end to end on a real Spark local-cluster with 2 executor JVMs (see {@link LocalCluster}):
 * one barrier stage of 2 workers pretrains a tiny model over real sockets; a worker that throws once makes Spark
 * run the stage again, and the new group resumes from the run's checkpoint. About a minute each on 2 cores:
 * tagged slow. Run with {@code mvn -Dtest.threads=1 -Dtest.excludedGroups= -Dtest=SparkGroupSlowTest test}.
 */
@Tag("slow")
class SparkGroupSlowTest {
    static final Duration TIMEOUT = Duration.ofMinutes(10);
    static final int SAMPLES = 48, SYNTH_SEED = 7, STEPS = 6;

    /** The launcher's arguments for a tiny 6-step run with a checkpoint every 2 steps, on a sample set made here once. */
    static List<String> tiny(Path dir, String name) throws Exception {
        Path cache = dir.resolve("cache");
        SampleSetGenerator.ensure(cache, SAMPLES, SYNTH_SEED); // before the workers, which would both generate it
        List<String> a = new ArrayList<>(List.of("--workers", "2", "--timeout", "60", "--", "pretrain"));
        for (String s : List.of("run.dir=" + dir.resolve("runs"), "run.name=" + name, "data.cache_dir=" + cache,
                "data.synth_samples=" + SAMPLES, "data.synth_seed=" + SYNTH_SEED, "model.width=32", "model.heads=2",
                "model.embed_dim=16", "model.depth=1", "modalities.text.max_length=12", "train.steps=" + STEPS, "train.batch_size=8",
                "train.accumulate=1", "train.warmup_steps=2", "train.checkpoint_every=2", "train.keep_checkpoints=5",
                "train.progress=false", "eval.at_end=false")) {
            a.addAll(List.of("--set", s));
        }
        return a;
    }

    /** The driver's line per worker: rank, address, device, pid, stage attempt, resumed-from step ("" if none), exit code. */
    static List<String[]> workers(String log) {
        List<String[]> out = new ArrayList<>();
        Matcher m = Pattern.compile("worker rank (\\d+) (\\S+) (\\S+) pid (\\d+) attempt (\\d+) (?:started the run|resumed from step (\\d+)): exit (\\d+)")
                .matcher(log);
        while (m.find()) {
            out.add(new String[] {m.group(1), m.group(2), m.group(3), m.group(4), m.group(5), m.group(6) == null ? "" : m.group(6), m.group(7)});
        }
        return out;
    }

    /** The run's metrics.jsonl has one line per step, 1 .. STEPS in order, and its summary says STEPS. */
    static void assertFinished(Path run) throws Exception {
        List<Integer> steps = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
            steps.add(((Number) Json.MAPPER.readValue(line, Map.class).get("step")).intValue());
        }
        assertEquals(List.of(1, 2, 3, 4, 5, 6), steps);
        assertTrue(Files.isRegularFile(run.resolve("checkpoints/step-0000006/state.json")));
        assertEquals(STEPS, Json.read(run.resolve("summary.json")).get("steps"));
    }

    @Test
    void twoExecutorsTrainAsOneGroup(@TempDir Path dir) throws Exception {
        LocalCluster.Submitted s = LocalCluster.submit(dir, 2, 1536, "", tiny(dir, "group"), TIMEOUT);
        assertEquals(0, s.code(), s.log());
        List<String[]> w = workers(s.log());
        assertEquals(2, w.size(), s.log());
        for (int r = 0; r < 2; r++) {
            assertEquals(List.of(String.valueOf(r), "cpu", "0", "", "0"), List.of(w.get(r)[0], w.get(r)[2], w.get(r)[4], w.get(r)[5], w.get(r)[6]));
            assertTrue(w.get(r)[1].startsWith("127.0.0.1:"), w.get(r)[1]); // the local cluster's executors listen on loopback
        }
        assertNotEquals(w.get(0)[3], w.get(1)[3], "one JVM per worker"); // pids
        assertNotEquals(w.get(0)[1], w.get(1)[1]);
        assertFinished(dir.resolve("runs/group"));
    }

    @Test
    void aWorkerThatThrowsOnceRestartsTheGroupFromTheCheckpoint(@TempDir Path dir) throws Exception {
        Path marker = dir.resolve("rank-1-failed");
        // rank 1 throws after step 3; the last checkpoint is step 2's, so the new group redoes step 3
        String failOnce = "-D" + Pretrain.FAIL_ONCE + "=1:3:" + marker;
        LocalCluster.Submitted s = LocalCluster.submit(dir, 2, 1536, failOnce, tiny(dir, "fault"), TIMEOUT);
        assertEquals(0, s.code(), s.log());
        assertTrue(Files.exists(marker), "rank 1 never failed:\n" + s.log());
        assertTrue(s.log().contains("rank 1 on 127.0.0.1:") && s.log().contains("pretrain exited with code 1"), s.log()); // the lost task
        List<String[]> w = workers(s.log());
        assertEquals(2, w.size(), s.log());
        for (int r = 0; r < 2; r++) {
            // stage attempt 1: Spark ran the barrier stage once more, and both workers resumed from step 2
            assertEquals(List.of(String.valueOf(r), "1", "2", "0"), List.of(w.get(r)[0], w.get(r)[4], w.get(r)[5], w.get(r)[6]));
        }
        assertFinished(dir.resolve("runs/fault"));
    }
}
