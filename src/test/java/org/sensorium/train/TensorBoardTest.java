package org.sensorium.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The event writer against the format's description: CRC-32C check values (the CRC catalogue's "123456789" and
 * RFC 3720's B.4 vectors), the record framing byte by byte, and files read back by {@link EventFileReader}, which
 * shares no code with the writer. Python's tensorboard package reads the file too when it is installed (it is
 * not on this machine: the test is skipped there).
 */
class TensorBoardTest {

    @Test
    void crc32cMatchesTheKnownCheckValues() {
        byte[] check = "123456789".getBytes(StandardCharsets.US_ASCII);
        assertEquals(0xE3069283, TensorBoard.crc32c(check, 0, check.length));
        assertEquals(0xE3069283, EventFileReader.crc32c(check, 0, check.length));
        byte[] zeros = new byte[32], ones = new byte[32], ascending = new byte[32];
        Arrays.fill(ones, (byte) 0xFF);
        for (int i = 0; i < 32; i++) {
            ascending[i] = (byte) i;
        }
        assertEquals(0x8A9136AA, TensorBoard.crc32c(zeros, 0, 32)); // RFC 3720 B.4
        assertEquals(0x62A8AB43, TensorBoard.crc32c(ones, 0, 32));
        assertEquals(0x46DD794E, TensorBoard.crc32c(ascending, 0, 32));
    }

    @Test
    void maskIsRotateRight15PlusTheConstant() {
        // 0xE3069283 rotated right by 15 is 0x2507C60D (worked out by hand); + 0xa282ead8 = 0xC78AB0E5 (mod 2^32)
        byte[] check = "123456789".getBytes(StandardCharsets.US_ASCII);
        assertEquals(0xC78AB0E5, TensorBoard.maskedCrc(check, 0, check.length));
        assertEquals(0xC78AB0E5, EventFileReader.masked(0xE3069283));
    }

    @Test
    void recordFramingIsLengthCrcPayloadCrc() {
        byte[] payload = "123456789".getBytes(StandardCharsets.US_ASCII);
        byte[] r = TensorBoard.record(payload);
        assertEquals(8 + 4 + 9 + 4, r.length);
        assertArrayEquals(new byte[] {9, 0, 0, 0, 0, 0, 0, 0}, Arrays.copyOfRange(r, 0, 8)); // uint64 little-endian
        int lengthCrc = EventFileReader.masked(EventFileReader.crc32c(r, 0, 8));
        assertArrayEquals(le(lengthCrc), Arrays.copyOfRange(r, 8, 12));
        assertArrayEquals(payload, Arrays.copyOfRange(r, 12, 21));
        assertArrayEquals(le(0xC78AB0E5), Arrays.copyOfRange(r, 21, 25));
    }

    @Test
    void scalarsReadBackWithTheirTagsStepsAndValues(@TempDir Path dir) throws IOException {
        Path file;
        try (TensorBoard tb = TensorBoard.open(dir, -1)) {
            file = tb.file();
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("loss", 2.5);
            line.put("contrastive/video-text", 1.25f);
            line.put("eval/retrieval/video->text/R@1", 0.375);
            line.put("skipped_step", true);   // not a number: left out
            line.put("note", "text");          // likewise
            tb.scalars(3, line);
            tb.scalars(4_000_000_000L, Map.of("lr", 1e-4));
            tb.scalars(5, Map.of("flag", false)); // nothing numeric: no event
        }
        assertTrue(file.getFileName().toString().startsWith("events.out.tfevents."));
        List<EventFileReader.Event> events = EventFileReader.read(file);
        assertEquals(3, events.size());
        assertEquals("brain.Event:2", events.get(0).fileVersion());
        assertTrue(events.get(0).wallTime() > 1.6e9);
        assertEquals(3, events.get(1).step());
        assertEquals(Map.of("loss", 2.5f, "contrastive/video-text", 1.25f, "eval/retrieval/video->text/R@1", 0.375f),
                events.get(1).scalars());
        assertEquals(4_000_000_000L, events.get(2).step());
        assertEquals(1e-4f, events.get(2).scalars().get("lr"));
    }

    @Test
    void aResumedWriterStartsANewFileWithASessionStart(@TempDir Path dir) throws IOException {
        try (TensorBoard a = TensorBoard.open(dir, -1); TensorBoard b = TensorBoard.open(dir, 7)) {
            assertTrue(!a.file().equals(b.file()));
            List<EventFileReader.Event> second = EventFileReader.read(b.file());
            assertEquals(2, second.size());
            assertEquals(1, second.get(1).sessionStatus()); // START
            assertEquals(8, second.get(1).step());           // TensorBoard drops older points at steps >= 8
        }
    }

    @Test
    void aFlippedByteFailsTheReadersCrc(@TempDir Path dir) throws IOException {
        Path file;
        try (TensorBoard tb = TensorBoard.open(dir, -1)) {
            file = tb.file();
            tb.scalars(1, Map.of("loss", 1.0));
        }
        byte[] b = Files.readAllBytes(file);
        b[b.length - 6] ^= 1; // inside the last payload
        Files.write(file, b);
        assertThrows(IOException.class, () -> EventFileReader.read(file));
    }

    /** Python's tensorboard reads the file, when installed (skipped otherwise). */
    @Test
    void pythonTensorboardReadsItWhenInstalled(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(python("import tensorboard") == 0, "python3 with the tensorboard package is not installed");
        try (TensorBoard tb = TensorBoard.open(dir, -1)) {
            tb.scalars(2, Map.of("loss", 0.5));
        }
        String script = "from tensorboard.backend.event_processing.event_accumulator import EventAccumulator\n"
                + "a = EventAccumulator('" + dir + "'); a.Reload()\n"
                + "s = a.Scalars('loss'); assert len(s) == 1 and s[0].step == 2 and s[0].value == 0.5, s\n";
        assertEquals(0, python(script));
    }

    private static int python(String code) throws Exception {
        try {
            Process p = new ProcessBuilder("python3", "-c", code).redirectErrorStream(true).start();
            p.getInputStream().transferTo(System.out);
            return p.waitFor(120, TimeUnit.SECONDS) ? p.exitValue() : -1;
        } catch (IOException e) {
            return -1; // no python3
        }
    }

    private static byte[] le(int v) {
        return new byte[] {(byte) v, (byte) (v >>> 8), (byte) (v >>> 16), (byte) (v >>> 24)};
    }
}
