package org.sensorium.modality.video;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.modality.BadInputException;
import org.sensorium.modality.Clip;
import org.sensorium.modality.Item;
import org.sensorium.modality.Fixtures;
import org.sensorium.config.Modality;
import org.sensorium.config.ModalitySpec;

class VideoAdapterTest {
    private final VideoAdapter video = new VideoAdapter(Fixtures.VIDEO, 2.0);

    @Test
    void boxClipHasSpecShapeAndNormalisedValues() throws BadInputException {
        Item a = video.load(Fixtures.entry(Modality.VIDEO, Fixtures.shared("video/box.mp4")).recording(), new Clip(0, 2.0, false, 1));
        assertArrayEquals(new long[] {8, 32, 32, 3}, a.shape());
        assertArrayEquals(video.inputShape(), a.shape());
        assertNull(a.valid());
        double lo = (0 - 0.45) / 0.225 - 1e-5;
        double hi = (1 - 0.45) / 0.225 + 1e-5;
        for (float v : a.values()) {
            assertTrue(Float.isFinite(v) && v >= lo && v <= hi, "value " + v);
        }
        Item b = video.load(Fixtures.entry(Modality.VIDEO, Fixtures.shared("video/box.mp4")).recording(), new Clip(5.0, 2.0, false, 1));
        assertFalse(Arrays.equals(a.values(), b.values()), "a clip at 5 s equals the clip at 0 s");
    }

    @Test
    void trainingClipsAreAugmentedFromTheirSeedAndEvaluationClipsAreNot() throws BadInputException {
        var box = Fixtures.entry(Modality.VIDEO, Fixtures.shared("video/box.mp4"));
        float[] eval1 = video.load(box.recording(), new Clip(3.0, 2.0, false, 1)).values();
        float[] eval2 = video.load(box.recording(), new Clip(3.0, 2.0, false, 2)).values();
        assertArrayEquals(eval1, eval2);                                  // the seed does not touch evaluation
        float[] a = video.load(box.recording(), new Clip(3.0, 2.0, true, 7)).values();
        float[] b = video.load(box.recording(), new Clip(3.0, 2.0, true, 7)).values();
        float[] c = video.load(box.recording(), new Clip(3.0, 2.0, true, 8)).values();
        assertArrayEquals(a, b);                                          // same seed, same augmentation
        assertFalse(Arrays.equals(a, c));
        assertFalse(Arrays.equals(a, eval1));
    }

    @Test
    void aFlipMirrorsEveryFrameOfTheClipTogether(@TempDir Path dir) throws Exception {
        // Only a flip (no crop, no colour change) on a square video, so no crop position is left to draw:
        // a training clip is the evaluation clip or its mirror image.
        var onlyFlip = new org.sensorium.config.ModalitySpec.Video(4.0, 32, 32, 2, 8, Fixtures.VIDEO.mean(),
                Fixtures.VIDEO.std(), 1.0, true, 0.0, 0.0);
        VideoAdapter v = new VideoAdapter(onlyFlip, 2.0);
        org.sensorium.data.SampleSetGenerator.generate(dir, 1, 5);               // one 64x64 clip
        var box = Fixtures.entry(Modality.VIDEO, dir.resolve("media/s00000.mp4"));
        float[] plain = v.load(box.recording(), new Clip(0.0, 2.0, false, 0)).values();
        int flipped = 0;
        for (long seed = 0; seed < 6; seed++) {
            float[] t = v.load(box.recording(), new Clip(0.0, 2.0, true, seed)).values();
            if (Arrays.equals(t, plain)) {
                continue;
            }
            flipped++;
            for (int f = 0; f < 8; f++) {                                 // every frame mirrored, none left as is
                for (int y = 0; y < 32; y++) {
                    for (int x = 0; x < 32; x++) {
                        for (int ch = 0; ch < 3; ch++) {
                            int at = ((f * 32 + y) * 32 + x) * 3 + ch, mirrored = ((f * 32 + y) * 32 + (31 - x)) * 3 + ch;
                            assertTrue(t[at] == plain[mirrored], "seed " + seed + " frame " + f);
                        }
                    }
                }
            }
        }
        assertTrue(flipped > 0 && flipped < 6, flipped + " of 6 seeds flipped");
    }

    @Test
    void clipFramesMatchJavaCvsGrabberAtTheNearestTimestamps() throws Exception {
        // an independent decode of the same file: JavaCV's grabber, every frame to RGB24 at the covering size, then the
        // frame nearest each target (0.3 + i * 0.25 s) cut in the centre; box.mp4 is 320 x 240 at 29.97 fps
        Path file = Fixtures.shared("video/box.mp4");
        int h = 32, w = 32, count = 6;
        double t0 = 5.3, step = 0.25;
        byte[][] ours = CompressedVideo.clip(file, t0, Double.POSITIVE_INFINITY, count, fps -> step,
                CompressedVideo.Crop.centre(h, w));
        java.util.List<double[]> times = new java.util.ArrayList<>();
        java.util.List<byte[]> images = new java.util.ArrayList<>();
        try (org.bytedeco.javacv.FFmpegFrameGrabber g = new org.bytedeco.javacv.FFmpegFrameGrabber(file.toFile())) {
            g.setPixelFormat(org.bytedeco.ffmpeg.global.avutil.AV_PIX_FMT_RGB24);
            g.setImageWidth(43); // 320 x 240 scaled so the shorter side is 32
            g.setImageHeight(32);
            g.start();
            for (org.bytedeco.javacv.Frame f; (f = g.grabImage()) != null && f.timestamp / 1e6 < t0 + count * step; ) {
                java.nio.ByteBuffer buf = (java.nio.ByteBuffer) f.image[0];
                byte[] img = new byte[h * w * 3];
                int x0 = (int) Math.round(0.5 * (f.imageWidth - w));
                for (int y = 0; y < h; y++) {
                    buf.get(y * f.imageStride + x0 * 3, img, y * w * 3, w * 3);
                }
                times.add(new double[] {f.timestamp / 1e6});
                images.add(img);
            }
        }
        for (int i = 0; i < count; i++) {
            double target = t0 + i * step;
            int best = 0;
            for (int k = 1; k < times.size(); k++) {
                if (Math.abs(times.get(k)[0] - target) < Math.abs(times.get(best)[0] - target)) {
                    best = k;
                }
            }
            double diff = 0;
            for (int k = 0; k < ours[i].length; k++) {
                diff += Math.abs((ours[i][k] & 0xFF) - (images.get(best)[k] & 0xFF));
            }
            diff /= ours[i].length;
            assertTrue(diff < 2, "frame " + i + " (" + target + " s): mean |ours - JavaCV| = " + diff + " grey levels");
        }
    }

    @Test
    void clipPastTheEndRepeatsTheLastFrame() throws BadInputException {
        // box.mp4 is 15.2 s long: targets 14.5, 14.75, ..., 16.25 s; the last ones repeat the final frame
        Item a = video.load(Fixtures.entry(Modality.VIDEO, Fixtures.shared("video/box.mp4")).recording(), new Clip(14.5, 2.0, false, 1));
        int per = 32 * 32 * 3;
        float[] v = a.values();
        assertArrayEquals(Arrays.copyOfRange(v, 6 * per, 7 * per), Arrays.copyOfRange(v, 7 * per, 8 * per));
    }

    @Test
    void decodesMsMpeg4Avi() throws BadInputException {
        Item a = video.load(Fixtures.entry(Modality.VIDEO, Fixtures.shared("video/vtest.avi"), 10.0, 20.0).recording(),
                new Clip(1.0, 2.0, false, 1));
        assertArrayEquals(new long[] {8, 32, 32, 3}, a.shape());
    }

    @Test
    void missingAndBrokenFilesAreBadInput(@TempDir Path dir) throws Exception {
        BadInputException e = assertThrows(BadInputException.class,
                () -> video.load(Fixtures.entry(Modality.VIDEO, dir.resolve("nope.mp4")).recording(), new Clip(0, 2, false, 1)));
        assertTrue(e.getMessage().startsWith("manifest.jsonl:7 (id=t1): "), e.getMessage());
        assertTrue(e.getMessage().endsWith("nope.mp4: no such file"), e.getMessage());
        Path junk = Files.write(dir.resolve("junk.mp4"), new byte[] {1, 2, 3, 4, 5});
        e = assertThrows(BadInputException.class,
                () -> video.load(Fixtures.entry(Modality.VIDEO, junk).recording(), new Clip(0, 2, false, 1)));
        assertTrue(e.getMessage().contains("junk.mp4: cannot decode"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void aClipAtSpeedTwoTakesEverySecondFrame() throws BadInputException {
        // speed 1: frames at 3.00, 3.25, 3.50, ... s; speed 2: at 3.0, 3.5, 4.0, 4.5 s = frames 0, 2, 4, 6 of speed 1
        var box = Fixtures.entry(Modality.VIDEO, Fixtures.shared("video/box.mp4"));
        float[] normal = video.load(box.recording(), new Clip(3.0, 2.0, false, 1)).values();
        float[] fast = video.load(box.recording(), new Clip(3.0, 2.0, false, 1, 2.0)).values();
        int per = 32 * 32 * 3;
        for (int i = 0; i < 4; i++) {
            assertArrayEquals(Arrays.copyOfRange(normal, 2 * i * per, (2 * i + 1) * per), Arrays.copyOfRange(fast, i * per, (i + 1) * per),
                    "fast frame " + i);
        }
    }

    @Test
    void strideStepsByTheSourceFrameRate() {
        ModalitySpec.Video v = Fixtures.VIDEO; // fps 4
        ModalitySpec.Video s4 = withStride(v, 4);
        assertEquals(0.25, VideoAdapter.step(v, 29.97, 1), 1e-12);          // no stride: 1 / fps
        assertEquals(4 / 29.97, VideoAdapter.step(s4, 29.97, 1), 1e-12);    // every 4th frame of a 29.97 fps source
        assertEquals(2 * 4 / 29.97, VideoAdapter.step(s4, 29.97, 2), 1e-12); // at speed 2, every 8th
        assertEquals(0.25, VideoAdapter.step(s4, 0, 1), 1e-12);             // no source rate known: fps
        assertThrows(org.sensorium.config.ConfigException.class, () -> withStride(v, -1));
    }

    @Test
    void everyFifthFrameOfA10FpsVideoIsTwoFramesASecond() throws BadInputException {
        // vtest.avi runs at 10 fps: stride 5 takes frames 0.5 s apart, as fps 2 does; 8 frames either way
        // (stride: T = 2 s * 4 fps; fps 2: T = 4 s * 2 fps), from 30 s on.
        var avi = Fixtures.entry(Modality.VIDEO, Fixtures.shared("video/vtest.avi"));
        ModalitySpec.Video v = Fixtures.VIDEO;
        float[] strided = new VideoAdapter(withStride(v, 5), 2.0).load(avi.recording(), new Clip(30.0, 2.0, false, 1)).values();
        ModalitySpec.Video twoFps = new ModalitySpec.Video(2.0, v.height(), v.width(), v.tubeletFrames(), v.patch(), v.mean(), v.std(),
                v.cropMinScale(), v.flip(), v.brightness(), v.contrast());
        float[] atFps = new VideoAdapter(twoFps, 4.0).load(avi.recording(), new Clip(30.0, 4.0, false, 1)).values();
        assertEquals(8 * 32 * 32 * 3, strided.length);
        assertArrayEquals(atFps, strided);
    }

    private static ModalitySpec.Video withStride(ModalitySpec.Video v, int stride) {
        return new ModalitySpec.Video(v.fps(), v.height(), v.width(), v.tubeletFrames(), v.patch(), v.mean(), v.std(),
                v.cropMinScale(), v.flip(), v.brightness(), v.contrast(), 0.0, stride);
    }

    @Test
    void backgroundErasingMixesOneFrameOfTheClipIntoEveryFrame() throws BadInputException {
        var v = Fixtures.VIDEO;
        ModalitySpec.Video erasing = new ModalitySpec.Video(v.fps(), v.height(), v.width(), v.tubeletFrames(), v.patch(), v.mean(),
                v.std(), v.cropMinScale(), v.flip(), v.brightness(), v.contrast(), 0.5);
        var box = Fixtures.entry(Modality.VIDEO, Fixtures.shared("video/box.mp4"));
        Clip clip = new Clip(3.0, 2.0, true, 11);
        float[] plain = video.load(box.recording(), clip).values();                      // the same draws, without erasing
        float[] mixed = new VideoAdapter(erasing, 2.0).load(box.recording(), clip).values();
        int per = 32 * 32 * 3, frames = 8;
        int still = -1;
        for (int t = 0; t < frames && still < 0; t++) {                      // the static frame is left as it was
            double worst = 0;
            for (int k = 0; k < per; k++) {
                worst = Math.max(worst, Math.abs(plain[t * per + k] - mixed[t * per + k]));
            }
            still = worst < 1e-5 ? t : -1;
        }
        assertTrue(still >= 0, "no frame left unchanged");
        // every other frame is (1 - w) x_t + w x_still with one w in [0, 0.5): solve w on the largest difference, check all
        int t = still == 0 ? 1 : 0, at = 0;
        for (int k = 0; k < per; k++) {
            if (Math.abs(plain[t * per + k] - plain[still * per + k]) > Math.abs(plain[t * per + at] - plain[still * per + at])) {
                at = k;
            }
        }
        double w = (mixed[t * per + at] - plain[t * per + at]) / (plain[still * per + at] - plain[t * per + at]);
        assertTrue(w > 0 && w < 0.5, "weight " + w);
        for (int f = 0; f < frames; f++) {
            for (int k = 0; k < per; k++) {
                double expected = (1 - w) * plain[f * per + k] + w * plain[still * per + k];
                assertEquals(expected, mixed[f * per + k], 1e-4, "frame " + f + " value " + k);
            }
        }
    }
}
