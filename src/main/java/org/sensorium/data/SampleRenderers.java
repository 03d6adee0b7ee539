package org.sensorium.data;

import static org.sensorium.data.SampleSetGenerator.AUDIO_RATE;
import static org.sensorium.data.SampleSetGenerator.FPS;
import static org.sensorium.data.SampleSetGenerator.IMU_RATE;
import static org.sensorium.data.SampleSetGenerator.SECONDS;
import static org.sensorium.data.SampleSetGenerator.SIZE;
import static org.sensorium.data.SampleSetGenerator.partAt;
import static org.sensorium.data.SampleSetGenerator.seconds;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.bytedeco.ffmpeg.global.avcodec;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacv.FFmpegFrameRecorder;
import org.bytedeco.javacv.Frame;
import org.sensorium.data.SampleSetGenerator.Part;
import org.sensorium.data.SampleSetGenerator.Sample;
import org.sensorium.data.SampleSetGenerator.Trajectory;

/**
 * The sample set's four renderers, each a function of the plan only (a sample or the parts of a long
 * recording, and for the noisy ones a generator the caller seeds), so a file is the same on any thread:
 * video frames encoded with the audio track ({@link Video}), the audio ({@link Tone}), the subtitles
 * ({@link #srt}) and the IMU CSV ({@link Imu}).
 * Positions and accelerations all come from {@link Trajectory}, so the modalities agree.
 */
final class SampleRenderers {
    private SampleRenderers() {}

    /** One cue per part, in order. */
    static String srt(List<String> cues, List<Part> parts) {
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

    /** Frames drawn into RGB24 bytes and encoded with the audio track. */
    static final class Video {
        private static final int GREY = 128;
        private static final int SUPER = 4; // SUPER x SUPER sub-pixel samples for smooth edges

        private Video() {}

        static void write(Path file, List<Part> parts, float[] audio) throws IOException {
            write(file, parts, null, audio);
        }

        /** The same drawn over a static scene (null: the plain grey field). */
        static void write(Path file, List<Part> parts, SampleScenes.Scene scene, float[] audio) throws IOException {
            int frames = (int) Math.round(seconds(parts) * FPS);
            int perFrame = AUDIO_RATE / FPS;
            try (FFmpegFrameRecorder rec = new FFmpegFrameRecorder(file.toFile(), SIZE, SIZE, audio == null ? 0 : 1)) {
                configure(rec, audio != null);
                rec.start();
                ByteBuffer rgb = ByteBuffer.allocateDirect(SIZE * SIZE * 3);
                for (int i = 0; i < frames; i++) {
                    Part p = partAt(parts, i / (double) FPS);
                    draw(p.s(), i / (double) FPS - p.from(), p.seconds(), scene, rgb);
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
            draw(s, t, seconds, null, rgb);
        }

        /**
         * The same over a static scene (null: grey): pixel (x, y) is the scene's pixel mixed towards the shape's colour
         * by the share c of the pixel the shape covers, round(bg + (colour - bg) * c) per channel.
         */
        static void draw(Sample s, double t, double seconds, SampleScenes.Scene scene, ByteBuffer rgb) {
            double[] p = Trajectory.at(s, t, seconds);
            double cx = p[0] * SIZE;
            double cy = p[1] * SIZE;
            double half = (s.circle() ? 0.1 : 0.09) * SIZE;
            rgb.clear();
            for (int y = 0; y < SIZE; y++) {
                for (int x = 0; x < SIZE; x++) {
                    double c = coverage(s.circle(), x - cx, y - cy, half);
                    int r = scene == null ? GREY : scene.r(x, y), g = scene == null ? GREY : scene.g(x, y);
                    int b = scene == null ? GREY : scene.b(x, y);
                    rgb.put(mix(r, s.colour().r, c)).put(mix(g, s.colour().g, c)).put(mix(b, s.colour().b, c));
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
        private static final double GRAVITY = 9.81;
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
}
