package org.sensorium.dist.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.cli.Main;
import org.sensorium.config.ConfigException;
import picocli.CommandLine;

/** The driver's checks, which run before Spark starts (no SparkContext here). */
class SparkGroupTest {

    static SparkGroup parse(String... args) {
        SparkGroup g = new SparkGroup();
        new CommandLine(g).parseArgs(args);
        return g;
    }

    @Test
    void everyWorkerGetsTheSameAbsoluteRunFolder(@TempDir Path dir) throws Exception {
        Path runs = dir.resolve("runs");
        GroupTask.Job job = parse("--workers", "2", "--set", "run.dir=" + runs, "--set", "train.steps=3").job();
        assertTrue(job.runDir().startsWith(runs + "/pretrain-"), job.runDir()); // the empty name, chosen once for all
        assertEquals(List.of("run.dir=" + runs, "train.steps=3", "run.dir=" + runs, "run.name=" + Path.of(job.runDir()).getFileName()),
                job.sets());
        assertEquals(SparkGroup.SECRET_BYTES, job.secret().length);
        assertEquals(2, job.workers());

        GroupTask.Job relative = parse("--workers", "1", "--set", "run.dir=runs", "--set", "run.name=x").job();
        assertEquals(Path.of("runs/x").toAbsolutePath().toString(), relative.runDir());
    }

    @Test
    void badOptionsAndKeysFailBeforeSparkStarts(@TempDir Path dir) throws Exception {
        assertEquals("--workers: 0 must be >= 1", assertThrows(ConfigException.class, () -> parse("--workers", "0").job()).getMessage());
        assertEquals("--resume: " + dir + " is not a run folder with a complete checkpoint",
                assertThrows(ConfigException.class, () -> parse("--workers", "2", "--resume", dir.toString()).job()).getMessage());

        PrintStream err = System.err;
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        System.setErr(new PrintStream(e, true));
        int code;
        try {
            code = Main.execute(new SparkGroup(), "--workers", "2", "--set", "train.stepz=3");
        } finally {
            System.setErr(err);
        }
        assertEquals(2, code, e.toString());
        assertTrue(e.toString().startsWith("error: train.stepz"), e.toString());
        assertTrue(Files.notExists(dir.resolve("runs")));
    }
}
