package org.sensorium.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.data.Loader;
import org.sensorium.model.Params;
import org.sensorium.objective.Objective;

class CheckpointTest {

    /** An objective whose state cannot be written, as on a full disk. */
    private static final Objective FULL_DISK = new Objective() {
        @Override
        public Map<String, ai.djl.ndarray.NDArray> losses(org.sensorium.objective.Step step) {
            return Map.of();
        }

        @Override
        public void save(Path checkpoint) throws IOException {
            Files.writeString(checkpoint.resolve("teacher.ndlist"), "partial");
            throw new IOException("No space left on device");
        }
    };

    /** One 2 x 2 weight. */
    private static Params params(NDManager m) {
        Params p = new Params(m, 1);
        p.normal("w", 0.02f, 2, 2);
        return p;
    }

    private static AdamW adamW(Params p) {
        return new AdamW(p, 0.9f, 0.98f, 1e-6f, 0.05f);
    }

    @Test
    void aFailedWriteNamesWhatWasBeingWrittenAndLeavesNoPartialFolder(@TempDir Path run) throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Params p = params(m);
            AdamW opt = adamW(p);
            Checkpoint.State state = new Checkpoint.State(3, new Loader.Cursor(0, 3), 1, "abc");
            Path ok = Checkpoint.save(run, state, p, opt, List.of(), "x: 1\n", 2);
            assertTrue(Checkpoint.isCheckpoint(ok));

            Checkpoint.State next = new Checkpoint.State(4, new Loader.Cursor(0, 4), 1, "abc");
            IOException e = assertThrows(IOException.class,
                    () -> Checkpoint.save(run, next, p, opt, List.of(new Objective.Weighted(FULL_DISK, 1f)), "x: 1\n", 2));
            assertTrue(e.getMessage().contains("step-0000004.tmp") && e.getMessage().contains("No space left on device"), e.getMessage());
            assertFalse(Files.exists(run.resolve("checkpoints/step-0000004.tmp")), "the partial folder is removed");
            assertEquals(List.of(ok), Checkpoint.newestFirst(run));
        }
    }

    @Test
    void aTruncatedFileIsNamedWithItsCheckpoint(@TempDir Path run) throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Params p = params(m);
            AdamW opt = adamW(p);
            Path c = Checkpoint.save(run, new Checkpoint.State(2, new Loader.Cursor(0, 2), 1, "abc"), p, opt, List.of(), "x: 1\n", 2);
            byte[] all = Files.readAllBytes(c.resolve("model.ndlist"));
            Files.write(c.resolve("model.ndlist"), java.util.Arrays.copyOf(all, all.length / 2));
            Checkpoint.UnreadableException e = assertThrows(Checkpoint.UnreadableException.class, () -> Checkpoint.load(c, p, opt, List.of()));
            assertTrue(e.getMessage().startsWith(c.resolve("model.ndlist").toString()), e.getMessage());
            Files.writeString(c.resolve("state.json"), "{\"step\": 2, ");
            e = assertThrows(Checkpoint.UnreadableException.class, () -> Checkpoint.load(c, p, opt, List.of()));
            assertTrue(e.getMessage().startsWith(c.resolve("state.json").toString()), e.getMessage());
        }
    }

    @Test
    void aRunFolderIsLockedWhileInUse(@TempDir Path run) throws Exception {
        try (RunLock lock = RunLock.acquire(run)) {
            org.sensorium.config.ConfigException e = assertThrows(org.sensorium.config.ConfigException.class, () -> RunLock.acquire(run));
            assertTrue(e.getMessage().contains("in use by another run (process " + ProcessHandle.current().pid()), e.getMessage());
        }
        RunLock.acquire(run).close(); // released: taken again
    }

    @Test
    void aResumeReplacesMetricsByARenameKeepingEachStepOnceAndDroppingATornLine(@TempDir Path run) throws Exception {
        Path file = run.resolve("metrics.jsonl");
        // steps 1..3 written, a checkpoint at 2, then a kill in the middle of step 4's line
        Files.writeString(file, "{\"step\":1}\n{\"step\":2}\n{\"step\":3}\n{\"step\":4,\"lo");
        Path before = Files.createLink(run.resolve("before.jsonl"), file); // the old file, by another name
        try (Metrics m = new Metrics(file, 2)) {
            m.write(Map.of("step", 3));
            m.sync();
        }
        assertEquals(List.of("{\"step\":1}", "{\"step\":2}", "{\"step\":3}"), Files.readAllLines(file));
        // never rewritten in place: until the rename, a crash leaves the interrupted run's file whole
        assertTrue(Files.readString(before).endsWith("{\"step\":3}\n{\"step\":4,\"lo"), Files.readString(before));
        assertFalse(Files.exists(run.resolve("metrics.jsonl.tmp")));
        // nothing to drop: the file is appended to as it is
        Path same = Files.createLink(run.resolve("same.jsonl"), file);
        try (Metrics m = new Metrics(file, 3)) {
            m.write(Map.of("step", 4));
        }
        assertEquals(4, Files.readAllLines(same).size());
    }

    /**
     * RUN/checkpoints/best: replaced whole, never counted among the step checkpoints (latest, pruning), its best in
     * state.json; a crash between the two renames leaves best.old, which is then the best; a failed write keeps the old.
     */
    @Test
    void bestIsReplacedWholeAndStaysApartFromTheStepCheckpoints(@TempDir Path run) throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Params p = params(m);
            AdamW opt = adamW(p);
            Checkpoint.Best b2 = new Checkpoint.Best("eval/t/top1", "max", 2, 0.25);
            Checkpoint.saveBest(run, new Checkpoint.State(2, new Loader.Cursor(0, 2), 1, "abc", 1, b2), p, opt, List.of(), "x: 1\n");
            Checkpoint.Best b4 = new Checkpoint.Best("eval/t/top1", "max", 4, 0.5);
            Path best = Checkpoint.saveBest(run, new Checkpoint.State(4, new Loader.Cursor(0, 4), 1, "abc", 1, b4), p, opt, List.of(), "x: 1\n");
            assertEquals(run.resolve("checkpoints/best"), best);
            assertEquals(b4, Checkpoint.readState(best).best());
            assertEquals(4, Checkpoint.readState(best).step());
            assertFalse(Files.exists(run.resolve("checkpoints/best.old")) || Files.exists(run.resolve("checkpoints/best.tmp")));
            assertEquals(null, Checkpoint.latest(run), "best is not a step checkpoint");
            Checkpoint.save(run, new Checkpoint.State(5, new Loader.Cursor(0, 5), 1, "abc", 1, b4), p, opt, List.of(), "x: 1\n", 1);
            Checkpoint.save(run, new Checkpoint.State(6, new Loader.Cursor(0, 6), 1, "abc", 1, b4), p, opt, List.of(), "x: 1\n", 1);
            assertTrue(Checkpoint.isCheckpoint(best), "pruning leaves best alone");
            assertEquals(b4, Checkpoint.readState(Checkpoint.latest(run)).best());

            IOException e = assertThrows(IOException.class, () -> Checkpoint.saveBest(run, new Checkpoint.State(8, new Loader.Cursor(0, 8),
                    1, "abc", 1, b4), p, opt, List.of(new Objective.Weighted(FULL_DISK, 1f)), "x: 1\n"));
            assertTrue(e.getMessage().contains("best.tmp"), e.getMessage());
            assertEquals(4, Checkpoint.readState(Checkpoint.best(run)).step(), "a failed write keeps the old best");

            Files.move(best, run.resolve("checkpoints/best.old")); // a crash between the renames
            assertEquals(run.resolve("checkpoints/best.old"), Checkpoint.best(run));
            assertTrue(new Checkpoint.Best("m", "min", 1, 2.0).beatenBy(1.5) && !new Checkpoint.Best("m", "min", 1, 2.0).beatenBy(2.0));
            assertFalse(new Checkpoint.Best("m", "max", 1, 2.0).beatenBy(Double.NaN));
        }
    }
}
