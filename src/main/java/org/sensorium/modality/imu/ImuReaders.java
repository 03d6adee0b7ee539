package org.sensorium.modality.imu;

import static org.sensorium.modality.BadInputException.excerpt;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Readers of IMU recordings, chosen by file extension ({@link Format}). Every reader returns the
 * requested channels with their own timestamps (seconds, strictly increasing) and values
 * (accelerations in m/s^2, angular rates in rad/s), or throws an IOException whose message is a
 * one-line reason (the adapter prefixes the manifest line and the file).
 */
final class ImuReaders {
    private ImuReaders() {}

    /** One channel: sample times t (N, seconds) and values v (N). */
    record Channel(String name, double[] t, double[] v) {
        /** Mean sample rate in Hz: (N - 1) / duration. */
        double rateHz() {
            return (t.length - 1) / (t[t.length - 1] - t[0]);
        }
    }

    /** A recording: one {@link Channel} per requested channel, in the requested order. */
    record Signals(List<Channel> channels) {}

    /** File formats, by extension. */
    enum Format {
        CSV, HMP, GPMF;

        /** .csv, .txt (HMP), .raw / .bin / .gpmf (GoPro GPMF); anything else is an IOException. */
        static Format of(Path file) throws IOException {
            String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
            String ext = name.substring(name.lastIndexOf('.') + 1);
            return switch (ext) {
                case "csv" -> CSV;
                case "txt" -> HMP;
                case "raw", "bin", "gpmf" -> GPMF;
                default -> throw new IOException("unknown IMU format (expected .csv, .txt (HMP) or .raw (GoPro GPMF))");
            };
        }
    }

    /** Reads the given channels (names such as ax, gz) from a file of any supported format. */
    static Signals read(Path file, List<String> channels) throws IOException {
        return switch (Format.of(file)) {
            case CSV -> Csv.read(file, channels);
            case HMP -> select(Hmp.read(file), channels, "HMP");
            case GPMF -> select(Gpmf.read(file), channels, "GoPro GPMF");
        };
    }

    /** Every channel the file has (CSV: each header column but t), in file order. */
    static List<String> channelNames(Path file) throws IOException {
        return switch (Format.of(file)) {
            case CSV -> Csv.read(file, Csv.header(file)).channels().stream().map(Channel::name).toList();
            case HMP -> List.copyOf(Hmp.read(file).keySet());
            case GPMF -> List.copyOf(Gpmf.read(file).keySet());
        };
    }

    /** The file's lines; bytes that are not text in this charset are an IOException saying so (not "Input length = 1"). */
    private static List<String> lines(Path file, java.nio.charset.Charset cs) throws IOException {
        try {
            return Files.readAllLines(file, cs);
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new IOException("not " + cs.name() + " text", e);
        }
    }

    /** The requested channels out of all a recording has; an IOException listing every missing one. */
    private static Signals select(Map<String, Channel> all, List<String> wanted, String format) throws IOException {
        List<String> missing = wanted.stream().filter(c -> !all.containsKey(c)).toList();
        if (!missing.isEmpty()) {
            throw new IOException(format + " recording has no channel " + String.join(", ", missing) + " (it has "
                    + String.join(", ", all.keySet()) + "; set modalities.imu.channels=[" + String.join(",", all.keySet()) + "])");
        }
        return new Signals(wanted.stream().map(all::get).toList());
    }

    /**
     * CSV: a header naming a time column {@code t} (seconds, strictly increasing) and the channels in
     * any order; other columns are ignored. Errors name the line: missing columns, a short row, a
     * value that is not a finite number, time not strictly increasing, fewer than 2 rows.
     */
    static final class Csv {
        private static final String TIME = "t";

        private Csv() {}

        static Signals read(Path file, List<String> channels) throws IOException {
            List<String> lines = lines(file, StandardCharsets.UTF_8);
            int h = 0;
            while (h < lines.size() && lines.get(h).isBlank()) {
                h++;
            }
            if (h == lines.size()) {
                throw new IOException("empty file");
            }
            int[] cols = columns(lines.get(h).replace("\uFEFF", ""), h + 1, channels);
            List<double[]> rows = new ArrayList<>();
            for (int i = h + 1; i < lines.size(); i++) {
                if (!lines.get(i).isBlank()) {
                    double prev = rows.isEmpty() ? Double.NEGATIVE_INFINITY : rows.get(rows.size() - 1)[0];
                    rows.add(row(lines.get(i), i + 1, cols, channels, prev));
                }
            }
            if (rows.size() < 2) {
                throw new IOException("needs at least 2 samples, found " + rows.size());
            }
            return transpose(rows, channels);
        }

        /** The column names of the header line other than t. */
        static List<String> header(Path file) throws IOException {
            for (String line : lines(file, StandardCharsets.UTF_8)) {
                if (!line.isBlank()) {
                    return Arrays.stream(line.replace("\uFEFF", "").split(",")).map(String::trim)
                            .filter(n -> !n.equals(TIME)).toList();
                }
            }
            throw new IOException("empty file");
        }

        /** Column index of t, then of each channel. */
        private static int[] columns(String header, int lineNo, List<String> channels) throws IOException {
            List<String> names = Arrays.stream(header.split(",")).map(String::trim).toList();
            int[] cols = new int[channels.size() + 1];
            for (int c = 0; c < cols.length; c++) {
                String name = c == 0 ? TIME : channels.get(c - 1);
                cols[c] = names.indexOf(name);
                if (cols[c] < 0) {
                    throw new IOException("line " + lineNo + ": header has no column '" + excerpt(name, 24) + "' (it has " + names.size()
                            + (names.size() == 1 ? " column: " : " columns: ") + excerpt(names, 6, 16) + ")");
                }
            }
            return cols;
        }

        /** (1 + C) values of one row: t, then the channels. */
        private static double[] row(String line, int lineNo, int[] cols, List<String> channels, double prevT)
                throws IOException {
            String[] fields = line.split(",", -1);
            double[] v = new double[cols.length];
            for (int c = 0; c < cols.length; c++) {
                String name = c == 0 ? TIME : channels.get(c - 1); // from the file's header when channelNames reads it
                if (cols[c] >= fields.length) {
                    throw new IOException("line " + lineNo + ": no value for column '" + excerpt(name, 24) + "'");
                }
                try {
                    v[c] = Double.parseDouble(fields[cols[c]].trim());
                } catch (NumberFormatException e) {
                    throw new IOException("line " + lineNo + ": column '" + excerpt(name, 24) + "': not a number '"
                            + excerpt(fields[cols[c]].trim(), 24) + "'");
                }
                if (!Double.isFinite(v[c])) {
                    throw new IOException("line " + lineNo + ": column '" + excerpt(name, 24) + "': not finite (" + v[c] + ")");
                }
            }
            if (!(v[0] > prevT)) {
                throw new IOException("line " + lineNo + ": time " + v[0] + " is not after the previous " + prevT);
            }
            return v;
        }

        private static Signals transpose(List<double[]> rows, List<String> channels) {
            int n = rows.size();
            double[] t = new double[n];
            double[][] ch = new double[channels.size()][n];
            for (int i = 0; i < n; i++) {
                t[i] = rows.get(i)[0];
                for (int c = 0; c < ch.length; c++) {
                    ch[c][i] = rows.get(i)[c + 1];
                }
            }
            List<Channel> out = new ArrayList<>();
            for (int c = 0; c < ch.length; c++) {
                out.add(new Channel(channels.get(c), t, ch[c]));
            }
            return new Signals(out);
        }
    }

    /**
     * HMP (Bruno et al. 2013) wrist accelerometer trials: one sample per line, "x y z" integers
     * 0..63 coding -1.5 g..+1.5 g, 32 Hz, no timestamps. Gives ax, ay, az in m/s^2
     * ((-1.5 + code / 63 * 3) * 9.81) at t = i / 32 s (i counts non-blank lines from 0).
     */
    static final class Hmp {
        static final double RATE_HZ = 32.0;
        static final double G = 9.81;

        private Hmp() {}

        /** m/s^2 of a coded value 0..63. */
        static double decode(int code) {
            return (-1.5 + code / 63.0 * 3.0) * G;
        }

        static Map<String, Channel> read(Path file) throws IOException {
            List<String> lines = lines(file, StandardCharsets.US_ASCII);
            List<int[]> rows = new ArrayList<>();
            for (int i = 0; i < lines.size(); i++) {
                if (!lines.get(i).isBlank()) {
                    rows.add(row(lines.get(i), i + 1));
                }
            }
            if (rows.size() < 2) {
                throw new IOException("needs at least 2 samples, found " + rows.size());
            }
            double[] t = new double[rows.size()];
            double[][] v = new double[3][rows.size()];
            for (int i = 0; i < t.length; i++) {
                t[i] = i / RATE_HZ;
                for (int c = 0; c < 3; c++) {
                    v[c][i] = decode(rows.get(i)[c]);
                }
            }
            Map<String, Channel> out = new LinkedHashMap<>();
            String[] names = {"ax", "ay", "az"};
            for (int c = 0; c < 3; c++) {
                out.put(names[c], new Channel(names[c], t, v[c]));
            }
            return out;
        }

        private static int[] row(String line, int lineNo) throws IOException {
            String[] f = line.trim().split("\\s+");
            if (f.length != 3) {
                throw new IOException("line " + lineNo + ": expected 3 values 'x y z', found " + f.length);
            }
            int[] v = new int[3];
            for (int c = 0; c < 3; c++) {
                try {
                    v[c] = Integer.parseInt(f[c]);
                } catch (NumberFormatException e) {
                    throw new IOException("line " + lineNo + ": not an integer '" + excerpt(f[c], 24) + "'");
                }
                if (v[c] < 0 || v[c] > 63) {
                    throw new IOException("line " + lineNo + ": value " + v[c] + " outside 0..63");
                }
            }
            return v;
        }
    }

    /**
     * GoPro GPMF telemetry (a raw metadata track): KLV items, each a 4-byte ASCII key, a 1-byte type
     * char (0 = nested), a 1-byte structure size, a 2-byte big-endian repeat count and the payload
     * (size x repeat bytes) padded to a multiple of 4. Reads DEVC &gt; STRM &gt; ACCL (m/s^2) and GYRO
     * (rad/s), each sample divided by the stream's SCAL (one value, or one per column).
     *
     * <p>Axes: the stream's ORIN string (e.g. "ZXY", lower case = negated) names the camera axis of
     * each column; column i goes to channel x, y or z by that letter and is negated when the letter is
     * lower case. Without ORIN the columns are taken as "ZXY" (GoPro's documented HERO5 order).
     *
     * <p>Timing rule: each payload (one per DEVC, about one second) spreads its n samples evenly over
     * its period: sample j of payload k is at start_k + j * period_k / n. With STMP (microseconds) in
     * every payload, start_k = STMP_k - STMP_0 and period_k = start_{k+1} - start_k (the last payload
     * keeps the previous payload's sample spacing; a single payload spans 1 s). Without STMP, payloads
     * are taken as contiguous, one second each: start_k = k, period_k = 1 s.
     *
     * <p>A truncated or garbled item is an IOException naming its byte offset.
     */
    static final class Gpmf {
        private static final String TYPES = "bBcdfFGjJlLqQsSU?";

        private Gpmf() {}

        /** One KLV item; {@code offset} is where its payload starts (header at offset - 8). */
        private record Klv(String key, char type, int size, int repeat, int offset) {
            int bytes() {
                return size * repeat;
            }

            int end() {
                return offset + bytes();
            }
        }

        /** One ACCL or GYRO payload: samples (n, 3) in column order, divided by SCAL; STMP in s or NaN; ORIN or null. */
        private record Payload(double[][] samples, double stmp, String orin) {}

        static Map<String, Channel> read(Path file) throws IOException {
            byte[] b = Files.readAllBytes(file);
            List<Payload> accl = new ArrayList<>();
            List<Payload> gyro = new ArrayList<>();
            for (int off = 0; off < b.length; ) {
                Klv k = header(b, off, b.length);
                if (k.key().equals("DEVC") && k.type() == 0) {
                    devc(b, k, accl, gyro);
                }
                off = next(k, b.length);
            }
            if (accl.isEmpty() && gyro.isEmpty()) {
                throw new IOException("no ACCL or GYRO stream");
            }
            Map<String, Channel> out = new LinkedHashMap<>();
            put(out, accl, "a");
            put(out, gyro, "g");
            return out;
        }

        /** The item whose 8-byte header starts at off; its payload must end by {@code end}. */
        private static Klv header(byte[] b, int off, int end) throws IOException {
            if (end - off < 8) {
                throw new IOException("truncated KLV header at byte " + off + " (" + (end - off) + " bytes left)");
            }
            for (int i = 0; i < 4; i++) {
                char c = (char) b[off + i];
                if (!(Character.isLetterOrDigit(c) && c < 128) && c != ' ') {
                    throw new IOException("garbled KLV key at byte " + off);
                }
            }
            String key = new String(b, off, 4, StandardCharsets.US_ASCII);
            char type = (char) (b[off + 4] & 0xff);
            if (type != 0 && TYPES.indexOf(type) < 0) {
                throw new IOException("garbled KLV '" + key + "' at byte " + off + ": unknown type 0x" + Integer.toHexString(type));
            }
            Klv k = new Klv(key, type, b[off + 5] & 0xff, ((b[off + 6] & 0xff) << 8) | (b[off + 7] & 0xff), off + 8);
            if (k.end() > end) {
                throw new IOException("truncated KLV '" + key + "' at byte " + off + ": needs " + k.bytes()
                        + " payload bytes, " + (end - k.offset()) + " left");
            }
            return k;
        }

        /** Offset of the item after k: its payload padded to 4 bytes (the padding may be cut at the very end). */
        private static int next(Klv k, int end) {
            return Math.min(k.offset() + (k.bytes() + 3) / 4 * 4, end);
        }

        private static void devc(byte[] b, Klv devc, List<Payload> accl, List<Payload> gyro) throws IOException {
            for (int off = devc.offset(); off < devc.end(); ) {
                Klv k = header(b, off, devc.end());
                if (k.key().equals("STRM") && k.type() == 0) {
                    stream(b, k, accl, gyro);
                }
                off = next(k, devc.end());
            }
        }

        /** One STRM: SCAL, STMP and ORIN apply to the ACCL / GYRO item that follows them. */
        private static void stream(byte[] b, Klv strm, List<Payload> accl, List<Payload> gyro) throws IOException {
            double[] scal = {1.0};
            double stmp = Double.NaN;
            String orin = null;
            for (int off = strm.offset(); off < strm.end(); ) {
                Klv k = header(b, off, strm.end());
                switch (k.key()) {
                    case "SCAL" -> scal = numbers(b, k);
                    case "STMP" -> stmp = numbers(b, k)[0] / 1e6;
                    case "ORIN" -> orin = new String(b, k.offset(), k.bytes(), StandardCharsets.US_ASCII).trim();
                    case "ACCL" -> accl.add(new Payload(matrix(b, k, scal), stmp, orin));
                    case "GYRO" -> gyro.add(new Payload(matrix(b, k, scal), stmp, orin));
                    default -> { }
                }
                off = next(k, strm.end());
            }
        }

        /** Bytes per element of a numeric type. */
        private static int width(Klv k) throws IOException {
            return switch (k.type()) {
                case 'b', 'B' -> 1;
                case 's', 'S' -> 2;
                case 'l', 'L', 'f' -> 4;
                case 'd', 'j', 'J' -> 8;
                default -> throw new IOException("KLV '" + k.key() + "' at byte " + (k.offset() - 8)
                        + ": type '" + k.type() + "' is not numeric");
            };
        }

        /** Every element of a numeric item, in order. */
        private static double[] numbers(byte[] b, Klv k) throws IOException {
            int w = width(k);
            double[] v = new double[k.bytes() / w];
            for (int i = 0; i < v.length; i++) {
                v[i] = number(b, k.offset() + i * w, k.type());
            }
            return v;
        }

        /** One big-endian element of the given type. */
        private static double number(byte[] b, int at, char type) {
            ByteBuffer bb = ByteBuffer.wrap(b); // big-endian by default
            return switch (type) {
                case 'b' -> b[at];
                case 'B' -> b[at] & 0xff;
                case 's' -> bb.getShort(at);
                case 'S' -> bb.getShort(at) & 0xffff;
                case 'l' -> bb.getInt(at);
                case 'L' -> bb.getInt(at) & 0xffffffffL;
                case 'f' -> bb.getFloat(at);
                case 'd' -> bb.getDouble(at);
                default -> bb.getLong(at); // 'j', 'J' (STMP is far below 2^63)
            };
        }

        /** (repeat, 3): the first 3 columns of each sample, each divided by its SCAL. */
        private static double[][] matrix(byte[] b, Klv k, double[] scal) throws IOException {
            int w = width(k);
            int cols = k.size() / w;
            if (cols < 3 || scal.length != 1 && scal.length < 3) {
                throw new IOException("KLV '" + k.key() + "' at byte " + (k.offset() - 8) + ": " + cols
                        + " columns and " + scal.length + " SCAL values, expected 3");
            }
            double[][] m = new double[k.repeat()][3];
            for (int i = 0; i < m.length; i++) {
                for (int c = 0; c < 3; c++) {
                    m[i][c] = number(b, k.offset() + i * k.size() + c * w, k.type()) / scal[scal.length == 1 ? 0 : c];
                }
            }
            return m;
        }

        /** Channels prefix+x, y, z of one sensor's payloads, axes mapped by ORIN, timed by the class's rule. */
        private static void put(Map<String, Channel> out, List<Payload> payloads, String prefix) throws IOException {
            if (payloads.isEmpty()) {
                return;
            }
            double[] t = times(payloads);
            String orin = payloads.get(0).orin() == null ? "ZXY" : payloads.get(0).orin();
            double[][] v = new double[3][t.length];
            for (int c = 0; c < 3; c++) {
                int axis = axis(orin, c);
                double sign = Character.isLowerCase(orin.charAt(c)) ? -1 : 1;
                int i = 0;
                for (Payload p : payloads) {
                    for (double[] sample : p.samples()) {
                        v[axis][i++] = sign * sample[c];
                    }
                }
            }
            for (int a = 0; a < 3; a++) {
                String name = prefix + "xyz".charAt(a);
                out.put(name, new Channel(name, t, v[a]));
            }
        }

        /** 0, 1, 2 for the camera axis X, Y, Z of column c per ORIN. */
        private static int axis(String orin, int c) throws IOException {
            String up = orin.toUpperCase(Locale.ROOT);
            if (up.length() != 3 || up.chars().sorted().reduce(0, (x, y) -> x * 128 + y) != ('X' * 128 + 'Y') * 128 + 'Z') {
                throw new IOException("ORIN '" + excerpt(orin, 16) + "' is not a permutation of X, Y, Z");
            }
            return up.charAt(c) - 'X';
        }

        /** Sample times (s) of all payloads in order, strictly increasing. */
        private static double[] times(List<Payload> ps) throws IOException {
            boolean stamped = ps.stream().allMatch(p -> Double.isFinite(p.stmp()));
            int total = ps.stream().mapToInt(p -> p.samples().length).sum();
            double[] t = new double[total];
            int i = 0;
            double spacing = Double.NaN;
            for (int k = 0; k < ps.size(); k++) {
                int n = ps.get(k).samples().length;
                double start = stamped ? ps.get(k).stmp() - ps.get(0).stmp() : k;
                if (n == 0) {
                    continue;
                }
                if (!stamped) {
                    spacing = 1.0 / n;
                } else if (k + 1 < ps.size()) {
                    spacing = (ps.get(k + 1).stmp() - ps.get(k).stmp()) / n;
                } else if (Double.isNaN(spacing)) {
                    spacing = 1.0 / n;
                }
                for (int j = 0; j < n; j++) {
                    t[i] = start + j * spacing;
                    if (i > 0 && !(t[i] > t[i - 1])) {
                        throw new IOException("sample times not increasing in payload " + k + " (STMP " + ps.get(k).stmp() + " s)");
                    }
                    i++;
                }
            }
            if (total < 2) {
                throw new IOException("needs at least 2 samples, found " + total);
            }
            return t;
        }
    }
}
