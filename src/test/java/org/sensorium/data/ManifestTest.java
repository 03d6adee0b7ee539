package org.sensorium.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.config.Modality;

class ManifestTest {
    @TempDir Path dir;

    private Path write(String... lines) throws IOException {
        return Files.writeString(dir.resolve("manifest.jsonl"), String.join("\n", lines) + "\n");
    }

    @Test
    void readsEntriesResolvingRelativeUris() throws IOException {
        Path m = write(
                "{\"id\":\"a\",\"split\":\"train\",\"label\":\"left\",\"subject\":\"f1\",\"video\":{\"uri\":\"v/a.mp4\",\"start\":1.5,\"end\":3.5},"
                        + "\"imu\":{\"uri\":\"/abs/a.csv\"},\"attributes\":{\"color\":\"red\"}}",
                "",
                "{\"id\":\"b\",\"split\":\"val\",\"captions\":[\"a cup\",\"a mug\"]}");
        List<ManifestEntry> es = Manifest.read(m);
        assertEquals(2, es.size());
        ManifestEntry a = es.get(0);
        assertEquals(dir.toAbsolutePath().resolve("v/a.mp4"), a.sources().get(Modality.VIDEO).path());
        assertEquals(1.5, a.sources().get(Modality.VIDEO).start());
        assertEquals(2.0, a.sources().get(Modality.VIDEO).duration());
        assertEquals(Path.of("/abs/a.csv"), a.sources().get(Modality.IMU).path());
        assertEquals(0.0, a.sources().get(Modality.IMU).start());
        assertTrue(Double.isNaN(a.sources().get(Modality.IMU).end()));
        assertFalse(a.has(Modality.AUDIO));
        assertEquals("f1", a.subject());
        assertEquals(java.util.Map.of("color", "red"), a.attributes());
        ManifestEntry b = es.get(1);
        assertEquals(3, b.line());
        assertNull(b.label());
        assertNull(b.subject());
        assertTrue(b.attributes().isEmpty());
        assertTrue(b.has(Modality.TEXT));
        assertEquals(List.of("a cup", "a mug"), b.captions());
        assertEquals("manifest.jsonl:3 (id=b)", b.where());
    }

    @Test
    void errorsNameFileLineAndKey() throws IOException {
        String ok = "{\"id\":\"a\",\"split\":\"train\",\"captions\":[\"x\"]}";
        assertError("manifest.jsonl:2: key 'colour': unknown key", ok, "{\"id\":\"b\",\"split\":\"train\",\"colour\":1}");
        assertError("manifest.jsonl:2: key 'id': missing", ok, "{\"split\":\"train\",\"captions\":[\"x\"]}");
        assertError("manifest.jsonl:3: key 'id': duplicate id 'a' (first on line 1)", ok, "", ok);
        assertError("manifest.jsonl:1: key 'split': 'dev' is not train, val or test",
                "{\"id\":\"a\",\"split\":\"dev\",\"captions\":[\"x\"]}");
        assertError("manifest.jsonl:2: not a JSON object", ok, "[1, 2]");
        assertError("manifest.jsonl:1: key 'video.end': 1.0 must be > start 2.0",
                "{\"id\":\"a\",\"split\":\"test\",\"video\":{\"uri\":\"x.mp4\",\"start\":2,\"end\":1}}");
        assertError("manifest.jsonl:1: key 'subject': must be a non-empty string",
                "{\"id\":\"a\",\"split\":\"test\",\"subject\":\" \",\"captions\":[\"x\"]}");
        assertError(dir.resolve("none.jsonl") + ": cannot read: no such file", () -> Manifest.read(dir.resolve("none.jsonl")));
        assertError("manifest.jsonl:1: key 'audio.uri': missing", "{\"id\":\"a\",\"split\":\"test\",\"audio\":{}}");
    }

    @Test
    void segmentsOfALongRecordingAreReadInTimeOrderAndChecked() throws IOException {
        Path m = write("{\"id\":\"r\",\"split\":\"train\",\"imu\":{\"uri\":\"r.csv\"},"
                + "\"segments\":[{\"start\":0,\"end\":1.5,\"label\":\"left\"},{\"start\":1.5,\"end\":4,\"label\":\"up\"}]}");
        ManifestEntry e = Manifest.read(m).get(0);
        assertEquals(List.of(new ManifestEntry.Segment(0, 1.5, "left"), new ManifestEntry.Segment(1.5, 4, "up")), e.segments());
        assertTrue(Manifest.read(write("{\"id\":\"a\",\"split\":\"train\",\"captions\":[\"x\"]}")).get(0).segments().isEmpty());
        String head = "{\"id\":\"r\",\"split\":\"train\",\"captions\":[\"x\"],\"segments\":";
        assertError("manifest.jsonl:1: key 'segments': must be a non-empty array", head + "[]}");
        assertError("manifest.jsonl:1: key 'segments[0].label': missing", head + "[{\"start\":0,\"end\":1}]}");
        assertError("manifest.jsonl:1: key 'segments[0].end': missing", head + "[{\"start\":0,\"label\":\"a\"}]}");
        assertError("manifest.jsonl:1: key 'segments[0].end': needs 0 <= start < end", head + "[{\"start\":2,\"end\":1,\"label\":\"a\"}]}");
        assertError("manifest.jsonl:1: key 'segments[1].start': 0.5 is before the end 1.0",
                head + "[{\"start\":0,\"end\":1,\"label\":\"a\"},{\"start\":0.5,\"end\":2,\"label\":\"b\"}]}");
        assertError("manifest.jsonl:1: key 'segments[0].stop': unknown key", head + "[{\"start\":0,\"stop\":1,\"label\":\"a\"}]}");
    }

    private void assertError(String prefix, String... lines) throws IOException {
        Path m = write(lines);
        assertError(prefix, () -> Manifest.read(m));
    }

    private static void assertError(String prefix, org.junit.jupiter.api.function.Executable read) {
        ManifestException e = assertThrows(ManifestException.class, read);
        assertTrue(e.getMessage().startsWith(prefix), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void sha256OfKnownBytes() throws IOException {
        Path f = Files.writeString(dir.resolve("abc"), "abc");
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", Manifest.sha256(f));
    }
}
