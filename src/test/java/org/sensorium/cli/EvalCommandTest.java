package org.sensorium.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.config.Json;

class EvalCommandTest {

    @Test
    void smokeSuiteRunsEveryTaskOnATinyCheckpoint(@TempDir Path dir) throws Exception {
        Object[] trained = MainTest.cli(MainTest.tinyArgs(dir));
        assertEquals(0, trained[0], (String) trained[2]);
        Path run = dir.resolve("runs/e2e");

        Object[] r = MainTest.cli(List.of("eval", "--checkpoint", run.toString(), "--suite", "eval/smoke.yaml"));
        assertEquals(0, r[0], (String) r[2]);
        String table = (String) r[1];
        assertTrue(table.contains("probe_imu") && table.contains("video->text"), table);

        Path out = run.resolve("eval/smoke");
        Map<String, Object> results = Json.read(out.resolve("results.json"));
        String html = Files.readString(out.resolve("report.html")); // the eval folder gets its report page
        assertTrue(html.contains("<img") && html.contains("smoke"), "report.html of the suite");
        assertEquals("smoke", results.get("suite"));
        assertEquals(4, results.get("step"));
        List<?> tasks = (List<?>) results.get("tasks");
        // the suite's wall time covers the tasks' own timings
        double taskSeconds = tasks.stream().mapToDouble(t -> ((Number) ((Map<?, ?>) ((Map<?, ?>) t).get("protocol")).get("seconds")).doubleValue()).sum();
        assertTrue(((Number) results.get("wall_seconds")).doubleValue() >= taskSeconds, results.get("wall_seconds") + " < " + taskSeconds);
        Map<?, ?> manifests = (Map<?, ?>) results.get("manifests");
        assertEquals(2, manifests.size(), manifests.toString()); // the run's sample set and the generated long recordings
        manifests.values().forEach(h -> assertTrue(((String) h).matches("[0-9a-f]{64}"), h.toString()));

        assertEquals(List.of("zero_shot_video", "retrieval", "probe_imu", "knn_video", "segmentation_imu"),
                tasks.stream().map(t -> ((Map<?, ?>) t).get("name")).toList());
        // A 4-step model on 8 held-out samples is at chance on every task (top-1 0.125-0.43 when written, chance 0.125),
        // so no margins here (LearningTest has them): each task's numbers must agree with each other instead.
        for (Object o : tasks) {
            Map<?, ?> t = (Map<?, ?>) o;
            Map<?, ?> metrics = (Map<?, ?>) t.get("metrics");
            assertTrue(!metrics.isEmpty(), t.toString());
            switch ((String) t.get("kind")) {
                case "zero_shot", "linear_probe", "knn" -> {
                    assertClassificationAgrees(t, "top1", "mean_per_class_top1", "chance_top1", "n", 1);
                    assertTrue(((Number) metrics.get("top5")).doubleValue() >= ((Number) metrics.get("top1")).doubleValue(), metrics.toString());
                }
                case "retrieval" -> ((Map<?, ?>) t.get("recall")).forEach((d, v) -> {
                    Map<?, ?> rec = (Map<?, ?>) v;
                    int n = ((Number) rec.get("n")).intValue();
                    double r1 = num(rec, "R@1"), r5 = num(rec, "R@5"), r10 = num(rec, "R@10");
                    assertEquals(1.0 / n, num(rec, "chance_R@1"), 1e-12, d + " " + rec);
                    assertEquals(Math.rint(r1 * n), r1 * n, 1e-9, d + ": R@1 a whole number of " + n + " queries");
                    assertTrue(r1 <= r5 && r5 <= r10, d + " " + rec);
                    assertEquals(1.0, r10, 1e-12, d + ": " + n + " <= 10 candidates, so every match is in the top 10");
                    for (String k : List.of("R@1", "R@5", "R@10", "median_rank", "mean_rank")) {
                        assertEquals(num(rec, k), num(metrics, d + "/" + k), 1e-12, d + "/" + k + " in metrics and recall");
                    }
                });
                case "segmentation" -> {
                    int windows = ((Number) metrics.get("windows")).intValue();
                    double mof = num(metrics, "mof");
                    assertEquals(Math.rint(mof * windows), mof * windows, 1e-9, "MoF a whole number of " + windows + " windows");
                    // a segment matched at IoU >= 0.5 is also matched at 0.25 and 0.1
                    assertTrue(num(metrics, "F1@10") >= num(metrics, "F1@25") && num(metrics, "F1@25") >= num(metrics, "F1@50"), metrics.toString());
                }
                default -> throw new AssertionError(t.get("kind"));
            }
            if (t.get("embeddings") != null) {
                List<String> csv = Files.readAllLines(out.resolve((String) t.get("embeddings")));
                assertTrue(csv.get(0).startsWith("label,e0,e1,"), csv.get(0));
                assertEquals(16 + 1, csv.get(1).split(",").length); // label + embed_dim 16 (a label here has no comma)
            }
        }
        Map<?, ?> retrieval = (Map<?, ?>) tasks.get(1);
        assertTrue(((Map<?, ?>) retrieval.get("recall")).keySet().containsAll(List.of("video->text", "text->video", "imu->text", "text->imu")));
        Map<?, ?> zeroShot = (Map<?, ?>) tasks.get(0);
        List<?> matrix = (List<?>) ((Map<?, ?>) zeroShot.get("confusion")).get("matrix");
        assertEquals(8, matrix.size()); // the sample set's 8 classes
        // 40 samples, every 5th held out: 8 tested, each counted once in the confusion matrix
        int tested = matrix.stream().mapToInt(row -> ((List<?>) row).stream().mapToInt(x -> ((Number) x).intValue()).sum()).sum();
        assertEquals(((Number) ((Map<?, ?>) zeroShot.get("metrics")).get("n")).intValue(), tested);
        Map<?, ?> segmentation = (Map<?, ?>) ((Map<?, ?>) tasks.get(4)).get("metrics");
        assertTrue(segmentation.containsKey("mof") && segmentation.containsKey("F1@50"), segmentation.toString());

        // several checkpoints (seeds of one config): each evaluated, then mean ± std over the runs. The same run twice
        // gives its own number with spread 0.
        double top1 = ((Number) ((Map<?, ?>) zeroShot.get("metrics")).get("top1")).doubleValue();
        Object[] twice = MainTest.cli(List.of("eval", "--checkpoint", run.toString(), "--checkpoint", run.toString(),
                "--suite", "eval/smoke.yaml"));
        assertEquals(0, twice[0], (String) twice[2]);
        String over = (String) twice[1];
        assertTrue(over.contains("over 2 runs") && over.contains(String.format("%.3f ± 0.000 (2)", top1)), over);
        assertEquals("2.000 ± 0.816 (3)", Tables.meanStd(List.of(1.0, 2.0, 3.0))); // sqrt(2/3)
    }

    /**
     * The fine-tuning and QA kinds inside a suite, against random weights, on a tiny run; an HMP task the run's
     * 6-channel IMU encoder cannot read is listed as not run instead of stopping the suite.
     */
    @Test
    void finetuneAndQaRowsAgainstRandomWeights(@TempDir Path dir) throws Exception {
        assertEquals(0, MainTest.cli(MainTest.tinyArgs(dir))[0]);
        Path run = dir.resolve("runs/e2e");
        Path suite = Files.writeString(dir.resolve("tasks.yaml"), """
                tasks:
                  - name: ft_imu
                    kind: finetune
                    modality: imu
                    train: last:1
                    shots: 2
                    epochs: 2
                    batch: 8
                    seeds: [1, 2]
                  - name: qa
                    kind: qa
                    epochs: 2
                    seeds: [1]
                  - name: hmp_probe
                    kind: linear_probe
                    modality: imu
                    manifest: data-manifests/hmp.jsonl
                """);
        Object[] r = MainTest.cli(List.of("eval", "--checkpoint", run.toString(), "--suite", suite.toString(), "--against-random"));
        assertEquals(0, r[0], (String) r[2]);
        String table = (String) r[1];
        assertTrue(table.contains("checkpoint (step 4") && table.contains("against random weights"), table);
        assertTrue(table.contains("hmp_probe              not run: the run's IMU encoder reads [ax, ay, az, gx, gy, gz]"), table);
        for (String folder : List.of("eval/tasks", "eval/tasks-random")) {
            Map<String, Object> results = Json.read(run.resolve(folder).resolve("results.json"));
            List<?> tasks = (List<?>) results.get("tasks");
            assertEquals(List.of("ft_imu", "qa"), tasks.stream().map(t -> ((Map<?, ?>) t).get("name")).toList());
            Map<?, ?> ft = (Map<?, ?>) tasks.get(0);
            assertEquals("finetune", ft.get("kind"));
            Map<?, ?> m = (Map<?, ?>) ft.get("metrics");
            // 2 epochs on 2 shots of a 4-step model: no margin (0.429 trained, 0.500 random weights when written,
            // chance 0.125, 7 held-out IMU clips), so the numbers must agree with each other: the confusion summed
            // over the 2 seeds, and with 2 seeds the seeds' accuracies are mean -/+ std/sqrt(2) (sample std), each a
            // whole number of the 7 held-out clips.
            assertClassificationAgrees(ft, "accuracy", "balanced_accuracy", "chance", "n_test", 2);
            int nTest = ((Number) m.get("n_test")).intValue();
            for (int sign : new int[] {-1, 1}) {
                double seed = num(m, "accuracy") + sign * num(m, "accuracy_std") / Math.sqrt(2);
                assertEquals(Math.rint(seed * nTest), seed * nTest, 1e-6, "a seed's accuracy " + seed + " of " + nTest + " in " + m);
            }
            assertEquals(8 * 2, ((Number) m.get("n_train")).intValue()); // 2 shots of each of the sample set's 8 classes
            Map<?, ?> qa = (Map<?, ?>) ((Map<?, ?>) tasks.get(1)).get("metrics");
            assertEquals(0.25, ((Number) qa.get("chance")).doubleValue(), 1e-12);
            assertTrue(((Map<?, ?>) results.get("tasks_not_run")).containsKey("hmp_probe"));
            assertTrue(Files.readString(run.resolve(folder).resolve("report.html")).contains("Tasks not run"), folder);
            assertEquals(folder.endsWith("random"), ((String) results.get("weights")).startsWith("random"), folder);
            assertTrue(((Map<?, ?>) results.get("manifests")).keySet().stream().anyMatch(k -> k.toString().endsWith("qa.jsonl")));
        }
    }

    private static double num(Map<?, ?> m, String key) {
        Object v = m.get(key);
        assertTrue(v instanceof Number, key + " = " + v + " in " + m);
        return ((Number) v).doubleValue();
    }

    /**
     * A classification task's metrics against its confusion matrix (summed over seeds, every seed testing the same
     * clips): accuracy = diagonal / total, a class's recall = its diagonal / its row (per_class, NaN or absent for a
     * class with no test clip), balanced accuracy = the mean of the recalls of the classes tested, chance = 1 / classes.
     */
    static void assertClassificationAgrees(Map<?, ?> task, String accuracy, String balanced, String chance, String n, int seeds) {
        Map<?, ?> metrics = (Map<?, ?>) task.get("metrics"), perClass = (Map<?, ?>) task.get("per_class");
        Map<?, ?> confusion = (Map<?, ?>) task.get("confusion");
        List<?> labels = (List<?>) confusion.get("labels"), matrix = (List<?>) confusion.get("matrix");
        String name = (String) task.get("name");
        long total = 0, diagonal = 0;
        double recalls = 0;
        int tested = 0;
        for (int c = 0; c < labels.size(); c++) {
            List<?> row = (List<?>) matrix.get(c);
            long hit = ((Number) row.get(c)).longValue(), rowTotal = row.stream().mapToLong(v -> ((Number) v).longValue()).sum();
            total += rowTotal;
            diagonal += hit;
            Object recall = perClass.get(labels.get(c));
            if (rowTotal == 0) {
                assertTrue(recall == null || "NaN".equals(recall) || Double.isNaN(((Number) recall).doubleValue()), name + " " + labels.get(c));
            } else {
                assertEquals((double) hit / rowTotal, ((Number) recall).doubleValue(), 1e-9, name + " recall of " + labels.get(c));
                recalls += (double) hit / rowTotal;
                tested++;
            }
        }
        assertEquals(seeds * num(metrics, n), total, 1e-9, name + ": every test clip once per seed");
        assertEquals((double) diagonal / total, num(metrics, accuracy), 1e-9, name + " " + metrics);
        assertEquals(recalls / tested, num(metrics, balanced), 1e-9, name + " " + metrics);
        assertEquals(1.0 / labels.size(), num(metrics, chance), 1e-12, name + " " + metrics);
    }

    @Test
    void aBadSuiteKeyIsExitCode2NamingTheKey(@TempDir Path dir) throws Exception {
        Path suite = dir.resolve("bad.yaml");
        Files.writeString(suite, "tasks:\n  - kind: knn\n    modality: video\n  - kind: knn\n    modality: imu\n    kk: 5\n");
        Object[] r = MainTest.cli(List.of("eval", "--checkpoint", dir.toString(), "--suite", suite.toString()));
        assertEquals(2, r[0]);
        String err = ((String) r[2]).strip();
        assertTrue(err.startsWith("error: " + suite + ": tasks[1].kk: unknown key"), err);

        Files.writeString(suite, "tasks:\n  - kind: knnn\n    modality: video\n");
        err = ((String) MainTest.cli(List.of("eval", "--checkpoint", dir.toString(), "--suite", suite.toString()))[2]).strip();
        assertTrue(err.startsWith("error: " + suite + ": tasks[0].kind: 'knnn' is not one of"), err);
    }
}
