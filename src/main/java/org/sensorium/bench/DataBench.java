package org.sensorium.bench;

import org.sensorium.modality.Recording;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.bytedeco.javacv.Frame;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigLoader;
import org.sensorium.modality.BadInputException;
import org.sensorium.data.Loader;
import org.sensorium.data.ManifestEntry;
import org.sensorium.config.Modality;
import org.sensorium.modality.audio.AudioAdapter;
import org.sensorium.modality.imu.ImuAdapter;
import org.sensorium.modality.video.CompressedVideo;
import org.sensorium.job.Pretrain;

/**
 * The data-path benchmarks, each a ratio measured in one run: video decoding against the
 * FFmpeg command line on the same file, motion-vector fields against plain decoding of the same clip,
 * log-mel and IMU windows against real time, and the share of a training step spent waiting for data.
 */
public final class DataBench {
    private static final int REPEATS = 3;

    static {
        avutil.av_log_set_level(avutil.AV_LOG_FATAL); // JavaCV's grabber otherwise prints FFmpeg's chatter
    }

    private static final int WARMUP_STEPS = 5;

    /** Cells per side of the benchmarked motion field (pooling costs little next to decoding at any size). */
    private static final int MOTION_GRID = 8;

    private final Path shared;
    private final double seconds;
    private final Path work;

    /**
     * @param shared the shared data folder (../shared/data)
     * @param seconds minimum measuring time of each timed loop (log-mel, IMU)
     * @param work a scratch folder (the IMU CSV, the training run)
     */
    public DataBench(Path shared, double seconds, Path work) {
        this.shared = shared;
        this.seconds = seconds;
        this.work = work;
    }

    /** Runs every benchmark; sets are --set overrides for the config (clip length, specs, training). */
    public List<BenchTable.Row> run(List<String> sets) throws Exception {
        Config cfg = ConfigLoader.load(null, sets).config();
        List<BenchTable.Row> rows = new ArrayList<>(video(shared.resolve("video/box.mp4")));
        rows.add(motionVectors(cfg, shared.resolve("video/box.mp4")));
        rows.add(compressedRate(shared.resolve("video/box.mp4")));
        rows.add(logMel(cfg, shared.resolve("audio/lena_singing.wav")));
        rows.add(imu(cfg));
        rows.add(loaderWait(sets));
        rows.add(new ShardBench(cfg, work).throughput(LOADER_BATCHES));
        return rows;
    }

    /** Batches each loader round of the shards-vs-loose benchmark decodes. */
    private static final int LOADER_BATCHES = 12;

    /** The loader benchmarks only: shards against loose files, and the wait per training step. */
    public List<BenchTable.Row> runLoader(List<String> sets) throws Exception {
        Config cfg = ConfigLoader.load(null, sets).config();
        return List.of(new ShardBench(cfg, work).throughput(LOADER_BATCHES));
    }

    /** Streams a shard index once through the loader and reports resident memory (see {@link ShardBench#streamMemory}). */
    public List<BenchTable.Row> runStream(List<String> sets, Path index) throws Exception {
        Config cfg = ConfigLoader.load(null, sets).config();
        return List.of(new ShardBench(cfg, work).streamMemory(index));
    }

    // ---- video: ours vs the FFmpeg command line, one thread each ----

    List<BenchTable.Row> video(Path file) throws Exception {
        long frames = 0;
        double ours = Double.POSITIVE_INFINITY;
        double oursRgb = Double.POSITIVE_INFINITY;
        double cli = Double.POSITIVE_INFINITY;
        double cliRgb = Double.POSITIVE_INFINITY;
        String ffmpeg = org.bytedeco.javacpp.Loader.load(org.bytedeco.ffmpeg.ffmpeg.class);
        for (int i = 0; i < REPEATS; i++) { // interleaved, so background load hits all four alike
            long t0 = System.nanoTime();
            frames = CompressedVideo.decodeFrames(file, 0, Double.POSITIVE_INFINITY, false);
            ours = Math.min(ours, (System.nanoTime() - t0) / 1e9);
            t0 = System.nanoTime();
            CompressedVideo.decodeFrames(file, 0, Double.POSITIVE_INFINITY, true);
            oursRgb = Math.min(oursRgb, (System.nanoTime() - t0) / 1e9);
            cli = Math.min(cli, runFfmpeg(ffmpeg, file, false));
            cliRgb = Math.min(cliRgb, runFfmpeg(ffmpeg, file, true));
        }
        String name = file.getFileName().toString();
        return List.of(videoRow("video " + name + " vs ffmpeg", frames, ours, cli, "ffmpeg -threads 1 -f null", 0.8),
                videoRow("video " + name + " rgb24 vs ffmpeg rgb24", frames, oursRgb, cliRgb,
                        "ffmpeg -threads 1 -pix_fmt rgb24 -f null (ours also copies each image into a Java array)", Double.NaN));
    }

    private static BenchTable.Row videoRow(String name, long frames, double ours, double peer, String peerName, double target) {
        String detail = String.format(Locale.ROOT, "%d frames, best of %d: ours %.1f frames/s, %s %.1f frames/s",
                frames, REPEATS, frames / ours, peerName, frames / peer);
        return new BenchTable.Row(name, peer / ours, false, target, false, detail);
    }

    /** Seconds the FFmpeg command line takes to decode the file's video on one thread (process start included). */
    private double runFfmpeg(String ffmpeg, Path file, boolean rgb) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(ffmpeg, "-nostdin", "-v", "error", "-threads", "1", "-i", file.toString(), "-an"));
        if (rgb) {
            cmd.addAll(List.of("-pix_fmt", "rgb24"));
        }
        cmd.addAll(List.of("-f", "null", "-"));
        Path log = work.resolve("ffmpeg.log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("LD_LIBRARY_PATH", libraryPath(Path.of(ffmpeg).getParent()));
        long t0 = System.nanoTime();
        Process p = pb.start();
        boolean done = p.waitFor(10, TimeUnit.MINUTES);
        double elapsed = (System.nanoTime() - t0) / 1e9;
        if (!done || p.exitValue() != 0) {
            p.destroyForcibly();
            List<String> out = Files.readAllLines(log);
            throw new IOException(file + ": the ffmpeg command line failed: " + (out.isEmpty() ? "exit " + p.exitValue() : out.get(0)));
        }
        return elapsed;
    }

    /**
     * The bundled executable's library folder, after a folder of links for the VA-API libraries that
     * JavaCPP ships without their versioned file name (the JVM loads them by path; the executable by soname).
     */
    private String libraryPath(Path ffmpegDir) throws IOException {
        Path links = Files.createDirectories(work.resolve("ffmpeg-libs"));
        for (String lib : List.of("libva", "libva-drm", "libdrm")) {
            Path bundled = ffmpegDir.resolve(lib + ".so");
            Path link = links.resolve(lib + ".so.2");
            if (Files.isRegularFile(bundled) && !Files.exists(ffmpegDir.resolve(lib + ".so.2")) && !Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                Files.createSymbolicLink(link, bundled);
            }
        }
        return links + java.io.File.pathSeparator + ffmpegDir;
    }

    /**
     * Frames per second of the compressed-domain pass over a whole file, one thread: motion() sampling every frame
     * (vectors exported and pooled on the 8 x 8 grid) plus keyframes() (key packets only, scaled and cut to 112 x 112),
     * over the file's frame count; as a ratio to a floor of 1,000 frames/s (what a loader must sustain to keep a step fed).
     */
    BenchTable.Row compressedRate(Path file) throws BadInputException {
        long frames = CompressedVideo.decodeFrames(file, 0, Double.POSITIVE_INFINITY, false);
        double rate = CompressedVideo.frameRate(file); // sampling at the source's rate takes every frame
        double best = Double.POSITIVE_INFINITY;
        int keys = 0;
        for (int i = 0; i < REPEATS; i++) {
            long t0 = System.nanoTime();
            CompressedVideo.motion(file, 0, Double.POSITIVE_INFINITY, (int) frames, rate, MOTION_GRID, MOTION_GRID);
            keys = CompressedVideo.keyframes(file, 0, Double.POSITIVE_INFINITY, Integer.MAX_VALUE, 112, 112).size();
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        }
        String detail = String.format(Locale.ROOT, "%s: %d frames with motion vectors (%dx%d grid) + %d key frames in %.1f ms, best of %d: %.0f frames/s",
                file.getFileName(), frames, MOTION_GRID, MOTION_GRID, keys, best * 1e3, REPEATS, frames / best);
        return new BenchTable.Row("keyframes + MVs vs 1000 frames/s", frames / best / 1000, false, 1.0, false, detail);
    }

    // ---- motion vectors: exporting and pooling them, against decoding the same clip without them ----

    /**
     * Seconds of CompressedVideo.motion over seconds of CompressedVideo.decodeFrames for the first clip of the
     * file (data.clip_seconds at modalities.video.fps), one thread each, interleaved, best of each.
     */
    BenchTable.Row motionVectors(Config cfg, Path file) throws BadInputException {
        double clip = cfg.data().clipSeconds();
        double fps = cfg.modalities().video().fps();
        int count = cfg.modalities().video().frames(clip);
        double lastTarget = (count - 1) / fps; // motion() decodes up to the frame serving it; so does decodeFrames
        int frames = CompressedVideo.decodeFrames(file, 0, lastTarget, false);
        double motion = Double.POSITIVE_INFINITY;
        double plain = Double.POSITIVE_INFINITY;
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        int runs = 0;
        for (; runs < REPEATS || System.nanoTime() < deadline; runs++) {
            long t0 = System.nanoTime();
            CompressedVideo.motion(file, 0, clip, count, fps, MOTION_GRID, MOTION_GRID);
            long t1 = System.nanoTime();
            CompressedVideo.decodeFrames(file, 0, lastTarget, false);
            long t2 = System.nanoTime();
            motion = Math.min(motion, (t1 - t0) / 1e9);
            plain = Math.min(plain, (t2 - t1) / 1e9);
        }
        String detail = String.format(Locale.ROOT,
                "time of motion() / plain decode, %s %.1f s clip (%d frames decoded, %d sampled, %dx%d grid), best of %d: %.1f ms / %.1f ms",
                file.getFileName(), clip, frames, count, MOTION_GRID, MOTION_GRID, runs, motion * 1e3, plain * 1e3);
        return new BenchTable.Row("motion vectors vs plain decode", motion / plain, false, Double.NaN, false, detail);
    }

    // ---- log-mel: real-time factor on 60 s of audio ----

    BenchTable.Row logMel(Config cfg, Path wav) throws Exception {
        AudioAdapter adapter = new AudioAdapter(cfg.modalities().audio(), cfg.data().clipSeconds());
        int rate = cfg.modalities().audio().sampleRate();
        float[] wave = tile(decodeMono(wav, rate), 60 * rate);
        int frames = cfg.modalities().audio().frames(60);
        double best = Double.POSITIVE_INFINITY;
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        for (int i = 0; i < REPEATS || System.nanoTime() < deadline; i++) {
            long t0 = System.nanoTime();
            adapter.logMel(wave, frames);
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        }
        String detail = String.format(Locale.ROOT, "60 s of %s (tiled) at %d Hz, %d frames x %d mel, best %.1f ms",
                wav.getFileName(), rate, frames, cfg.modalities().audio().melBins(), best * 1e3);
        return new BenchTable.Row("log-mel real-time factor", 60 / best, false, 1000, false, detail);
    }

    private static float[] decodeMono(Path file, int rate) throws Exception {
        try (FFmpegFrameGrabber g = new FFmpegFrameGrabber(file.toFile())) {
            g.setSampleRate(rate);
            g.setAudioChannels(1);
            g.setSampleFormat(avutil.AV_SAMPLE_FMT_FLT);
            g.start();
            List<float[]> blocks = new ArrayList<>();
            int total = 0;
            for (Frame f; (f = g.grabSamples()) != null; ) {
                if (f.samples != null) {
                    FloatBuffer b = (FloatBuffer) f.samples[0];
                    float[] block = new float[b.remaining()];
                    b.get(b.position(), block);
                    blocks.add(block);
                    total += block.length;
                }
            }
            return concat(blocks, total);
        }
    }

    private static float[] concat(List<float[]> blocks, int total) {
        float[] out = new float[total];
        int pos = 0;
        for (float[] b : blocks) {
            System.arraycopy(b, 0, out, pos, b.length);
            pos += b.length;
        }
        return out;
    }

    /** The wave repeated until it is n samples long. */
    static float[] tile(float[] wave, int n) {
        if (wave.length == 0) {
            throw new IllegalArgumentException("cannot tile an empty wave");
        }
        float[] out = new float[n];
        for (int pos = 0; pos < n; pos += wave.length) {
            System.arraycopy(wave, 0, out, pos, Math.min(wave.length, n - pos));
        }
        return out;
    }

    // ---- IMU: windows per second from a 10-minute CSV ----

    BenchTable.Row imu(Config cfg) throws IOException, BadInputException {
        double length = 600;
        Path csv = writeImuCsv(work.resolve("imu-bench.csv"), length, 100.0);
        ManifestEntry e = new ManifestEntry("imu-bench", "train", null,
                Map.of(Modality.IMU, new Recording.Source(csv, 0, length)), List.of(), work.resolve("bench.jsonl"), 1);
        double clip = cfg.data().clipSeconds();
        ImuAdapter adapter = new ImuAdapter(cfg.modalities().imu(), clip);
        long calls = 0;
        long t0 = System.nanoTime();
        long deadline = t0 + (long) (seconds * 1e9);
        do {
            adapter.load(e.recording(), Loader.clip(e, calls, true, clip));
            calls++;
        } while (System.nanoTime() < deadline || calls < REPEATS);
        double perSecond = calls / ((System.nanoTime() - t0) / 1e9);
        String detail = String.format(Locale.ROOT, "%.1f load() calls/s of %.1f s windows from a %.0f s CSV at 100 Hz, 6 channels",
                perSecond, clip, length);
        return new BenchTable.Row("IMU windows real-time factor", perSecond * clip, false, Double.NaN, false, detail);
    }

    /** A CSV t,ax,ay,az,gx,gy,gz of smooth random motion, rateHz rows per second. */
    static Path writeImuCsv(Path file, double lengthSeconds, double rateHz) throws IOException {
        SplittableRandom r = new SplittableRandom(3);
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            w.write("t,ax,ay,az,gx,gy,gz\n");
            int n = (int) Math.round(lengthSeconds * rateHz);
            for (int i = 0; i < n; i++) {
                double t = i / rateHz;
                w.write(String.format(Locale.ROOT, "%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f%n", t, Math.sin(t), Math.cos(t),
                        9.81 + r.nextGaussian() * 0.1, r.nextGaussian() * 0.2, r.nextGaussian() * 0.2, Math.sin(2 * t)));
            }
        }
        return file;
    }

    // ---- loader: share of each training step spent waiting for data ----

    BenchTable.Row loaderWait(List<String> sets) throws IOException, InterruptedException {
        int steps = 30;
        List<String> all = new ArrayList<>(List.of("train.steps=" + steps, "eval.at_end=false", "train.progress=false",
                "train.checkpoint_every=0", "run.dir=" + work.resolve("runs"), "run.name=bench-data"));
        all.addAll(sets);
        Pretrain.Summary s = Pretrain.start(ConfigLoader.load(null, all));
        List<String> lines = Files.readAllLines(s.runDir().resolve("metrics.jsonl"));
        double fraction = BenchTable.waitFraction(lines, WARMUP_STEPS);
        String detail = String.format(Locale.ROOT, "sum(data_wait_s)/sum(step_s), steps %d..%d of pretrain on the sample set, tiny model",
                WARMUP_STEPS + 1, lines.size());
        return new BenchTable.Row("loader wait per training step", fraction, true, 0.10, true, detail);
    }
}
