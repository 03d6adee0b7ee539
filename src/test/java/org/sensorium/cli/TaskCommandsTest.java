package org.sensorium.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.data.Manifest;
import org.sensorium.data.ManifestEntry;
import org.sensorium.data.QaManifest;
import org.sensorium.config.Json;

/** `sensorium finetune` and `sensorium qa` end to end on a tiny pretrained checkpoint (MainTest.tinyArgs). */
class TaskCommandsTest {
    @TempDir
    static Path dir;
    static Path run;

    @BeforeAll
    static void pretrain() {
        Object[] r = MainTest.cli(MainTest.tinyArgs(dir));
        assertEquals(0, r[0], (String) r[2]);
        run = dir.resolve("runs/e2e");
    }

    @Test
    void finetuneFewShotWritesTheContractsTaskEntry() throws Exception {
        Path out = dir.resolve("ft.json");
        Object[] r = MainTest.cli(List.of("finetune", "--checkpoint", run.toString(), "--train", "last:1", "--shots", "2",
                "--epochs", "2", "--batch", "8", "--seeds", "1,2", "--out", out.toString()));
        assertEquals(0, r[0], (String) r[2]);
        assertTrue(((String) r[1]).contains("confusion summed over seeds"), (String) r[1]);
        Map<String, Object> json = Json.read(out);
        assertEquals(4, json.get("step"));
        Map<?, ?> task = (Map<?, ?>) ((List<?>) json.get("tasks")).get(0);
        assertEquals("finetune", task.get("kind"));
        assertEquals("video", task.get("modality"));
        Map<?, ?> metrics = (Map<?, ?>) task.get("metrics");
        // 40 samples, every 5th held out: 32 train (4 per class of 8), 8 held-out; 2 shots x 8 classes = 16
        assertEquals(16, metrics.get("n_train"));
        assertEquals(8, metrics.get("n_test"));
        assertEquals(0.125, ((Number) metrics.get("chance")).doubleValue(), 1e-12);
        double acc = ((Number) metrics.get("accuracy")).doubleValue();
        assertTrue(acc >= 0 && acc <= 1, "accuracy " + acc);
        Map<?, ?> confusion = (Map<?, ?>) task.get("confusion");
        assertEquals(8, ((List<?>) confusion.get("labels")).size());
        // summed over 2 seeds: every held-out sample counted twice
        long total = ((List<?>) confusion.get("matrix")).stream().flatMap(row -> ((List<?>) row).stream())
                .mapToLong(v -> ((Number) v).longValue()).sum();
        assertEquals(16, total);
        assertEquals(8, ((Map<?, ?>) task.get("per_class")).size());
    }

    @Test
    void finetuneHeadOnlyOnRandomWeightsAndBadOptions() {
        Object[] r = MainTest.cli(List.of("finetune", "--checkpoint", run.toString(), "--modality", "imu", "--train", "head",
                "--epochs", "2", "--seeds", "3", "--random-weights"));
        assertEquals(0, r[0], (String) r[2]);
        assertTrue(((String) r[1]).contains("fine-tuned imu (random weights, train head)"), (String) r[1]);
        Object[] bad = MainTest.cli(List.of("finetune", "--checkpoint", run.toString(), "--train", "last:2"));
        assertEquals(2, bad[0]);
        assertTrue(((String) bad[2]).contains("--train: 'last:2' must be full, head or last:N with 1 <= N <= depth (1)"), (String) bad[2]);
    }

    @Test
    void sampleSetQaAndTheQaCommand() throws Exception {
        Path set = dir.resolve("cache/sample-set-v1-n40-s7");
        QaManifest.Read read = QaManifest.read(set.resolve("qa.jsonl"));
        assertEquals(0, read.skipped());
        assertEquals(80, read.items().size()); // two questions per sample
        for (ManifestEntry e : Manifest.read(set.resolve("manifest.jsonl"))) {
            QaManifest.Item way = read.items().stream().filter(q -> q.id().equals(e.id() + "-way")).findFirst().orElseThrow();
            assertEquals(e.label(), way.answers().get(way.correct()), way.id());
            assertEquals(4, way.answers().stream().distinct().count());
            assertEquals(e.split(), way.split());
            assertEquals(e.has(org.sensorium.config.Modality.TEXT) && e.captions().size() > 0
                    && e.sources().containsKey(org.sensorium.config.Modality.TEXT), way.subtitles() != null);
        }
        // a copy with one broken line: skipped, counted, named in the output
        List<String> lines = new ArrayList<>(Files.readAllLines(set.resolve("qa.jsonl")));
        lines.add("{\"id\": \"broken\", \"question\": \"?\", \"answers\": [\"a\"], \"correct\": 0, \"video\": {\"uri\": \"x.mp4\"}}");
        Path qa = Files.write(set.resolve("qa-broken.jsonl"), lines);
        Path out = dir.resolve("qa.json");
        Object[] r = MainTest.cli(List.of("qa", "--checkpoint", run.toString(), "--qa", qa.toString(), "--epochs", "3",
                "--seeds", "1", "--out", out.toString()));
        assertEquals(0, r[0], (String) r[2]);
        assertTrue(((String) r[1]).contains("qa-broken.jsonl:81: key 'answers': must be an array of at least 2"), (String) r[1]);
        Map<?, ?> task = (Map<?, ?>) ((List<?>) Json.read(out).get("tasks")).get(0);
        assertEquals("video_qa", task.get("kind"));
        Map<?, ?> metrics = (Map<?, ?>) task.get("metrics");
        assertEquals(64, metrics.get("n_train")); // 32 train samples x 2 questions
        assertEquals(16, metrics.get("n_test"));
        assertEquals(0.25, ((Number) metrics.get("chance")).doubleValue(), 1e-12);
        assertEquals(1, metrics.get("skipped"));
        assertEquals("frozen", ((Map<?, ?>) task.get("protocol")).get("encoders"));

        // the encoders fine-tuned with the head, without subtitles
        Path tuned = dir.resolve("qa-tuned.json");
        Object[] t = MainTest.cli(List.of("qa", "--checkpoint", run.toString(), "--encoder-lr", "0.0001", "--no-subtitles",
                "--epochs", "1", "--seeds", "1", "--out", tuned.toString()));
        assertEquals(0, t[0], (String) t[2]);
        Map<?, ?> tunedTask = (Map<?, ?>) ((List<?>) Json.read(tuned).get("tasks")).get(0);
        assertEquals("video_qa_no_subs", tunedTask.get("name"));
        assertEquals("fine-tuned, lr 1.0E-4", ((Map<?, ?>) tunedTask.get("protocol")).get("encoders"));
        double acc = ((Number) ((Map<?, ?>) tunedTask.get("metrics")).get("accuracy")).doubleValue();
        assertTrue(acc >= 0 && acc <= 1, "accuracy " + acc);
    }
}
