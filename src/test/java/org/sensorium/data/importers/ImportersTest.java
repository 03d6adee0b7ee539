package org.sensorium.data.importers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.config.ConfigException;
import org.sensorium.config.Modality;
import org.sensorium.data.Manifest;
import org.sensorium.data.ManifestEntry;
import org.sensorium.data.ManifestEntry.Segment;
import org.sensorium.modality.Fixtures;
import org.sensorium.modality.Recording;
import org.sensorium.modality.imu.ImuAdapter;
import org.sensorium.modality.text.Subtitles;

/**
 * Each importer on its format fixture (src/test/resources/importers, written from the dataset's published format),
 * with real recordings from ../shared/data linked in under the names the dataset gives its media. Expected ids,
 * splits, labels, captions and segments are worked out by hand from the fixture files.
 */
class ImportersTest {
    static final Path FIXTURES = Path.of("src/test/resources/importers");

    @TempDir
    Path tmp;

    /** Links a shared recording into the media root under the dataset's name for it. */
    private Path media(String rel, String shared) throws IOException {
        Path p = tmp.resolve("root").resolve(rel);
        Files.createDirectories(p.getParent());
        return Files.createSymbolicLink(p, Fixtures.shared(shared).toAbsolutePath());
    }

    private Importer.Result result;

    /** Imports, writes the manifest to tmp/out/m.jsonl and reads it back, by id. */
    private Map<String, ManifestEntry> load(Dataset d, String annotations, Integer fold, String split) throws IOException {
        return load(d, annotations, fold, split, false, false);
    }

    private Map<String, ManifestEntry> load(Dataset d, String annotations, Integer fold, String split, boolean withAudio,
            boolean dropMissing) throws IOException {
        Files.createDirectories(tmp.resolve("root"));
        Path out = tmp.resolve("out/m.jsonl");
        Importer.Options o = new Importer.Options(tmp.resolve("root"), FIXTURES.resolve(annotations), fold, split, 15, withAudio,
                dropMissing);
        result = Importer.run(d, o, out);
        Importer.writeManifest(result, out);
        Map<String, ManifestEntry> byId = new LinkedHashMap<>();
        Manifest.read(out).forEach(e -> byId.put(e.id(), e));
        return byId;
    }

    private Path root(String rel) {
        return tmp.resolve("root").resolve(rel).toAbsolutePath().normalize();
    }

    private static void check(ManifestEntry e, String split, String label, String subject) {
        assertEquals(split, e.split(), e.id());
        assertEquals(label, e.label(), e.id());
        assertEquals(subject, e.subject(), e.id());
    }

    private static Recording.Source source(ManifestEntry e, Modality m) {
        return e.sources().get(m);
    }

    @Test
    void kineticsClipsByNameUncutVideosWithTheirSpanAndTheSplitOfEachFile() throws IOException {
        media("train/abseiling/--07WQ2iBlw_000001_000011.mp4", "video/cup.mp4");
        media("0AbcDefGhij.mp4", "video/box.mp4");
        media("val/AAAAAAAAAAA_000000_000010.avi", "video/vtest.avi");
        Map<String, ManifestEntry> m = load(Dataset.KINETICS, "kinetics", null, "train");
        assertEquals(List.of("BBBBBBBBBBB_000005_000015", "--07WQ2iBlw_000001_000011", "-4Vl4nWkZsM_000024_000034",
                "0AbcDefGhij_000003_000013", "AAAAAAAAAAA_000000_000010"), List.copyOf(m.keySet())); // files in name order: test, train, validate
        check(m.get("--07WQ2iBlw_000001_000011"), "train", "abseiling", null);
        check(m.get("-4Vl4nWkZsM_000024_000034"), "train", "passing American football (in game)", null);
        check(m.get("AAAAAAAAAAA_000000_000010"), "val", "air drumming", null);
        check(m.get("BBBBBBBBBBB_000005_000015"), "test", null, null);
        Recording.Source cut = source(m.get("--07WQ2iBlw_000001_000011"), Modality.VIDEO);
        assertEquals(root("train/abseiling/--07WQ2iBlw_000001_000011.mp4"), cut.path());
        assertEquals(0.0, cut.start());
        assertTrue(Double.isNaN(cut.end()));
        Recording.Source uncut = source(m.get("0AbcDefGhij_000003_000013"), Modality.VIDEO);
        assertEquals(root("0AbcDefGhij.mp4"), uncut.path());
        assertEquals(3.0, uncut.start());
        assertEquals(13.0, uncut.end());
        assertEquals(root("-4Vl4nWkZsM_000024_000034.mp4"), source(m.get("-4Vl4nWkZsM_000024_000034"), Modality.VIDEO).path());
        assertEquals(List.of("test.csv:2 (id=BBBBBBBBBBB_000005_000015): video ../root/BBBBBBBBBBB_000005_000015.mp4: no such file",
                "train.csv:3 (id=-4Vl4nWkZsM_000024_000034): video ../root/-4Vl4nWkZsM_000024_000034.mp4: no such file"), result.missing());
        assertEquals(List.of("train.csv:5: time_start/time_end 'abc', '11' are not numbers"), result.skipped());
        assertEquals(List.of("abseiling", "air drumming", "passing American football (in game)"), List.copyOf(result.classes().keySet()));
        assertEquals(3, result.withMedia());
    }

    @Test
    void ucf101TakesTheFoldsListsAndMatchesClassNamesIgnoringCase() throws IOException {
        media("ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi", "video/vtest.avi");
        media("elsewhere/v_HandStandPushups_g01_c04.avi", "video/vtest.avi");
        Map<String, ManifestEntry> m = load(Dataset.UCF101, "ucf101", null, "train");
        assertEquals(List.of("v_ApplyEyeMakeup_g08_c01", "v_HandStandPushups_g09_c02", "v_YoYo_g10_c03", "v_ApplyEyeMakeup_g01_c01",
                "v_HandStandPushups_g01_c04"), List.copyOf(m.keySet()));
        check(m.get("v_ApplyEyeMakeup_g08_c01"), "train", "ApplyEyeMakeup", "g08");
        check(m.get("v_HandStandPushups_g09_c02"), "train", "HandstandPushups", "g09");
        check(m.get("v_YoYo_g10_c03"), "train", "YoYo", "g10");
        check(m.get("v_ApplyEyeMakeup_g01_c01"), "test", "ApplyEyeMakeup", "g01");
        check(m.get("v_HandStandPushups_g01_c04"), "test", "HandstandPushups", "g01");
        assertEquals(root("elsewhere/v_HandStandPushups_g01_c04.avi"), source(m.get("v_HandStandPushups_g01_c04"), Modality.VIDEO).path());
        assertEquals(root("YoYo/v_YoYo_g10_c03.avi"), source(m.get("v_YoYo_g10_c03"), Modality.VIDEO).path());
        assertEquals(List.of("testlist01.txt:3: class 'Juggling' is not in classInd.txt"), result.skipped());
        assertEquals(3, result.missing().size());
        assertEquals(Map.of("ApplyEyeMakeup", "apply eye makeup", "HandstandPushups", "handstand pushups", "YoYo", "yo yo"), result.classes());

        Map<String, ManifestEntry> fold2 = load(Dataset.UCF101, "ucf101", 2, "train");
        assertEquals(List.of("v_ApplyEyeMakeup_g01_c01", "v_YoYo_g10_c03", "v_ApplyEyeMakeup_g08_c01"), List.copyOf(fold2.keySet()));
        assertEquals("test", fold2.get("v_ApplyEyeMakeup_g08_c01").split());
        assertThrows(ConfigException.class, () -> load(Dataset.UCF101, "ucf101", 3, "train")); // no trainlist03.txt here
        assertThrows(ConfigException.class, () -> load(Dataset.UCF101, "ucf101", 4, "train"));
    }

    @Test
    void hmdb51TagsOneTwoAndZero() throws IOException {
        media("brush_hair/April_09_brush_hair_u_nm_np1_ba_goo_0.avi", "video/vtest.avi");
        Map<String, ManifestEntry> m = load(Dataset.HMDB51, "hmdb51", null, "train");
        assertEquals(List.of("April_09_brush_hair_u_nm_np1_ba_goo_0", "Brushing_Hair_with_Beth_brush_hair_h_nm_np1_le_goo_0",
                "(Rad)Schlag_die_Bank!_cartwheel_f_cm_np1_le_med_0", "Acrobacias_de_un_fenomeno_cartwheel_f_cm_np1_ba_bad_8"),
                List.copyOf(m.keySet()));
        check(m.get("April_09_brush_hair_u_nm_np1_ba_goo_0"), "train", "brush_hair", null);
        check(m.get("Brushing_Hair_with_Beth_brush_hair_h_nm_np1_le_goo_0"), "test", "brush_hair", null);
        check(m.get("(Rad)Schlag_die_Bank!_cartwheel_f_cm_np1_le_med_0"), "test", "cartwheel", null);
        check(m.get("Acrobacias_de_un_fenomeno_cartwheel_f_cm_np1_ba_bad_8"), "train", "cartwheel", null);
        assertEquals(root("cartwheel/(Rad)Schlag_die_Bank!_cartwheel_f_cm_np1_le_med_0.avi"),
                source(m.get("(Rad)Schlag_die_Bank!_cartwheel_f_cm_np1_le_med_0"), Modality.VIDEO).path());
        assertEquals(List.of("1 videos tagged 0 (not in split 1) left out"), result.notes());
        assertEquals(Map.of("brush_hair", "brush hair", "cartwheel", "cartwheel"), result.classes());

        Map<String, ManifestEntry> fold2 = load(Dataset.HMDB51, "hmdb51", 2, "train");
        assertEquals(List.of("(Rad)Schlag_die_Bank!_cartwheel_f_cm_np1_le_med_0", "Acrobacias_de_un_fenomeno_cartwheel_f_cm_np1_ba_bad_8"),
                List.copyOf(fold2.keySet()));
        assertEquals("train", fold2.get("(Rad)Schlag_die_Bank!_cartwheel_f_cm_np1_le_med_0").split());
        assertEquals(0, result.withMedia()); // split 2 lists only cartwheel, whose videos are not there
    }

    @Test
    void esc50TestFoldIsTheTestSplitAndClassesComeInTargetOrder() throws IOException {
        media("audio/1-100032-A-0.wav", "audio/scratch/Animal/Dog1.wav");
        media("audio/1-100038-A-14.wav", "audio/scratch/Animal/Bird.wav");
        media("audio/5-103415-A-14.wav", "audio/scratch/Animal/Cricket.wav");
        media("audio/5-200334-A-1.wav", "audio/scratch/Animal/Rooster.wav");
        Map<String, ManifestEntry> m = load(Dataset.ESC50, "esc50", null, "train");
        assertEquals(List.of("1-100032-A-0", "1-100038-A-14", "2-102414-B-17", "5-103415-A-14", "5-200334-A-1"), List.copyOf(m.keySet()));
        check(m.get("1-100032-A-0"), "train", "dog", "100032");
        check(m.get("2-102414-B-17"), "train", "pouring_water", "102414");
        check(m.get("5-103415-A-14"), "test", "chirping_birds", "103415");
        check(m.get("5-200334-A-1"), "test", "rooster", "200334");
        assertEquals(Map.of("esc10", "True", "fold", "1", "take", "A"), m.get("1-100032-A-0").attributes());
        assertEquals(root("audio/1-100032-A-0.wav"), source(m.get("1-100032-A-0"), Modality.AUDIO).path());
        assertEquals(List.of("dog", "rooster", "chirping_birds", "pouring_water"), List.copyOf(result.classes().keySet()));
        assertEquals("chirping birds", result.classes().get("chirping_birds"));
        assertEquals(List.of("esc50.csv:4 (id=2-102414-B-17): audio ../root/audio/2-102414-B-17.wav: no such file"), result.missing());

        Map<String, ManifestEntry> fold1 = load(Dataset.ESC50, "esc50/meta/esc50.csv", 1, "train");
        assertEquals(List.of("test", "test", "train", "train", "train"), fold1.values().stream().map(ManifestEntry::split).toList());
    }

    @Test
    void webvidCaptionsWithQuotesCommasAndLineBreaksAndTheSplitOfTheFile() throws IOException {
        media("006001_006050/21179416.mp4", "video/box.mp4");
        media("5629184.mp4", "video/cup.mp4");
        media("000001_000050/1066080.avi", "video/vtest.avi");
        Map<String, ManifestEntry> m = load(Dataset.WEBVID, "webvid", null, "train");
        assertEquals(List.of("21179416", "5629184", "1056612", "1066080"), List.copyOf(m.keySet()));
        assertEquals(List.of("Aerial shot winter forest"), m.get("21179416").captions());
        assertEquals(List.of("A hand turns a white cup, slowly, on a \"wooden\" table"), m.get("5629184").captions());
        assertEquals(List.of("Pedestrians cross a plaza\non a grey day"), m.get("1066080").captions());
        assertEquals(List.of("train", "train", "train", "val"), m.values().stream().map(ManifestEntry::split).toList());
        assertEquals(root("5629184.mp4"), source(m.get("5629184"), Modality.VIDEO).path());
        assertEquals(Map.of("duration", "PT00H00M11S", "page_dir", "006001_006050"), m.get("21179416").attributes());
        assertEquals(List.of("results_2M_train.csv:4 (id=1056612): video ../root/004351_004400/1056612.mp4: no such file"), result.missing());
        assertTrue(result.classes().isEmpty());
    }

    @Test
    void howto100mSentencesBecomeTimedSubtitles() throws IOException {
        media("videos/-1Zvz1Ybtlo.mp4", "video/cup.mp4");
        Map<String, ManifestEntry> m = load(Dataset.HOWTO100M, "howto100m", null, "val");
        assertEquals(List.of("-1Zvz1Ybtlo", "zzzzzzzzzzz"), List.copyOf(m.keySet()));
        ManifestEntry e = m.get("-1Zvz1Ybtlo");
        assertEquals("val", e.split());
        assertEquals(root("videos/-1Zvz1Ybtlo.mp4"), source(e, Modality.VIDEO).path());
        Path srt = source(e, Modality.TEXT).path();
        assertEquals(tmp.resolve("out/m.subtitles/-1Zvz1Ybtlo.srt").toAbsolutePath().normalize(), srt);
        assertEquals("1\n00:00:00,500 --> 00:00:03,200\nso today we are going to\n\n2\n00:00:02,840 --> 00:00:05,500\nmake a cup of tea\n\n",
                Files.readString(srt));
        assertEquals(List.of("caption.json:3: video 0h2z4l3Tq5E has no sentence with words and end > start"),
                result.skipped());
        assertEquals(List.of("2 sentences without words or with end <= start dropped"), result.notes());
        assertEquals(List.of("caption.json:2 (id=zzzzzzzzzzz): video ../root/zzzzzzzzzzz.mp4: no such file"), result.missing());
        List<Subtitles.Cue> cues = Subtitles.read(srt); // what the text adapter reads
        assertEquals(2, cues.size());
        assertEquals("make a cup of tea", Subtitles.textBetween(cues, 3.3, 5.0));
    }

    @Test
    void ego4dImuIsConvertedToTheAdaptersCsvOnTheVideosClock() throws IOException {
        media("full_scale/1a2b3c4d-0000-4000-8000-00000000cafe.mp4", "video/cup.mp4");
        Map<String, ManifestEntry> m = load(Dataset.EGO4D, "ego4d/imu", null, "train");
        String uid = "1a2b3c4d-0000-4000-8000-00000000cafe";
        assertEquals(List.of(uid, "ffffffff-0000-4000-8000-00000000beef"), List.copyOf(m.keySet()));
        ManifestEntry e = m.get(uid);
        assertEquals(root("full_scale/" + uid + ".mp4"), source(e, Modality.VIDEO).path());
        Path imu = source(e, Modality.IMU).path();
        assertEquals(tmp.resolve("out/m.imu/" + uid + ".csv").toAbsolutePath().normalize(), imu);
        assertEquals(List.of("t,ax,ay,az,gx,gy,gz", "0.0,0.1,9.8,0.2,0.01,-0.02,0.03", "0.005,0.1,9.7,0.2,0.02,-0.02,0.03",
                "0.01,0.2,9.8,0.1,0.03,-0.01,0.02", "0.02,0.3,9.9,0.0,0.03,0.0,0.01"), Files.readAllLines(imu));
        assertEquals(List.of(uid + ".csv: 2 rows dropped (time not increasing, or a value not a number)"), result.notes());
        assertEquals(List.of("ffffffff-0000-4000-8000-00000000beef.csv (id=ffffffff-0000-4000-8000-00000000beef): video "
                + "../root/ffffffff-0000-4000-8000-00000000beef.mp4: no such file"), result.missing());
        assertEquals(2, result.withMedia()); // the second one has its IMU
        assertEquals(List.of("ax", "ay", "az", "gx", "gy", "gz"), ImuAdapter.channels(imu)); // the IMU adapter reads it
    }

    @Test
    void charadesOverlappingActionsBecomeOrderedSegments() throws IOException {
        media("Charades_v1_480/46GP8.mp4", "video/vtest.avi");
        Map<String, ManifestEntry> m = load(Dataset.CHARADES, "charades", null, "train");
        assertEquals(List.of("YSKX3", "46GP8", "N11GT"), List.copyOf(m.keySet())); // Charades_v1_test.csv sorts first
        ManifestEntry a = m.get("46GP8");
        check(a, "train", null, "HR43");
        assertEquals(List.of(new Segment(0.0, 11.9, "c147"), new Segment(11.9, 21.2, "c092")), a.segments());
        assertEquals(List.of("A person cooks food on a stove before looking out of a window."), a.captions());
        assertEquals(Map.of("scene", "Kitchen"), a.attributes());
        ManifestEntry b = m.get("N11GT");
        assertEquals(List.of(new Segment(1.0, 2.0, "c059"), new Segment(2.0, 4.0, "c015"), new Segment(4.0, 7.0, "c059")), b.segments());
        assertEquals(List.of("Person at the bottom of the staircase sits in a chair", "The person holds a phone"), b.captions());
        check(m.get("YSKX3"), "test", null, "9SVI");
        assertEquals(List.of(), m.get("YSKX3").segments());
        assertEquals(List.of("c015", "c059", "c092", "c147"), List.copyOf(result.classes().keySet()));
        assertEquals("someone is standing up from somewhere", result.classes().get("c092"));
        assertEquals(List.of("2 videos had overlapping actions: each moment kept the action that began last"), result.notes());
    }

    @Test
    void breakfastFramesToSecondsAndTheFoldsByPerson() throws IOException {
        media("P03/cam01/P03_cereals.mp4", "video/box.mp4");
        Map<String, ManifestEntry> m = load(Dataset.BREAKFAST, "breakfast", null, "train");
        assertEquals(List.of("P03/cam01/P03_cereals", "P42/cam02/P42_tea"), List.copyOf(m.keySet()));
        ManifestEntry e = m.get("P03/cam01/P03_cereals");
        check(e, "test", "cereals", "P03");
        assertEquals(List.of(new Segment(0.0, 2.0, "SIL"), new Segment(2.0, 10.0, "take_bowl"), new Segment(10.0, 14.0, "pour_cereals")),
                e.segments());
        assertEquals(root("P03/cam01/P03_cereals.mp4"), source(e, Modality.VIDEO).path());
        check(m.get("P42/cam02/P42_tea"), "train", "tea", "P42");
        assertEquals(List.of("P16/webcam01/P16_coffee: line 3: segment 61-45 is empty, or before the end of the one above"), result.skipped());
        assertEquals(Map.of("cereals", "cereals", "tea", "tea"), result.classes());

        Map<String, ManifestEntry> fold4 = load(Dataset.BREAKFAST, "breakfast", 4, "train");
        assertEquals(List.of("train", "test"), fold4.values().stream().map(ManifestEntry::split).toList());
        assertNull(fold4.get("P16/webcam01/P16_coffee"));
    }

    @Test
    void dropMissingLeavesOutWhatIsNotThereAndWithAudioReadsTheVideosSound() throws IOException {
        media("006001_006050/21179416.mp4", "video/box.mp4");
        media("5629184.mp4", "video/cup.mp4");
        Map<String, ManifestEntry> m = load(Dataset.WEBVID, "webvid", null, "train", true, true);
        assertEquals(List.of("21179416", "5629184"), List.copyOf(m.keySet()));
        assertEquals(root("5629184.mp4"), source(m.get("5629184"), Modality.AUDIO).path());
        assertEquals(List.of("results_2M_train.csv:4 (id=1056612): video+audio ../root/004351_004400/1056612.mp4: no such file",
                "results_2M_val.csv:2 (id=1066080): video+audio ../root/000001_000050/1066080.mp4: no such file"), result.missing()); // still listed
    }

    @Test
    void namesFoldsAndTheLabelFile() throws IOException {
        assertEquals(Dataset.ESC50, Dataset.of("ESC-50"));
        assertThrows(ConfigException.class, () -> Dataset.of("kinetics-9000"));
        assertThrows(ConfigException.class, () -> load(Dataset.KINETICS, "kinetics", 1, "train"));
        media("audio/1-100032-A-0.wav", "audio/scratch/Animal/Dog1.wav");
        load(Dataset.ESC50, "esc50", null, "train");
        Path labels = tmp.resolve("labels/esc50.txt");
        Importer.writeLabels(result, labels, "esc50.csv");
        assertEquals(List.of("# 4 esc50 classes in the dataset's order (sensorium data import esc50 from esc50.csv): label | phrase",
                "dog", "rooster", "chirping_birds | chirping birds", "pouring_water | pouring water"), Files.readAllLines(labels));
        assertEquals(List.of("dog", "rooster", "chirping_birds", "pouring_water"),
                org.sensorium.data.LabelCaptions.classes(labels, "test").labels());
    }
}
