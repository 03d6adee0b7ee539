package org.sensorium.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.cli.Main;
import org.sensorium.data.Loader;
import org.sensorium.train.Checkpoint;
import org.sensorium.config.Json;

/**
 * Data parallelism end to end in real JVMs (DJL's gradient collector is global to a JVM, so each worker needs
 * its own): `sensorium launch` against one worker with the whole batch, and a group that loses a worker.
 */
class DataParallelTest {

    /** pretrain arguments on a tiny model and a 40-sample set, without dropout (the only randomness left is per sample). */
    static List<String> pretrain(Path dir, String name, int batch, int steps, String... more) {
        List<String> a = new ArrayList<>(List.of("pretrain"));
        for (String s : List.of("run.dir=" + dir.resolve("runs"), "run.name=" + name, "data.cache_dir=" + dir.resolve("cache"),
                "data.synth_samples=40", "model.width=32", "model.heads=2", "model.depth=1", "model.embed_dim=16",
                "model.dropout=0.0", "model.drop_path=0.0", "train.steps=" + steps, "train.batch_size=" + batch, "train.accumulate=1",
                "train.warmup_steps=1", "train.checkpoint_every=2", "train.progress=false", "eval.at_end=false", "eval.report=false",
                "dist.hash_every=1", "dist.timeout_seconds=60")) {
            a.add("--set");
            a.add(s);
        }
        a.addAll(List.of(more));
        return a;
    }

    static Object[] cli(List<String> args) {
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        System.setOut(new PrintStream(o, true));
        System.setErr(new PrintStream(e, true));
        try {
            return new Object[] {Main.run(args.toArray(String[]::new)), o.toString(), e.toString()};
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    static List<String> launch(int workers, List<String> pretrain, String... opts) {
        List<String> a = new ArrayList<>(List.of("launch", "--workers", String.valueOf(workers)));
        a.addAll(List.of(opts));
        a.add("--");
        a.addAll(pretrain);
        return a;
    }

    static Map<String, float[]> weights(Path checkpoint) throws Exception {
        Map<String, float[]> out = new HashMap<>();
        try (NDManager m = NDManager.newBaseManager(); InputStream in = Files.newInputStream(checkpoint.resolve("model.ndlist"))) {
            for (NDArray a : NDList.decode(m, in)) {
                out.put(a.getName(), a.toFloatArray());
            }
        }
        return out;
    }

    static double maxAbsDiff(Map<String, float[]> a, Map<String, float[]> b) {
        assertEquals(a.keySet(), b.keySet());
        double max = 0;
        for (String k : a.keySet()) {
            float[] x = a.get(k), y = b.get(k);
            for (int i = 0; i < x.length; i++) {
                max = Math.max(max, Math.abs(x[i] - y[i]));
            }
        }
        return max;
    }

    @Test
    void twoWorkersWithBatchBEqualOneWorkerWithBatch2B(@TempDir Path dir) throws Exception {
        int steps = 3;
        Object[] one = cli(pretrain(dir, "one", 16, steps));
        assertEquals(0, one[0], (String) one[2]);
        Object[] two = cli(launch(2, pretrain(dir, "two", 8, steps)));
        assertEquals(0, two[0], two[1] + "\n" + two[2]);
        // rank-prefixed output; replicas were compared after every step (dist.hash_every=1: a mismatch fails the run)
        assertTrue(((String) two[1]).contains("[rank 0] finished 3 steps"), (String) two[1]);

        Path a = dir.resolve("runs/one/checkpoints/step-0000003"), b = dir.resolve("runs/two/checkpoints/step-0000003");
        Map<String, float[]> wa = weights(a), wb = weights(b);
        Map<String, float[]> w0 = weights(dir.resolve("runs/one/checkpoints/step-0000002"));
        double moved = maxAbsDiff(wa, w0), diff = maxAbsDiff(wa, wb);
        assertTrue(moved > 1e-4, "the steps changed the weights: " + moved);
        assertTrue(diff < 1e-5, "2 x B differs from 1 x 2B by " + diff);
        System.err.printf("DataParallelTest: after %d steps max abs weight difference 2 x B vs 1 x 2B = %.3g (weights moved up to %.3g)%n", steps, diff, moved);
        // the same loss at every step (group loss = mean of the ranks' shares) and the global batch in samples
        List<String> la = Files.readAllLines(dir.resolve("runs/one/metrics.jsonl")), lb = Files.readAllLines(dir.resolve("runs/two/metrics.jsonl"));
        for (int i = 0; i < steps; i++) {
            Map<String, Object> ma = Json.MAPPER.readValue(la.get(i), Map.class), mb = Json.MAPPER.readValue(lb.get(i), Map.class);
            assertEquals(((Number) ma.get("loss")).doubleValue(), ((Number) mb.get("loss")).doubleValue(), 1e-4, "step " + (i + 1));
            for (String term : List.of("contrastive/video-text", "contrastive/imu-text")) { // each term's group mean
                assertEquals(((Number) ma.get(term)).doubleValue(), ((Number) mb.get(term)).doubleValue(), 1e-4, term);
            }
            assertEquals(16, ((Number) mb.get("samples")).intValue());
            assertEquals(2, ((Number) mb.get("world_size")).intValue());
        }
        // only rank 0 wrote: one metrics file, checkpoints that say which world wrote them
        assertEquals(2, Checkpoint.readState(b).worldSize());
        assertEquals(steps, lb.size());

        // resumed with another world size: 1 worker continues the 2-worker run from its cursor
        Object[] resumed = cli(List.of("pretrain", "--resume", dir.resolve("runs/two").toString(), "--set", "train.steps=4",
                "--set", "train.batch_size=16"));
        assertEquals(0, resumed[0], (String) resumed[2]);
        Checkpoint.State s = Checkpoint.readState(dir.resolve("runs/two/checkpoints/step-0000004"));
        assertEquals(1, s.worldSize());
        assertEquals(4, Files.readAllLines(dir.resolve("runs/two/metrics.jsonl")).size());
    }

    @Test
    void twoViewKeyFrameAndMilNceNegativesComeFromTheWholeGroup(@TempDir Path dir) throws Exception {
        String[] on = {"--set", "objectives.two_view.weight=0.5",
                "--set", "objectives.keyframe_context.weight=0.5",
                "--set", "objectives.mil_nce.weight=0.5", "--set", "modalities.text.bag=4"};
        Object[] one = cli(pretrain(dir, "one", 16, 2, on));
        assertEquals(0, one[0], (String) one[2]);
        Object[] two = cli(launch(2, pretrain(dir, "two", 8, 2, on)));
        assertEquals(0, two[0], two[1] + "\n" + two[2]);
        double diff = maxAbsDiff(weights(dir.resolve("runs/one/checkpoints/step-0000002")),
                weights(dir.resolve("runs/two/checkpoints/step-0000002")));
        assertTrue(diff < 1e-5, "2 x B differs from 1 x 2B by " + diff);
        List<String> la = Files.readAllLines(dir.resolve("runs/one/metrics.jsonl")), lb = Files.readAllLines(dir.resolve("runs/two/metrics.jsonl"));
        for (int i = 0; i < 2; i++) {
            Map<String, Object> ma = Json.MAPPER.readValue(la.get(i), Map.class), mb = Json.MAPPER.readValue(lb.get(i), Map.class);
            assertTrue(ma.containsKey("two_view/video") && ma.containsKey("keyframe_context") && ma.containsKey("mil_nce/video-text"), la.get(i));
            assertEquals(((Number) ma.get("mil_nce/video-text")).doubleValue(), ((Number) mb.get("mil_nce/video-text")).doubleValue(), 1e-4);
            assertEquals(((Number) ma.get("loss")).doubleValue(), ((Number) mb.get("loss")).doubleValue(), 1e-4, "step " + (i + 1));
        }
        System.err.printf("DataParallelTest: with two_view, keyframe_context and mil_nce, max abs weight difference 2 x B vs 1 x 2B = %.3g%n", diff);
        // full logits: every rank built all n x n of them (the logged shape is the ranks' mean)
        Map<String, Object> m2 = Json.MAPPER.readValue(lb.get(0), Map.class);
        for (String term : GATHERED) {
            assertEquals(((Number) m2.get(term + "/logits_cols")).doubleValue(), ((Number) m2.get(term + "/logits_rows")).doubleValue(), term);
        }
    }

    /** Every term whose negatives come from the whole group, when all four such objectives are on. */
    static final List<String> GATHERED = List.of("contrastive/video-text", "contrastive/imu-text", "two_view/video", "keyframe_context",
            "mil_nce/video-text");

    @Test
    void localLossTwoWorkersWithBatchBEqualOneWorkerWithBatch2B(@TempDir Path dir) throws Exception {
        String[] on = {"--set", "objectives.two_view.weight=0.5", "--set", "objectives.keyframe_context.weight=0.5",
                "--set", "objectives.mil_nce.weight=0.5", "--set", "modalities.text.bag=4", "--set", "dist.local_loss=true"};
        int steps = 2;
        Object[] one = cli(pretrain(dir, "one", 16, steps, on));
        assertEquals(0, one[0], (String) one[2]);
        Object[] two = cli(launch(2, pretrain(dir, "two", 8, steps, on)));
        assertEquals(0, two[0], two[1] + "\n" + two[2]);
        double diff = maxAbsDiff(weights(dir.resolve("runs/one/checkpoints/step-0000002")),
                weights(dir.resolve("runs/two/checkpoints/step-0000002")));
        assertTrue(diff < 1e-5, "2 x B with local logits differs from 1 x 2B by " + diff);
        List<String> la = Files.readAllLines(dir.resolve("runs/one/metrics.jsonl")), lb = Files.readAllLines(dir.resolve("runs/two/metrics.jsonl"));
        double lossDiff = 0;
        for (int i = 0; i < steps; i++) {
            Map<String, Object> ma = Json.MAPPER.readValue(la.get(i), Map.class), mb = Json.MAPPER.readValue(lb.get(i), Map.class);
            for (String term : GATHERED) {
                double a = ((Number) ma.get(term)).doubleValue(), b = ((Number) mb.get(term)).doubleValue();
                lossDiff = Math.max(lossDiff, Math.abs(a - b));
                assertEquals(a, b, 1e-5, term + ", step " + (i + 1));
                // each rank built its own rows against the group's columns: (n_r, n), the ranks' mean n_r = n / 2
                // (two_view: both views, 2 n_r x 2 n)
                double rows = ((Number) mb.get(term + "/logits_rows")).doubleValue(), cols = ((Number) mb.get(term + "/logits_cols")).doubleValue();
                assertEquals(cols, 2 * rows, term + ": logits " + rows + " x " + cols);
            }
            assertEquals(((Number) ma.get("loss")).doubleValue(), ((Number) mb.get("loss")).doubleValue(), 1e-5, "step " + (i + 1));
        }
        Map<String, Object> first = Json.MAPPER.readValue(lb.get(0), Map.class);
        System.err.printf("DataParallelTest: local logits, max abs weight difference 2 x B vs 1 x 2B = %.3g, terms %.3g; "
                + "contrastive/video-text logits per rank %s x %s%n", diff, lossDiff, first.get("contrastive/video-text/logits_rows"),
                first.get("contrastive/video-text/logits_cols"));
    }

    @Test
    void cursorsMoveBetweenWorldSizes() {
        // 2 workers 6 samples into their shards have used the epoch's first 12: 3 workers go on at 4, 4 at 3
        assertEquals(new Loader.Cursor(1, 4), Checkpoint.reshard(new Loader.Cursor(1, 6), 2, 3));
        assertEquals(new Loader.Cursor(1, 3), Checkpoint.reshard(new Loader.Cursor(1, 6), 2, 4));
        assertEquals(new Loader.Cursor(1, 12), Checkpoint.reshard(new Loader.Cursor(1, 6), 2, 1));
        // 3 x 5 = 15 used: 2 workers start at 7 (14 used; one sample repeats, none is skipped)
        assertEquals(new Loader.Cursor(0, 7), Checkpoint.reshard(new Loader.Cursor(0, 5), 3, 2));
        assertEquals(new Loader.Cursor(2, 9), Checkpoint.reshard(new Loader.Cursor(2, 9), 2, 2));
    }
}
