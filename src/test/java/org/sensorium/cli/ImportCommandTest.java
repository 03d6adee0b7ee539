package org.sensorium.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.modality.Fixtures;

/** `sensorium data import` end to end: the manifest, the label file, the list of missing media, and `data validate` on it. */
class ImportCommandTest {
    static final String FIXTURES = "src/test/resources/importers/";

    @Test
    void ucf101ImportValidatesAndNamesEachMissingVideo(@TempDir Path dir) throws Exception {
        Path root = dir.resolve("UCF-101");
        Files.createDirectories(root.resolve("ApplyEyeMakeup"));
        Files.createSymbolicLink(root.resolve("ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi"), Fixtures.shared("video/vtest.avi").toAbsolutePath());
        Path out = dir.resolve("ucf101.jsonl"), labels = dir.resolve("labels/ucf101.txt");
        Object[] r = MainTest.cli(List.of("data", "import", "ucf101", "--root", root.toString(), "--annotations", FIXTURES + "ucf101",
                "--out", out.toString(), "--labels-out", labels.toString()));
        assertEquals(0, r[0], r[1] + "\n" + r[2]);
        String said = (String) r[1];
        assertTrue(said.startsWith("ucf101: 5 samples {test=2, train=3}, 3 classes, 1 with media found\n4 media files missing:\n"
                + "  trainlist01.txt:2 (id=v_HandStandPushups_g09_c02): video UCF-101/HandstandPushups/v_HandStandPushups_g09_c02.avi: no such file\n"), said);
        assertTrue(said.contains("1 annotation line skipped:\n  testlist01.txt:3: class 'Juggling' is not in classInd.txt\n"), said);
        assertTrue(said.contains("wrote 5 samples to " + out) && said.contains("wrote 3 classes to " + labels), said);
        assertEquals(List.of("ApplyEyeMakeup | apply eye makeup", "HandstandPushups | handstand pushups", "YoYo | yo yo"),
                Files.readAllLines(labels).subList(1, 4));
        assertEquals("{\"id\":\"v_ApplyEyeMakeup_g08_c01\",\"split\":\"train\",\"label\":\"ApplyEyeMakeup\",\"subject\":\"g08\","
                + "\"video\":{\"uri\":\"UCF-101/ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi\"}}", Files.readAllLines(out).get(0));

        Object[] v = MainTest.cli(List.of("data", "validate", out.toString()));
        assertEquals(1, v[0], v[1] + "\n" + v[2]);
        String report = (String) v[1];
        assertTrue(report.contains("video           5        1        4"), report);
        assertTrue(report.contains("4 failed:\n"), report);
        for (String id : new String[] {"v_HandStandPushups_g09_c02", "v_YoYo_g10_c03", "v_ApplyEyeMakeup_g01_c01", "v_HandStandPushups_g01_c04"}) {
            assertEquals(1, report.lines().filter(l -> l.contains("(id=" + id + ")") && l.contains(id + ".avi: no such file")).count(), report);
        }
    }

    @Test
    void nothingFoundIsExitCode2AndWritesNothing(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("empty"));
        Path out = dir.resolve("k.jsonl");
        Object[] r = MainTest.cli(List.of("data", "import", "kinetics", "--root", dir.resolve("empty").toString(),
                "--annotations", FIXTURES + "kinetics", "--out", out.toString()));
        assertEquals(2, r[0], r[1] + "\n" + r[2]);
        assertTrue(((String) r[1]).contains("5 media files missing:"), (String) r[1]);
        assertTrue(((String) r[2]).contains("error: no kinetics sample has a media file under"), (String) r[2]);
        assertFalse(Files.exists(out));

        Object[] bad = MainTest.cli(List.of("data", "import", "kinetics", "--root", dir.toString(), "--annotations",
                FIXTURES + "kinetics", "--out", out.toString(), "--fold", "2"));
        assertEquals(2, bad[0]);
        assertTrue(((String) bad[2]).contains("--fold: kinetics has no official folds"), (String) bad[2]);
    }
}
