package org.sensorium.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length n, n bytes of JSON
 * {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ..., "__metadata__": {str: str}},
 * then the raw little-endian tensor bytes, offsets counted from the end of the header. Python reads it with
 * struct + json + torch.frombuffer alone (interop/sensorium_torch.py).
 *
 * <p>Why our own and not {@code NDList.encode(SAFETENSORS)}: DJL writes a standard file, but in hash order rather
 * than the model's order, without metadata; its decoder answers a damaged file with "Invalid NDArray input" (no
 * file, no reason), and a file with a BF16 tensor kills the JVM ("terminate called without an active exception",
 * checked with DJL 0.36.0; DESIGN.md, DJL facts). This reader checks the header first, refuses BF16, and names
 * the file and the tensor in every error.
 *
 * <p>Dtypes: F32, F64, F16, I64, I32, I8, U8 and BOOL are read and written; anything else is an error.
 */
public final class Safetensors {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A header larger than this is damage, not a model (the format's own reader caps it at 100 MB too). */
    static final long MAX_HEADER = 100L << 20;

    private Safetensors() {}

    /** A safetensors file that cannot be read: the message is one line, "FILE: reason". */
    public static final class FormatException extends IOException {
        public FormatException(Path file, String reason) {
            super(file + ": " + reason);
        }
    }

    /** What a file holds: tensors by name in file order, and the header's string metadata (empty when none). */
    public record Contents(Map<String, NDArray> tensors, Map<String, String> metadata) {}

    /** The safetensors dtype name of each DJL type this class reads and writes, with its width in bytes. */
    private enum Dtype {
        F32(DataType.FLOAT32, 4), F64(DataType.FLOAT64, 8), F16(DataType.FLOAT16, 2), I64(DataType.INT64, 8),
        I32(DataType.INT32, 4), I8(DataType.INT8, 1), U8(DataType.UINT8, 1), BOOL(DataType.BOOLEAN, 1);

        final DataType djl;
        final int bytes;

        Dtype(DataType djl, int bytes) {
            this.djl = djl;
            this.bytes = bytes;
        }

        static Dtype of(DataType t) {
            for (Dtype d : values()) {
                if (d.djl == t) {
                    return d;
                }
            }
            return null;
        }

        static Dtype parse(String name) {
            for (Dtype d : values()) {
                if (d.name().equals(name)) {
                    return d;
                }
            }
            return null;
        }
    }

    /** Writes the tensors in the map's order, without metadata. @see #write(Path, Map, Map) */
    public static void write(Path file, Map<String, NDArray> tensors) throws IOException {
        write(file, tensors, Map.of());
    }

    /**
     * Writes the tensors, in the map's order, and string metadata ("__metadata__") to file. The header is padded
     * with spaces to a multiple of 8 bytes so that every tensor starts 8-byte aligned, as the format's writer does.
     *
     * @throws IllegalArgumentException for a dtype the format has no name for here, or a name "__metadata__"
     */
    public static void write(Path file, Map<String, NDArray> tensors, Map<String, String> metadata) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
            NDArray a = e.getValue();
            Dtype d = Dtype.of(a.getDataType());
            if (d == null || e.getKey().equals("__metadata__")) {
                throw new IllegalArgumentException(file + ": cannot write tensor " + e.getKey() + " of type " + a.getDataType());
            }
            long bytes = a.getShape().size() * d.bytes;
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", d.name());
            ArrayNode shape = t.putArray("shape");
            for (long s : a.getShape().getShape()) {
                shape.add(s);
            }
            t.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16)) {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
            out.write(json);
            out.write(" ".repeat(padded - json.length).getBytes(StandardCharsets.US_ASCII));
            for (NDArray a : tensors.values()) {
                out.write(littleEndian(a));
            }
        }
    }

    /** The raw bytes of a tensor in little-endian order (what libtorch holds on x86 and ARM, checked anyway). */
    private static byte[] littleEndian(NDArray a) {
        ByteBuffer buf = a.toByteBuffer();
        if (buf.order() == ByteOrder.LITTLE_ENDIAN || Dtype.of(a.getDataType()).bytes == 1) {
            byte[] b = new byte[buf.remaining()];
            buf.get(b);
            return b;
        }
        int w = Dtype.of(a.getDataType()).bytes;
        byte[] b = new byte[buf.remaining()];
        for (int i = 0; i < b.length; i += w) {
            for (int j = 0; j < w; j++) {
                b[i + j] = buf.get(i + w - 1 - j);
            }
        }
        return b;
    }

    /** The tensors of file, by name in file order, owned by manager. @see #readAll */
    public static Map<String, NDArray> read(Path file, NDManager manager) throws IOException {
        return readAll(file, manager).tensors();
    }

    /**
     * Reads a safetensors file whole. Every problem is a {@link FormatException} of one line naming the file: no
     * such file, a truncated header, a header that is not JSON, an unknown dtype, a shape that is not a list of
     * sizes, data offsets outside the data or not matching the shape.
     */
    public static Contents readAll(Path file, NDManager manager) throws IOException {
        try (FileChannel ch = FileChannel.open(file)) {
            long size = ch.size();
            if (size < 8) {
                throw new FormatException(file, "truncated header: " + size + " bytes, shorter than the 8-byte header length");
            }
            long n = readFully(ch, 0, 8, file).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (n < 2 || n > MAX_HEADER || n > size - 8) {
                throw new FormatException(file, "truncated header: its length field says " + Long.toUnsignedString(n)
                        + " bytes, the file has " + (size - 8) + " after it");
            }
            JsonNode header;
            try {
                header = JSON.readTree(readFully(ch, 8, (int) n, file).array());
            } catch (IOException e) {
                throw new FormatException(file, "header is not JSON: " + e.getMessage().lines().findFirst().orElse(""));
            }
            if (header == null || !header.isObject()) {
                throw new FormatException(file, "header is not a JSON object");
            }
            long dataStart = 8 + n, dataSize = size - dataStart;
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            Map<String, String> metadata = new LinkedHashMap<>();
            try {
                for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    if (e.getKey().equals("__metadata__")) {
                        e.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                        continue;
                    }
                    tensors.put(e.getKey(), tensor(ch, file, e.getKey(), e.getValue(), dataStart, dataSize, manager));
                }
            } catch (IOException | RuntimeException e) {
                tensors.values().forEach(NDArray::close);
                throw e;
            }
            return new Contents(tensors, metadata);
        } catch (NoSuchFileException e) {
            throw new FormatException(file, "no such file");
        }
    }

    /** One tensor of the header, checked against the data section, read into an array of manager. */
    private static NDArray tensor(FileChannel ch, Path file, String name, JsonNode spec, long dataStart, long dataSize,
            NDManager manager) throws IOException {
        String what = "tensor " + name;
        Dtype d = Dtype.parse(spec.path("dtype").asText(""));
        if (d == null) {
            String dtype = spec.path("dtype").isMissingNode() ? "none" : spec.path("dtype").toString();
            throw new FormatException(file, what + ": dtype " + dtype + " is not one of F32, F64, F16, I64, I32, I8, U8, BOOL"
                    + (dtype.equals("\"BF16\"") ? " (convert BF16 to F32 first)" : ""));
        }
        JsonNode shapeNode = spec.path("shape");
        if (!shapeNode.isArray()) {
            throw new FormatException(file, what + ": shape " + shapeNode + " is not a list of sizes");
        }
        long[] shape = new long[shapeNode.size()];
        long elements = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode s = shapeNode.get(i);
            if (!s.canConvertToLong() || !s.isIntegralNumber() || s.asLong() < 0) {
                throw new FormatException(file, what + ": shape " + shapeNode + " is not a list of sizes");
            }
            shape[i] = s.asLong();
            elements = Math.multiplyExact(elements, shape[i]);
        }
        JsonNode off = spec.path("data_offsets");
        if (!off.isArray() || off.size() != 2 || !off.get(0).isIntegralNumber() || !off.get(1).isIntegralNumber()) {
            throw new FormatException(file, what + ": data_offsets " + off + " is not [begin, end]");
        }
        long begin = off.get(0).asLong(), end = off.get(1).asLong();
        if (begin < 0 || end < begin || end > dataSize) {
            throw new FormatException(file, what + ": data_offsets [" + begin + ", " + end + "] out of range: the data is "
                    + dataSize + " bytes (file truncated?)");
        }
        long bytes = Math.multiplyExact(elements, d.bytes);
        if (end - begin != bytes) {
            throw new FormatException(file, what + ": data_offsets [" + begin + ", " + end + "] hold " + (end - begin)
                    + " bytes, shape " + shapeNode + " of " + d + " needs " + bytes);
        }
        if (bytes > Integer.MAX_VALUE - 8) {
            throw new FormatException(file, what + ": " + bytes + " bytes, more than one array can hold (2 GB)");
        }
        ByteBuffer raw = readFully(ch, dataStart + begin, (int) bytes, file).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer direct = ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.nativeOrder());
        if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN || d.bytes == 1) {
            direct.put(raw);
        } else {
            for (int i = 0; i < bytes; i += d.bytes) {
                for (int j = d.bytes - 1; j >= 0; j--) {
                    direct.put(raw.get(i + j));
                }
            }
        }
        direct.rewind();
        NDArray a = manager.create(direct, new Shape(shape), d.djl);
        a.setName(name);
        return a;
    }

    /** count bytes at position, or a FormatException when the file ends first. */
    private static ByteBuffer readFully(FileChannel ch, long position, int count, Path file) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(count);
        while (b.hasRemaining()) {
            int r = ch.read(b, position + b.position());
            if (r < 0) {
                throw new FormatException(file, "truncated: ends at byte " + (position + b.position()));
            }
        }
        b.flip();
        return b;
    }
}
