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
import org.sensorium.modality.Modality;

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
        assertEquals(List.of("speech_retrieval", "videos_retrieval"), real.tasks().stream().map(Suite.Task::name).toList());
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
    }

    private static void assertError(Path dir, String yaml, String expected) throws Exception {
        Path f = Files.writeString(dir.resolve("s.yaml"), yaml);
        ConfigException e = assertThrows(ConfigException.class, () -> Suite.load(f));
        assertTrue(e.getMessage().startsWith(f + ": " + expected), e.getMessage());
    }
}
