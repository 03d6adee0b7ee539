package org.sensorium.dist.spark;

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
import org.sensorium.train.Json;

/**
 * The cluster launcher end to end on a real Spark local-cluster with 2 executor JVMs (see {@link LocalCluster}):
 * one barrier stage of 2 workers pretrains a tiny model over real sockets. A minute or two each: tagged slow.
 * Run with {@code mvn -Dtest.threads=1 -Dtest.excludedGroups= -Dtest=SparkGroupSlowTest test}.
 */
@Tag("slow")
class SparkGroupSlowTest {
    static final Duration TIMEOUT = Duration.ofMinutes(10);
    static final int SAMPLES = 48, SYNTH_SEED = 7;

    /** The launcher's arguments for a tiny 6-step run with a checkpoint every 2 steps, on a sample set made here once. */
    static List<String> tiny(Path dir, String name) throws Exception {
        Path cache = dir.resolve("cache");
        SampleSetGenerator.ensure(cache, SAMPLES, SYNTH_SEED); // before the workers, which would both generate it
        List<String> a = new ArrayList<>(List.of("--workers", "2", "--timeout", "60"));
        for (String s : List.of("run.dir=" + dir.resolve("runs"), "run.name=" + name, "data.cache_dir=" + cache,
                "data.synth_samples=" + SAMPLES, "data.synth_seed=" + SYNTH_SEED, "model.width=32", "model.heads=2",
                "model.embed_dim=16", "model.depth=1", "modalities.text.max_length=12", "train.steps=6", "train.batch_size=8",
                "train.accumulate=1", "train.warmup_steps=2", "train.checkpoint_every=2", "train.keep_checkpoints=5",
                "train.progress=false", "eval.at_end=false")) {
            a.addAll(List.of("--set", s));
        }
        return a;
    }

    /** The driver's "worker rank r host:port device pid p: exit c" lines. */
    static List<String[]> workers(String log) {
        List<String[]> out = new ArrayList<>();
        Matcher m = Pattern.compile("worker rank (\\d+) (\\S+) (\\S+) pid (\\d+): exit (\\d+)").matcher(log);
        while (m.find()) {
            out.add(new String[] {m.group(1), m.group(2), m.group(3), m.group(4), m.group(5)});
        }
        return out;
    }

    @Test
    void twoExecutorsTrainAsOneGroup(@TempDir Path dir) throws Exception {
        LocalCluster.Submitted s = LocalCluster.submit(dir, 2, 1536, List.of(), tiny(dir, "group"), TIMEOUT);
        assertEquals(0, s.code(), s.log());
        List<String[]> w = workers(s.log());
        assertEquals(2, w.size(), s.log());
        for (int r = 0; r < 2; r++) {
            assertEquals(String.valueOf(r), w.get(r)[0]);
            assertTrue(w.get(r)[1].startsWith("127.0.0.1:"), w.get(r)[1]); // the local cluster's executors listen on loopback
            assertEquals("cpu", w.get(r)[2]);
            assertEquals("0", w.get(r)[4]);
        }
        assertNotEquals(w.get(0)[3], w.get(1)[3], "one JVM per worker"); // pids
        assertNotEquals(w.get(0)[1], w.get(1)[1]);

        Path run = dir.resolve("runs/group");
        assertEquals(6, Files.readAllLines(run.resolve("metrics.jsonl")).size());
        assertTrue(Files.isRegularFile(run.resolve("checkpoints/step-0000006/state.json")));
        Map<?, ?> summary = Json.read(run.resolve("summary.json"));
        assertEquals(6, summary.get("steps"));
    }
}
