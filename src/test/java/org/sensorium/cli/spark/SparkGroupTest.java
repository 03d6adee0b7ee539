package org.sensorium.cli.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
    void theJobCarriesTheRunFolderTheTimeoutAndAFreshSecret(@TempDir Path dir) throws Exception {
        String runs = dir.resolve("runs").toString();
        GroupTask.Job job = parse("--workers", "2", "--", "pretrain", "--set", "run.dir=" + runs, "--set", "run.name=r",
                "--set", "dist.timeout_seconds=42").job();
        assertEquals(2, job.workers());
        assertEquals(runs + "/r", job.runDir());
        assertEquals(Duration.ofSeconds(42), job.timeout());
        assertEquals(SparkGroup.SECRET_BYTES, job.secret().length);
        assertEquals("pretrain", job.start().get(0));
        assertEquals(java.util.List.of("pretrain", "--resume", runs + "/r"), job.resume().subList(0, 3));

        GroupTask.Job other = parse("--workers", "2", "--timeout", "7", "--", "pretrain", "--set", "run.dir=" + runs).job();
        assertEquals(Duration.ofSeconds(7), other.timeout());
        assertTrue(!java.util.Arrays.equals(job.secret(), other.secret()), "a secret per job");
    }

    @Test
    void badOptionsAndKeysFailBeforeSparkStarts(@TempDir Path dir) throws Exception {
        assertEquals("--workers: 0 must be >= 1",
                assertThrows(ConfigException.class, () -> parse("--workers", "0", "--", "pretrain").job()).getMessage());
        assertEquals("--timeout: -1.0 must be > 0 seconds",
                assertThrows(ConfigException.class, () -> parse("--workers", "1", "--timeout", "-1", "--", "pretrain").job()).getMessage());

        PrintStream err = System.err;
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        System.setErr(new PrintStream(e, true));
        int code;
        try {
            code = Main.execute(new SparkGroup(), "--workers", "2", "--", "pretrain", "--set", "run.dir=" + dir.resolve("runs"),
                    "--set", "train.stepz=3");
        } finally {
            System.setErr(err);
        }
        assertEquals(2, code, e.toString());
        assertTrue(e.toString().startsWith("error: train.stepz"), e.toString());
        assertTrue(Files.notExists(dir.resolve("runs")));
    }
}
