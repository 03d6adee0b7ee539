package org.sensorium.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.config.ConfigException;
import org.sensorium.config.Json;

/** What a launcher knows of its group's run before any worker starts, and how a restart resumes it. */
public class GroupRunTest {

    /** A run folder's step-N checkpoint as {@link org.sensorium.train.Checkpoint#latest} finds it: its state.json. */
    public static void checkpointState(Path run, int step) throws Exception {
        Path ckpt = Files.createDirectories(run.resolve(String.format("checkpoints/step-%07d", step)));
        Map<String, Object> state = new LinkedHashMap<>(Map.of("step", step, "epoch", 0, "position", 8, "seed", 1234));
        state.put("manifest_sha256", "00");
        Json.write(ckpt.resolve("state.json"), state);
    }

    @Test
    void aNewRunIsNamedOnceWithAnAbsoluteFolderAndResumedOnceItHasACheckpoint(@TempDir Path dir) throws Exception {
        Path exp = Files.writeString(dir.resolve("exp.yaml"), "train:\n  steps: 3\n");
        GroupRun run = GroupRun.of(List.of("pretrain", "--config", exp.toString(), "--set", "run.dir=" + dir.resolve("runs"),
                "--strict", "--debug"));
        Path runDir = run.runDir();
        assertTrue(runDir.isAbsolute() && runDir.getFileName().toString().startsWith("pretrain-"), runDir.toString());
        assertEquals(3, run.config().train().steps());
        assertEquals(List.of("pretrain", "--config", exp.toString(), "--set", "run.dir=" + dir.resolve("runs"), "--set", "run.strict=true",
                "--set", "run.dir=" + dir.resolve("runs"), "--set", "run.name=" + runDir.getFileName(), "--debug"), run.start());
        assertEquals(List.of("pretrain", "--resume", runDir.toString()), run.resume().subList(0, 3));
        assertSame(run.start(), run.args());
        checkpointState(runDir, 2);
        assertSame(run.resume(), run.args());

        GroupRun relative = GroupRun.of(List.of("pretrain", "--set", "run.dir=runs", "--set", "run.name=x"));
        assertEquals(Path.of("runs/x").toAbsolutePath(), relative.runDir()); // workers may start in other folders
    }

    @Test
    void whatCannotRunFailsNamingTheOptionOrKey(@TempDir Path dir) throws Exception {
        assertEquals("COMMAND: a worker group runs `-- pretrain [options]`, got [eval]",
                assertThrows(ConfigException.class, () -> GroupRun.of(List.of("eval"))).getMessage());
        String unknown = assertThrows(ConfigException.class, () -> GroupRun.of(List.of("pretrain", "--sett", "x=1"))).getMessage();
        assertTrue(unknown.startsWith("pretrain: Unknown option"), unknown);
        assertEquals("--resume: " + dir + " has no config.yaml: not a run folder",
                assertThrows(ConfigException.class, () -> GroupRun.of(List.of("pretrain", "--resume", dir.toString()))).getMessage());
        Path runs = dir.resolve("runs");
        checkpointState(runs.resolve("done"), 4);
        assertTrue(assertThrows(ConfigException.class, () -> GroupRun.of(List.of("pretrain", "--set", "run.dir=" + runs, "--set",
                "run.name=done"))).getMessage().startsWith("run.name: " + runs.resolve("done") + " already has checkpoints"));
    }
}
