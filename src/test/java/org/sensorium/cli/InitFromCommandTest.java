package org.sensorium.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.config.Json;

/** model.init_from end to end: a run's weights start another run. */
class InitFromCommandTest {

    @Test
    void aZeroStepRunFromAnotherRunsWeightsGivesItsHeldOutTableAndAMismatchAskedForIsExit2(@TempDir Path dir) throws Exception {
        Object[] a = MainTest.cli(MainTest.tinyArgs(dir));
        assertEquals(0, a[0], (String) a[2]);
        Path source = dir.resolve("runs/e2e");
        Object[] b = MainTest.cli(MainTest.tinyArgs(dir, "--set", "run.name=copy", "--set", "train.steps=0",
                "--set", "model.init_from=" + source));
        assertEquals(0, b[0], (String) b[2]);
        Map<String, Object> original = Json.read(source.resolve("summary.json")), copy = Json.read(dir.resolve("runs/copy/summary.json"));
        assertFalse(((Map<?, ?>) original.get("retrieval")).isEmpty());
        assertEquals(original.get("retrieval"), copy.get("retrieval"));   // every direction and measure, to the last digit
        assertEquals(original.get("clustering"), copy.get("clustering"));
        Map<String, Object> init = Json.read(dir.resolve("runs/copy/init_from.json"));
        assertEquals(((List<?>) init.get("loaded")).size() > 0, true);
        assertEquals(Map.of(), init.get("skipped"));

        // a bigger trunk: its first block comes from the source, the second starts fresh; a wider one cannot load the trunk
        Object[] deeper = MainTest.cli(MainTest.tinyArgs(dir, "--set", "run.name=deeper", "--set", "model.depth=2",
                "--set", "train.steps=1", "--set", "eval.at_end=false", "--set", "model.init_from=" + source));
        assertEquals(0, deeper[0], (String) deeper[2]);
        Map<?, ?> skipped = (Map<?, ?>) Json.read(dir.resolve("runs/deeper/init_from.json")).get("skipped");
        assertTrue(!skipped.isEmpty() && skipped.keySet().stream().allMatch(k -> ((String) k).startsWith("trunk.1.")), skipped.toString());
        Object[] wider = MainTest.cli(MainTest.tinyArgs(dir, "--set", "run.name=wider", "--set", "model.width=64",
                "--set", "model.init_from=" + source, "--set", "model.init_parts=[trunk]"));
        assertEquals(2, wider[0], (String) wider[2]);
        String err = ((String) wider[2]).strip();
        assertTrue(err.startsWith("error: model.init_from: ") && err.contains("tensor trunk.0.norm1.gain has shape (32) there but (64)")
                && !err.contains("\n"), err);
    }
}
