package org.sensorium.data;

import org.sensorium.modality.Recording;
import org.sensorium.modality.SkipLog;
import org.sensorium.modality.BadInputException;
import org.sensorium.modality.Item;
import org.sensorium.modality.Clip;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.modality.Fixtures;
import org.sensorium.config.Modality;
import org.sensorium.modality.ModalityAdapter;
import org.sensorium.config.ModalitySpecs;
import org.sensorium.modality.video.CompressedVideo;
import org.sensorium.modality.video.MotionAdapter;
import org.sensorium.modality.video.VideoAdapter;

/**
 * The compressed-video context the loader adds to a clip, on the real fixture cup.mp4 (H.264, 26.777 fps,
 * 8.1 s, time base 1/26777, a key frame every 30 frames: at 0, 1.1204, 2.2408, ... s).
 */
class ContextLoaderTest {
    private static final Path CUP = Fixtures.shared("video/cup.mp4");
    private static final double KEY1 = 30000 / 26777.0;
    private static final double KEY2 = 60000 / 26777.0;
    private static final double HORIZON = 0.5;
    private static final CompressedVideo.Crop CROP = CompressedVideo.Crop.centre(24, 32);

    /** A cup.mp4 entry with video and, as the manifest gives every video line, motion from the same file. */
    static ManifestEntry cup(String id, double start, double end) {
        Recording.Source s = new Recording.Source(CUP, start, end);
        return new ManifestEntry(id, "train", null, Map.of(Modality.VIDEO, s, Modality.MOTION, s), List.of(),
                Path.of("manifest.jsonl"), 1);
    }

    @Test
    void theKeyFrameIsTheLastOneAtOrBeforeTheClipStartWithinTheSpan() throws BadInputException {
        double inf = Double.POSITIVE_INFINITY;
        assertEquals(KEY1, CompressedVideo.gopKeyframe(CUP, 1.5, 0, inf, CROP).time(), 1e-9);
        assertEquals(KEY2, CompressedVideo.gopKeyframe(CUP, KEY2, 0, inf, CROP).time(), 1e-9); // a clip starting on one
        assertEquals(0.0, CompressedVideo.gopKeyframe(CUP, 0.5, 0, inf, CROP).time(), 1e-9);
        // the span starts at 1.5: the key frame before it is another part's, so the first inside the clip [1.5, 2.5]
        assertEquals(KEY2, CompressedVideo.gopKeyframe(CUP, 1.5, 1.5, 2.5, CROP).time(), 1e-9);
        // none in [1.3, 1.8] and the one before is outside the span: no key frame
        assertNull(CompressedVideo.gopKeyframe(CUP, 1.3, 1.3, 1.8, CROP));
        // box.mp4: a GOP of 250 frames, key frames at 0 and 8.343 s
        assertEquals(0.0, CompressedVideo.gopKeyframe(Fixtures.shared("video/box.mp4"), 5.0, 0, inf, CROP).time(), 1e-9);
        assertThrows(BadInputException.class, () -> CompressedVideo.gopKeyframe(CUP.resolveSibling("nope.mp4"), 0, 0, inf, CROP));
    }

    @Test
    void theKeyframeClipIsTheKeyFrameNormalisedAndRepeatedOverTheClip() throws BadInputException {
        VideoAdapter video = new VideoAdapter(Fixtures.VIDEO, 1.0);
        Item item = video.keyframeClip(cup("c", 1.0, Double.NaN).recording(), new Clip(0.5, 1.0, false, 3)); // evaluation clip at 1.5 s
        assertArrayEquals(new long[] {4, 32, 32, 3}, item.shape());
        byte[] key = CompressedVideo.keyframes(CUP, KEY1 - 1e-3, KEY1 + 1e-3, 1, 32, 32).get(0).rgb();
        int per = 32 * 32 * 3;
        for (int t = 0; t < 4; t++) {
            for (int i = 0; i < per; i++) { // (x / 255 - 0.45) / 0.225, no augmentation
                assertEquals(((key[i] & 0xFF) / 255.0 - 0.45) / 0.225, item.values()[t * per + i], 1e-5, "frame " + t + " value " + i);
            }
        }
        assertNull(video.keyframeClip(cup("c", 1.3, Double.NaN).recording(), new Clip(0, 0.5, true, 3)));
    }

    @Test
    void aTrainingKeyframeHasAnAugmentationOfItsOwn() throws BadInputException {
        // a clip starting on the key frame at 0: its first frame is the key frame, but the two draws differ
        VideoAdapter video = new VideoAdapter(Fixtures.VIDEO, 1.0);
        ManifestEntry e = cup("c", 0, Double.NaN);
        int per = 32 * 32 * 3;
        float[] centred = video.keyframeClip(e.recording(), new Clip(0, 1.0, false, 1)).values();
        float[] evaluation = Arrays.copyOf(video.load(e.recording(), new Clip(0, 1.0, false, 1)).values(), per);
        assertTrue(maxDifference(Arrays.copyOf(centred, per), evaluation) < 1.01 / 255 / 0.225, "unaugmented: the same image");
        for (long seed = 1; seed <= 3; seed++) {
            Clip clip = new Clip(0, 1.0, true, seed);
            float[] key = video.keyframeClip(e.recording(), clip).values();
            assertArrayEquals(key, video.keyframeClip(e.recording(), clip).values());                  // deterministic per seed
            assertTrue(maxDifference(key, centred) > 0.1, "seed " + seed + ": augmented");
            assertTrue(maxDifference(Arrays.copyOf(key, per), Arrays.copyOf(video.load(e.recording(), clip).values(), per)) > 0.1,
                    "seed " + seed + ": not the clip's own draw");
        }
    }

    private static double maxDifference(float[] a, float[] b) {
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(a[i] - b[i]));
        }
        return worst;
    }

    @Test
    void theFutureFieldIsTheMotionOfTheHorizonRightAfterTheClip() throws BadInputException {
        MotionAdapter future = new MotionAdapter(ModalitySpecs.DEFAULT_MOTION, HORIZON);
        ManifestEntry e = cup("c", 1.0, Double.NaN);
        Item item = Loader.futureMotion(e, new Clip(1.0, 1.0, true, 3), future, HORIZON); // clip [2, 3] s of the file
        assertArrayEquals(new long[] {2, 8, 8, 2}, item.shape());                      // 0.5 s at 4 fps
        CompressedVideo.MotionField f = CompressedVideo.motion(CUP, 3.0, Double.POSITIVE_INFINITY, 2, 4.0, 8, 8);
        assertEquals(3.0, f.times()[0], 0.5 / 26.777);                                  // the frames nearest 3.0 and 3.25 s
        assertEquals(3.25, f.times()[1], 0.5 / 26.777);
        for (int i = 0; i < item.values().length; i++) {
            assertEquals(f.field()[i] / 0.02, item.values()[i], 1e-4, "value " + i);
        }
        assertTrue(Arrays.stream(box(item.values())).anyMatch(v -> v != 0), "a hand moves the cup: some motion");
        // cup.mp4 lasts 8.1 s: a clip ending at 8.0 has no 0.5 s after it; a span ending at 3.0 allows a clip ending at 2.5
        assertNull(Loader.futureMotion(cup("c", 0, Double.NaN), new Clip(7.0, 1.0, true, 3), future, HORIZON));
        assertTrue(Loader.futureMotion(cup("c", 1.0, 3.0), new Clip(0.5, 1.0, true, 3), future, HORIZON) != null);
        assertNull(Loader.futureMotion(cup("c", 1.0, 3.0), new Clip(0.6, 1.0, true, 3), future, HORIZON));
    }

    @Test
    void recordingsTooShortForAFutureAreMaskedNotSkipped() throws Exception {
        VideoAdapter video = new VideoAdapter(Fixtures.VIDEO, 1.0);
        Loader.Views views = new Loader.Views(new Needs(Set.of(), List.of(1.0), 1, true, HORIZON), video,
                new MotionAdapter(ModalitySpecs.DEFAULT_MOTION, HORIZON));
        // "short": 1 s of span for a 1 s clip, never a future; "long": clips start in [0, 2] of 3 s, a future when <= 1.5
        List<ManifestEntry> entries = List.of(cup("short", 5.0, 6.0), cup("long", 1.0, 4.0));
        Map<Modality, ModalityAdapter> adapters = Map.of(Modality.VIDEO, video);
        SkipLog skips = new SkipLog(false);
        int withFuture = 0;
        try (Loader l = new Loader(entries, adapters, 2, 5, 1.0, 2, 1, skips, new Loader.Cursor(0, 0), Loader.Shard.SINGLE, views)) {
            for (int b = 0; b < 4; b++) {
                List<Batch.Decoded> batch = l.next();
                assertEquals(2, batch.size());
                for (Batch.Decoded d : batch) {
                    assertNotNull(d.extra(Batch.Extra.KEYFRAME), d.entry().id());
                    if (d.entry().id().equals("short")) {
                        assertNull(d.extra(Batch.Extra.FUTURE_MOTION));
                    } else if (d.extra(Batch.Extra.FUTURE_MOTION) != null) {
                        withFuture++;
                        assertArrayEquals(new long[] {2, 8, 8, 2}, d.extraItem(Batch.Extra.FUTURE_MOTION, Modality.MOTION).shape());
                    }
                }
            }
        }
        assertEquals(0, skips.skipped());
        assertTrue(withFuture > 0, "the long recording had no future in 4 draws");
    }

    @Test
    void aBrokenFileIsSkippedWhenItsContextIsDecoded(@TempDir Path dir) throws Exception {
        Path empty = Files.write(dir.resolve("empty.mp4"), new byte[0]);
        Recording.Source s = new Recording.Source(empty, 0, Double.NaN);
        ManifestEntry e = new ManifestEntry("e", "train", null, Map.of(Modality.VIDEO, s, Modality.MOTION, s), List.of(),
                Path.of("manifest.jsonl"), 4);
        Loader.Views views = new Loader.Views(Needs.ofKeyframes(), new VideoAdapter(Fixtures.VIDEO, 1.0), null);
        SkipLog skips = new SkipLog(false);
        assertNull(Loader.withContext(new Batch.Decoded(e, Map.of()), new Clip(0, 1.0, true, 1), views, skips));
        assertEquals(1, skips.skipped());
        assertTrue(skips.reasons().get("e").contains("manifest.jsonl:4"), skips.reasons().toString());
    }

    private static double[] box(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }
}
