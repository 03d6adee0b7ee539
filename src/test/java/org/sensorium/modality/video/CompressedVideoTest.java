package org.sensorium.modality.video;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.bytedeco.ffmpeg.avcodec.AVPacket;
import org.bytedeco.ffmpeg.avformat.AVFormatContext;
import org.bytedeco.ffmpeg.avutil.AVMotionVector;
import org.bytedeco.ffmpeg.global.avcodec;
import org.bytedeco.ffmpeg.global.avformat;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.PointerPointer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.modality.BadInputException;
import org.sensorium.modality.Clip;
import org.sensorium.data.Manifest;
import org.sensorium.data.ManifestEntry;
import org.sensorium.data.SampleSetGenerator;
import org.sensorium.modality.Fixtures;
import org.sensorium.config.Modality;

class CompressedVideoTest {
    private static final double INF = Double.POSITIVE_INFINITY;

    @TempDir static Path dir;
    static List<ManifestEntry> samples; // labels left, right, up, down, clockwise, counterclockwise, shake, bounce

    @BeforeAll
    static void generate() throws IOException {
        samples = Manifest.read(SampleSetGenerator.generate(dir.resolve("set"), 8, 7));
    }

    private static Path video(ManifestEntry e) {
        return e.sources().get(Modality.VIDEO).path();
    }

    private static ManifestEntry sample(String label) {
        return samples.stream().filter(e -> e.label().equals(label)).findFirst().orElseThrow();
    }

    // ---- the record layout ----

    @Test
    void motionVectorRecordLayoutIsThePresetsOne() {
        // C layout of AVMotionVector: int32 at 0, two uint8 at 4 and 5, four int16 at 6..13, uint64 aligned to 16,
        // two int32 at 24 and 28, uint16 at 32; 34 bytes padded to a multiple of 8 (the uint64) = 40.
        assertArrayEquals(new int[] {40, 0, 4, 5, 10, 12, 24, 28, 32},
                new int[] {MotionVectors.MV_BYTES, MotionVectors.MV_SOURCE, MotionVectors.MV_W, MotionVectors.MV_H,
                        MotionVectors.MV_DST_X, MotionVectors.MV_DST_Y, MotionVectors.MV_MOTION_X,
                        MotionVectors.MV_MOTION_Y, MotionVectors.MV_MOTION_SCALE});
        Loader.load(avutil.class);
        assertEquals(MotionVectors.MV_BYTES, Loader.sizeof(AVMotionVector.class));
        assertEquals(MotionVectors.MV_SOURCE, Loader.offsetof(AVMotionVector.class, "source"));
        assertEquals(MotionVectors.MV_W, Loader.offsetof(AVMotionVector.class, "w"));
        assertEquals(MotionVectors.MV_H, Loader.offsetof(AVMotionVector.class, "h"));
        assertEquals(MotionVectors.MV_DST_X, Loader.offsetof(AVMotionVector.class, "dst_x"));
        assertEquals(MotionVectors.MV_DST_Y, Loader.offsetof(AVMotionVector.class, "dst_y"));
        assertEquals(MotionVectors.MV_MOTION_X, Loader.offsetof(AVMotionVector.class, "motion_x"));
        assertEquals(MotionVectors.MV_MOTION_Y, Loader.offsetof(AVMotionVector.class, "motion_y"));
        assertEquals(MotionVectors.MV_MOTION_SCALE, Loader.offsetof(AVMotionVector.class, "motion_scale"));
    }

    // ---- the generated sample set: 64x64, 8 fps, 2 s, H.264 (libopenh264), key frame every 8 frames ----

    @Test
    void sampleSetFieldsPointWhereTheLabelSays() throws BadInputException {
        // (dx, dy) of each label: x right, y down
        String[] labels = {"right", "left", "up", "down"};
        int[][] directions = {{1, 0}, {-1, 0}, {0, -1}, {0, 1}};
        for (int l = 0; l < labels.length; l++) {
            CompressedVideo.MotionField m = CompressedVideo.motion(video(sample(labels[l])), 0, INF, 16, 8.0, 4, 4);
            assertArrayEquals(new long[] {16, 4, 4, 2}, m.shape());
            double[] mean = new double[2];
            for (int i = 0; i < m.field().length; i++) {
                mean[i % 2] += m.field()[i] / (m.field().length / 2.0);
            }
            int axis = directions[l][0] != 0 ? 0 : 1;
            double along = mean[axis] * (directions[l][axis]);
            assertTrue(along > 0, labels[l] + ": mean field " + mean[0] + ", " + mean[1]);
            assertTrue(Math.abs(mean[1 - axis]) < 0.1 * along, labels[l] + ": mean field " + mean[0] + ", " + mean[1]);
        }
    }

    @Test
    void fastestCellMovesAsFastAsTheShape() throws BadInputException {
        // SampleSetGenerator.Trajectory: a linear move covers A = 0.25 frame widths (0.5 when "quickly") as
        // x(t) = x0 + A (1 - cos(pi t / 2)) / 2 over the 2 s clip, so between frames n-1 and n (t = n / 8 s) the
        // shape moves A/2 (cos(pi (n-1) / 16) - cos(pi n / 16)) widths, e.g. 0.0469 for n = 7 and A = 0.5: 3 pixels
        // of 64. H.264 vectors are quarter-pixel; allow half a pixel.
        ManifestEntry right = sample("right");
        double a = right.captions().get(0).contains("quickly") ? 0.5 : 0.25;
        CompressedVideo.MotionField m = CompressedVideo.motion(video(right), 0, INF, 16, 8.0, 4, 4);
        for (int n = 0; n < 16; n++) {
            assertEquals(n / 8.0, m.times()[n], 1e-9);
            boolean keyFrame = n % 8 == 0; // the generator's GOP is 8 frames
            assertEquals(keyFrame, m.key()[n], "frame " + n);
            assertEquals(keyFrame, m.intra()[n], "frame " + n);
            assertEquals(keyFrame ? 'I' : 'P', m.pictureTypes()[n], "frame " + n);
            double fastest = keyFrame ? 0 : Double.NEGATIVE_INFINITY;
            for (int gy = 0; gy < 4; gy++) {
                for (int gx = 0; gx < 4; gx++) {
                    fastest = Math.max(fastest, m.at(n, gy, gx, 0));
                }
            }
            double expected = keyFrame ? 0 : a / 2 * (Math.cos(Math.PI * (n - 1) / 16) - Math.cos(Math.PI * n / 16));
            assertEquals(expected, fastest, 0.5 / 64, "frame " + n + " (" + a + " widths in 2 s)");
        }
    }

    // ---- the shared recordings ----

    @Test
    void realRecordingsGiveFiniteFieldsOfTheAskedShape() throws BadInputException {
        Object[][] cases = {
                {"video/box.mp4", 3.0, 29.97},   // H.264 High with B-frames (IBBBP, B-pyramid)
                {"video/cup.mp4", 1.0, 26.777},  // H.264 High, IPPP, key frame every 30 frames
                {"video/vtest.avi", 10.0, 10.0}, // MS-MPEG4v3, IPPP
        };
        for (Object[] c : cases) {
            Path file = Fixtures.shared((String) c[0]);
            double t0 = (double) c[1];
            CompressedVideo.MotionField m = CompressedVideo.motion(file, t0, INF, 12, (double) c[2], 3, 5);
            assertArrayEquals(new long[] {12, 3, 5, 2}, m.shape(), file.toString());
            assertEquals(12 * 3 * 5 * 2, m.field().length);
            boolean moving = false;
            for (float v : m.field()) {
                assertTrue(Float.isFinite(v) && Math.abs(v) < 1, file + ": " + v);
                moving |= v != 0;
            }
            assertTrue(moving, file + " has no motion at all");
            for (int t = 0; t < 12; t++) {
                assertTrue("IPB".indexOf(m.pictureTypes()[t]) >= 0, file + ": type " + m.pictureTypes()[t]);
                assertTrue(Math.abs(m.times()[t] - (t0 + t / (double) c[2])) < 1 / (double) c[2], file + " frame " + t);
                assertTrue(t == 0 || m.times()[t] > m.times()[t - 1], file + " frame " + t);
            }
        }
    }

    @Test
    void bFramesAndTheirFourFramesAwayPFramesGetTheSameScale() throws BadInputException {
        // box.mp4 is coded IBBBP as a B-pyramid: each P-frame predicts from the P-frame 4 frames back, the B-frames
        // from 1 or 2 frames away. FFmpeg's source is only -1/+1, so the raw vectors of P-frames are ~4x those of
        // B-frames (RMS 4.9 px against 0.9 to 2.0 px over the file); per frame interval the two must agree.
        CompressedVideo.MotionField m = CompressedVideo.motion(Fixtures.shared("video/box.mp4"), 9.0, INF, 60, 29.97, 4, 4);
        double[] sum = new double[2];
        int[] n = new int[2];
        for (int t = 0; t < 60; t++) {
            char type = m.pictureTypes()[t];
            if (type == 'P' || type == 'B') {
                int k = type == 'P' ? 0 : 1;
                sum[k] += rms(m, t);
                n[k]++;
            }
        }
        assertTrue(n[0] >= 10 && n[1] >= 30, "P " + n[0] + ", B " + n[1]);
        double ratio = (sum[0] / n[0]) / (sum[1] / n[1]);
        assertTrue(ratio > 0.67 && ratio < 1.5, "RMS of P-frames over B-frames " + ratio);
    }

    private static double rms(CompressedVideo.MotionField m, int t) {
        double s = 0;
        int per = m.gridH() * m.gridW() * 2;
        for (int i = t * per; i < (t + 1) * per; i++) {
            s += m.field()[i] * m.field()[i];
        }
        return Math.sqrt(s / per);
    }

    // ---- key frames ----

    @Test
    void keyframesAreTheKeyPacketsOfTheWindow() throws Exception {
        // box.mp4 has 456 frames with a GOP of 250: key packets 0 and 250, at pts 0 and 8 343 000 (time base 1/1e6).
        Path box = Fixtures.shared("video/box.mp4");
        List<CompressedVideo.Keyframe> all = CompressedVideo.keyframes(box, 0, INF, 10, 24, 32);
        assertArrayEquals(new double[] {0.0, 8.343}, times(all), 1e-9);
        assertArrayEquals(keyPacketTimes(box), times(all), 1e-9);
        for (CompressedVideo.Keyframe k : all) {
            assertEquals(24 * 32 * 3, k.rgb().length);
        }
        assertTrue(CompressedVideo.keyframes(box, 1.0, 8.0, 10, 24, 32).isEmpty());

        // cup.mp4: time base 1/26777, pts 1000 per frame, a key frame every 30 frames
        Path cup = Fixtures.shared("video/cup.mp4");
        assertArrayEquals(new double[] {0, 30000 / 26777.0, 60000 / 26777.0}, times(CompressedVideo.keyframes(cup, 0, 3.0, 10, 24, 32)), 1e-9);
        assertArrayEquals(new double[] {60000 / 26777.0, 90000 / 26777.0}, times(CompressedVideo.keyframes(cup, 2.0, INF, 2, 24, 32)), 1e-9);
        assertArrayEquals(keyPacketTimes(cup), times(CompressedVideo.keyframes(cup, 0, INF, 100, 24, 32)), 1e-9);
        // vtest.avi: 10 fps, key frames every 250 frames
        assertArrayEquals(new double[] {25.0, 50.0}, times(CompressedVideo.keyframes(Fixtures.shared("video/vtest.avi"), 20, 60, 9, 24, 32)), 1e-9);
    }

    @Test
    void keyframeImageIsTheEvaluationClipsFirstFrame() throws BadInputException {
        // Fixtures.VIDEO is 32x32 with mean 0.45 and std 0.225 per channel; the clip at 0 starts on the key frame.
        Path box = Fixtures.shared("video/box.mp4");
        byte[] key = CompressedVideo.keyframes(box, 0, 1, 1, 32, 32).get(0).rgb();
        float[] clip = new VideoAdapter(Fixtures.VIDEO, 2.0).load(Fixtures.entry(Modality.VIDEO, box).recording(), new Clip(0, 2.0, false, 1)).values();
        for (int i = 0; i < key.length; i++) {
            double fromClip = (clip[i] * 0.225 + 0.45) * 255;
            assertEquals(fromClip, key[i] & 0xFF, 1.01, "byte " + i);
        }
    }

    @Test
    void motionFlagsTheKeyFrameThatKeyframesFinds() throws BadInputException {
        // box.mp4 stores pts = dts although it has B-frames, so in a full decode FFmpeg's best-effort timestamps
        // (JavaCV's too) run two frames late after the first frame: the key frame at packet pts 8.343 s is timed
        // 8.410 s. A key-frame-only decode times it at 8.343 s. Both flag the same frame.
        CompressedVideo.MotionField m = CompressedVideo.motion(Fixtures.shared("video/box.mp4"), 8.25, INF, 8, 29.97, 2, 2);
        int keys = 0;
        for (int t = 0; t < 8; t++) {
            if (m.key()[t]) {
                keys++;
                assertEquals('I', m.pictureTypes()[t]);
                assertTrue(m.intra()[t]);
                assertEquals(8.343 + 2 / 29.97, m.times()[t], 0.002);
                for (int c = 0; c < 8; c++) {
                    assertEquals(0f, m.field()[t * 8 + c]);
                }
            }
        }
        assertEquals(1, keys);
    }

    private static double[] times(List<CompressedVideo.Keyframe> keys) {
        return keys.stream().mapToDouble(CompressedVideo.Keyframe::time).toArray();
    }

    /** Seconds of the video packets flagged key, read with the demuxer alone (what ffprobe -show_packets lists). */
    private static double[] keyPacketTimes(Path file) throws IOException {
        AVFormatContext fmt = new AVFormatContext(null);
        AVPacket pkt = avcodec.av_packet_alloc();
        try {
            if (avformat.avformat_open_input(fmt, file.toString(), null, null) < 0
                    || avformat.avformat_find_stream_info(fmt, (PointerPointer<?>) null) < 0) {
                throw new IOException("cannot open " + file);
            }
            int stream = avformat.av_find_best_stream(fmt, avutil.AVMEDIA_TYPE_VIDEO, -1, -1, (PointerPointer<?>) null, 0);
            double timeBase = avutil.av_q2d(fmt.streams(stream).time_base());
            List<Double> out = new ArrayList<>();
            while (avformat.av_read_frame(fmt, pkt) >= 0) {
                if (pkt.stream_index() == stream && (pkt.flags() & avcodec.AV_PKT_FLAG_KEY) != 0) {
                    out.add(pkt.pts() * timeBase);
                }
                avcodec.av_packet_unref(pkt);
            }
            return out.stream().mapToDouble(Double::doubleValue).toArray();
        } finally {
            avcodec.av_packet_free(pkt);
            if (!fmt.isNull()) {
                avformat.avformat_close_input(fmt);
            }
        }
    }

    // ---- bad input ----

    @Test
    void emptyGarbageMissingAndSilentFilesAreBadInput() throws IOException {
        Path empty = Files.createFile(dir.resolve("empty.mp4"));
        byte[] noise = new byte[4096];
        new Random(3).nextBytes(noise);
        Path garbage = Files.write(dir.resolve("garbage.mp4"), noise);
        Path missing = dir.resolve("missing.mp4");
        Path audioOnly = Fixtures.shared("audio/lena_singing.wav");
        Object[][] cases = {
                {empty, "empty file (0 bytes)"},
                {garbage, "cannot decode: avformat_open_input: Invalid data found when processing input"},
                {missing, "no such file"},
                {audioOnly, "no video track"},
        };
        for (Object[] c : cases) {
            Path file = (Path) c[0];
            String expected = file + ": " + c[1];
            BadInputException e = assertThrows(BadInputException.class, () -> CompressedVideo.motion(file, 0, INF, 4, 8, 2, 2));
            assertEquals(expected, e.getMessage());
            e = assertThrows(BadInputException.class, () -> CompressedVideo.keyframes(file, 0, INF, 4, 8, 8));
            assertEquals(expected, e.getMessage());
            e = assertThrows(BadInputException.class, () -> CompressedVideo.decodeFrames(file, 0, INF, false));
            assertEquals(expected, e.getMessage());
        }
    }

    // ---- threads and native memory ----

    @Test
    void severalThreadsGetTheSameFieldsAsOne() throws Exception {
        List<Path> files = new ArrayList<>();
        samples.forEach(e -> files.add(video(e)));
        files.add(Fixtures.shared("video/box.mp4"));
        files.add(Fixtures.shared("video/vtest.avi"));
        List<float[]> sequential = new ArrayList<>();
        for (Path f : files) {
            sequential.add(CompressedVideo.motion(f, 0.5, INF, 8, 4.0, 4, 4).field());
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<float[]>> parallel = new ArrayList<>();
            for (int round = 0; round < 3; round++) {
                for (Path f : files) {
                    parallel.add(pool.submit(() -> CompressedVideo.motion(f, 0.5, INF, 8, 4.0, 4, 4).field()));
                }
            }
            for (int i = 0; i < parallel.size(); i++) {
                assertArrayEquals(sequential.get(i % files.size()), parallel.get(i).get(), files.get(i % files.size()).toString());
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void thousandCallsLeaveNoNativeMemoryBehind() throws Exception {
        // In a child JVM whose heap is fixed and touched up front, so that RSS moves only with native memory.
        // A forgotten avcodec_free_context costs about 1.4 MB a call here, a forgotten AVFrame 10 to 20 kB.
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "-Xms64m", "-Xmx64m", "-XX:+AlwaysPreTouch", "-XX:+UseSerialGC",
                "-cp", classPath, LeakLoop.class.getName(), video(sample("right")).toString(), dir.resolve("noise.mp4").toString())
                .redirectErrorStream(true).start();
        if (!p.waitFor(3, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("the leak loop did not finish in 3 minutes");
        }
        String out = new String(p.getInputStream().readAllBytes()).trim();
        assertEquals(0, p.exitValue(), out);
        String[] last = out.lines().reduce((x, y) -> y).orElseThrow().split(" ");
        long growthKb = Long.parseLong(last[last.length - 1]);
        assertTrue(growthKb < 8 * 1024, out);
    }

    /** motion + keyframes + a failing call, 1000 times after a warm-up; prints "rss growth kB N". */
    static final class LeakLoop {
        public static void main(String[] args) throws Exception {
            Path clip = Path.of(args[0]);
            byte[] bytes = new byte[4096];
            new Random(5).nextBytes(bytes);
            Path noise = Files.write(Path.of(args[1]), bytes);
            for (int i = 0; i < 100; i++) {
                round(clip, noise);
            }
            long before = rssKb();
            for (int i = 0; i < 1000; i++) {
                round(clip, noise);
            }
            System.out.println("rss growth kB " + (rssKb() - before));
        }

        private static void round(Path clip, Path noise) throws BadInputException {
            CompressedVideo.motion(clip, 0, INF, 16, 8.0, 4, 4);
            CompressedVideo.keyframes(clip, 0, INF, 2, 32, 32);
            try {
                CompressedVideo.motion(noise, 0, INF, 4, 8.0, 2, 2);
                throw new IllegalStateException("a broken file decoded");
            } catch (BadInputException expected) {
                // the error path must free what it opened too
            }
        }

        private static long rssKb() throws IOException {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("\\D", ""));
                }
            }
            throw new IOException("no VmRSS in /proc/self/status");
        }
    }

    @Test
    void theMotionAdapterGivesTheFieldOfTheManifestsVideoAsAnInput() throws Exception {
        // a manifest line with video has motion from the same file; (T, gh, gw, 2) = (8, 8, 8, 2) for 2 s at 4 fps
        ManifestEntry right = sample("right");
        assertTrue(right.has(org.sensorium.config.Modality.MOTION));
        MotionAdapter adapter = new MotionAdapter(org.sensorium.config.ModalitySpecs.DEFAULT_MOTION, 2.0);
        org.sensorium.modality.Item item = adapter.load(right.recording(), new org.sensorium.modality.Clip(0, 2.0, false, 1));
        assertArrayEquals(new long[] {8, 8, 8, 2}, item.shape());
        double x = 0, y = 0;
        for (int i = 0; i < item.values().length; i += 2) {
            x += item.values()[i];
            y += item.values()[i + 1];
        }
        assertTrue(x > 0 && Math.abs(y) < 0.1 * x, "mean field " + x + ", " + y);
        // the same numbers as CompressedVideo's, divided by the spec's scale
        CompressedVideo.MotionField f = CompressedVideo.motion(video(right), 0, INF, 8, 4.0, 8, 8);
        assertEquals(f.field()[100] / 0.02, item.values()[100], 1e-4);
        assertNull(item.valid());
        // as a prediction target: valid marks the measured cells, none in the key frame (t = 0, 1 s: frames 0, 4)
        org.sensorium.modality.Item target = adapter.loadTarget(right.recording(), new org.sensorium.modality.Clip(0, 2.0, false, 1));
        assertArrayEquals(item.values(), target.values(), 0f);
        for (int i = 0; i < target.valid().length; i++) {
            int frame = i / 64;
            assertEquals(f.coverage()[i] > 0, target.valid()[i], "cell " + i);
            if (frame % 4 == 0) {
                assertFalse(target.valid()[i], "key frame cell " + i);
            }
        }
    }

    @Test
    void aBlockFillsEveryCellItCoversAndCoverageSaysWhatWasMeasured() throws BadInputException {
        // 64 x 64 frames of 16 x 16 macroblocks on an 8 x 8 grid of 8 x 8-pixel cells: each macroblock covers 2 x 2
        // cells exactly, so (when the encoder did not split it) the four cells hold the same vector, and every cell of
        // a P-frame is covered by some block (static background is coded as skipped blocks with a 0 vector)
        CompressedVideo.MotionField m = CompressedVideo.motion(video(sample("right")), 0, INF, 16, 8.0, 8, 8);
        int blocksFilled = 0;
        for (int t = 0; t < 16; t++) {
            double covered = 0;
            for (int c = 0; c < 64; c++) {
                covered += m.coverage()[t * 64 + c];
                assertTrue(m.coverage()[t * 64 + c] >= 0 && m.coverage()[t * 64 + c] <= 1);
            }
            if (m.intra()[t]) {
                assertEquals(0, covered, "key frame " + t);
                continue;
            }
            assertTrue(covered / 64 > 0.5, "P-frame " + t + " covered " + covered / 64);
            for (int by = 0; by < 4; by++) {
                for (int bx = 0; bx < 4; bx++) {
                    float v = m.at(t, 2 * by, 2 * bx, 0);
                    if (v != 0 && v == m.at(t, 2 * by, 2 * bx + 1, 0) && v == m.at(t, 2 * by + 1, 2 * bx, 0)
                            && v == m.at(t, 2 * by + 1, 2 * bx + 1, 0)) {
                        blocksFilled++;
                    }
                }
            }
        }
        // before, a block counted only in the cell its centre fell in: never 4 equal non-zero cells
        assertTrue(blocksFilled > 0, "no moving macroblock filled its 2 x 2 cells");
    }
}
