package org.sensorium.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.config.ConfigException;
import org.sensorium.config.ConfigLoader;
import org.sensorium.config.Json;
import org.sensorium.train.Checkpoint;
import org.sensorium.train.EventFileReader;

/**
 * Evaluation during pretraining (eval.every_steps) with train.keep_best and log.tensorboard, on ResumeTest's tiny
 * run (6 steps, checkpoints at 3 and 6, dropout and drop-path on): the kept checkpoint is the step with the best
 * logged value, TensorBoard holds the same numbers, the report draws the curve, evaluating changes no training
 * number, and a resume keeps the best of its past.
 */
class DuringEvalTest {
    /** Mean rank moves with every change of an embedding, so the steps differ (top-1 of 8 samples often ties). */
    static final String METRIC = "eval/retrieval/video->text/mean_rank";

    static List<String> evaluating(Path dir, String name) {
        List<String> sets = new ArrayList<>(ResumeTest.tiny(dir, name));
        sets.addAll(List.of("eval.every_steps=2", "train.keep_best=" + METRIC, "train.keep_best_mode=min",
                "log.tensorboard=true", "eval.report=true"));
        return sets;
    }

    /** step -> that step's metrics.jsonl line. */
    @SuppressWarnings("unchecked")
    static Map<Integer, Map<String, Object>> lines(Path metrics) throws Exception {
        Map<Integer, Map<String, Object>> out = new LinkedHashMap<>();
        for (String l : Files.readAllLines(metrics)) {
            Map<String, Object> m = Json.MAPPER.readValue(l, Map.class);
            out.put(((Number) m.get("step")).intValue(), m);
        }
        return out;
    }

    @Test
    void keptBestIsTheBestLoggedStepAndTensorBoardAndTheReportShowTheCurve(@TempDir Path dir) throws Exception {
        Pretrain.start(ConfigLoader.load(null, evaluating(dir, "eval")));
        Path run = dir.resolve("runs/eval");
        Map<Integer, Map<String, Object>> lines = lines(run.resolve("metrics.jsonl"));
        assertEquals(List.of(1, 2, 3, 4, 5, 6), List.copyOf(lines.keySet()));
        int bestStep = -1;
        double best = Double.POSITIVE_INFINITY;
        for (Map.Entry<Integer, Map<String, Object>> e : lines.entrySet()) {
            Object v = e.getValue().get(METRIC);
            assertEquals(e.getKey() % 2 == 0, v != null, "evaluated at steps 2, 4, 6 only: step " + e.getKey());
            if (v != null && ((Number) v).doubleValue() < best) { // the first of equal values is kept
                best = ((Number) v).doubleValue();
                bestStep = e.getKey();
            }
        }
        Path kept = Checkpoint.best(run);
        assertNotNull(kept);
        assertEquals(run.resolve("checkpoints/best"), kept);
        Checkpoint.State state = Checkpoint.readState(kept);
        assertEquals(bestStep, state.step());
        assertEquals(new Checkpoint.Best(METRIC, "min", bestStep, best), state.best());
        assertTrue(Checkpoint.isCheckpoint(kept) && Files.isRegularFile(kept.resolve("optimizer.json")), "a whole checkpoint");
        assertEquals(state.best(), Checkpoint.readState(Checkpoint.latest(run)).best(), "the last checkpoint carries the best so far");
        Map<String, Object> summary = Json.read(run.resolve("summary.json"));
        assertEquals(bestStep, ((Map<?, ?>) summary.get("best")).get("step"));

        // TensorBoard: every number of every line, at its step, as float32
        List<EventFileReader.Event> events = EventFileReader.readDir(run.resolve("tensorboard"));
        assertEquals("brain.Event:2", events.get(0).fileVersion());
        Map<Long, Map<String, Float>> byStep = new LinkedHashMap<>();
        events.stream().filter(ev -> !ev.scalars().isEmpty()).forEach(ev -> byStep.put(ev.step(), ev.scalars()));
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L), List.copyOf(byStep.keySet()));
        for (Map.Entry<Integer, Map<String, Object>> e : lines.entrySet()) {
            Map<String, Float> tb = byStep.get((long) e.getKey());
            for (Map.Entry<String, Object> kv : e.getValue().entrySet()) {
                if (!kv.getKey().equals("step") && kv.getValue() instanceof Number n) {
                    assertEquals(n.floatValue(), tb.get(kv.getKey()), "step " + e.getKey() + " " + kv.getKey());
                }
            }
        }
        assertTrue(byStep.get(2L).containsKey("eval/zero_shot_video/top1"));
        assertTrue(byStep.get(1L).containsKey("lr") && byStep.get(1L).containsKey("samples_per_s") && byStep.get(1L).containsKey("rss_mib"));

        String html = Files.readString(run.resolve("report.html"));
        assertTrue(html.contains("Evaluation during training"), "the section");
        assertTrue(html.contains("Task retrieval over training steps") && html.contains("Task zero_shot_video over training steps"));
        assertTrue(html.contains("Kept best (train.keep_best): " + METRIC.replace(">", "&gt;")), "the kept checkpoint is named");
    }

    /**
     * Evaluating draws from no training source: the losses equal a run without it; and a crash after the step-3
     * checkpoint, resumed, logs the same evaluations and ends with the same best as the straight run.
     */
    @Test
    void evaluationChangesNoTrainingNumberAndResumeKeepsTheBest(@TempDir Path dir) throws Exception {
        Pretrain.start(ConfigLoader.load(null, ResumeTest.tiny(dir, "plain")));
        Pretrain.start(ConfigLoader.load(null, evaluating(dir, "straight")));
        List<Double> plain = ResumeTest.losses(dir.resolve("runs/plain/metrics.jsonl"));
        Map<Integer, Map<String, Object>> straight = lines(dir.resolve("runs/straight/metrics.jsonl"));
        for (int s = 1; s <= 6; s++) {
            assertEquals(plain.get(s - 1), ((Number) straight.get(s).get("loss")).doubleValue(), 1e-5, "loss of step " + s);
        }

        Pretrain.start(ConfigLoader.load(null, evaluating(dir, "crashed")));
        Path run = dir.resolve("runs/crashed");
        Checkpoint.deleteTree(run.resolve("checkpoints/step-0000006"));
        assertEquals(new Checkpoint.Best(METRIC, "min", 2, ((Number) straight.get(2).get(METRIC)).doubleValue()),
                Checkpoint.readState(run.resolve("checkpoints/step-0000003")).best(), "step 3's state: the best of step 2");
        Pretrain.resume(run, List.of());
        Map<Integer, Map<String, Object>> resumed = lines(run.resolve("metrics.jsonl"));
        for (int s = 2; s <= 6; s += 2) {
            assertEquals(((Number) straight.get(s).get(METRIC)).doubleValue(), ((Number) resumed.get(s).get(METRIC)).doubleValue(), 1e-4,
                    "evaluation of step " + s);
        }
        Checkpoint.Best a = Checkpoint.readState(Checkpoint.best(dir.resolve("runs/straight"))).best();
        Checkpoint.Best b = Checkpoint.readState(Checkpoint.best(run)).best();
        assertEquals(a.step(), b.step());
        assertEquals(a.value(), b.value(), 1e-4);
        // the resumed TensorBoard file tells TensorBoard to drop the first file's points from step 4 on
        List<EventFileReader.Event> events = EventFileReader.readDir(run.resolve("tensorboard"));
        assertTrue(events.stream().anyMatch(e -> e.sessionStatus() == 1 && e.step() == 4));
    }

    /** A group of two worker JVMs runs through it: rank 0 evaluates and keeps the best, rank 1 waits at the barrier. */
    @Test
    void inAWorkerGroupRankZeroEvaluates(@TempDir Path dir) throws Exception {
        List<String> args = new ArrayList<>(List.of("launch", "--workers", "2", "--", "pretrain"));
        for (String s : List.of("run.dir=" + dir.resolve("runs"), "run.name=group", "data.cache_dir=" + dir.resolve("cache"),
                "data.synth_samples=40", "model.width=32", "model.heads=2", "model.depth=1", "model.embed_dim=16",
                "train.steps=4", "train.batch_size=8", "train.accumulate=1", "train.progress=false", "eval.at_end=false",
                "eval.report=false", "eval.every_steps=2", "train.keep_best=" + METRIC, "train.keep_best_mode=min",
                "dist.timeout_seconds=120")) {
            args.addAll(List.of("--set", s));
        }
        java.io.PrintStream out = System.out, err = System.err;
        java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new java.io.PrintStream(o, true));
            System.setErr(new java.io.PrintStream(o, true));
            code = org.sensorium.cli.Main.run(args.toArray(String[]::new));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        String log = o.toString();
        assertEquals(0, code, log);
        Map<Integer, Map<String, Object>> lines = lines(dir.resolve("runs/group/metrics.jsonl"));
        assertTrue(lines.get(2).containsKey(METRIC) && lines.get(4).containsKey(METRIC) && !lines.get(3).containsKey(METRIC));
        assertNotNull(Checkpoint.best(dir.resolve("runs/group")));
    }

    /**
     * A task the run's held-out samples cannot serve (zero-shot with labels none of them has) is left out with a
     * warning at its first evaluation, the others go on; a suite with a task that trains (finetune) is refused.
     */
    @Test
    void aTaskThatDoesNotFitIsLeftOutAndTrainingTasksAreRefused(@TempDir Path dir) throws Exception {
        Path suite = Files.writeString(dir.resolve("during.yaml"), String.join("\n", "tasks:",
                "  - {name: zs_hmp, kind: zero_shot, modality: imu, labels: eval/labels/hmp.txt, templates: eval/templates/hmp.txt}",
                "  - {name: retrieval, kind: retrieval, pairs: [video-text]}", ""));
        List<String> sets = new ArrayList<>(ResumeTest.tiny(dir, "unfit"));
        sets.addAll(List.of("train.steps=4", "eval.every_steps=2", "eval.during_suite=" + suite));
        Pretrain.start(ConfigLoader.load(null, sets));
        Map<Integer, Map<String, Object>> lines = lines(dir.resolve("runs/unfit/metrics.jsonl"));
        for (int s : List.of(2, 4)) {
            assertTrue(lines.get(s).containsKey("eval/retrieval/video->text/R@1"), "step " + s);
            assertTrue(lines.get(s).keySet().stream().noneMatch(k -> k.startsWith("eval/zs_hmp/")), "step " + s);
        }

        Path training = Files.writeString(dir.resolve("finetune.yaml"), String.join("\n", "tasks:",
                "  - {name: ft, kind: finetune, modality: imu}", ""));
        List<String> refused = new ArrayList<>(ResumeTest.tiny(dir, "refused"));
        refused.addAll(List.of("eval.every_steps=2", "eval.during_suite=" + training));
        ConfigException e = assertThrows(ConfigException.class, () -> Pretrain.start(ConfigLoader.load(null, refused)));
        assertEquals("eval.during_suite", e.key());
        assertTrue(e.getMessage().contains("finetune"), e.getMessage());
    }

    @Test
    void keepBestNeedsEvaluationAndAKnownMode(@TempDir Path dir) {
        List<String> noEval = new ArrayList<>(ResumeTest.tiny(dir, "x"));
        noEval.add("train.keep_best=" + METRIC);
        assertEquals("train.keep_best", assertThrows(ConfigException.class, () -> ConfigLoader.load(null, noEval)).key());
        List<String> badMode = evaluating(dir, "x");
        badMode.add("train.keep_best_mode=largest");
        assertEquals("train.keep_best_mode", assertThrows(ConfigException.class, () -> ConfigLoader.load(null, badMode)).key());
        List<String> notEval = evaluating(dir, "x");
        notEval.add("train.keep_best=loss");
        assertEquals("train.keep_best", assertThrows(ConfigException.class, () -> ConfigLoader.load(null, notEval)).key());
    }
}
