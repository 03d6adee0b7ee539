package org.sensorium.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.bytedeco.ffmpeg.global.avutil;

/**
 * The built-in sample set: 2 s clips of a coloured circle or square on mid-grey that moves in one of
 * eight ways (the label), slowly or fast, with every modality derived from the same motion:
 * <ul>
 *   <li>video: 64x64 RGB, 8 fps, H.264 (libopenh264) in MP4, with an AAC 22.05 kHz mono track;</li>
 *   <li>audio: a tone whose pitch names the motion (220 Hz * 2^(3k/12), k = class), beeping 2/s (slow)
 *       or 4/s (fast), a sine for circles and a square wave for squares, plus light noise;</li>
 *   <li>text: an SRT with one cue over the whole clip naming colour, shape, motion and speed (also in
 *       the manifest's captions, with a paraphrase);</li>
 *   <li>imu: CSV at 100 Hz, t,ax,ay,az,gx,gy,gz: the shape's acceleration with 1 frame width = 1 m
 *       (ax to the right, ay up), az = 9.81 m/s^2 of gravity, gz the angular rate of circular motion
 *       (positive counterclockwise), plus small Gaussian noise.</li>
 * </ul>
 * Sample i is "val" when i % 5 == 4, else "train". Some samples lack a modality to exercise presence
 * masks: no IMU when i % 11 == 3, no audio track (and no "audio" key) when i % 13 == 5, no subtitle
 * file (captions only) when i % 17 == 7. Everything is a function of (seed, i): the output is the
 * same whatever the thread count (MP4 bytes included, with the pinned FFmpeg).
 * <p>
 * Long recordings ({@link #generateLong}) are for temporal segmentation: each plays K of the motions
 * one after the other, always in the same order (the set's "script", drawn from the seed, as the steps
 * of one task), for K * 2 s in all, with segment lengths drawn around 2 s (0.25 to 1.75 times the mean,
 * on the 1/8 s frame grid). Colour and shape stay, speed changes per segment; every modality is present;
 * the subtitle has one cue per segment; the manifest line lists the segments with their times.
 * <p>
 * This class holds the plan (what each sample is), the entry points and the on-disk cache; the files
 * themselves are written by {@link SampleWriter} with the renderers of {@link SampleRenderers}, and the
 * QA set by {@link SampleQa}.
 * <p>
 * The scene variant ({@link #generateScenes}) draws every clip of the short set over one of S static textured
 * scenes ({@link SampleScenes}) instead of the grey field, for Background Erasing: a static background to erase.
 */
public final class SampleSetGenerator {
    static final double SECONDS = 2.0;
    static final int SIZE = 64;
    static final int FPS = 8;
    static final int AUDIO_RATE = 22050;
    static final int IMU_RATE = 100;
    static final String VERSION = "sample-set-v1";
    static final String LONG_VERSION = "long-set-v1";
    static final String SCENE_VERSION = "scene-set-v1";

    static {
        avutil.av_log_set_level(avutil.AV_LOG_FATAL);
    }

    private SampleSetGenerator() {}

    /** The eight classes, in label order; k is also the tone's step in minor thirds above 220 Hz. */
    enum Motion {
        LEFT("left", "moves %s to the left"),
        RIGHT("right", "moves %s to the right"),
        UP("up", "moves %s up"),
        DOWN("down", "moves %s down"),
        CLOCKWISE("clockwise circle", "circles %s clockwise"),
        COUNTERCLOCKWISE("counterclockwise circle", "circles %s counterclockwise"),
        SHAKE("shake", "shakes %s from side to side"),
        BOUNCE("bounce", "bounces %s up and down");

        final String label;
        final String phrase;

        Motion(String label, String phrase) {
            this.label = label;
            this.phrase = phrase;
        }

        double pitchHz() {
            return 220.0 * Math.pow(2, ordinal() * 3 / 12.0);
        }
    }

    enum Colour {
        RED(220, 40, 40), GREEN(40, 200, 60), BLUE(40, 80, 230), YELLOW(230, 210, 40);

        final int r;
        final int g;
        final int b;

        Colour(int r, int g, int b) {
            this.r = r;
            this.g = g;
            this.b = b;
        }
    }

    /** Everything random about sample i, drawn up front so workers need no shared generator. */
    record Sample(int index, Motion motion, Colour colour, boolean circle, boolean fast, double cx, double cy,
            double phase, int template, long noiseSeed) {
        String id() {
            return String.format(Locale.ROOT, "s%05d", index);
        }

        String shape() {
            return circle ? "circle" : "square";
        }

        String speed() {
            return fast ? "fast" : "slow";
        }

        boolean hasImu() {
            return index % 11 != 3;
        }

        boolean hasAudio() {
            return index % 13 != 5;
        }

        boolean hasSubtitles() {
            return index % 17 != 7;
        }
    }

    /** A stretch of a recording: sample s's motion, played from second {@code from} for {@code seconds}. */
    record Part(Sample s, double from, double seconds) {
        double end() {
            return from + seconds;
        }
    }

    /** The part playing at time t (the last one from its start on, so t = the recording's end is in it). */
    static Part partAt(List<Part> parts, double t) {
        for (Part p : parts) {
            if (t < p.end()) {
                return p;
            }
        }
        return parts.get(parts.size() - 1);
    }

    static double seconds(List<Part> parts) {
        return parts.get(parts.size() - 1).end();
    }

    /** A long recording: its index and its parts, which share colour, shape and place. */
    record Recording(int index, List<Part> parts) {
        String id() {
            return String.format(Locale.ROOT, "r%05d", index);
        }

        Sample first() {
            return parts.get(0).s();
        }
    }

    /**
     * Writes outDir/manifest.jsonl and outDir/media/* for the given number of samples.
     *
     * @return the manifest path
     */
    public static Path generate(Path outDir, int samples, long seed) throws IOException {
        return generate(outDir, samples, seed, s -> null);
    }

    /** The short set's samples, each clip drawn over sceneOf(sample) (null: the grey field), and its QA items. */
    private static Path generate(Path outDir, int samples, long seed, java.util.function.Function<Sample, SampleScenes.Scene> sceneOf)
            throws IOException {
        if (samples <= 0) {
            throw new IllegalArgumentException("samples must be > 0, got " + samples);
        }
        List<java.util.concurrent.Callable<String>> jobs = new ArrayList<>();
        for (Sample s : plan(samples, seed)) {
            jobs.add(() -> SampleWriter.write(outDir, s, sceneOf.apply(s)));
        }
        Path manifest = writeAll(outDir, jobs);
        writeQa(outDir, samples, seed);
        return manifest;
    }

    /**
     * The scene variant: the same samples as {@link #generate} (motion, shape, colour, audio, IMU, captions, split),
     * each clip drawn over one of {@code scenes} static textured backgrounds ({@link SampleScenes}) instead of the grey
     * field, the scene drawn independently of the label; caption template 2 says "patterned" for "grey", and the
     * manifest's attributes name the scene.
     *
     * @return the manifest path
     */
    public static Path generateScenes(Path outDir, int samples, int scenes, long seed) throws IOException {
        if (samples <= 0) {
            throw new IllegalArgumentException("samples must be > 0, got " + samples);
        }
        List<SampleScenes.Scene> all = SampleScenes.scenes(scenes, seed);
        int[] scene = SampleScenes.assign(samples, scenes, seed);
        return generate(outDir, samples, seed, s -> all.get(scene[s.index()]));
    }

    /** Answers per generated QA item (the right one and K - 1 distractors). */
    public static final int QA_ANSWERS = 4;

    /**
     * Writes outDir/qa.jsonl (data/QaManifest's format) for the sample set of this size and seed: per sample
     * two questions about its clip, "which way" (answers: motion labels) and "what moved" (answers: a colour
     * and shape), each with {@value #QA_ANSWERS} answers: the right one and distractors drawn from the other
     * values, shuffled with a seed derived from (seed, sample, question). Items share their sample's split;
     * the subtitles key is absent where the sample has no subtitle file. Media are not touched, so this also
     * adds qa.jsonl to a set generated before it existed.
     *
     * @return the QA manifest path
     */
    public static Path writeQa(Path outDir, int samples, long seed) throws IOException {
        return SampleQa.write(outDir, samples, seed);
    }

    /**
     * Writes outDir/manifest.jsonl and outDir/media/* for the given number of long recordings of the
     * given number of segments each (2 to 8: each motion appears at most once).
     *
     * @return the manifest path
     */
    public static Path generateLong(Path outDir, int recordings, int segments, long seed) throws IOException {
        if (recordings <= 0) {
            throw new IllegalArgumentException("recordings must be > 0, got " + recordings);
        }
        List<java.util.concurrent.Callable<String>> jobs = new ArrayList<>();
        for (Recording r : planLong(recordings, segments, seed)) {
            jobs.add(() -> SampleWriter.writeLong(outDir, r));
        }
        return writeAll(outDir, jobs);
    }

    /** Runs the jobs (each writes its media and returns its manifest line), then writes the manifest in order. */
    private static Path writeAll(Path outDir, List<java.util.concurrent.Callable<String>> jobs) throws IOException {
        Files.createDirectories(outDir.resolve("media"));
        int threads = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<String>> lines = new ArrayList<>();
            for (java.util.concurrent.Callable<String> job : jobs) {
                lines.add(pool.submit(job));
            }
            StringBuilder manifest = new StringBuilder();
            for (Future<String> f : lines) {
                manifest.append(f.get()).append('\n');
            }
            // written last: a manifest exists only when every file it names does
            return Files.writeString(outDir.resolve("manifest.jsonl"), manifest, StandardCharsets.UTF_8);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while generating the sample set", e);
        } catch (ExecutionException e) {
            throw new IOException("generating the sample set failed: " + e.getCause().getMessage(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * cacheRoot/sample-set-v1-n&lt;samples&gt;-s&lt;seed&gt;/manifest.jsonl, generated first if absent. Generation
     * goes to a temporary sibling folder renamed into place atomically, so an interrupted run never
     * leaves a half set behind, and two concurrent callers both end with the same complete set.
     */
    public static Path ensure(Path cacheRoot, int samples, long seed) throws IOException {
        return ensure(cacheRoot, VERSION + "-n" + samples + "-s" + seed, dir -> generate(dir, samples, seed));
    }

    /** Like {@link #ensure(Path, int, long)} for long recordings: cacheRoot/long-set-v1-n&lt;N&gt;-k&lt;K&gt;-s&lt;seed&gt;. */
    public static Path ensureLong(Path cacheRoot, int recordings, int segments, long seed) throws IOException {
        return ensure(cacheRoot, LONG_VERSION + "-n" + recordings + "-k" + segments + "-s" + seed,
                dir -> generateLong(dir, recordings, segments, seed));
    }

    /** Like {@link #ensure(Path, int, long)} for the scene variant: cacheRoot/scene-set-v1-n&lt;N&gt;-c&lt;scenes&gt;-s&lt;seed&gt;. */
    public static Path ensureScenes(Path cacheRoot, int samples, int scenes, long seed) throws IOException {
        return ensure(cacheRoot, SCENE_VERSION + "-n" + samples + "-c" + scenes + "-s" + seed,
                dir -> generateScenes(dir, samples, scenes, seed));
    }

    private interface Writer {
        void write(Path dir) throws IOException;
    }

    private static Path ensure(Path cacheRoot, String name, Writer writer) throws IOException {
        Path dir = cacheRoot.resolve(name);
        Path manifest = dir.resolve("manifest.jsonl");
        if (Files.isRegularFile(manifest)) {
            return manifest;
        }
        Files.createDirectories(cacheRoot);
        Path tmp = Files.createTempDirectory(cacheRoot, "." + name + ".tmp-");
        try {
            writer.write(tmp);
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException(cacheRoot + ": cannot rename atomically there; use a local cache folder", e);
        } catch (FileSystemException e) {
            // another process renamed its complete copy into place first (rename fails: target not empty)
            if (!Files.isRegularFile(manifest)) {
                throw e;
            }
        } finally {
            deleteTree(tmp);
        }
        return manifest;
    }

    static List<Sample> plan(int samples, long seed) {
        SplittableRandom root = new SplittableRandom(seed);
        List<Sample> plan = new ArrayList<>(samples);
        Motion[] motions = Motion.values();
        for (int i = 0; i < samples; i++) {
            SplittableRandom r = root.split();
            plan.add(new Sample(i, motions[i % motions.length], Colour.values()[r.nextInt(4)], r.nextBoolean(),
                    r.nextBoolean(), 0.5 + r.nextDouble(-0.05, 0.05), 0.5 + r.nextDouble(-0.05, 0.05),
                    r.nextDouble(2 * Math.PI), r.nextInt(3), r.nextLong()));
        }
        return plan;
    }

    /**
     * The long recordings: one script (the first `segments` motions of a shuffle drawn from the seed)
     * that every recording follows; per recording colour, shape, place, and segment lengths w_k / sum(w)
     * of segments * 2 s with w_k drawn from [0.25, 1.75], boundaries rounded to the frame grid; per segment
     * speed and phase.
     */
    static List<Recording> planLong(int recordings, int segments, long seed) {
        Motion[] all = Motion.values();
        if (segments < 2 || segments > all.length) {
            throw new IllegalArgumentException("segments must be in [2, " + all.length + "], got " + segments);
        }
        SplittableRandom root = new SplittableRandom(seed ^ 0x5EC7E575L);
        Motion[] script = all.clone();
        for (int i = script.length - 1; i > 0; i--) { // Fisher-Yates
            int j = root.nextInt(i + 1);
            Motion t = script[i];
            script[i] = script[j];
            script[j] = t;
        }
        double total = segments * SECONDS;
        List<Recording> plan = new ArrayList<>(recordings);
        for (int r = 0; r < recordings; r++) {
            SplittableRandom rr = root.split();
            Colour colour = Colour.values()[rr.nextInt(4)];
            boolean circle = rr.nextBoolean();
            double cx = 0.5 + rr.nextDouble(-0.05, 0.05), cy = 0.5 + rr.nextDouble(-0.05, 0.05);
            int template = rr.nextInt(3);
            long noiseSeed = rr.nextLong();
            double[] w = new double[segments];
            double sum = 0;
            for (int k = 0; k < segments; k++) {
                w[k] = rr.nextDouble(0.25, 1.75);
                sum += w[k];
            }
            List<Part> parts = new ArrayList<>(segments);
            double from = 0, acc = 0;
            for (int k = 0; k < segments; k++) {
                acc += w[k];
                double to = k == segments - 1 ? total : Math.round(acc / sum * total * FPS) / (double) FPS;
                Sample s = new Sample(r, script[k], colour, circle, rr.nextBoolean(), cx, cy, rr.nextDouble(2 * Math.PI),
                        template, noiseSeed);
                parts.add(new Part(s, from, to - from));
                from = to;
            }
            plan.add(new Recording(r, List.copyOf(parts)));
        }
        return plan;
    }

    /**
     * The shape's centre in frame widths (x right, y down) at time t seconds, and its second
     * derivative. Linear moves start and end at rest, x(t) = x0 + A (1 - cos(pi t / T)) / 2, so the
     * acceleration's sign tells the direction; fast moves twice as far (or cycle twice as often).
     */
    static final class Trajectory {
        static final double DISTANCE = 0.25;  // slow linear move, frame widths
        static final double RADIUS = 0.18;    // circle radius, frame widths
        static final double AMPLITUDE = 0.15; // shake / bounce, frame widths

        private Trajectory() {}

        /** {x, y, ax, ay, angular rate (rad/s, positive counterclockwise on screen)} of a 2 s sample. */
        static double[] at(Sample s, double t) {
            return at(s, t, SECONDS);
        }

        /**
         * The same for a motion lasting {@code seconds} (a segment of a long recording): a linear move
         * still starts and ends at rest; circles, shakes and bounces keep their 2 s period.
         */
        static double[] at(Sample s, double t, double seconds) {
            double k = s.fast() ? 2 : 1;
            return switch (s.motion()) {
                case LEFT -> linear(s, t, -k, 0, seconds);
                case RIGHT -> linear(s, t, k, 0, seconds);
                case UP -> linear(s, t, 0, -k, seconds);
                case DOWN -> linear(s, t, 0, k, seconds);
                case CLOCKWISE -> circle(s, t, k * 2 * Math.PI / SECONDS);
                case COUNTERCLOCKWISE -> circle(s, t, -k * 2 * Math.PI / SECONDS);
                case SHAKE -> oscillate(s, t, k, true);
                case BOUNCE -> oscillate(s, t, k, false);
            };
        }

        private static double[] linear(Sample s, double t, double dx, double dy, double seconds) {
            double a = DISTANCE;
            double w = Math.PI / seconds;
            double u = (1 - Math.cos(w * t)) / 2;   // 0 -> 1, at rest at both ends
            double acc = Math.cos(w * t) * w * w / 2;
            return new double[] {s.cx() - dx * a / 2 + dx * a * u, s.cy() - dy * a / 2 + dy * a * u,
                    dx * a * acc, dy * a * acc, 0};
        }

        /** omega > 0 turns clockwise on screen (y points down). */
        private static double[] circle(Sample s, double t, double omega) {
            double th = s.phase() + omega * t;
            double r = RADIUS;
            return new double[] {s.cx() + r * Math.cos(th), s.cy() + r * Math.sin(th),
                    -r * omega * omega * Math.cos(th), -r * omega * omega * Math.sin(th), -omega};
        }

        private static double[] oscillate(Sample s, double t, double cycles, boolean horizontal) {
            double w = 2 * Math.PI * cycles / SECONDS;
            double d = AMPLITUDE * Math.sin(w * t);
            double acc = -AMPLITUDE * w * w * Math.sin(w * t);
            return horizontal ? new double[] {s.cx() + d, s.cy(), acc, 0, 0}
                    : new double[] {s.cx(), s.cy() + d, 0, acc, 0};
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
