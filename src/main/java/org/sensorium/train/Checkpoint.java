package org.sensorium.train;

import org.sensorium.config.Json;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.sensorium.config.ConfigException;
import org.sensorium.data.Loader;
import org.sensorium.model.Params;
import org.sensorium.objective.Objective;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A checkpoint is a folder runs/&lt;name&gt;/checkpoints/step-NNNNNNN written whole under a temporary
 * name and then renamed, so a crash never leaves a half checkpoint that looks complete. It holds the
 * weights (model.ndlist), the optimizer state (optimizer.ndlist + optimizer.json), the resolved
 * config (config.yaml) and state.json: step, data cursor, RNG seed and the manifest's hash.
 *
 * <p>RNG state: DJL exposes no getter for libtorch's generator, so every random draw is derived from
 * (run.seed, step, rank) and re-seeded each step; the seed and step are the whole RNG state.
 */
public final class Checkpoint {
    private static final Logger LOG = LoggerFactory.getLogger(Checkpoint.class);

    private Checkpoint() {}

    /**
     * What state.json says.
     *
     * @param cursor each rank's position in its shard (all ranks advance together)
     * @param worldSize the number of workers that wrote it (1 in checkpoints from before data parallelism)
     */
    public record State(int step, Loader.Cursor cursor, long seed, String manifestSha256, int worldSize, Best best) {
        public State(int step, Loader.Cursor cursor, long seed, String manifestSha256, int worldSize) {
            this(step, cursor, seed, manifestSha256, worldSize, null);
        }

        public State(int step, Loader.Cursor cursor, long seed, String manifestSha256) {
            this(step, cursor, seed, manifestSha256, 1);
        }
    }

    /**
     * The best value so far of train.keep_best's metric and the step that logged it: state.json's "best", in every
     * checkpoint of a run that keeps one, so a resumed run compares against the best of its own past.
     *
     * @param mode "max" or "min"
     */
    public record Best(String metric, String mode, int step, double value) {
        /** True when v is better than this best (a NaN never is). */
        public boolean beatenBy(double v) {
            return mode.equals("min") ? v < value : v > value;
        }

        /** As state.json writes it: metric, mode, step, value. */
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("metric", metric);
            m.put("mode", mode);
            m.put("step", step);
            m.put("value", value);
            return m;
        }
    }

    /** The folder of the best checkpoint, RUN/checkpoints/best (train.keep_best). */
    public static final String BEST = "best";

    /**
     * The cursor of a group of {@code to} workers that continues where {@code from} workers stopped. Rank r of w
     * takes permutation positions r, r + w, ... ({@link Loader.Shard}), so p positions into every shard, the group
     * has used the epoch's first p x from samples; the new group starts at floor(p x from / to), repeating at most
     * to - 1 samples of the epoch rather than skipping any.
     */
    public static Loader.Cursor reshard(Loader.Cursor c, int from, int to) {
        if (from == to) {
            return c;
        }
        long used = (long) c.position() * from;
        return new Loader.Cursor(c.epoch(), (int) (used / to));
    }

    /**
     * Writes the checkpoint under NAME.tmp, forces every file and the folder to disk, renames it to NAME and
     * forces the parent, so a crash or a power loss never leaves a complete-looking folder of empty files. On a
     * failure (a full disk) the partial NAME.tmp is removed and the error names the file being written.
     *
     * @param objectives each writes what it keeps besides parameters (an EMA teacher) into the folder
     */
    public static Path save(Path runDir, State state, Params params, AdamW optimizer, List<Objective.Weighted> objectives,
            String configYaml, int keep) throws IOException {
        Path root = Files.createDirectories(runDir.resolve("checkpoints"));
        String name = String.format("step-%07d", state.step());
        Path dst = root.resolve(name);
        Path tmp = write(root, name, state, params, optimizer, objectives, configYaml);
        deleteTree(dst);
        Files.move(tmp, dst, StandardCopyOption.ATOMIC_MOVE);
        force(root);
        prune(root, keep);
        return dst;
    }

    /**
     * Writes RUN/checkpoints/best (train.keep_best), a whole checkpoint like {@link #save}'s, whose state.json "best"
     * names the metric, its value and the step. Replaced without a moment where no complete one exists: the new one
     * is written whole as best.tmp, the old one renamed to best.old, best.tmp renamed to best, best.old deleted;
     * {@link #best} falls back to best.old should a crash come between the renames.
     */
    public static Path saveBest(Path runDir, State state, Params params, AdamW optimizer, List<Objective.Weighted> objectives,
            String configYaml) throws IOException {
        Path root = Files.createDirectories(runDir.resolve("checkpoints"));
        Path tmp = write(root, BEST, state, params, optimizer, objectives, configYaml);
        Path dst = root.resolve(BEST), old = root.resolve(BEST + ".old");
        if (Files.isDirectory(dst)) {
            deleteTree(old);
            Files.move(dst, old, StandardCopyOption.ATOMIC_MOVE);
            force(root);
        }
        Files.move(tmp, dst, StandardCopyOption.ATOMIC_MOVE);
        force(root);
        deleteTree(old);
        return dst;
    }

    /** The run's best checkpoint (RUN/checkpoints/best, or best.old left by a crash mid-replacement), or null. */
    public static Path best(Path runDir) {
        Path root = runDir.resolve("checkpoints");
        for (Path p : List.of(root.resolve(BEST), root.resolve(BEST + ".old"))) {
            if (isCheckpoint(p)) {
                return p;
            }
        }
        return null;
    }

    /** The checkpoint written whole under root/NAME.tmp and forced to disk; on a failure the partial folder is removed. */
    private static Path write(Path root, String name, State state, Params params, AdamW optimizer, List<Objective.Weighted> objectives,
            String configYaml) throws IOException {
        Path tmp = root.resolve(name + ".tmp");
        String writing = tmp.toString();
        try {
            deleteTree(tmp);
            Files.createDirectories(tmp);
            writing = tmp.resolve("model.ndlist").toString();
            params.save(tmp.resolve("model.ndlist"));
            writing = tmp.resolve("optimizer.*").toString();
            optimizer.save(tmp);
            for (Objective.Weighted o : objectives) {
                writing = tmp + " (" + o.objective().getClass().getSimpleName() + "'s state)";
                o.objective().save(tmp);
            }
            writing = tmp.resolve("config.yaml").toString();
            Files.writeString(tmp.resolve("config.yaml"), configYaml);
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("step", state.step());
            json.put("epoch", state.cursor().epoch());
            json.put("position", state.cursor().position());
            json.put("seed", state.seed());
            json.put("world_size", state.worldSize());
            json.put("rng", "derived from (seed, step, rank) every step");
            json.put("manifest_sha256", state.manifestSha256());
            if (state.best() != null) {
                json.put("best", state.best().toMap());
            }
            writing = tmp.resolve("state.json").toString();
            Json.write(tmp.resolve("state.json"), json);
            writing = tmp + " (fsync)";
            forceTree(tmp);
        } catch (IOException | RuntimeException e) {
            try {
                deleteTree(tmp);
            } catch (IOException | UncheckedIOException ignored) {
                // the original failure is the one to report
            }
            throw new IOException("checkpoint of step " + state.step() + ": writing " + writing + " failed: " + e.getMessage()
                    + " (the partial folder was removed)", e);
        }
        return tmp;
    }

    /** fsync of every file under dir, then of dir itself. */
    private static void forceTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                force(p);
            }
        }
    }

    /** fsync of one file or folder. */
    static void force(Path p) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    /** Every complete checkpoint of a run, newest first. */
    public static List<Path> newestFirst(Path runDir) throws IOException {
        List<Path> all = new java.util.ArrayList<>(list(runDir.resolve("checkpoints")));
        java.util.Collections.reverse(all);
        return all;
    }

    /** True when the folder is a checkpoint (state.json and model.ndlist). */
    public static boolean isCheckpoint(Path dir) {
        return Files.isRegularFile(dir.resolve("state.json")) && Files.isRegularFile(dir.resolve("model.ndlist"));
    }

    /** The newest complete checkpoint of a run, or null. */
    public static Path latest(Path runDir) throws IOException {
        List<Path> all = list(runDir.resolve("checkpoints"));
        return all.isEmpty() ? null : all.get(all.size() - 1);
    }

    /**
     * A checkpoint folder given either itself or its run folder (then the newest complete checkpoint).
     *
     * @param option the command-line option the path came from, named in the error
     * @throws ConfigException when the path is neither
     */
    public static Path resolve(Path runOrCheckpoint, String option) throws IOException {
        if (isCheckpoint(runOrCheckpoint)) {
            return runOrCheckpoint;
        }
        Path latest = latest(runOrCheckpoint);
        if (latest == null) {
            throw new ConfigException(option, runOrCheckpoint + " is neither a checkpoint folder nor a run folder with a complete checkpoint");
        }
        return latest;
    }

    /** A checkpoint that cannot be read: names the folder and the file. */
    public static final class UnreadableException extends IOException {
        public UnreadableException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * Loads weights, optimizer state and the objectives' own state (EMA teachers) in place and returns the saved state.
     *
     * @throws UnreadableException naming the checkpoint and the file that failed (truncated, malformed, missing)
     */
    public static State load(Path dir, Params params, AdamW optimizer, List<Objective.Weighted> objectives) throws IOException {
        String reading = dir.resolve("state.json").toString();
        try {
            State state = readState(dir); // first: the cheapest file says whether the folder is whole
            reading = dir.resolve("model.ndlist").toString();
            List<String> fresh = params.load(dir.resolve("model.ndlist"));
            if (!fresh.isEmpty()) {
                LOG.info("not in {}, starting from their initial values: {}", dir, fresh);
            }
            reading = dir.resolve("optimizer.ndlist").toString() + " / optimizer.json";
            optimizer.load(dir);
            for (Objective.Weighted o : objectives) {
                reading = dir + " (" + o.objective().getClass().getSimpleName() + "'s state)";
                o.objective().load(dir);
            }
            return state;
        } catch (ConfigException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new UnreadableException(reading + ": " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().lines().findFirst().orElse("")), e);
        }
    }

    /** A checkpoint that loaded, and what its state.json says. */
    public record Loaded(Path dir, State state) {}

    /**
     * Loads the given checkpoint, or (chosen null) the newest of the run that reads: a damaged one is named (folder
     * and file) and the one before it is tried.
     *
     * @throws ConfigException (--resume) when there is no checkpoint, or none reads, naming each failure
     */
    public static Loaded loadReadable(Path runDir, Path chosen, Params params, AdamW optimizer, List<Objective.Weighted> objectives)
            throws IOException {
        List<Path> candidates = chosen != null ? List.of(chosen) : newestFirst(runDir);
        if (candidates.isEmpty()) {
            throw new ConfigException("--resume", runDir + " has no complete checkpoint");
        }
        List<String> unreadable = new java.util.ArrayList<>();
        for (Path c : candidates) {
            try {
                State s = load(c, params, optimizer, objectives);
                if (!unreadable.isEmpty()) {
                    LOG.warn("resuming from {} instead of the newer, damaged checkpoint(s)", c);
                }
                return new Loaded(c, s);
            } catch (UnreadableException e) {
                unreadable.add(e.getMessage());
                LOG.warn("checkpoint unreadable, {}: {}", candidates.size() > unreadable.size() ? "trying the one before it" : "no older one",
                        e.getMessage());
            }
        }
        throw new ConfigException("--resume", "no readable checkpoint: " + String.join("; ", unreadable));
    }

    public static State readState(Path dir) throws IOException {
        Map<String, Object> s = Json.read(dir.resolve("state.json"));
        return new State(((Number) s.get("step")).intValue(),
                new Loader.Cursor(((Number) s.get("epoch")).intValue(), ((Number) s.get("position")).intValue()),
                ((Number) s.get("seed")).longValue(), (String) s.get("manifest_sha256"),
                s.get("world_size") == null ? 1 : ((Number) s.get("world_size")).intValue(), best(s.get("best")));
    }

    private static Best best(Object o) {
        if (!(o instanceof Map<?, ?> b)) {
            return null;
        }
        return new Best((String) b.get("metric"), (String) b.get("mode"), ((Number) b.get("step")).intValue(),
                ((Number) b.get("value")).doubleValue());
    }

    private static List<Path> list(Path root) throws IOException {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(root)) {
            return s.filter(p -> p.getFileName().toString().matches("step-\\d+"))
                    .filter(p -> Files.isRegularFile(p.resolve("state.json")))
                    .sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
        }
    }

    private static void prune(Path root, int keep) throws IOException {
        List<Path> all = list(root);
        for (int i = 0; i < all.size() - keep; i++) {
            deleteTree(all.get(i));
        }
    }

    public static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(x -> {
                try {
                    Files.delete(x);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
