package org.sensorium.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.config.Json;
import org.sensorium.modality.Fixtures;
import org.sensorium.modality.Spans;

/** `sensorium embed` on the shared real fixtures and literal text with a tiny pretrained run; bad inputs and options. */
class EmbedCommandTest {
    @TempDir
    static Path dir;
    static String run;

    static final Path VIDEO = Fixtures.shared("video/cup.mp4");         // 8.1 s, with an AAC track
    static final Path AUDIO = Fixtures.shared("audio/lena_singing.wav"); // 12.27 s
    static final Path IMU = Fixtures.shared("imu/gopro/hero7.raw");      // GoPro GPMF: accelerometer and gyroscope
    static final Path SRT = Fixtures.shared("subtitles/sample.srt");     // last cue ends at 21.48 s
    static final Path VTT = Fixtures.shared("subtitles/sample.vtt");     // last cue ends at 30 s

    @BeforeAll
    static void tinyRun() {
        Object[] r = MainTest.cli(MainTest.tinyArgs(dir, "--set", "eval.at_end=false"));
        assertEquals(0, r[0], (String) r[2]);
        run = dir.resolve("runs/e2e").toString();
    }

    /** embed with these arguments after --checkpoint RUN: {exit code, stdout, stderr}. */
    static Object[] embed(String... args) {
        List<String> all = new ArrayList<>(List.of("embed", "--checkpoint", run));
        all.addAll(List.of(args));
        return MainTest.cli(all);
    }

    /** The JSONL rows of a file, in order. */
    static List<Map<?, ?>> rows(Path jsonl) throws Exception {
        List<Map<?, ?>> out = new ArrayList<>();
        for (String l : Files.readAllLines(jsonl)) {
            out.add(Json.MAPPER.readValue(l, Map.class));
        }
        return out;
    }

    /** The last line of stderr (logged warnings come before it), checked to be the only error and without a stack trace. */
    static String error(Object[] r) {
        String err = (String) r[2];
        assertFalse(err.contains("\tat ") || err.contains("Exception"), err);
        List<String> lines = err.strip().lines().toList();
        assertEquals(1, lines.stream().filter(l -> l.startsWith("error: ")).count(), err);
        return lines.get(lines.size() - 1);
    }

    static double norm(Map<?, ?> row) {
        return Math.sqrt(((List<?>) row.get("embedding")).stream().mapToDouble(x -> Math.pow(((Number) x).doubleValue(), 2)).sum());
    }

    @Test
    void filesAndATextGiveOneUnitRowPerInputAndModalityWithTheCentredClipsStart() throws Exception {
        Path out = dir.resolve("files.jsonl");
        Object[] r = embed(VIDEO.toString(), AUDIO.toString(), IMU.toString(), SRT.toString(), VTT.toString(),
                "--text", "a person walking", "--out", out.toString());
        assertEquals(0, r[0], (String) r[2]);
        assertTrue(((String) r[1]).contains("embedded 6 of 6 inputs (centred clips)"), (String) r[1]);
        Map<String, List<String>> modalities = new LinkedHashMap<>();
        Map<String, Object> starts = new LinkedHashMap<>();
        for (Map<?, ?> row : rows(out)) {
            assertEquals(1.0, norm(row), 1e-5, row.get("id") + " " + row.get("modality"));
            assertEquals(16, ((List<?>) row.get("embedding")).size());
            modalities.computeIfAbsent((String) row.get("id"), k -> new ArrayList<>()).add((String) row.get("modality"));
            starts.put((String) row.get("id"), row.get("start"));
        }
        Map<String, List<String>> expected = new LinkedHashMap<>(); // files in argument order, then texts
        expected.put(VIDEO.toString(), List.of("video", "audio"));   // its sound track too
        expected.put(AUDIO.toString(), List.of("audio"));
        expected.put(IMU.toString(), List.of("imu"));
        expected.put(SRT.toString(), List.of("text"));
        expected.put(VTT.toString(), List.of("text"));
        expected.put("a person walking", List.of("text"));
        assertEquals(expected, modalities);
        // the centred 2 s clip starts at (span - 2) / 2; a subtitle file spans 0 to its last cue's end; a text has no clip
        assertEquals((Spans.containerSeconds(VIDEO) - 2) / 2, ((Number) starts.get(VIDEO.toString())).doubleValue(), 1e-9);
        assertEquals((12.271746 - 2) / 2, ((Number) starts.get(AUDIO.toString())).doubleValue(), 1e-6);
        assertEquals(9.74, ((Number) starts.get(SRT.toString())).doubleValue(), 1e-9);
        assertEquals(14.0, ((Number) starts.get(VTT.toString())).doubleValue(), 1e-9);
        assertEquals(null, starts.get("a person walking"));
    }

    @Test
    void clipsAllGivesEveryClipThatTilesTheRecording() throws Exception {
        Path out = dir.resolve("all.jsonl");
        Object[] r = embed(VIDEO.toString(), "--clips", "all", "--modality", "video", "--out", out.toString());
        assertEquals(0, r[0], (String) r[2]);
        List<Double> starts = new ArrayList<>();
        for (Map<?, ?> row : rows(out)) {
            assertEquals("video", row.get("modality"));
            assertEquals(1.0, norm(row), 1e-5);
            starts.add(((Number) row.get("start")).doubleValue());
        }
        double span = Spans.containerSeconds(VIDEO); // 8.1 s: four clips back to back, and one ending at the end
        assertEquals(List.of(0.0, 2.0, 4.0, 6.0, span - 2), starts);
    }

    @Test
    void brokenFilesAreSkippedAndNamedStrictStopsAndNothingEmbeddedExitsNonZero() throws Exception {
        Path broken = dir.resolve("broken.mp4");
        Files.write(broken, java.util.Arrays.copyOf(Files.readAllBytes(VIDEO), 200)); // truncated
        Path empty = Files.write(dir.resolve("empty.wav"), new byte[0]);
        Path unknown = Files.writeString(dir.resolve("notes.xyz"), "x");
        Path out = dir.resolve("some.jsonl");
        Object[] r = embed(broken.toString(), SRT.toString(), empty.toString(), unknown.toString(), "--out", out.toString());
        assertEquals(0, r[0], (String) r[2]);
        String stdout = (String) r[1];
        assertTrue(stdout.contains("embedded 1 of 4 inputs") && stdout.contains("skipped 3 inputs:"), stdout);
        assertTrue(stdout.contains("input:1 (id=" + broken + "): " + broken + ": no video track"), stdout); // 200 bytes: a header
        assertTrue(stdout.contains("input:3 (id=" + empty + "): " + empty + ": empty file (0 bytes)"), stdout);
        assertTrue(stdout.contains("input:4 (id=" + unknown + "): " + unknown + ": unknown file type '.xyz'"), stdout);
        assertEquals(Set.of(SRT.toString()), Set.copyOf(rows(out).stream().map(x -> x.get("id")).toList()));

        Path none = dir.resolve("none.npy");
        Object[] nothing = embed(broken.toString(), empty.toString(), "--out", none.toString());
        assertEquals(2, nothing[0]);
        String err = error(nothing);
        assertTrue(err.startsWith("error: nothing embedded: of 2 inputs 2 were skipped (first: input:1 (id=" + broken), err);
        assertFalse(Files.exists(none) || Files.exists(dir.resolve("none.ids.jsonl")));
        try (var files = Files.list(dir)) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().endsWith(".tmp")), "temporary files are removed");
        }

        Object[] strict = embed(SRT.toString(), broken.toString(), "--strict", "--out", dir.resolve("strict.jsonl").toString());
        assertEquals(2, strict[0]);
        String line = error(strict);
        assertTrue(line.startsWith("error: input:2 (id=" + broken + ")") && line.endsWith("(--strict)"), line);
        assertFalse(Files.exists(dir.resolve("strict.jsonl")));
    }

    @Test
    void badOptionsAreOneLineWithExitCode2() throws Exception {
        Path badManifest = Files.writeString(dir.resolve("bad.jsonl"), "{\"id\": \"a\", \"split\": \"val\", \"video\": 3}\n");
        Path valOnly = Files.writeString(dir.resolve("val.jsonl"), "{\"id\": \"a\", \"split\": \"val\", \"captions\": [\"hello\"]}\n");
        Map<List<String>, String> cases = new LinkedHashMap<>();
        cases.put(List.of(), "error: embed: nothing to embed: give files, --text or --manifest");
        cases.put(List.of("--text", "x", "--modality", "smell"), "error: --modality: unknown modality 'smell'");
        cases.put(List.of("--text", "x", "--modality", "video"), "error: --text: text is not among the modalities embedded");
        cases.put(List.of(SRT.toString(), "--clips", "0"), "error: --clips: '0' is neither 'all' nor a count of clips >= 1");
        cases.put(List.of(SRT.toString(), "--split", "val"), "error: --split: needs --manifest");
        cases.put(List.of(SRT.toString(), "--out", dir.toString()), "error: --out: " + dir + " is a folder");
        cases.put(List.of("--manifest", dir.resolve("missing.jsonl").toString()), "error: " + dir.resolve("missing.jsonl"));
        cases.put(List.of("--manifest", badManifest.toString()), "error: bad.jsonl:1: key 'video': must be an object");
        cases.put(List.of("--manifest", valOnly.toString(), "--split", "test"), "error: --split: " + valOnly + " has no sample of split 'test' (its splits: val;");
        for (Map.Entry<List<String>, String> c : cases.entrySet()) {
            Object[] r = embed(c.getKey().toArray(String[]::new));
            String err = error(r);
            assertEquals(2, r[0], c.getKey() + ": " + err);
            assertTrue(err.startsWith(c.getValue()), c.getKey() + ": " + err);
        }
        Object[] noRun = MainTest.cli(List.of("embed", "--checkpoint", dir.resolve("nowhere").toString(), "--text", "x"));
        assertEquals(2, noRun[0]);
        assertTrue(error(noRun).startsWith("error: --checkpoint: "), (String) noRun[2]);
    }
}
