package org.sensorium.data;

import org.sensorium.modality.Spans;
import org.sensorium.modality.BadInputException;
import org.sensorium.modality.Item;
import org.sensorium.modality.Clip;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.modality.Adapters;
import org.sensorium.modality.Fixtures;
import org.sensorium.config.Modality;
import org.sensorium.modality.ModalityAdapter;

class SampleSetGeneratorTest {
    @TempDir static Path dir;
    static Path manifest;
    static List<ManifestEntry> entries;

    @BeforeAll
    static void generate() throws IOException {
        manifest = SampleSetGenerator.generate(dir.resolve("a"), 12, 7);
        entries = Manifest.read(manifest);
    }

    @Test
    void sameSeedGivesTheSameManifestAndFiles() throws IOException {
        Path again = SampleSetGenerator.generate(dir.resolve("b"), 12, 7);
        assertEquals(Files.readString(manifest), Files.readString(again));
        try (Stream<Path> files = Files.list(manifest.resolveSibling("media"))) {
            for (Path f : files.filter(p -> !p.toString().endsWith(".mp4")).toList()) {
                assertArrayEquals(Files.readAllBytes(f), Files.readAllBytes(again.resolveSibling("media").resolve(f.getFileName())),
                        f.getFileName().toString());
            }
        }
        assertNotEquals(Files.readString(manifest), Files.readString(SampleSetGenerator.generate(dir.resolve("c"), 12, 8)));
    }

    @Test
    void manifestHasSplitsLabelsAndMissingModalities() {
        assertEquals(12, entries.size());
        assertEquals("s00000", entries.get(0).id());
        assertEquals("right", entries.get(1).label());
        assertEquals("clockwise circle", entries.get(4).label());
        assertEquals("val", entries.get(4).split());
        assertEquals("train", entries.get(5).split());
        assertFalse(entries.get(3).has(Modality.IMU));
        assertFalse(entries.get(5).has(Modality.AUDIO));
        assertFalse(entries.get(7).sources().containsKey(Modality.TEXT));
        assertTrue(entries.get(7).has(Modality.TEXT), "captions stand in for the missing subtitles");
        for (ManifestEntry e : entries) {
            String c = e.captions().get(0);
            assertTrue(c.contains("slowly") || c.contains("quickly"), c);
            assertTrue(c.contains("circle") || c.contains("square"), c);
        }
    }

    @Test
    void everyAdapterLoadsEverySample() throws BadInputException {
        Map<Modality, ModalityAdapter> adapters = new EnumMap<>(Modality.class);
        for (Modality m : Modality.values()) {
            adapters.put(m, Adapters.create(m, Fixtures.SPECS, 2.0));
        }
        try {
            int loaded = 0;
            for (ManifestEntry e : entries) {
                for (Modality m : Modality.values()) {
                    if (e.has(m)) {
                        Item it = adapters.get(m).load(e.recording(), new Clip(0, 2.0, false, 1));
                        assertArrayEquals(Fixtures.SPECS.inputShape(m, 2.0), it.shape(), e.id() + " " + m);
                        loaded++;
                    }
                }
            }
            assertEquals(12 * 4 - 2 + 12, loaded); // 12 samples x 4 recordings, 2 missing; every video also gives its motion field
        } finally {
            adapters.values().forEach(ModalityAdapter::close);
        }
    }

    @Test
    void adaptersGiveTheSameItemsFromSeveralThreads() throws Exception {
        for (Modality m : Modality.values()) {
            try (ModalityAdapter a = Adapters.create(m, Fixtures.SPECS, 2.0)) {
                List<ManifestEntry> present = entries.stream().filter(e -> e.has(m)).toList();
                List<float[]> sequential = new java.util.ArrayList<>();
                for (ManifestEntry e : present) {
                    sequential.add(a.load(e.recording(), new Clip(0, 2.0, false, 1)).values());
                }
                java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
                try {
                    List<java.util.concurrent.Future<Item>> parallel = new java.util.ArrayList<>();
                    for (ManifestEntry e : present) {
                        parallel.add(pool.submit(() -> a.load(e.recording(), new Clip(0, 2.0, false, 1))));
                    }
                    for (int i = 0; i < present.size(); i++) {
                        assertArrayEquals(sequential.get(i), parallel.get(i).get().values(), m + " " + present.get(i).id());
                    }
                } finally {
                    pool.shutdown();
                }
            }
        }
    }

    @Test
    void rightSampleMovesRightOnVideo() throws BadInputException {
        ManifestEntry right = entries.get(1);
        float[] v = Adapters.create(Modality.VIDEO, Fixtures.SPECS, 2.0).load(right.recording(), new Clip(0, 2.0, false, 1)).values();
        double first = centroidX(v, 0);
        double last = centroidX(v, 7);
        assertTrue(last > first + 4, "centroid x " + first + " -> " + last + " (pixels of 32)");
    }

    /** Mean x of the pixels of frame t (of (T, 32, 32, 3), normalised) that are far from mid-grey. */
    private static double centroidX(float[] v, int t) {
        double sum = 0;
        int n = 0;
        for (int y = 0; y < 32; y++) {
            for (int x = 0; x < 32; x++) {
                double d = 0;
                for (int c = 0; c < 3; c++) {
                    d += Math.abs(v[((t * 32 + y) * 32 + x) * 3 + c] * 0.225 + 0.45 - 128 / 255.0);
                }
                if (d > 0.3) {
                    sum += x;
                    n++;
                }
            }
        }
        assertTrue(n > 4, "shape visible in frame " + t);
        return sum / n;
    }

    @Test
    void imuOfRightSampleAcceleratesThenBrakes() throws BadInputException {
        float[] v = Adapters.create(Modality.IMU, Fixtures.SPECS, 2.0).load(entries.get(1).recording(), new Clip(0, 2.0, false, 1)).values();
        assertTrue(v[5 * 6] > 0, "ax early " + v[5 * 6]);
        assertTrue(v[95 * 6] < 0, "ax late " + v[95 * 6]);
        assertEquals(1.0, v[50 * 6 + 2], 0.01);
    }

    @Test
    void twoClassesPeakAtDifferentMelBands() throws BadInputException {
        ModalityAdapter audio = Adapters.create(Modality.AUDIO, Fixtures.SPECS, 2.0);
        int left = peakBand(audio.load(entries.get(0).recording(), new Clip(0, 2.0, false, 1)).values()); // 220 Hz
        int cw = peakBand(audio.load(entries.get(4).recording(), new Clip(0, 2.0, false, 1)).values());   // 440 Hz
        assertTrue(cw > left, "bands " + left + " and " + cw);
    }

    /** Band with the most energy averaged over time, of (F, 64). */
    private static int peakBand(float[] s) {
        double[] mean = new double[64];
        for (int i = 0; i < s.length; i++) {
            mean[i % 64] += s[i];
        }
        int best = 0;
        for (int b = 1; b < 64; b++) {
            best = mean[b] > mean[best] ? b : best;
        }
        return best;
    }

    @Test
    void longRecordingsFollowOneScriptWithTheirSegmentsInTheManifest() throws Exception {
        Path m = SampleSetGenerator.generateLong(dir.resolve("long"), 5, 3, 7);
        List<ManifestEntry> rec = Manifest.read(m);
        assertEquals(5, rec.size());
        assertEquals("val", rec.get(4).split());
        List<String> script = rec.get(0).segments().stream().map(ManifestEntry.Segment::label).toList();
        assertEquals(3, script.size());
        assertEquals(3, new java.util.HashSet<>(script).size(), "each motion at most once: " + script);
        for (ManifestEntry e : rec) {
            assertEquals(script, e.segments().stream().map(ManifestEntry.Segment::label).toList(), "one order for every recording");
            List<ManifestEntry.Segment> s = e.segments();
            assertEquals(0.0, s.get(0).start());
            assertEquals(6.0, s.get(2).end(), 1e-12);
            for (int k = 0; k < 3; k++) {
                double len = s.get(k).end() - s.get(k).start();
                assertTrue(len >= 0.25 && len <= 4.5, e.id() + " segment " + k + " lasts " + len);
                assertEquals(0, (s.get(k).end() * 8) % 1, 1e-9, "boundaries on the 1/8 s frame grid");
                if (k > 0) {
                    assertEquals(s.get(k - 1).end(), s.get(k).start());
                }
            }
            for (Modality mod : List.of(Modality.VIDEO, Modality.AUDIO, Modality.TEXT, Modality.IMU)) {
                assertTrue(e.has(mod), e.id() + " " + mod);
            }
        }
        assertNotEquals(rec.get(0).segments(), rec.get(1).segments(), "segment lengths differ between recordings");
        // Every modality covers the whole 6 s; the subtitle has one cue per segment.
        assertEquals(6.0, Spans.containerSeconds(rec.get(0).sources().get(Modality.VIDEO).path()), 0.2);
        String srt = Files.readString(rec.get(0).sources().get(Modality.TEXT).path());
        assertTrue(srt.contains("\n3\n") && srt.contains(" --> 00:00:06,000"), srt);
        List<String> csv = Files.readAllLines(rec.get(0).sources().get(Modality.IMU).path());
        assertEquals(1 + 601, csv.size());
        // IMU of a segment follows its motion: a "left" segment accelerates left then brakes, whatever its length.
        try (ModalityAdapter imu = Adapters.create(Modality.IMU, Fixtures.SPECS, 6.0)) {
            float[] v = imu.load(rec.get(1).recording(), new Clip(0, 6.0, false, 1)).values(); // (300, 6) at 50 Hz, scaled by g
            for (ManifestEntry.Segment seg : rec.get(1).segments()) {
                int a = (int) Math.round(seg.start() * 50) + 2, b = (int) Math.round(seg.end() * 50) - 3;
                if (seg.label().equals("left")) {
                    assertTrue(v[a * 6] < 0 && v[b * 6] > 0, "ax " + v[a * 6] + " then " + v[b * 6]);
                } else if (seg.label().equals("up")) {
                    assertTrue(v[a * 6 + 1] > 0 && v[b * 6 + 1] < 0, "ay " + v[a * 6 + 1] + " then " + v[b * 6 + 1]);
                }
            }
        }
        assertEquals(Files.readString(m), Files.readString(SampleSetGenerator.generateLong(dir.resolve("long2"), 5, 3, 7)));
    }

    @Test
    void ensureGeneratesOnceIntoItsCacheFolder() throws IOException {
        Path cache = dir.resolve("cache");
        Path m = SampleSetGenerator.ensure(cache, 3, 1);
        assertEquals(cache.resolve("sample-set-v1-n3-s1").resolve("manifest.jsonl"), m);
        long modified = Files.getLastModifiedTime(m).toMillis();
        assertEquals(m, SampleSetGenerator.ensure(cache, 3, 1));
        assertEquals(modified, Files.getLastModifiedTime(m).toMillis());
        try (Stream<Path> s = Files.list(cache)) {
            assertEquals(1, s.count(), "no temporary folder left behind");
        }
    }
}
