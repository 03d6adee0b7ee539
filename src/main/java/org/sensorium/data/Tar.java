package org.sensorium.data;

import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;

/**
 * The POSIX ustar tar format (IEEE Std 1003.1, "pax" chapter, ustar interchange format), just what shards need:
 * regular files, a 512-byte header each (name up to 100 bytes, or a prefix of up to 155 bytes plus a name, split
 * at a '/'), data padded to 512 bytes, two zero blocks at the end. Headers are checked (magic, checksum) on
 * reading, so a damaged shard is reported, not misread.
 */
final class Tar {
    static final int BLOCK = 512;

    private Tar() {}

    /** One member's header: its name and the size of its data in bytes. */
    record Member(String name, long size) {
        /** Bytes the data takes in the archive, padding included. */
        long padded() {
            return (size + BLOCK - 1) / BLOCK * BLOCK;
        }
    }

    /** A 512-byte ustar header of a regular file; mode 0644, owner 0, time mtime (seconds since the epoch). */
    static byte[] header(String name, long size, long mtime) {
        byte[] h = new byte[BLOCK];
        byte[] full = name.getBytes(StandardCharsets.UTF_8);
        String prefix = "";
        String base = name;
        if (full.length > 100) {
            int cut = name.lastIndexOf('/', name.length() - 1);
            while (cut > 0 && name.substring(cut + 1).getBytes(StandardCharsets.UTF_8).length > 100) {
                cut = name.lastIndexOf('/', cut - 1);
            }
            if (cut <= 0 || name.substring(0, cut).getBytes(StandardCharsets.UTF_8).length > 155) {
                throw new IllegalArgumentException("tar member name too long for ustar: " + name);
            }
            prefix = name.substring(0, cut);
            base = name.substring(cut + 1);
        }
        put(h, 0, 100, base.getBytes(StandardCharsets.UTF_8));
        octal(h, 100, 8, 0644);
        octal(h, 108, 8, 0);
        octal(h, 116, 8, 0);
        if (size > 077777777777L) {
            throw new IllegalArgumentException("tar member over 8 GiB: " + name);
        }
        octal(h, 124, 12, size);
        octal(h, 136, 12, mtime);
        h[156] = '0';
        put(h, 257, 6, "ustar\0".getBytes(StandardCharsets.US_ASCII));
        put(h, 263, 2, "00".getBytes(StandardCharsets.US_ASCII));
        put(h, 345, 155, prefix.getBytes(StandardCharsets.UTF_8));
        java.util.Arrays.fill(h, 148, 156, (byte) ' ');
        octal(h, 148, 7, checksum(h)); // six digits, NUL, then the space left in place
        return h;
    }

    /** Writes one member (header, data, padding). */
    static void write(OutputStream out, String name, byte[] data, long mtime) throws IOException {
        out.write(header(name, data.length, mtime));
        out.write(data);
        out.write(new byte[(int) (new Member(name, data.length).padded() - data.length)]);
    }

    /** The end-of-archive marker: two zero blocks. */
    static void finish(OutputStream out) throws IOException {
        out.write(new byte[2 * BLOCK]);
    }

    /**
     * The next member's header, the channel left at its data; null at the end of the archive (a zero block).
     *
     * @throws IOException when the header is truncated, not ustar/gnu tar, or its checksum is wrong
     */
    static Member next(SeekableByteChannel in) throws IOException {
        byte[] h = new byte[BLOCK];
        readFully(in, h);
        boolean zero = true;
        for (byte b : h) {
            zero &= b == 0;
        }
        if (zero) {
            return null;
        }
        long stored = parseOctal(h, 148, 8);
        java.util.Arrays.fill(h, 148, 156, (byte) ' ');
        if (stored != checksum(h)) {
            throw new IOException("bad tar header checksum at byte " + (in.position() - BLOCK));
        }
        if (h[156] != '0' && h[156] != 0) {
            throw new IOException("tar member of type '" + (char) h[156] + "' at byte " + (in.position() - BLOCK) + " (only regular files)");
        }
        String name = text(h, 0, 100);
        String prefix = new String(h, 257, 5, StandardCharsets.US_ASCII).equals("ustar") ? text(h, 345, 155) : "";
        return new Member(prefix.isEmpty() ? name : prefix + "/" + name, parseOctal(h, 124, 12));
    }

    /** The member's data (the channel left after its padding). */
    static byte[] data(SeekableByteChannel in, Member m) throws IOException {
        if (m.size() > Integer.MAX_VALUE - 16) {
            throw new IOException("tar member " + m.name() + " is " + m.size() + " bytes: too large to hold");
        }
        byte[] d = new byte[(int) m.size()];
        readFully(in, d);
        in.position(in.position() + m.padded() - m.size());
        return d;
    }

    /** Moves past the member's data without reading it. */
    static void skip(SeekableByteChannel in, Member m) throws IOException {
        long to = in.position() + m.padded();
        if (to > in.size()) {
            throw new EOFException("tar member " + m.name() + " is truncated (ends past the file)");
        }
        in.position(to);
    }

    private static void readFully(SeekableByteChannel in, byte[] b) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(b);
        while (buf.hasRemaining()) {
            if (in.read(buf) < 0) {
                throw new EOFException("truncated tar: " + buf.remaining() + " bytes missing at byte " + in.position());
            }
        }
    }

    static long checksum(byte[] h) {
        long sum = 0;
        for (byte b : h) {
            sum += b & 0xff;
        }
        return sum;
    }

    private static void put(byte[] h, int at, int len, byte[] v) {
        System.arraycopy(v, 0, h, at, Math.min(len, v.length));
    }

    /** len - 1 octal digits, zero-padded, then NUL. */
    private static void octal(byte[] h, int at, int len, long v) {
        String s = Long.toOctalString(v);
        s = "0".repeat(len - 1 - s.length()) + s;
        put(h, at, len - 1, s.getBytes(StandardCharsets.US_ASCII));
        h[at + len - 1] = 0;
    }

    static long parseOctal(byte[] h, int at, int len) throws IOException {
        long v = 0;
        int i = at;
        while (i < at + len && h[i] == ' ') { // some writers pad numbers with leading spaces
            i++;
        }
        for (; i < at + len && h[i] != 0 && h[i] != ' '; i++) {
            if (h[i] < '0' || h[i] > '7') {
                throw new IOException("bad octal number in tar header");
            }
            v = v * 8 + (h[i] - '0');
        }
        return v;
    }

    private static String text(byte[] h, int at, int len) {
        int end = at;
        while (end < at + len && h[end] != 0) {
            end++;
        }
        return new String(h, at, end - at, StandardCharsets.UTF_8);
    }
}
