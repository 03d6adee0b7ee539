package org.sensorium.train;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A TensorBoard event file reader written from the format's description alone, sharing no code with
 * {@link TensorBoard}: TFRecord framing (uint64 LE length, masked CRC-32C of it, payload, masked CRC-32C of the
 * payload; tensorflow/core/lib/io/record_writer.cc), CRC-32C computed bit by bit here (reflected polynomial
 * 0x82F63B78, RFC 3720), and a generic protobuf wire-format walk of tensorflow.Event (event.proto, summary.proto).
 * Throws on a bad CRC, a torn record or an unknown wire type.
 */
public final class EventFileReader {
    private EventFileReader() {}

    /** One decoded Event: wall_time, step, file_version (or null), session_log status (or -1), scalars by tag. */
    public record Event(double wallTime, long step, String fileVersion, int sessionStatus, Map<String, Float> scalars) {}

    /** CRC-32C, one bit at a time. */
    public static int crc32c(byte[] b, int from, int n) {
        int crc = 0xFFFFFFFF;
        for (int i = from; i < from + n; i++) {
            crc ^= b[i] & 0xFF;
            for (int k = 0; k < 8; k++) {
                crc = (crc & 1) != 0 ? (crc >>> 1) ^ 0x82F63B78 : crc >>> 1;
            }
        }
        return ~crc;
    }

    public static int masked(int crc) {
        return ((crc >>> 15) | (crc << 17)) + 0xa282ead8;
    }

    public static List<Event> read(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        List<Event> events = new ArrayList<>();
        while (b.hasRemaining()) {
            if (b.remaining() < 12) {
                throw new IOException(file + ": torn record header at byte " + b.position());
            }
            int at = b.position();
            long len = b.getLong();
            int lenCrc = b.getInt();
            if (lenCrc != masked(crc32c(all, at, 8))) {
                throw new IOException(file + ": bad length CRC at byte " + at);
            }
            if (len > b.remaining() - 4) {
                throw new IOException(file + ": torn record at byte " + at);
            }
            byte[] payload = new byte[(int) len];
            b.get(payload);
            if (b.getInt() != masked(crc32c(payload, 0, payload.length))) {
                throw new IOException(file + ": bad payload CRC at byte " + at);
            }
            events.add(event(payload));
        }
        return events;
    }

    private static Event event(byte[] p) throws IOException {
        double wall = 0;
        long step = 0;
        String version = null;
        int status = -1;
        Map<String, Float> scalars = new LinkedHashMap<>();
        for (Field f : fields(p)) {
            switch (f.number) {
                case 1 -> wall = Double.longBitsToDouble(f.fixed);
                case 2 -> step = f.varint;
                case 3 -> version = new String(f.bytes, StandardCharsets.UTF_8);
                case 5 -> {
                    for (Field v : fields(f.bytes)) { // Summary.value (1)
                        if (v.number == 1) {
                            String tag = null;
                            Float value = null;
                            for (Field g : fields(v.bytes)) {
                                if (g.number == 1) {
                                    tag = new String(g.bytes, StandardCharsets.UTF_8);
                                } else if (g.number == 2) {
                                    value = Float.intBitsToFloat((int) g.fixed);
                                }
                            }
                            scalars.put(tag, value);
                        }
                    }
                }
                case 7 -> {
                    for (Field s : fields(f.bytes)) {
                        if (s.number == 1) {
                            status = (int) s.varint;
                        }
                    }
                }
                default -> { }
            }
        }
        return new Event(wall, step, version, status, scalars);
    }

    private record Field(int number, long varint, long fixed, byte[] bytes) {}

    private static List<Field> fields(byte[] p) throws IOException {
        List<Field> out = new ArrayList<>();
        int[] pos = {0};
        while (pos[0] < p.length) {
            long key = varint(p, pos);
            int number = (int) (key >>> 3), type = (int) (key & 7);
            switch (type) {
                case 0 -> out.add(new Field(number, varint(p, pos), 0, null));
                case 1 -> out.add(new Field(number, 0, little(p, pos, 8), null));
                case 5 -> out.add(new Field(number, 0, little(p, pos, 4), null));
                case 2 -> {
                    int n = (int) varint(p, pos);
                    byte[] bytes = java.util.Arrays.copyOfRange(p, pos[0], pos[0] + n);
                    pos[0] += n;
                    out.add(new Field(number, 0, 0, bytes));
                }
                default -> throw new IOException("wire type " + type + " of field " + number);
            }
        }
        return out;
    }

    private static long varint(byte[] p, int[] pos) {
        long v = 0;
        for (int shift = 0; ; shift += 7) {
            byte b = p[pos[0]++];
            v |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return v;
            }
        }
    }

    private static long little(byte[] p, int[] pos, int n) {
        long v = 0;
        for (int i = 0; i < n; i++) {
            v |= (long) (p[pos[0]++] & 0xFF) << (8 * i);
        }
        return v;
    }

    /** Every event of every event file in dir, files in name order. */
    public static List<Event> readDir(Path dir) throws IOException {
        List<Event> all = new ArrayList<>();
        try (var s = Files.list(dir)) {
            for (Path f : s.filter(x -> x.getFileName().toString().contains("tfevents")).sorted().toList()) {
                all.addAll(read(f));
            }
        }
        return all;
    }
}
