package org.sensorium.data;

import org.sensorium.modality.Recording;
import org.sensorium.modality.Spans;
import org.sensorium.modality.SkipLog;
import org.sensorium.modality.BadInputException;
import org.sensorium.modality.Item;
import org.sensorium.modality.Clip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.sensorium.config.Modality;
import org.sensorium.modality.ModalityAdapter;

/** The loader's order, sharding, cursor and skips, with an adapter that just reports which sample it was given. */
class LoaderTest {

    /** Returns the sample's number as its one value; sample "s13" is broken. */
    static final class IdAdapter implements ModalityAdapter {
        @Override
        public Modality modality() {
            return Modality.IMU;
        }

        @Override
        public long[] inputShape() {
            return new long[] {1};
        }

        @Override
        public Item load(org.sensorium.modality.Recording e, Clip clip) throws BadInputException {
            if (e.id().equals("s13")) {
                throw new BadInputException(e.where() + ": s13.csv: broken on purpose");
            }
            return new Item(new float[] {Integer.parseInt(e.id().substring(1))}, inputShape(), null);
        }
    }

    static List<ManifestEntry> entries(int n) {
        List<ManifestEntry> list = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            list.add(new ManifestEntry("s" + i, "train", null,
                    Map.of(Modality.IMU, new Recording.Source(Path.of("s" + i + ".csv"), 0, Double.NaN)), List.of(),
                    Path.of("m.jsonl"), i + 1));
        }
        return list;
    }

    static List<List<String>> take(Loader l, int batches) throws InterruptedException {
        List<List<String>> out = new ArrayList<>();
        for (int i = 0; i < batches; i++) {
            out.add(l.next().stream().map(d -> d.entry().id()).toList());
        }
        return out;
    }

    static Loader loader(int n, Loader.Cursor start, Loader.Shard shard, SkipLog skips) {
        Map<Modality, ModalityAdapter> adapters = new EnumMap<>(Modality.class);
        adapters.put(Modality.IMU, new IdAdapter());
        return new Loader(entries(n), adapters, 2, 42, 2.0, 2, 2, skips, start, shard);
    }

    @Test
    void shardsSplitEachEpochWithoutOverlap() throws Exception {
        List<String> all = new ArrayList<>();
        for (int rank = 0; rank < 3; rank++) {
            try (Loader l = loader(20, new Loader.Cursor(0, 0), new Loader.Shard(rank, 3), new SkipLog(false))) {
                assertEquals(6, l.samplesPerEpoch());        // 20 / 3 = 6 each, whole batches of 2
                take(l, 3).forEach(all::addAll);
                assertEquals(new Loader.Cursor(1, 0), l.cursor());
            }
        }
        Set<String> distinct = new HashSet<>(all);
        assertEquals(all.size(), distinct.size(), "a sample drawn by two ranks: " + all);
        assertTrue(all.size() >= 17, "18 draws, at most one of them the broken s13: " + all);
    }

    @Test
    void aLoaderStartedAtACursorContinuesTheSameStream() throws Exception {
        List<List<String>> straight;
        Loader.Cursor after2;
        try (Loader l = loader(11, new Loader.Cursor(0, 0), Loader.Shard.SINGLE, new SkipLog(false))) {
            straight = take(l, 2);
            after2 = l.cursor();
            straight = new ArrayList<>(straight);
            straight.addAll(take(l, 5));                      // crosses into epoch 1 (5 batches per epoch)
        }
        assertEquals(new Loader.Cursor(0, 4), after2);
        try (Loader resumed = loader(11, after2, Loader.Shard.SINGLE, new SkipLog(false))) {
            assertEquals(straight.subList(2, 7), take(resumed, 5));
        }
    }

    @Test
    void epochsAreShuffledDifferentlyAndEachSampleOncePerEpoch() throws Exception {
        try (Loader l = loader(10, new Loader.Cursor(0, 0), Loader.Shard.SINGLE, new SkipLog(false))) {
            List<String> e0 = take(l, 5).stream().flatMap(List::stream).toList();
            List<String> e1 = take(l, 5).stream().flatMap(List::stream).toList();
            assertEquals(10, new HashSet<>(e0).size());
            assertEquals(new HashSet<>(e0), new HashSet<>(e1));
            assertNotEquals(e0, e1);
        }
    }

    @Test
    void aBrokenSampleIsSkippedCountedAndNamed() throws Exception {
        SkipLog skips = new SkipLog(false);
        try (Loader l = loader(20, new Loader.Cursor(0, 0), Loader.Shard.SINGLE, skips)) {
            int samples = 0;
            for (List<String> b : take(l, 10)) {
                samples += b.size();
            }
            assertEquals(19, samples);                        // one epoch of 20, s13 skipped
        }
        assertEquals(1, skips.skipped());
        assertTrue(skips.reasons().get("s13").contains("m.jsonl:14 (id=s13): s13.csv: broken on purpose"));
    }

    @Test
    void windowsOfASampleComeTogetherInTimeOrder() throws Exception {
        // 10 s spans, 2 s clips, 4 windows: starts in [0, 2), [2, 4), [4, 6), [6, 8).
        List<ManifestEntry> es = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            es.add(new ManifestEntry("s" + i, "train", null,
                    Map.of(Modality.IMU, new Recording.Source(Path.of("s" + i + ".csv"), 0, 10.0)), List.of(), Path.of("m.jsonl"), i + 1));
        }
        Map<Modality, ModalityAdapter> adapters = new EnumMap<>(Modality.class);
        adapters.put(Modality.IMU, new IdAdapter());
        try (Loader l = new Loader(es, adapters, 2, 42, 2.0, 2, 2, new SkipLog(false), new Loader.Cursor(0, 0), Loader.Shard.SINGLE,
                new Loader.Views(Needs.ofWindows(4), null, null))) {
            List<Batch.Decoded> b = l.next();
            assertEquals(8, b.size());                       // 2 samples x 4 windows
            for (int s = 0; s < 2; s++) {
                for (int k = 0; k < 4; k++) {
                    Batch.Decoded d = b.get(s * 4 + k);
                    assertEquals(b.get(s * 4).entry().id(), d.entry().id());
                    assertTrue(d.start() >= 2 * k && d.start() < 2 * k + 2, "window " + k + " starts at " + d.start());
                }
            }
            assertEquals(new Loader.Cursor(0, 2), l.cursor()); // the cursor counts samples, not windows
        }
        ManifestEntry e = es.get(0);
        assertEquals(1.0, Loader.windowClip(e, 1, 0, 4, 2.0, false).start(), 1e-12); // evaluation: the middle of each part
        assertEquals(7.0, Loader.windowClip(e, 1, 3, 4, 2.0, false).start(), 1e-12);
    }

    @Test
    void evaluationClipsAreEvenlySpacedOverTheSpan() {
        // span 3..13 s = 10 s, clip 2 s: a start can be anywhere in [0, 8]
        ManifestEntry e = new ManifestEntry("v", "test", null,
                Map.of(Modality.IMU, new Recording.Source(Path.of("v.csv"), 3, 13)), List.of(), Path.of("m.jsonl"), 1);
        assertEquals(4.0, Loader.evalClip(e, 1, 0, 1, 2.0).start(), 1e-12);
        assertEquals(4.0, Loader.clip(e, 1, false, 2.0).start(), 1e-12);
        double[] four = {1, 3, 5, 7}; // 8 * (k + 1/2) / 4
        for (int k = 0; k < 4; k++) {
            Clip c = Loader.evalClip(e, 1, k, 4, 2.0);
            assertEquals(four[k], c.start(), 1e-12);
            assertTrue(!c.train());
        }
        for (long seed = 0; seed < 50; seed++) {
            double s = Loader.clip(e, seed, true, 2.0).start();
            assertTrue(s >= 0 && s <= 8, "start " + s);
        }
    }

    @Test
    void spansToTheEndOfAVideoAreProbedSoTrainingClipsCanStartAnywhere() {
        // box.mp4 lasts 15.18 s; from 1.0 s to the end leaves 14.18 s, so 12.18 s of room for a 2 s clip
        Path box = Path.of(System.getProperty("sensorium.shared", "../shared"), "data/video/box.mp4");
        ManifestEntry e = new ManifestEntry("box", "test", null,
                Map.of(Modality.VIDEO, new Recording.Source(box, 1.0, Double.NaN)), List.of(), Path.of("m.jsonl"), 1);
        assertEquals(14.18, Spans.seconds(e.recording()), 0.02);
        assertEquals(6.09, Loader.clip(e, 1, false, 2.0).start(), 0.01);
        double max = 0;
        for (long seed = 0; seed < 200; seed++) {
            max = Math.max(max, Loader.clip(e, seed, true, 2.0).start());
        }
        assertTrue(max > 10 && max <= 12.19, "latest start " + max);
        ManifestEntry missing = new ManifestEntry("x", "test", null,
                Map.of(Modality.VIDEO, new Recording.Source(Path.of("no-such.mp4"), 0, Double.NaN)), List.of(), Path.of("m.jsonl"), 2);
        assertTrue(Double.isNaN(Spans.seconds(missing.recording())));
        assertEquals(0.0, Loader.clip(missing, 1, true, 2.0).start());
    }

    /** An IMU-only sample's span is its recording's length, so training clips and the second view move through it. */
    @Test
    void imuSpanIsTheRecordingsLength() {
        Path walk = Path.of(System.getProperty("sensorium.shared", "../shared"),
                "data/imu/hmp/Walk/Accelerometer-2011-03-24-09-51-07-walk-f1.txt");      // 1170 samples at 32 Hz
        ManifestEntry e = new ManifestEntry("walk", "train", "Walk",
                Map.of(Modality.IMU, new Recording.Source(walk, 0, Double.NaN)), List.of(), Path.of("m.jsonl"), 1);
        assertEquals(1169 / 32.0, Spans.seconds(e.recording()), 1e-9);
        assertEquals((1169 / 32.0 - 4) / 2, Loader.evalClip(e, 1, 0, 1, 4.0).start(), 1e-9); // centred
        Clip first = Loader.clip(e, 5, true, 4.0);
        Clip second = Loader.secondClip(e, first, 6, 4.0, 1.0);
        assertNotEquals(first.start(), second.start());
        assertTrue(second.start() >= 0 && second.start() <= 1169 / 32.0 - 4, "second view inside the recording: " + second.start());
        ManifestEntry late = new ManifestEntry("walk", "train", "Walk",
                Map.of(Modality.IMU, new Recording.Source(walk, 30.0, Double.NaN)), List.of(), Path.of("m.jsonl"), 2);
        assertEquals(1169 / 32.0 - 30.0, Spans.seconds(late.recording()), 1e-9);
    }
}
