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
        assertTrue(((Number) results.get("wall_seconds")).doubleValue() > 0);
        Map<?, ?> manifests = (Map<?, ?>) results.get("manifests");
        assertEquals(2, manifests.size(), manifests.toString()); // the run's sample set and the generated long recordings
        manifests.values().forEach(h -> assertTrue(((String) h).matches("[0-9a-f]{64}"), h.toString()));

        List<?> tasks = (List<?>) results.get("tasks");
        assertEquals(List.of("zero_shot_video", "retrieval", "probe_imu", "knn_video", "segmentation_imu"),
                tasks.stream().map(t -> ((Map<?, ?>) t).get("name")).toList());
        for (Object o : tasks) {
            Map<?, ?> t = (Map<?, ?>) o;
            Map<?, ?> metrics = (Map<?, ?>) t.get("metrics");
            assertTrue(!metrics.isEmpty(), t.toString());
            metrics.forEach((k, v) -> assertTrue(Double.isFinite(((Number) v).doubleValue()), t.get("name") + " " + k + " = " + v));
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
            double acc = ((Number) m.get("accuracy")).doubleValue();
            assertTrue(acc >= 0 && acc <= 1 && ((Number) m.get("accuracy_std")).doubleValue() >= 0, m.toString());
            assertEquals(8 * 2, ((Number) m.get("n_train")).intValue()); // 2 shots of each of the sample set's 8 classes
            Map<?, ?> qa = (Map<?, ?>) ((Map<?, ?>) tasks.get(1)).get("metrics");
            assertEquals(0.25, ((Number) qa.get("chance")).doubleValue(), 1e-12);
            assertTrue(((Map<?, ?>) results.get("tasks_not_run")).containsKey("hmp_probe"));
            assertTrue(Files.readString(run.resolve(folder).resolve("report.html")).contains("Tasks not run"), folder);
            assertEquals(folder.endsWith("random"), ((String) results.get("weights")).startsWith("random"), folder);
            assertTrue(((Map<?, ?>) results.get("manifests")).keySet().stream().anyMatch(k -> k.toString().endsWith("qa.jsonl")));
        }
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
