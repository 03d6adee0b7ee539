package org.sensorium.data;

import org.sensorium.modality.Recording;
import org.sensorium.modality.SkipLog;
import org.sensorium.modality.Clip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.modality.Adapters;
import org.sensorium.modality.Fixtures;
import org.sensorium.config.Modality;
import org.sensorium.modality.ModalityAdapter;

/**
 * The bad-input policy on broken copies of the real fixtures: every broken recording is skipped with
 * one line naming the manifest line, the file and the reason; the good ones around it still load.
 */
class BadInputTest {
    @TempDir
    static Path dir;
    static final Map<Modality, ModalityAdapter> ADAPTERS = new EnumMap<>(Modality.class);

    @BeforeAll
    static void adapters() {
        for (Modality m : Modality.values()) {
            ADAPTERS.put(m, Adapters.create(m, Fixtures.SPECS, 2.0));
        }
    }

    static int line = 0;

    static ManifestEntry entry(String id, Modality m, Path file) {
        return new ManifestEntry(id, "train", null, Map.of(m, new Recording.Source(file, 0, Double.NaN)), List.of(),
                Path.of("bad.jsonl"), ++line);
    }

    /** Decodes the entry like the loader does; returns the skip reason, or null when it loaded. */
    static String reason(ManifestEntry e) {
        return reason(e, 0);
    }

    static String reason(ManifestEntry e, double start) {
        SkipLog skips = new SkipLog(false);
        Batch.Decoded d = Loader.decode(e, new Clip(start, 2.0, false, 1), ADAPTERS, skips);
        if (d != null) {
            return null;
        }
        assertEquals(1, skips.skipped());
        String r = skips.reasons().get(e.id());
        assertFalse(r.contains("\n"), r);
        assertTrue(r.startsWith(e.where() + ": " + e.sources().values().iterator().next().path() + ": "), r);
        return r.substring(r.lastIndexOf(": ", r.indexOf(e.sources().values().iterator().next().path().toString())
                + e.sources().values().iterator().next().path().toString().length()) + 2);
    }

    static Path copy(String fixture, String name, int keepBytes) throws IOException {
        byte[] b = Files.readAllBytes(Fixtures.shared(fixture));
        return Files.write(dir.resolve(name), Arrays.copyOf(b, keepBytes < 0 ? b.length : keepBytes));
    }

    @Test
    void brokenVideoAndAudio() throws IOException {
        byte[] garbage = new byte[50_000];
        new SplittableRandom(3).nextBytes(garbage);
        Path junk = Files.write(dir.resolve("junk.mp4"), garbage);
        Path empty = Files.write(dir.resolve("empty.mp4"), new byte[0]);
        long boxSize = Files.size(Fixtures.shared("video/box.mp4"));
        Path truncated = copy("video/box.mp4", "truncated.mp4", (int) (boxSize / 3));
        Path wavNamedMp4 = copy("audio/lena_singing.wav", "song.mp4", -1);

        assertEquals("empty file (0 bytes)", reason(entry("v-empty", Modality.VIDEO, empty)));
        assertEquals("empty file (0 bytes)", reason(entry("a-empty", Modality.AUDIO, empty)));
        assertTrue(reason(entry("v-junk", Modality.VIDEO, junk)).startsWith("cannot decode"));
        assertTrue(reason(entry("a-junk", Modality.AUDIO, junk)).startsWith("cannot decode audio"));
        // box.mp4 keeps its index at the front: a third of the file still holds the first seconds, not the last
        assertNull(reason(entry("v-trunc", Modality.VIDEO, truncated)));
        assertNull(reason(entry("a-trunc", Modality.AUDIO, truncated)));
        assertEquals("no video frames at or after 12.0 s", reason(entry("v-trunc12", Modality.VIDEO, truncated), 12));
        assertEquals("no audio samples at or after 12.0 s (file shorter than the span, or truncated)",
                reason(entry("a-trunc12", Modality.AUDIO, truncated), 12));
        // FFmpeg probes the content, not the name: a WAV called .mp4 is good audio, and a video without picture.
        assertNull(reason(entry("a-wav", Modality.AUDIO, wavNamedMp4)));
        assertEquals("no video track", reason(entry("v-wav", Modality.VIDEO, wavNamedMp4)));
        assertEquals("no audio track", reason(entry("a-silent", Modality.AUDIO, Fixtures.shared("video/vtest.avi"))));
        assertNull(reason(entry("v-ok", Modality.VIDEO, Fixtures.shared("video/box.mp4"))));
    }

    @Test
    void aFileNameWithANewlineOrAnEscapeStillGivesOneLine() throws IOException {
        Path odd = Files.write(dir.resolve("two\nlines\u001b[2J.mp4"), new byte[0]);
        SkipLog skips = new SkipLog(false);
        assertNull(Loader.decode(entry("odd", Modality.VIDEO, odd), new Clip(0, 2.0, false, 1), ADAPTERS, skips));
        String r = skips.reasons().get("odd");
        assertEquals("bad.jsonl:" + line + " (id=odd): " + dir.resolve("two?lines?[2J.mp4") + ": empty file (0 bytes)", r);
    }

    @Test
    void brokenImu() throws IOException {
        // a real HMP walking trial as CSV (32 Hz), then with a NaN, with 3 s missing, and a truncated GoPro stream
        Path trial;
        try (var s = Files.list(Fixtures.shared("imu/hmp/Walk"))) {
            trial = s.sorted().findFirst().orElseThrow();
        }
        List<String> rows = new ArrayList<>(List.of("t,ax,ay,az,gx,gy,gz"));
        List<String> codes = Files.readAllLines(trial).stream().filter(l -> !l.isBlank()).toList();
        for (int i = 0; i < codes.size(); i++) {
            String[] xyz = codes.get(i).trim().split("\\s+");
            rows.add(i / 32.0 + "," + xyz[0] + "," + xyz[1] + "," + xyz[2] + ",0,0,0");
        }
        Path good = Files.write(dir.resolve("walk.csv"), rows);
        List<String> nan = new ArrayList<>(rows);
        nan.set(11, nan.get(11).replaceFirst(",[^,]+,", ",NaN,"));
        Path withNan = Files.write(dir.resolve("walk-nan.csv"), nan);
        List<String> gap = new ArrayList<>(rows.subList(0, 17)); // header, samples 0..15 (t = 0 .. 0.469 s), then t = 3.5 s on
        gap.addAll(rows.subList(17 + 96, rows.size()));
        Path withGap = Files.write(dir.resolve("walk-gap.csv"), gap);
        Path gopro = copy("imu/gopro/hero7.raw", "hero7-cut.raw", 5000);
        Path wrongExt = copy("imu/gopro/hero7.raw", "hero7.mp4", -1);

        assertNull(reason(entry("i-ok", Modality.IMU, good)));
        assertEquals("line 12: column 'ax': not finite (NaN)", reason(entry("i-nan", Modality.IMU, withNan)));
        assertEquals("gap of 3.031 s in ax between samples at 0.469 s and 3.500 s (median spacing 0.0313 s)"
                + " inside the clip [0.000, 2.000) s", reason(entry("i-gap", Modality.IMU, withGap)));
        assertTrue(reason(entry("i-gopro", Modality.IMU, gopro)).startsWith("truncated KLV"));
        assertTrue(reason(entry("i-ext", Modality.IMU, wrongExt)).startsWith("unknown IMU format"));
    }

    @Test
    void brokenSubtitles() throws IOException {
        String srt = Files.readString(Fixtures.shared("subtitles/sample.srt"), StandardCharsets.UTF_8);
        Path latin1 = Files.write(dir.resolve("latin1.srt"), (srt + "\n\n9\n00:00:09,000 --> 00:00:10,000\nçà\n")
                .getBytes(StandardCharsets.ISO_8859_1));
        Path noCues = Files.writeString(dir.resolve("notes.srt"), "just some words\nwithout timings\n");
        Path good = Files.writeString(dir.resolve("good.srt"), srt);
        assertNotNull(reason(entry("t-latin1", Modality.TEXT, latin1)));
        assertTrue(reason(entry("t-latin1b", Modality.TEXT, latin1)).startsWith("not UTF-8 text: byte 0xE7"));
        assertTrue(reason(entry("t-none", Modality.TEXT, noCues)).startsWith("no subtitle cues"));
        assertNull(reason(entry("t-ok", Modality.TEXT, good)));
    }
}
