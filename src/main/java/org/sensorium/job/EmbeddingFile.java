package org.sensorium.job;

import java.io.BufferedOutputStream;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.RandomAccessFile;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import org.sensorium.config.Json;
import org.sensorium.config.Modality;

/**
 * Where {@code embed} writes its rows, one unit vector (E) per (input, modality, clip), in the order written.
 * <ul>
 *   <li>JSONL (any name but *.npy; "-" is standard output): one line a row,
 *       {@code {"id": ..., "modality": ..., "start": ..., "embedding": [...]}}, start left out where no single clip
 *       is meant (a literal text, clips averaged).</li>
 *   <li>NPY (*.npy): a NumPy format 1.0 file, float32 little-endian, C order, shape (N, E), and beside it the index
 *       BASE.ids.jsonl, line i naming row i: {@code {"row": i, "id": ..., "modality": ..., "start": ...}}.</li>
 * </ul>
 * Files are written under a temporary name and renamed by {@link #commit}; closing without a commit removes them.
 */
final class EmbeddingFile implements AutoCloseable {
    /** Bytes of the NPY preamble (magic, version, header length, header dict padded with spaces and a newline): a multiple of 64. */
    static final int NPY_HEADER = 128;
    private static final byte[] NPY_MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};

    private final Path out, index;          // final names; index is null for JSONL
    private final Path tmpOut, tmpIndex;     // null when writing to standard output
    private final Writer lines;              // JSONL rows, or the NPY index
    private final OutputStream npy;          // NPY rows, or null
    private long rows;
    private int dim = -1;
    private boolean committed;

    private EmbeddingFile(Path out, Path index, Path tmpOut, Path tmpIndex, Writer lines, OutputStream npy) {
        this.out = out;
        this.index = index;
        this.tmpOut = tmpOut;
        this.tmpIndex = tmpIndex;
        this.lines = lines;
        this.npy = npy;
    }

    /** Opens out for writing: NPY when its name ends in .npy, JSONL otherwise, standard output for "-". */
    static EmbeddingFile open(Path out) throws IOException {
        if (out.toString().equals("-")) {
            return new EmbeddingFile(null, null, null, null, utf8(new NonClosing(System.out)), null);
        }
        Path dir = out.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        String name = out.getFileName().toString();
        Path tmpOut = dir.resolve("." + name + ".tmp");
        if (!name.endsWith(".npy")) {
            return new EmbeddingFile(out, null, tmpOut, null, utf8(Files.newOutputStream(tmpOut)), null);
        }
        Path index = indexOf(out);
        Path tmpIndex = dir.resolve("." + index.getFileName() + ".tmp");
        OutputStream npy = new BufferedOutputStream(Files.newOutputStream(tmpOut), 1 << 16);
        npy.write(new byte[NPY_HEADER]); // the header is written at commit, once N is known
        return new EmbeddingFile(out, index, tmpOut, tmpIndex, utf8(Files.newOutputStream(tmpIndex)), npy);
    }

    /** The index beside an NPY file: BASE.ids.jsonl for BASE.npy. */
    static Path indexOf(Path npy) {
        String name = npy.getFileName().toString();
        return npy.resolveSibling(name.substring(0, name.length() - ".npy".length()) + ".ids.jsonl");
    }

    /**
     * Appends one row.
     *
     * @param start seconds from the start of the input's span to the clip's start; NaN to leave it out
     * @param embedding (E), every row the same E
     */
    void write(String id, Modality m, double start, float[] embedding) throws IOException {
        if (dim < 0) {
            dim = embedding.length;
        } else if (embedding.length != dim) {
            throw new IllegalStateException("row of " + embedding.length + " values after rows of " + dim);
        }
        Map<String, Object> line = new LinkedHashMap<>();
        if (npy != null) {
            line.put("row", rows);
        }
        line.put("id", id);
        line.put("modality", m.key());
        if (!Double.isNaN(start)) {
            line.put("start", start);
        }
        if (npy == null) {
            line.put("embedding", embedding);
        } else {
            ByteBuffer b = ByteBuffer.allocate(4 * dim).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(embedding);
            npy.write(b.array());
        }
        lines.write(Json.line(line));
        lines.write('\n');
        rows++;
    }

    long rows() {
        return rows;
    }

    /** Finishes the files (the NPY header with shape (N, E)) and gives them their names; returns the main file (null for stdout). */
    Path commit() throws IOException {
        lines.close();
        if (npy != null) {
            npy.close();
            try (RandomAccessFile f = new RandomAccessFile(tmpOut.toFile(), "rw")) {
                f.write(npyHeader(rows, Math.max(dim, 0)));
            }
            move(tmpIndex, index);
        }
        if (tmpOut != null) {
            move(tmpOut, out);
        }
        committed = true;
        return out;
    }

    /** Index file beside an NPY output, or null. */
    Path index() {
        return index;
    }

    /** NumPy format 1.0 preamble of a float32 little-endian C-order array (n, e), {@link #NPY_HEADER} bytes. */
    static byte[] npyHeader(long n, int e) {
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + n + ", " + e + "), }";
        int len = NPY_HEADER - NPY_MAGIC.length - 2; // the dict, padded with spaces, ends in a newline
        StringBuilder s = new StringBuilder(dict);
        while (s.length() < len - 1) {
            s.append(' ');
        }
        s.append('\n');
        ByteBuffer b = ByteBuffer.allocate(NPY_HEADER).order(ByteOrder.LITTLE_ENDIAN);
        b.put(NPY_MAGIC).putShort((short) len).put(s.toString().getBytes(StandardCharsets.US_ASCII));
        return b.array();
    }

    private static void move(Path from, Path to) throws IOException {
        Files.move(from, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static Writer utf8(OutputStream s) {
        return new BufferedWriter(new OutputStreamWriter(s, StandardCharsets.UTF_8), 1 << 16);
    }

    @Override
    public void close() throws IOException {
        if (committed) {
            return;
        }
        try {
            lines.close();
            if (npy != null) {
                npy.close();
            }
        } finally {
            for (Path p : new Path[] {tmpOut, tmpIndex}) {
                if (p != null) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** Standard output that a writer may flush but not close. */
    private static final class NonClosing extends java.io.FilterOutputStream {
        NonClosing(OutputStream s) {
            super(s);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            flush();
        }
    }
}
