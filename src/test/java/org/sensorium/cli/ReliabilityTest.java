package org.sensorium.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sensorium.cli.MainTest.cli;
import static org.sensorium.cli.MainTest.tinyArgs;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 16's run-folder cases, each failing before its fix: lock, resume, empty data, damaged checkpoints. */
class ReliabilityTest {

    private static List<String> resumeArgs(Path dir, String what, String... more) {
        List<String> a = new ArrayList<>(List.of("pretrain", "--resume", what, "--set", "train.progress=false"));
        a.addAll(List.of(more));
        return a;
    }

    @Test
    void aSecondRunInTheSameFolderIsRefusedNamingTheHolderAndADeadHoldersLockIsTakenOver(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("runs/e2e");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process holder = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), "org.sensorium.train.HoldRunLock",
                run.toString()).redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("locked", out.readLine());
            Object[] r = cli(tinyArgs(dir));
            assertEquals(2, r[0], (String) r[2]);
            assertTrue(((String) r[2]).contains("in use by another run (process " + holder.pid()), (String) r[2]);
            assertFalse(Files.exists(run.resolve("metrics.jsonl")), "the refused run wrote nothing");
        } finally {
            holder.destroyForcibly().waitFor(10, TimeUnit.SECONDS); // kill -9: its lock file stays behind
        }
        assertTrue(Files.exists(run.resolve(".lock")));
        Object[] r = cli(tinyArgs(dir));
        assertEquals(0, r[0], (String) r[2]);
    }

    @Test
    void aRefusedResumeChangesNothingAndACheckpointFolderCanBeChosen(@TempDir Path dir) throws Exception {
        assertEquals(0, cli(tinyArgs(dir))[0]); // 4 steps, checkpoints at 2 and 4
        Path run = dir.resolve("runs/e2e");
        byte[] config = Files.readAllBytes(run.resolve("config.yaml"));
        Object[] deeper = cli(resumeArgs(dir, run.toString(), "--set", "model.depth=4", "--set", "model.size=small"));
        assertEquals(2, deeper[0], (String) deeper[2]);
        String err = (String) deeper[2];
        assertTrue(err.contains("model.depth: 1 -> 4") && err.contains("model.size: tiny -> small"), err);
        assertArrayEquals(config, Files.readAllBytes(run.resolve("config.yaml")), "a refused --resume leaves config.yaml alone");

        // resume from the older checkpoint on purpose; its own config.yaml is not rewritten
        Path step2 = run.resolve("checkpoints/step-0000002");
        byte[] ckptConfig = Files.readAllBytes(step2.resolve("config.yaml"));
        Object[] r = cli(resumeArgs(dir, step2.toString(), "--set", "train.steps=5", "--set", "train.keep_checkpoints=5"));
        assertEquals(0, r[0], (String) r[2]);
        List<String> lines = Files.readAllLines(run.resolve("metrics.jsonl"));
        assertEquals(5, lines.size(), "steps 1..5 once each");
        assertTrue(lines.get(2).startsWith("{\"step\":3,"), lines.get(2));
        assertArrayEquals(ckptConfig, Files.readAllBytes(step2.resolve("config.yaml")));
        assertTrue(Files.readString(run.resolve("config.yaml")).contains("steps: 5"));
    }

    @Test
    void aDamagedNewestCheckpointFallsBackToTheOneBefore(@TempDir Path dir) throws Exception {
        assertEquals(0, cli(tinyArgs(dir))[0]);
        Path run = dir.resolve("runs/e2e");
        Path newest = run.resolve("checkpoints/step-0000004/optimizer.ndlist");
        byte[] all = Files.readAllBytes(newest);
        Files.write(newest, java.util.Arrays.copyOf(all, all.length / 3));
        Object[] r = cli(resumeArgs(dir, run.toString(), "--set", "train.steps=6"));
        assertEquals(0, r[0], (String) r[2]);
        String err = (String) r[2];
        assertTrue(err.contains("checkpoint unreadable") && err.contains("step-0000004/optimizer.ndlist"), err);
        assertTrue(err.contains("resuming from " + run.resolve("checkpoints/step-0000002")), err);
        List<String> lines = Files.readAllLines(run.resolve("metrics.jsonl"));
        assertEquals(6, lines.size());
        // named explicitly, a damaged checkpoint is an error naming the file, exit 2
        Path bad = run.resolve("checkpoints/step-0000006");
        Files.writeString(bad.resolve("state.json"), "{\"step\": 6,");
        Object[] chosen = cli(resumeArgs(dir, bad.toString(), "--set", "train.steps=8"));
        assertEquals(2, chosen[0], (String) chosen[2]);
        assertTrue(((String) chosen[2]).contains(bad.resolve("state.json").toString()), (String) chosen[2]);
    }

    @Test
    void aRunWithoutAnyReadableTrainingSampleStopsWithExit2AndNoCheckpoint(@TempDir Path dir) throws Exception {
        Path manifest = dir.resolve("broken.jsonl");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 12; i++) {
            sb.append("{\"id\":\"s").append(i).append("\",\"split\":\"train\",\"imu\":{\"uri\":\"nowhere/s").append(i).append(".csv\"},")
                    .append("\"captions\":[\"a caption\"]}\n");
        }
        Files.writeString(manifest, sb.toString());
        Object[] r = cli(tinyArgs(dir, "--set", "data.manifest=" + manifest, "--set", "data.modalities=[imu, text]",
                "--set", "objectives.contrastive.pairs=[imu-text]", "--set", "eval.pairs=[imu-text]", "--set", "train.steps=50"));
        assertEquals(2, r[0], (String) r[2]);
        String err = (String) r[2];
        assertTrue(err.contains("3 training steps in a row had no sample") && err.contains("broken.jsonl"), err);
        assertFalse(Files.exists(dir.resolve("runs/e2e/checkpoints/step-0000050")));
        assertTrue(Files.readAllLines(dir.resolve("runs/e2e/metrics.jsonl")).size() <= 3);
    }

    @Test
    void malformedUrisAreTheManifestsOneLineErrors(@TempDir Path dir) throws Exception {
        String[][] cases = {
                {"file:rel/x.mp4", "relative file: URI"},
                {"file://host/x.mp4", "names host 'host'"},
                {"file:///x%zz.mp4", "is not a valid URI"},
                {"x\\u0000y.mp4", "is not a valid path"}}; // a JSON escape: the NUL character in the path
        for (String[] c : cases) {
            Path manifest = dir.resolve("m.jsonl");
            Files.writeString(manifest, "{\"id\": \"a\", \"split\": \"test\", \"captions\": [\"x\"]}\n"
                    + "{\"id\": \"b\", \"split\": \"test\", \"video\": {\"uri\": \"" + c[0] + "\"}}\n");
            Object[] r = cli(List.of("data", "validate", manifest.toString()));
            assertEquals(2, r[0], c[0] + ": " + r[2]);
            String err = ((String) r[2]).strip();
            assertTrue(err.startsWith("error: ") && err.contains("m.jsonl:2") && err.contains("video.uri") && err.contains(c[1])
                    && !err.contains("\n"), c[0] + ": " + err);
        }
    }

    @Test
    void aFifoIsNeverOpenedAsMediaAndFromFolderListsIt(@TempDir Path dir) throws Exception {
        Path media = Files.createDirectories(dir.resolve("media"));
        Path fifo = media.resolve("pipe.mp4");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        Path imuFifo = media.resolve("pipe.csv");
        assertEquals(0, new ProcessBuilder("mkfifo", imuFifo.toString()).start().waitFor());
        Path manifest = dir.resolve("m.jsonl");
        Files.writeString(manifest, "{\"id\": \"f\", \"split\": \"test\", \"video\": {\"uri\": \"media/pipe.mp4\"}, "
                + "\"audio\": {\"uri\": \"media/pipe.mp4\"}, \"imu\": {\"uri\": \"media/pipe.csv\"}}\n");
        Object[] r = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(60),
                () -> cli(List.of("data", "validate", manifest.toString())));
        assertEquals(1, r[0], r[1] + "\n" + r[2]);
        String out = (String) r[1];
        assertTrue(out.contains("pipe.mp4: not a regular file (a FIFO, a device or a folder) [video]"), out);
        assertTrue(out.contains("pipe.mp4: not a regular file (a FIFO, a device or a folder) [audio]"), out);
        assertTrue(out.contains("pipe.csv: not a regular file (a FIFO, a device or a folder) [imu]"), out);
        // each broken recording once: motion (not in data.modalities) is not decoded
        assertEquals(1, out.lines().filter(l -> l.contains("pipe.mp4") && l.contains("[video]")).count(), out);
        assertFalse(out.contains("[motion]"), out);

        Object[] folder = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(60),
                () -> cli(List.of("data", "from-folder", media.toString(), "--out", dir.resolve("f.jsonl").toString())));
        assertTrue(((String) folder[1]).contains("pipe.mp4: not a regular file (a FIFO, a socket or a device)"), folder[1] + "\n" + folder[2]);
    }

    @Test
    void workersStopWhenTheirLauncherIsKilled(@TempDir Path dir) throws Exception {
        // the launcher in its own JVM, so that it can be killed -9 as the OOM killer or a CI timeout would
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=1", "-cp",
                System.getProperty("java.class.path"), "org.sensorium.cli.Main", "launch", "--workers", "2", "--", "pretrain"));
        for (String s : List.of("run.dir=" + dir.resolve("runs"), "run.name=orphans", "data.cache_dir=" + dir.resolve("cache"),
                "data.synth_samples=40", "model.width=32", "model.heads=2", "model.depth=1", "model.embed_dim=16",
                "train.steps=100000", "train.batch_size=8", "train.accumulate=1", "train.progress=false", "eval.at_end=false")) {
            cmd.addAll(List.of("--set", s));
        }
        Process launcher = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("launch.log").toFile()).start();
        List<ProcessHandle> workers = List.of();
        try {
            long until = System.nanoTime() + 120_000_000_000L;
            Path metrics = dir.resolve("runs/orphans/metrics.jsonl");
            while (System.nanoTime() < until && !(Files.exists(metrics) && Files.size(metrics) > 0)) {
                Thread.sleep(200); // the workers are training
            }
            assertTrue(Files.exists(metrics), Files.readString(dir.resolve("launch.log")));
            workers = launcher.toHandle().children().toList();
            assertEquals(2, workers.size(), Files.readString(dir.resolve("launch.log")));
        } finally {
            launcher.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        long until = System.nanoTime() + 20_000_000_000L;
        while (System.nanoTime() < until && workers.stream().anyMatch(ProcessHandle::isAlive)) {
            Thread.sleep(200);
        }
        boolean orphans = workers.stream().anyMatch(ProcessHandle::isAlive);
        workers.forEach(ProcessHandle::destroyForcibly);
        assertFalse(orphans, "a worker outlived its launcher by 20 s");
    }

    @Test
    void reportIsReadableLikeEveryRunFileAndSkipsCountSamples(@TempDir Path dir) throws Exception {
        Object[] r = cli(tinyArgs(dir, "--set", "eval.report=true"));
        assertEquals(0, r[0], (String) r[2]);
        Path run = dir.resolve("runs/e2e");
        assertEquals(Files.getPosixFilePermissions(run.resolve("summary.json")), Files.getPosixFilePermissions(run.resolve("report.html")));
        java.util.Map<?, ?> summary = org.sensorium.config.Json.read(run.resolve("summary.json"));
        assertTrue(summary.containsKey("skip_events"), summary.toString());
        assertTrue(((Number) summary.get("skipped_samples")).intValue() <= ((Number) summary.get("skip_events")).intValue());
    }
}
