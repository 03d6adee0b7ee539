package org.sensorium.train;

import java.io.ByteArrayOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * A TensorBoard event file of scalars, RUN/tensorboard/events.out.tfevents.&lt;seconds&gt;.sensorium.&lt;pid&gt;,
 * written without TensorFlow or a protobuf library (no maintained JVM event writer was in the project's offline
 * Maven cache; the format is small enough to write by hand).
 *
 * <p>The file is TFRecord framing of serialized {@code tensorflow.Event} protobufs, as TensorFlow's
 * record_writer.cc and TensorBoard's event_file_loader read it. Each record:
 * <pre>
 * uint64 length (little-endian) | uint32 masked CRC-32C of those 8 bytes | payload | uint32 masked CRC-32C of payload
 * masked(crc) = ((crc &gt;&gt;&gt; 15) | (crc &lt;&lt; 17)) + 0xa282ead8
 * </pre>
 * The payload fields written (tensorflow/core/util/event.proto, summary.proto): Event.wall_time (1, double),
 * Event.step (2, int64), Event.file_version (3, "brain.Event:2", first record only), Event.summary (5) holding
 * Summary.value (1, repeated) of Value.tag (1, string) and Value.simple_value (2, float), and Event.session_log
 * (7) with SessionLog.status (1) = START on resume: TensorBoard then drops the points of earlier files at or after
 * that step (the steps the interrupted run wrote after its last checkpoint, which the resumed run writes again).
 */
public final class TensorBoard implements AutoCloseable {
    /** The first record's file_version, which readers check. */
    static final String FILE_VERSION = "brain.Event:2";
    private static final int SESSION_START = 1; // SessionLog.SessionStatus.START

    private final Path file;
    private final FileOutputStream stream;

    /**
     * Opens a new event file in dir (created when missing); every open makes a new file, as TensorFlow's writer does.
     *
     * @param resumedAfter the step a resumed run continues after (a SessionLog START at resumedAfter + 1 is written),
     *     or -1 for a new run
     */
    public static TensorBoard open(Path dir, int resumedAfter) throws IOException {
        Files.createDirectories(dir);
        long seconds = System.currentTimeMillis() / 1000;
        long pid = ProcessHandle.current().pid();
        Path file = dir.resolve("events.out.tfevents." + seconds + ".sensorium." + pid);
        for (int i = 1; Files.exists(file); i++) { // a second open by the same process in the same second
            file = dir.resolve("events.out.tfevents." + seconds + ".sensorium." + pid + "." + i);
        }
        TensorBoard tb = new TensorBoard(file);
        tb.append(fileVersionEvent(now()));
        if (resumedAfter >= 0) {
            tb.append(sessionStartEvent(now(), resumedAfter + 1L));
        }
        tb.stream.flush();
        return tb;
    }

    private TensorBoard(Path file) throws IOException {
        this.file = file;
        this.stream = new FileOutputStream(file.toFile());
    }

    public Path file() {
        return file;
    }

    /** One event at step holding a scalar for every number among values (booleans, text and nested values are left out). */
    public void scalars(long step, Map<String, ?> values) throws IOException {
        ByteArrayOutputStream summary = new ByteArrayOutputStream();
        for (Map.Entry<String, ?> e : values.entrySet()) {
            if (e.getValue() instanceof Number n) {
                bytesField(summary, 1, value(e.getKey(), n.floatValue()));
            }
        }
        if (summary.size() == 0) {
            return;
        }
        ByteArrayOutputStream event = eventHeader(now(), step);
        bytesField(event, 5, summary.toByteArray());
        append(event.toByteArray());
        stream.flush();
    }

    /** Forces the file to disk (before a checkpoint is renamed into place, as metrics.jsonl is). */
    public void sync() throws IOException {
        stream.flush();
        stream.getFD().sync();
    }

    @Override
    public void close() throws IOException {
        stream.close();
    }

    private void append(byte[] payload) throws IOException {
        stream.write(record(payload));
    }

    // ------------------------------------------------------------------ framing

    /** One TFRecord: length, masked CRC of the length, payload, masked CRC of the payload. */
    static byte[] record(byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(8 + 4 + payload.length + 4).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(payload.length);
        b.putInt(maskedCrc(b.array(), 0, 8));
        b.put(payload);
        b.putInt(maskedCrc(payload, 0, payload.length));
        return b.array();
    }

    /** CRC-32C (Castagnoli) of bytes[from, from + n). */
    static int crc32c(byte[] bytes, int from, int n) {
        CRC32C c = new CRC32C();
        c.update(bytes, from, n);
        return (int) c.getValue();
    }

    /** TFRecord's masked CRC-32C: rotated right by 15 bits plus a constant, so a CRC of data holding CRCs stays strong. */
    static int maskedCrc(byte[] bytes, int from, int n) {
        int crc = crc32c(bytes, from, n);
        return ((crc >>> 15) | (crc << 17)) + 0xa282ead8;
    }

    // ------------------------------------------------------------------ protobuf, by hand

    private static double now() {
        return System.currentTimeMillis() / 1000.0;
    }

    static byte[] fileVersionEvent(double wallTime) {
        ByteArrayOutputStream e = eventHeader(wallTime, 0);
        bytesField(e, 3, FILE_VERSION.getBytes(StandardCharsets.UTF_8));
        return e.toByteArray();
    }

    static byte[] sessionStartEvent(double wallTime, long step) {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        tag(log, 1, 0);
        varint(log, SESSION_START);
        ByteArrayOutputStream e = eventHeader(wallTime, step);
        bytesField(e, 7, log.toByteArray());
        return e.toByteArray();
    }

    /** Event.wall_time (field 1, fixed64 double) and Event.step (field 2, varint int64). */
    private static ByteArrayOutputStream eventHeader(double wallTime, long step) {
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        tag(e, 1, 1);
        fixed(e, Double.doubleToLongBits(wallTime), 8);
        tag(e, 2, 0);
        varint(e, step);
        return e;
    }

    /** Summary.Value: tag (field 1, string), simple_value (field 2, fixed32 float). */
    static byte[] value(String tag, float v) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        bytesField(out, 1, tag.getBytes(StandardCharsets.UTF_8));
        tag(out, 2, 5);
        fixed(out, Float.floatToIntBits(v), 4);
        return out.toByteArray();
    }

    /** A length-delimited field (wire type 2): key, varint length, bytes. */
    private static void bytesField(ByteArrayOutputStream out, int field, byte[] bytes) {
        tag(out, field, 2);
        varint(out, bytes.length);
        out.writeBytes(bytes);
    }

    private static void tag(OutputStream out, int field, int wireType) {
        varint(out, (long) field << 3 | wireType);
    }

    /** Base-128 varint, least significant group first; a negative int64 takes ten bytes, as protobuf writes it. */
    private static void varint(OutputStream out, long v) {
        try {
            while ((v & ~0x7FL) != 0) {
                out.write((int) (v & 0x7F) | 0x80);
                v >>>= 7;
            }
            out.write((int) v);
        } catch (IOException e) {
            throw new IllegalStateException(e); // a ByteArrayOutputStream does not throw
        }
    }

    /** n little-endian bytes of bits (fixed32 or fixed64). */
    private static void fixed(ByteArrayOutputStream out, long bits, int n) {
        for (int i = 0; i < n; i++) {
            out.write((int) (bits >>> (8 * i)) & 0xFF);
        }
    }
}
