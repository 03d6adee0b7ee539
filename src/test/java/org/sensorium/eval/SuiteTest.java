package org.sensorium.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.config.ConfigException;
import org.sensorium.config.Modality;

class SuiteTest {

    @Test
    void theShippedSuitesParse() {
        Suite sample = Suite.load(Path.of("eval/sample.yaml"));
        assertEquals("sample", sample.name());
        Suite.LinearProbe probe = (Suite.LinearProbe) sample.tasks().stream().filter(t -> t.name().equals("probe_video")).findFirst().orElseThrow();
        assertEquals(List.of(1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1), probe.l2()); // the default sweep
        assertEquals(0.2, probe.valFraction(), 1e-12);
        Suite smoke = Suite.load(Path.of("eval/smoke.yaml"));
        Suite.Knn knn = (Suite.Knn) smoke.tasks().get(3);
        assertEquals(5, knn.k());
        assertEquals(0.07, knn.temperature(), 1e-12);                     // DINO's default
        assertEquals(Modality.VIDEO, knn.modality());
        assertEquals(List.of(1e-4, 1e-2), ((Suite.LinearProbe) smoke.tasks().get(2)).l2()); // "1e-4" is a string to YAML 1.1
        assertEquals(2, smoke.tasks().get(1).clips());
        Suite real = Suite.load(Path.of("eval/real.yaml")); // the shared recordings' manifests, by relative path
        assertEquals(List.of("speech_retrieval", "videos_retrieval", "scratch_probe", "scratch_knn", "hmp_probe", "hmp_knn",
                "hmp_finetune_5shot"), real.tasks().stream().map(Suite.Task::name).toList());
        Suite.FineTuneTask hmp = (Suite.FineTuneTask) real.tasks().get(6);
        assertEquals(new Suite.FineTuneTask("hmp_finetune_5shot", Modality.IMU, "full", 5, 20, 1e-4f, 0.01f, 20, List.of(1L, 2L, 3L),
                new Suite.Source(Path.of("data-manifests/hmp.jsonl"), 0)), hmp);
        Suite.QaTask qa = (Suite.QaTask) sample.tasks().stream().filter(t -> t.name().equals("qa_no_subtitles")).findFirst().orElseThrow();
        assertEquals(new Suite.QaTask("qa_no_subtitles", null, false, 64, 30, 0.003f, 32, List.of(1L, 2L, 3L)), qa);
        assertEquals(java.util.Set.of(Modality.VIDEO, Modality.TEXT), qa.modalities());
        assertEquals(5, smoke.tasks().get(4).source().synthLong());
    }

    @Test
    void errorsNameTheFileAndKey(@TempDir Path dir) throws Exception {
        assertError(dir, "tasks: []\n", "tasks: must be a non-empty list");
        assertError(dir, "tasks:\n  - kind: knn\n", "tasks[0].modality: is required");
        assertError(dir, "tasks:\n  - kind: knn\n    modality: smell\n", "tasks[0].modality: ");
        assertError(dir, "tasks:\n  - kind: knn\n    modality: imu\n    k: 0\n", "tasks[0].k: 0 must be an integer >= 1");
        assertError(dir, "tasks:\n  - kind: linear_probe\n    modality: imu\n    l2: [0.1, -1]\n", "tasks[0].l2[1]: -1 must be a number >= 0");
        assertError(dir, "tasks:\n  - kind: retrieval\n    pairs: [video-video]\n", "tasks[0].pairs[0]: ");
        assertError(dir, "tasks:\n  - kind: knn\n    modality: imu\n  - kind: knn\n    modality: imu\n",
                "tasks[1].name: 'knn_imu' is used by an earlier task");
        assertError(dir, "tasks:\n  - kind: zero_shot\n    modality: imu\n    labels: nope.txt\n", "tasks[0].labels: nope.txt: no such file");
        assertError(dir, "tasks:\n  - kind: segmentation\n    modality: imu\n    synth_long: 3\n    manifest: eval/sample.yaml\n",
                "tasks[0].synth_long: give either manifest or synth_long");
        assertError(dir, "clips: 0\ntasks:\n  - kind: knn\n    modality: imu\n", "clips: 0 must be an integer >= 1");
        assertError(dir, "tasks:\n  - kind: finetune\n    modality: imu\n    train: last:x\n", "tasks[0].train: 'last:x' must be full, head or last:N");
        assertError(dir, "tasks:\n  - kind: finetune\n    modality: imu\n    seeds: [1, 1]\n", "tasks[0].seeds[1]: 1 must be an integer not given before");
        assertError(dir, "tasks:\n  - kind: finetune\n    modality: imu\n    synth_long: 3\n", "tasks[0].synth_long: finetune needs labelled samples");
        assertError(dir, "tasks:\n  - kind: qa\n    manifest: data-manifests/hmp.jsonl\n", "tasks[0].manifest: a qa task reads its items from the qa key");
        assertError(dir, "tasks:\n  - kind: qa\n    subtitles: maybe\n", "tasks[0].subtitles: \"maybe\" must be true or false");
        assertError(dir, "tasks:\n  - kind: qa\n    k: 3\n", "tasks[0].k: unknown key");
    }

    private static void assertError(Path dir, String yaml, String expected) throws Exception {
        Path f = Files.writeString(dir.resolve("s.yaml"), yaml);
        ConfigException e = assertThrows(ConfigException.class, () -> Suite.load(f));
        assertTrue(e.getMessage().startsWith(f + ": " + expected), e.getMessage());
    }
}
