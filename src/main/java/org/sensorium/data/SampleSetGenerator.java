package org.sensorium.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
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
import org.bytedeco.ffmpeg.global.avcodec;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacv.FFmpegFrameRecorder;
import org.bytedeco.javacv.Frame;

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
 */
public final class SampleSetGenerator {
    static final double SECONDS = 2.0;
    static final int SIZE = 64;
    static final int FPS = 8;
    static final int AUDIO_RATE = 22050;
    static final int IMU_RATE = 100;
    static final String VERSION = "sample-set-v1";
    static final String LONG_VERSION = "long-set-v1";
    private static final double GRAVITY = 9.81;
    private static final int GREY = 128;

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

    private static double seconds(List<Part> parts) {
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
        if (samples <= 0) {
            throw new IllegalArgumentException("samples must be > 0, got " + samples);
        }
        List<java.util.concurrent.Callable<String>> jobs = new ArrayList<>();
        for (Sample s : plan(samples, seed)) {
            jobs.add(() -> write(outDir, s));
        }
        Path manifest = writeAll(outDir, jobs);
        writeQa(outDir, samples, seed);
        return manifest;
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
        ObjectMapper json = new ObjectMapper();
        StringBuilder out = new StringBuilder();
        for (Sample s : plan(samples, seed)) {
            List<String> ways = java.util.Arrays.stream(Motion.values()).map(m -> m.label).toList();
            List<String> objects = new ArrayList<>();
            for (Colour c : Colour.values()) {
                for (String shape : List.of("circle", "square")) {
                    objects.add("the " + c.name().toLowerCase(Locale.ROOT) + " " + shape);
                }
            }
            String object = "the " + s.colour().name().toLowerCase(Locale.ROOT) + " " + s.shape();
            out.append(qaLine(json, s, "way", "which way does " + object + " move?", s.motion().label, ways,
                    new SplittableRandom(Loader.mix(seed, s.index(), 1)))).append('\n');
            out.append(qaLine(json, s, "what", "what moved?", object, objects,
                    new SplittableRandom(Loader.mix(seed, s.index(), 2)))).append('\n');
        }
        Path file = outDir.resolve("qa.jsonl");
        Path tmp = Files.createTempFile(outDir, ".qa", ".tmp");
        Files.writeString(tmp, out, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return file;
    }

    private static String qaLine(ObjectMapper json, Sample s, String kind, String question, String right, List<String> values,
            SplittableRandom r) {
        List<String> others = new ArrayList<>(values);
        others.remove(right);
        List<String> answers = new ArrayList<>(List.of(right));
        for (int k = 1; k < QA_ANSWERS; k++) {
            answers.add(others.remove(r.nextInt(others.size())));
        }
        for (int i = answers.size() - 1; i > 0; i--) { // Fisher-Yates: the right answer lands anywhere
            int j = r.nextInt(i + 1);
            String t = answers.get(i);
            answers.set(i, answers.get(j));
            answers.set(j, t);
        }
        ObjectNode o = json.createObjectNode();
        o.put("id", s.id() + "-" + kind);
        o.put("split", s.index() % 5 == 4 ? "val" : "train");
        o.put("question", question);
        answers.forEach(o.putArray("answers")::add);
        o.put("correct", answers.indexOf(right));
        o.putObject("video").put("uri", "media/" + s.id() + ".mp4").put("start", 0.0).put("end", SECONDS);
        if (s.hasSubtitles()) {
            o.put("subtitles", "media/" + s.id() + ".srt");
        }
        return o.toString();
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
            jobs.add(() -> writeLong(outDir, r));
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

    /** Writes the sample's media and returns its manifest line. */
    private static String write(Path outDir, Sample s) throws IOException {
        Path media = outDir.resolve("media");
        SplittableRandom noise = new SplittableRandom(s.noiseSeed());
        List<Part> parts = List.of(new Part(s, 0, SECONDS));
        float[] audio = s.hasAudio() ? Tone.of(s, SECONDS, noise.split()) : null;
        Video.write(media.resolve(s.id() + ".mp4"), parts, audio);
        if (s.hasSubtitles()) {
            Files.writeString(media.resolve(s.id() + ".srt"), srt(List.of(caption(s, s.template())), parts), StandardCharsets.UTF_8);
        }
        if (s.hasImu()) {
            Files.writeString(media.resolve(s.id() + ".csv"), Imu.csv(parts, noise.split()), StandardCharsets.UTF_8);
        }
        return manifestLine(s);
    }

    /** Writes a long recording's media (every modality) and returns its manifest line. */
    private static String writeLong(Path outDir, Recording r) throws IOException {
        Path media = outDir.resolve("media");
        SplittableRandom noise = new SplittableRandom(r.first().noiseSeed());
        List<float[]> tones = new ArrayList<>();
        int n = 0;
        for (Part p : r.parts()) {
            tones.add(Tone.of(p.s(), p.seconds(), noise.split()));
            n += tones.get(tones.size() - 1).length;
        }
        float[] audio = new float[n];
        int at = 0;
        for (float[] t : tones) {
            System.arraycopy(t, 0, audio, at, t.length);
            at += t.length;
        }
        Video.write(media.resolve(r.id() + ".mp4"), r.parts(), audio);
        List<String> cues = r.parts().stream().map(p -> caption(p.s(), r.first().template())).toList();
        Files.writeString(media.resolve(r.id() + ".srt"), srt(cues, r.parts()), StandardCharsets.UTF_8);
        Files.writeString(media.resolve(r.id() + ".csv"), Imu.csv(r.parts(), noise.split()), StandardCharsets.UTF_8);

        ObjectNode o = new ObjectMapper().createObjectNode();
        o.put("id", r.id());
        o.put("split", r.index() % 5 == 4 ? "val" : "train");
        o.putObject("video").put("uri", "media/" + r.id() + ".mp4");
        o.putObject("audio").put("uri", "media/" + r.id() + ".mp4");
        o.putObject("text").put("uri", "media/" + r.id() + ".srt");
        o.putObject("imu").put("uri", "media/" + r.id() + ".csv");
        StringBuilder caption = new StringBuilder(cues.get(0));
        for (Part p : r.parts().subList(1, r.parts().size())) {
            caption.append(", then ").append(String.format(Locale.ROOT, p.s().motion().phrase, p.s().fast() ? "quickly" : "slowly"));
        }
        o.putArray("captions").add(caption.toString());
        var segments = o.putArray("segments");
        for (Part p : r.parts()) {
            segments.addObject().put("start", p.from()).put("end", p.end()).put("label", p.s().motion().label);
        }
        ObjectNode a = o.putObject("attributes");
        a.put("color", r.first().colour().name().toLowerCase(Locale.ROOT));
        a.put("shape", r.first().shape());
        return o.toString();
    }

    private static String manifestLine(Sample s) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode o = json.createObjectNode();
        o.put("id", s.id());
        o.put("split", s.index() % 5 == 4 ? "val" : "train");
        o.put("label", s.motion().label);
        o.putObject("video").put("uri", "media/" + s.id() + ".mp4");
        if (s.hasAudio()) {
            o.putObject("audio").put("uri", "media/" + s.id() + ".mp4");
        }
        if (s.hasSubtitles()) {
            o.putObject("text").put("uri", "media/" + s.id() + ".srt");
        }
        if (s.hasImu()) {
            o.putObject("imu").put("uri", "media/" + s.id() + ".csv");
        }
        o.putArray("captions").add(caption(s, s.template())).add(caption(s, (s.template() + 1) % 3));
        ObjectNode a = o.putObject("attributes");
        a.put("color", s.colour().name().toLowerCase(Locale.ROOT));
        a.put("shape", s.shape());
        a.put("speed", s.speed());
        return o.toString();
    }

    /** Caption template t in {0, 1, 2}; always names colour, shape, motion and speed. */
    static String caption(Sample s, int template) {
        String colour = s.colour().name().toLowerCase(Locale.ROOT);
        String what = String.format(Locale.ROOT, s.motion().phrase, s.fast() ? "quickly" : "slowly");
        return switch (template) {
            case 0 -> "a " + colour + " " + s.shape() + " " + what;
            case 1 -> "the " + colour + " " + s.shape() + " " + what;
            default -> "on a grey background, a " + colour + " " + s.shape() + " " + what;
        };
    }

    /** One cue per part, in order. */
    private static String srt(List<String> cues, List<Part> parts) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < cues.size(); i++) {
            sb.append(i == 0 ? "" : "\n").append(i + 1).append('\n')
                    .append(srtTime(parts.get(i).from())).append(" --> ").append(srtTime(parts.get(i).end())).append('\n')
                    .append(cues.get(i)).append('\n');
        }
        return sb.toString();
    }

    private static String srtTime(double seconds) {
        long ms = Math.round(seconds * 1000);
        return String.format(Locale.ROOT, "%02d:%02d:%02d,%03d", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
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

    /** Frames drawn into RGB24 bytes and encoded with the audio track. */
    static final class Video {
        private static final int SUPER = 4; // SUPER x SUPER sub-pixel samples for smooth edges

        private Video() {}

        static void write(Path file, List<Part> parts, float[] audio) throws IOException {
            int frames = (int) Math.round(seconds(parts) * FPS);
            int perFrame = AUDIO_RATE / FPS;
            try (FFmpegFrameRecorder rec = new FFmpegFrameRecorder(file.toFile(), SIZE, SIZE, audio == null ? 0 : 1)) {
                configure(rec, audio != null);
                rec.start();
                ByteBuffer rgb = ByteBuffer.allocateDirect(SIZE * SIZE * 3);
                for (int i = 0; i < frames; i++) {
                    Part p = partAt(parts, i / (double) FPS);
                    draw(p.s(), i / (double) FPS - p.from(), p.seconds(), rgb);
                    rec.recordImage(SIZE, SIZE, Frame.DEPTH_UBYTE, 3, SIZE * 3, avutil.AV_PIX_FMT_RGB24, rgb);
                    if (audio != null) {
                        int from = i * perFrame;
                        int to = i == frames - 1 ? audio.length : from + perFrame;
                        rec.recordSamples(AUDIO_RATE, 1, FloatBuffer.wrap(audio, from, to - from));
                    }
                }
                rec.stop();
            }
        }

        private static void configure(FFmpegFrameRecorder rec, boolean audio) {
            rec.setFormat("mp4");
            rec.setVideoCodec(avcodec.AV_CODEC_ID_H264);
            rec.setVideoCodecName("libopenh264");
            rec.setPixelFormat(avutil.AV_PIX_FMT_YUV420P);
            rec.setFrameRate(FPS);
            rec.setGopSize(FPS);
            rec.setVideoBitrate(400_000);
            rec.setVideoOption("threads", "1");
            rec.setMetadata("creation_time", "2000-01-01T00:00:00Z"); // fixed: byte-identical files
            if (audio) {
                rec.setAudioCodec(avcodec.AV_CODEC_ID_AAC);
                rec.setSampleRate(AUDIO_RATE);
                rec.setAudioChannels(1);
                rec.setAudioBitrate(64_000);
            }
        }

        /** One (64, 64, 3) RGB frame into rgb (position 0, full). */
        static void draw(Sample s, double t, ByteBuffer rgb) {
            draw(s, t, SECONDS, rgb);
        }

        /** Frame at time t of a motion lasting the given seconds. */
        static void draw(Sample s, double t, double seconds, ByteBuffer rgb) {
            double[] p = Trajectory.at(s, t, seconds);
            double cx = p[0] * SIZE;
            double cy = p[1] * SIZE;
            double half = (s.circle() ? 0.1 : 0.09) * SIZE;
            rgb.clear();
            for (int y = 0; y < SIZE; y++) {
                for (int x = 0; x < SIZE; x++) {
                    double c = coverage(s.circle(), x - cx, y - cy, half);
                    rgb.put(mix(GREY, s.colour().r, c)).put(mix(GREY, s.colour().g, c)).put(mix(GREY, s.colour().b, c));
                }
            }
            rgb.flip();
        }

        /** Fraction of pixel (x..x+1, y..y+1), offset from the centre, inside the shape. */
        private static double coverage(boolean circle, double dx, double dy, double half) {
            int in = 0;
            for (int j = 0; j < SUPER; j++) {
                for (int i = 0; i < SUPER; i++) {
                    double u = dx + (i + 0.5) / SUPER;
                    double v = dy + (j + 0.5) / SUPER;
                    boolean inside = circle ? u * u + v * v <= half * half : Math.abs(u) <= half && Math.abs(v) <= half;
                    in += inside ? 1 : 0;
                }
            }
            return in / (double) (SUPER * SUPER);
        }

        private static byte mix(int background, int colour, double c) {
            return (byte) Math.round(background + (colour - background) * c);
        }
    }

    /** The sound track at AUDIO_RATE: beeps of the class's pitch. */
    static final class Tone {
        private static final double AMPLITUDE = 0.4;
        private static final double NOISE = 0.01;
        private static final double FADE = 0.005; // seconds of fade in/out per beep, against clicks

        private Tone() {}

        /** (AUDIO_RATE * seconds) samples in [-1, 1]. */
        static float[] of(Sample s, double seconds, SplittableRandom rng) {
            int n = (int) Math.round(seconds * AUDIO_RATE);
            double f = s.motion().pitchHz();
            double beep = 1.0 / (s.fast() ? 4 : 2); // period of one beep + pause, seconds
            float[] out = new float[n];
            for (int i = 0; i < n; i++) {
                double t = i / (double) AUDIO_RATE;
                double inBeep = t % beep;
                double env = inBeep < beep / 2 ? Math.min(1, Math.min(inBeep, beep / 2 - inBeep) / FADE) : 0;
                double phase = Math.sin(2 * Math.PI * f * t);
                double wave = s.circle() ? phase : Math.signum(phase) * 0.7;
                out[i] = (float) (AMPLITUDE * env * wave + NOISE * rng.nextDouble(-1, 1));
            }
            return out;
        }
    }

    /** The IMU recording as CSV text at IMU_RATE over the whole recording, both ends included. */
    static final class Imu {
        private static final double ACCEL_NOISE = 0.02; // m/s^2
        private static final double GYRO_NOISE = 0.01;  // rad/s

        private Imu() {}

        static String csv(List<Part> parts, SplittableRandom rng) {
            StringBuilder sb = new StringBuilder("t,ax,ay,az,gx,gy,gz\n");
            int n = (int) Math.round(seconds(parts) * IMU_RATE);
            for (int i = 0; i <= n; i++) {
                double t = i / (double) IMU_RATE;
                Part part = partAt(parts, t);
                double[] p = Trajectory.at(part.s(), t - part.from(), part.seconds());
                // 1 frame width = 1 m; image y points down, the IMU's ay points up
                sb.append(String.format(Locale.ROOT, "%.2f,%.5f,%.5f,%.5f,%.5f,%.5f,%.5f%n", t,
                        p[2] + gauss(rng, ACCEL_NOISE), -p[3] + gauss(rng, ACCEL_NOISE), GRAVITY + gauss(rng, ACCEL_NOISE),
                        gauss(rng, GYRO_NOISE), gauss(rng, GYRO_NOISE), p[4] + gauss(rng, GYRO_NOISE)));
            }
            return sb.toString();
        }

        /** Box-Muller from the sample's own generator (java.util.Random's nextGaussian is not on SplittableRandom in 17). */
        private static double gauss(SplittableRandom rng, double sigma) {
            double u = 1.0 - rng.nextDouble();
            return sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.nextDouble());
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
