package org.sensorium.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.data.Manifest;
import org.sensorium.data.ManifestEntry;
import org.sensorium.data.SampleSetGenerator;
import org.sensorium.modality.Fixtures;
import org.sensorium.config.Modality;

/** `sensorium data validate` and `data from-folder` on the real fixtures and on broken files. */
class DataCommandsTest {

    @Test
    void fixturesManifestValidates() {
        Object[] r = MainTest.cli(List.of("data", "validate", "data-manifests/fixtures.jsonl"));
        assertEquals(0, r[0], r[1] + "\n" + r[2]);
        String out = (String) r[1];
        assertTrue(out.contains("video           3        3        0"), out);
        assertTrue(out.contains("audio           6        6        0"), out);
        assertTrue(out.contains("text            3        3        0"), out);
        assertTrue(out.contains("box.mp4: 15.18 s"), out);
    }

    @Test
    void zeroByteVideoFailsWithItsName(@TempDir Path dir) throws Exception {
        Files.createFile(dir.resolve("empty.mp4"));
        Path manifest = dir.resolve("m.jsonl");
        Files.writeString(manifest, "{\"id\": \"e\", \"split\": \"test\", \"video\": {\"uri\": \"empty.mp4\"}, \"captions\": [\"nothing\"]}\n");
        Object[] r = MainTest.cli(List.of("data", "validate", manifest.toString()));
        assertEquals(1, r[0], r[1] + "\n" + r[2]);
        String out = (String) r[1];
        assertTrue(out.contains("video           1        0        1"), out);
        assertTrue(out.contains("text            1        1        0"), out);
        assertTrue(out.contains("m.jsonl:1 (id=e): ") && out.contains("empty.mp4: empty file (0 bytes)"), out);

        Object[] strict = MainTest.cli(List.of("data", "validate", "--strict", manifest.toString()));
        assertEquals(2, strict[0]);
        assertTrue(((String) strict[2]).contains("empty.mp4"), (String) strict[2]);
    }

    @Test
    void synthLongWritesRecordingsWithSegmentsThatValidate(@TempDir Path dir) throws Exception {
        Object[] w = MainTest.cli(List.of("data", "synth", "--out", dir.resolve("long").toString(), "--long", "2", "--segments", "3"));
        assertEquals(0, w[0], w[1] + "\n" + w[2]);
        assertTrue(((String) w[1]).startsWith("wrote 2 long recordings of 3 segments"), (String) w[1]);
        Path manifest = dir.resolve("long/manifest.jsonl");
        Object[] r = MainTest.cli(List.of("data", "validate", manifest.toString(), "--set", "data.clip_seconds=6.0"));
        assertEquals(0, r[0], r[1] + "\n" + r[2]);
        String out = (String) r[1];
        assertTrue(out.contains("imu             2        2        0") && out.contains("r00001.mp4: 6.00 s, span 6.00 s\n"), out);
        // A segment past the end of the recording is pointed out.
        Files.writeString(manifest, Files.readString(manifest).replaceFirst("\"end\":6.0,", "\"end\":7.5,"));
        String flagged = (String) MainTest.cli(List.of("data", "validate", manifest.toString(), "--set", "data.clip_seconds=6.0"))[1];
        assertTrue(flagged.contains("r00000.mp4: 6.00 s, span 6.00 s  SEGMENTS end at 7.50 s, past the span"), flagged);
        assertEquals(2, MainTest.cli(List.of("data", "synth", "--out", dir.resolve("x").toString(), "--long", "2", "--segments", "9"))[0]);
    }

    @Test
    void synthScenesWritesSamplesOverStaticScenesThatValidate(@TempDir Path dir) throws Exception {
        Object[] w = MainTest.cli(List.of("data", "synth", "--out", dir.resolve("s").toString(), "--samples", "3", "--scenes", "2"));
        assertEquals(0, w[0], w[1] + "\n" + w[2]);
        assertTrue(((String) w[1]).startsWith("wrote 3 samples over 2 scenes"), (String) w[1]);
        Path manifest = dir.resolve("s/manifest.jsonl");
        assertTrue(Files.readString(manifest).contains("\"scene\":\"stripes-0\"") || Files.readString(manifest).contains("\"scene\":\"checkerboard-1\""));
        Object[] r = MainTest.cli(List.of("data", "validate", manifest.toString()));
        assertEquals(0, r[0], r[1] + "\n" + r[2]);
        Object[] bad = MainTest.cli(List.of("data", "synth", "--out", dir.resolve("x").toString(), "--scenes", "65"));
        assertEquals(2, bad[0]);
        assertTrue(((String) bad[2]).contains("--scenes"), (String) bad[2]);
    }

    @Test
    void brokenManifestIsExitCode2(@TempDir Path dir) throws Exception {
        Path manifest = dir.resolve("bad.jsonl");
        Files.writeString(manifest, "{\"id\": \"x\"}\n");
        Object[] r = MainTest.cli(List.of("data", "validate", manifest.toString()));
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).contains("bad.jsonl:1"), (String) r[2]);
    }

    static final String HMP_TRIAL = "Accelerometer-2011-03-24-09-51-07-walk-f1";

    /**
     * A folder of real recordings: a video with sound and a subtitle file, a video without sound, a WAV
     * with a transcript beside it, a speech WAV whose transcript is a line of a Sphinx transcription file,
     * a transcription file naming no recording beside it, an HMP trial, a truncated MP4, a file of another
     * kind and a hidden file.
     */
    static Path recordings(Path dir) throws Exception {
        Files.createDirectories(dir.resolve("clips"));
        Files.createSymbolicLink(dir.resolve("clips/cup.mp4"), Fixtures.shared("video/cup.mp4").toAbsolutePath());
        Files.writeString(dir.resolve("clips/cup.srt"),
                "1\n00:00:00,000 --> 00:00:04,000\na hand holds a cup\n\n2\n00:00:04,000 --> 00:00:08,100\nthe cup turns around\n");
        Files.createSymbolicLink(dir.resolve("clips/vtest.avi"), Fixtures.shared("video/vtest.avi").toAbsolutePath());
        Files.createDirectories(dir.resolve("sounds"));
        Files.copy(Fixtures.shared("audio/scratch/Animal/Dog1.wav"), dir.resolve("sounds/Dog 1.wav"));
        Files.writeString(dir.resolve("sounds/Dog 1.txt"), "a dog\nbarks twice\n");
        Files.copy(Fixtures.shared("audio/scratch/Animal/Dog2.wav"), dir.resolve("sounds/.hidden.wav"));
        Files.copy(Fixtures.shared("speech/cards/cards.transcription"), dir.resolve("sounds/cards.transcription"));
        Files.createDirectories(dir.resolve("speech"));
        String utterance = "sense_and_sensibility_01_austen_64kb-0880";
        Files.copy(Fixtures.shared("speech/librivox/" + utterance + ".wav"), dir.resolve("speech/" + utterance + ".wav"));
        Files.copy(Fixtures.shared("speech/librivox/transcription"), dir.resolve("speech/transcription"));
        Files.createDirectories(dir.resolve("Walk"));
        Files.copy(Fixtures.shared("imu/hmp/Walk/" + HMP_TRIAL + ".txt"), dir.resolve("Walk/" + HMP_TRIAL + ".txt"));
        Files.createDirectories(dir.resolve("broken"));
        byte[] box = Files.readAllBytes(Fixtures.shared("video/box.mp4"));
        Files.write(dir.resolve("broken/box.mp4"), java.util.Arrays.copyOf(box, 2000));
        Files.writeString(dir.resolve("notes.md"), "# recorded on a table\n");
        return dir;
    }

    @Test
    void fromFolderWritesOneSortedLinePerRecordingAndSkipsTheRest(@TempDir Path dir) throws Exception {
        recordings(dir);
        Path manifest = dir.resolve("manifest.jsonl");
        Object[] r = MainTest.cli(List.of("data", "from-folder", dir.toString(), "--out", manifest.toString(), "--labels-from-folders"));
        assertEquals(0, r[0], r[1] + "\n" + r[2]);
        assertEquals(List.of(
                "{\"id\":\"Walk/" + HMP_TRIAL + "\",\"split\":\"train\",\"label\":\"Walk\",\"subject\":\"f1\","
                        + "\"imu\":{\"uri\":\"Walk/" + HMP_TRIAL + ".txt\"}}",
                "{\"id\":\"clips/cup\",\"split\":\"train\",\"label\":\"clips\",\"video\":{\"uri\":\"clips/cup.mp4\"},"
                        + "\"audio\":{\"uri\":\"clips/cup.mp4\"},\"text\":{\"uri\":\"clips/cup.srt\"}}",
                "{\"id\":\"clips/vtest\",\"split\":\"train\",\"label\":\"clips\",\"video\":{\"uri\":\"clips/vtest.avi\"}}",
                "{\"id\":\"sounds/Dog_1\",\"split\":\"train\",\"label\":\"sounds\",\"audio\":{\"uri\":\"sounds/Dog 1.wav\"},"
                        + "\"captions\":[\"a dog barks twice\"]}",
                "{\"id\":\"speech/sense_and_sensibility_01_austen_64kb-0880\",\"split\":\"train\",\"label\":\"speech\","
                        + "\"audio\":{\"uri\":\"speech/sense_and_sensibility_01_austen_64kb-0880.wav\"},"
                        + "\"captions\":[\"he was not an ill disposed young man\"]}"),
                Files.readAllLines(manifest));
        String out = (String) r[1];
        // 11 files (the hidden one is not seen): 8 used (the librivox transcription included), 3 skipped.
        for (String row : List.of("files seen                 11", "files used                  8", "files skipped               3",
                "samples                     5", "  with video                2", "  with audio                3",
                "  with text                 3", "  with imu                  1", "imu files, channels         1  ax,ay,az")) {
            assertTrue(out.contains(row), row + " in\n" + out);
        }
        assertTrue(out.contains("  broken/box.mp4: cannot decode: "), out);
        assertTrue(out.contains("  notes.md: unknown file type '.md'"), out);
        assertTrue(out.contains("  sounds/cards.transcription: transcription names no recording in its folder"), out);

        List<ManifestEntry> entries = Manifest.read(manifest);
        assertEquals("f1", entries.get(0).subject());
        assertEquals(dir.resolve("sounds/Dog 1.wav").toAbsolutePath(), entries.get(3).sources().get(Modality.AUDIO).path());
        Object[] v = MainTest.cli(List.of("data", "validate", manifest.toString(), "--set", "modalities.imu.channels=[ax,ay,az]"));
        assertEquals(0, v[0], v[1] + "\n" + v[2]);
        for (String row : List.of("video           2        2        0", "audio           3        3        0",
                "text            3        3        0", "imu             1        1        0")) {
            assertTrue(((String) v[1]).contains(row), row + " in\n" + v[1]);
        }

        // The same folder gives the same bytes (the manifest being overwritten is not scanned).
        String first = Files.readString(manifest);
        assertEquals(0, MainTest.cli(List.of("data", "from-folder", dir.toString(), "--out", manifest.toString(), "--labels-from-folders"))[0]);
        assertEquals(first, Files.readString(manifest));
    }

    @Test
    void fromFolderPutsTestSubjectsInTheTestSplit(@TempDir Path dir) throws Exception {
        recordings(dir);
        Path manifest = dir.resolve("m.jsonl");
        Object[] r = MainTest.cli(List.of("data", "from-folder", dir.toString(), "--out", manifest.toString(), "--split", "val",
                "--test-subjects", "f1"));
        assertEquals(0, r[0], r[1] + "\n" + r[2]);
        List<ManifestEntry> entries = Manifest.read(manifest);
        assertEquals(List.of("test", "val", "val", "val", "val"), entries.stream().map(ManifestEntry::split).toList());
        assertTrue(((String) r[1]).contains("  split test                1"), (String) r[1]);

        Object[] typo = MainTest.cli(List.of("data", "from-folder", dir.toString(), "--out", manifest.toString(), "--test-subjects", "f9"));
        assertEquals(2, typo[0]);
        assertEquals("error: --test-subjects: no sample has subject 'f9' (subjects found: f1)", ((String) typo[2]).strip());
        Object[] split = MainTest.cli(List.of("data", "from-folder", dir.toString(), "--split", "dev"));
        assertEquals(2, split[0]);
        assertEquals("error: --split: 'dev' is not train, val or test", ((String) split[2]).strip());
        Object[] none = MainTest.cli(List.of("data", "from-folder", dir.resolve("nope").toString()));
        assertEquals(2, none[0]);
        assertTrue(((String) none[2]).contains("nope: no such folder"), (String) none[2]);
    }

    /**
     * Names that differ only in non-ASCII characters (NFC and NFD, Latin, Cyrillic, CJK) are distinct samples: one
     * line each, distinct ids, a pure-ASCII name keeps its id; a name no uri can spell is listed as skipped.
     */
    @Test
    void fromFolderGivesEveryFileItsOwnIdWhateverItsName(@TempDir Path dir) throws Exception {
        Path media = Files.createDirectories(dir.resolve("media"));
        Path cup = Fixtures.shared("video/cup.mp4").toAbsolutePath();
        List<String> names = List.of("café", "cafe\u0301", "naïve", "naéve", "na_ve", "кот", "пёс", "猫", "犬");
        for (String n : names) {
            Files.copy(cup, media.resolve(n + ".mp4"));
        }
        Process p = new ProcessBuilder("sh", "-c", "cp -- \"$1\" \"$(printf 'bad\\377.mp4')\"", "sh", cup.toString())
                .directory(media.toFile()).start(); // a name whose bytes are not UTF-8
        assertEquals(0, p.waitFor());
        Path manifest = dir.resolve("m.jsonl");
        Object[] r = MainTest.cli(List.of("data", "from-folder", media.toString(), "--out", manifest.toString()));
        assertEquals(0, r[0], r[1] + "\n" + r[2]);
        java.util.Map<Path, String> ids = new java.util.HashMap<>();
        for (ManifestEntry e : Manifest.read(manifest)) {
            ids.put(e.sources().get(Modality.VIDEO).path(), e.id());
        }
        java.util.Map<String, String> byName = new java.util.TreeMap<>();
        names.forEach(n -> byName.put(n, ids.get(media.resolve(n + ".mp4").toAbsolutePath())));
        assertEquals(names.size(), ids.size(), "one line per file: " + ids);
        assertEquals(names.size(), new java.util.HashSet<>(byName.values()).size(), "distinct ids: " + byName);
        assertEquals("na_ve", byName.get("na_ve"), "an ASCII name keeps its id");
        assertEquals("caf_", byName.get("café"), "a name that collides with none keeps its id");
        assertEquals("cafe_", byName.get("cafe\u0301"));
        assertEquals("na_ve-f86fd89d", byName.get("naïve"), "SHA-256 of the UTF-8 bytes of 'naïve': f86fd89d...");
        for (String n : List.of("naïve", "naéve", "кот", "пёс", "猫", "犬")) {
            assertTrue(byName.get(n).matches("[_a-z]+-[0-9a-f]{8}"), n + " -> " + byName.get(n));
        }
        String out = (String) r[1];
        assertTrue(out.contains("files seen                 10") && out.contains("files used                  9")
                && out.contains("files skipped               1"), out);
        assertTrue(out.contains("  bad\uFFFD.mp4: its name is not valid UTF-8 (this system's encoding of file names), so no uri"
                + " can name it"), out);
    }

    /** Names read from files reach the console bounded: a CSV's 100 kB column name, a manifest's 100 kB id. */
    @Test
    void hugeNamesFromFilesAreCutAndControlCharactersReplaced(@TempDir Path dir) throws Exception {
        Path media = Files.createDirectories(dir.resolve("media"));
        Files.writeString(media.resolve("wide.csv"), "t,ax,n\u001b[2J" + "n".repeat(100_000) + "\n0,1,2\n1,2,3\n");
        Object[] r = MainTest.cli(List.of("data", "from-folder", media.toString(), "--out", dir.resolve("f.jsonl").toString()));
        assertEquals(0, r[0], (String) r[2]);
        String out = (String) r[1];
        assertTrue(out.length() < 2000 && out.contains("imu files, channels         1  ax,n?[2Jnnn"),
                () -> out.substring(0, Math.min(out.length(), 2000)));

        String id = "a\\u001b[2J" + "a".repeat(100_000); // a JSON escape: the ESC character in the id
        String line = "{\"id\": \"" + id + "\", \"split\": \"test\", \"captions\": [\"x\"]}\n";
        Path manifest = Files.writeString(dir.resolve("m.jsonl"), line + line);
        Object[] v = MainTest.cli(List.of("data", "validate", manifest.toString()));
        assertEquals(2, v[0]);
        String err = ((String) v[2]).strip();
        assertTrue(err.length() < 300 && err.startsWith("error: m.jsonl:2: key 'id': duplicate id 'a?[2Jaaa")
                && err.chars().noneMatch(Character::isISOControl), () -> err.length() + " characters: " + err.substring(0, Math.min(err.length(), 300)));
    }

    /** scratch.jsonl's split: per category round(0.6 n) drawn with seed 1 to train (Animal 16 -> 10, Percussion 6 -> 4). */
    @Test
    void fromFolderStratifiedSplitIsTheCommittedScratchSplit(@TempDir Path dir) throws Exception {
        Path manifest = dir.resolve("scratch.jsonl");
        Object[] r = MainTest.cli(List.of("data", "from-folder", Fixtures.shared("audio/scratch").toString(), "--out", manifest.toString(),
                "--labels-from-folders", "--split", "test", "--train-fraction", "0.6", "--split-seed", "1"));
        assertEquals(0, r[0], r[1] + "\n" + r[2]);
        List<ManifestEntry> entries = Manifest.read(manifest);
        java.util.Map<String, Long> train = new java.util.TreeMap<>(), test = new java.util.TreeMap<>();
        entries.forEach(e -> (e.split().equals("train") ? train : test).merge(e.label(), 1L, Long::sum));
        assertEquals(10L, train.get("Animal"));
        assertEquals(6L, test.get("Animal"));
        assertEquals(4L, train.get("Percussion"));
        assertEquals(2L, test.get("Percussion"));
        assertEquals(69, entries.stream().filter(e -> e.split().equals("train")).count());
        java.util.Map<String, String> committed = new java.util.TreeMap<>(), again = new java.util.TreeMap<>();
        Manifest.read(Path.of("data-manifests/scratch.jsonl")).forEach(e -> committed.put(e.id(), e.split()));
        entries.forEach(e -> again.put(e.id(), e.split()));
        assertEquals(committed, again, "data-manifests/scratch.jsonl is this command's output");

        Object[] other = MainTest.cli(List.of("data", "from-folder", Fixtures.shared("audio/scratch").toString(), "--out", manifest.toString(),
                "--labels-from-folders", "--split", "test", "--train-fraction", "0.6", "--split-seed", "2"));
        assertEquals(0, other[0]);
        java.util.Map<String, String> seed2 = new java.util.TreeMap<>();
        Manifest.read(manifest).forEach(e -> seed2.put(e.id(), e.split()));
        assertTrue(!seed2.equals(committed), "another seed draws another split");
        Object[] bad = MainTest.cli(List.of("data", "from-folder", dir.toString(), "--train-fraction", "0.6"));
        assertEquals(2, bad[0]);
        assertTrue(((String) bad[2]).startsWith("error: --train-fraction: the samples not drawn"), (String) bad[2]);
    }

    @Test
    void inspectPrintsShapesAndStatisticsAndDrawsOnePicture(@TempDir Path dir) throws Exception {
        Path manifest = SampleSetGenerator.generate(dir.resolve("set"), 12, 7);
        ManifestEntry right = Manifest.read(manifest).get(1); // all four modalities (SampleSetGeneratorTest)
        Object[] r = MainTest.cli(List.of("data", "inspect", manifest.toString(), "--id", right.id(), "--out", dir.resolve("png").toString()));
        assertEquals(0, r[0], r[1] + "\n" + r[2]);
        String out = (String) r[1];
        // Default specs, 2 s clips: video 2 s x 4 fps = 8 frames of 32 x 32 RGB; audio (32000 - 400) / 160 + 1 = 198
        // log-mel frames, rounded down to a multiple of 16 = 192, x 64 bands; text L = 24; IMU 2 s x 50 Hz = 100 x 6.
        assertTrue(out.contains("\nvideo     (8, 32, 32, 3)   "), out);
        assertTrue(out.contains("\naudio     (192, 64)        "), out);
        assertTrue(out.contains("\nimu       (100, 6)         "), out);
        // The subtitle's one cue is the first caption; every word of it is one WordPiece: [CLS] + 8 words + [SEP].
        String caption = right.captions().get(0);
        assertEquals(8, caption.split(" ").length, caption);
        // The default tower is the pretrained one: the text is its (384) sentence vector; the tokens its tokenizer's.
        assertTrue(out.contains("\ntext      (384)            "), out);
        assertTrue(out.contains("\n  text:   \"" + caption + "\"\n"), out);
        assertTrue(out.contains("\n  tokens: [CLS] " + caption + " [SEP]\n"), out);
        Object[] scratch = MainTest.cli(List.of("data", "inspect", manifest.toString(), "--id", right.id(), "--out",
                dir.resolve("png2").toString(), "--set", "modalities.text.tower=scratch"));
        assertEquals(0, scratch[0], scratch[1] + "\n" + scratch[2]);
        assertTrue(((String) scratch[1]).contains("\ntext      (24)             10 of 24 tokens valid\n"), (String) scratch[1]);
        // The sample lies still on a table: az is 1 g, divided by accel_scale 9.81 = 1.
        String az = out.lines().filter(l -> l.startsWith("  az ")).findFirst().orElseThrow();
        assertEquals(1.0, Double.parseDouble(az.trim().split("\\s+")[4]), 0.01, az);

        Path png = dir.resolve("png/" + right.id() + ".png");
        assertTrue(out.contains("wrote " + png + " (1000 x 810)"), out);
        java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(png.toFile());
        // Header 40 + video 180 + audio 260 + text 70 + IMU 260.
        assertEquals(1000, img.getWidth());
        assertEquals(40 + 180 + 260 + 70 + 260, img.getHeight());
        // Top-left pixel of the first frame: the mid-grey background (128) after undoing (x / 255 - 0.45) / 0.225.
        int rgb = img.getRGB(10 + 1, 40 + 22 + 1);
        for (int shift : new int[] {16, 8, 0}) {
            assertEquals(128, rgb >> shift & 0xFF, 8, Integer.toHexString(rgb));
        }
    }

    @Test
    void inspectNamesAMissingManifestOrIdWithExitCode2(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("none.jsonl");
        Object[] r = MainTest.cli(List.of("data", "inspect", missing.toString(), "--id", "a"));
        assertEquals(2, r[0]);
        assertEquals("error: " + missing + ": cannot read: no such file", ((String) r[2]).strip());

        Path manifest = Files.writeString(dir.resolve("m.jsonl"), "{\"id\": \"a\", \"split\": \"test\", \"captions\": [\"x\"]}\n");
        Object[] id = MainTest.cli(List.of("data", "inspect", manifest.toString(), "--id", "b"));
        assertEquals(2, id[0]);
        assertEquals("error: " + manifest + ": no sample with id 'b' (1 samples)", ((String) id[2]).strip());
    }
}
