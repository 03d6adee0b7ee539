package org.sensorium.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `sensorium data validate` on the real fixtures and on a broken file. */
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
    void brokenManifestIsExitCode2(@TempDir Path dir) throws Exception {
        Path manifest = dir.resolve("bad.jsonl");
        Files.writeString(manifest, "{\"id\": \"x\"}\n");
        Object[] r = MainTest.cli(List.of("data", "validate", manifest.toString()));
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).contains("bad.jsonl:1"), (String) r[2]);
    }
}
