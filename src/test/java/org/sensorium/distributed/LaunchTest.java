package org.sensorium.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `sensorium launch` supervising real worker JVMs: one is killed mid-run. */
class LaunchTest {

    /** Kills one worker JVM (a child of this test JVM) once the run has its step-2 checkpoint. */
    static long killAWorkerAfterCheckpoint(Path run) throws Exception {
        Path ckpt = run.resolve("checkpoints/step-0000002/state.json");
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (!Files.exists(ckpt)) {
            assertTrue(System.nanoTime() < deadline, "no checkpoint at step 2");
            Thread.sleep(100);
        }
        // every child of this JVM is a worker (the launcher runs here); their command lines cannot tell: the JDK reads
        // at most 4096 bytes of /proc/<pid>/cmdline, and the class path alone is longer with Spark's test jars
        ProcessHandle victim = ProcessHandle.current().children().filter(ProcessHandle::isAlive).reduce((a, b) -> b).orElseThrow();
        victim.destroyForcibly();
        return System.nanoTime();
    }

    @Test
    void badLaunchesAreOneLineErrorsBeforeAnyWorkerStarts() {
        Object[] devices = DataParallelTest.cli(List.of("launch", "--workers", "2", "--devices", "cuda:0", "--", "pretrain"));
        assertEquals(2, devices[0]);
        assertEquals("error: --devices: 1 devices for --workers 2 (one per worker, or cpu)", ((String) devices[2]).strip());
        Object[] command = DataParallelTest.cli(List.of("launch", "--workers", "2", "--", "eval"));
        assertEquals(2, command[0]);
        assertTrue(((String) command[2]).startsWith("error: COMMAND: a worker group runs `-- pretrain [options]`"), (String) command[2]);
        Object[] key = DataParallelTest.cli(List.of("launch", "--workers", "2", "--", "pretrain", "--set", "dist.bucket_mb=0"));
        assertEquals(2, key[0]);
        assertTrue(((String) key[2]).startsWith("error: dist.bucket_mb: "), (String) key[2]);
        // a worker started without a launcher's environment names the first key it lacks
        Object[] worker = DataParallelTest.cli(List.of("worker", "--", "pretrain"));
        assertEquals(1, worker[0]);
        assertTrue(((String) worker[2]).strip().startsWith("error: SENSORIUM_"), (String) worker[2]);
    }

    @Test
    void aDeadWorkerStopsTheGroupAndARestartResumesFromTheCheckpoint(@TempDir Path dir) throws Exception {
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            // no restarts: the launch fails, naming the rank, and the survivor is stopped within the timeout
            List<String> args = DataParallelTest.launch(2, DataParallelTest.pretrain(dir, "fail", 8, 400), "--timeout", "20");
            Future<Object[]> f = pool.submit(() -> DataParallelTest.cli(args));
            long killed = killAWorkerAfterCheckpoint(dir.resolve("runs/fail"));
            Object[] r = f.get(3, TimeUnit.MINUTES);
            double seconds = (System.nanoTime() - killed) / 1e9;
            assertEquals(1, r[0], (String) r[2]);
            String err = (String) r[2];
            assertTrue(err.contains("error: launch failed: rank ") && err.contains("exited with code"), err);
            assertTrue(seconds < 20, "the group stopped " + seconds + " s after a worker died");
            assertTrue(ProcessHandle.current().children().noneMatch(ProcessHandle::isAlive), "no worker left running");

            // one restart: the group goes on from the last checkpoint to the end
            List<String> again = DataParallelTest.launch(2, DataParallelTest.pretrain(dir, "restart", 8, 30), "--max-restarts", "1",
                    "--timeout", "20");
            Future<Object[]> g = pool.submit(() -> DataParallelTest.cli(again));
            killAWorkerAfterCheckpoint(dir.resolve("runs/restart"));
            Object[] ok = g.get(5, TimeUnit.MINUTES);
            assertEquals(0, ok[0], (String) ok[2]);
            assertTrue(((String) ok[2]).contains("restarting the group (1 of 1 restarts)"), (String) ok[2]);
            assertTrue(((String) ok[2]).contains("pretrain --resume"), (String) ok[2]);
            assertEquals(30, Files.readAllLines(dir.resolve("runs/restart/metrics.jsonl")).size());
            assertTrue(Files.isDirectory(dir.resolve("runs/restart/checkpoints/step-0000030")));
        } finally {
            pool.shutdownNow();
        }
    }
}
