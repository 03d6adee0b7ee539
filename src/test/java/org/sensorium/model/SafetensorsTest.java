package org.sensorium.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {

    /** A file of the given header text (length-prefixed, as the format has it) followed by data bytes. */
    private static Path file(Path dir, String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path f = dir.resolve("bad.safetensors");
        Files.write(f, b.array());
        return f;
    }

    private static String readError(Path f) {
        try (NDManager m = NDManager.newBaseManager()) {
            IOException e = assertThrows(Safetensors.FormatException.class, () -> Safetensors.read(f, m));
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
            assertTrue(e.getMessage().startsWith(f + ": "), e.getMessage());
            return e.getMessage();
        }
    }

    @Test
    void writtenTensorsReadBackWithTheirNamesOrderShapesTypesAndValues(@TempDir Path dir) throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> t = new LinkedHashMap<>();
            t.put("z.weight", m.create(new float[] {1.5f, -2f, 3.25f, 0f, 1e-30f, Float.MAX_VALUE}, new Shape(2, 3)));
            t.put("a.scalar", m.create(2.5f));                                           // shape ()
            t.put("ids", m.create(new long[] {0, 7, Long.MAX_VALUE}, new Shape(3)));
            t.put("valid", m.create(new boolean[] {true, false, true, true}, new Shape(2, 2)));
            t.put("empty", m.create(new float[0], new Shape(0, 4)));
            Path f = dir.resolve("t.safetensors");
            Safetensors.write(f, t, Map.of("format", "pt"));
            Safetensors.Contents back = Safetensors.readAll(f, m);
            assertEquals(List.copyOf(t.keySet()), List.copyOf(back.tensors().keySet()), "names, in the order written");
            assertEquals(Map.of("format", "pt"), back.metadata());
            for (String name : t.keySet()) {
                NDArray a = t.get(name), b = back.tensors().get(name);
                assertEquals(a.getShape(), b.getShape(), name);
                assertEquals(a.getDataType(), b.getDataType(), name);
                assertEquals(name, b.getName());
                assertTrue(a.contentEquals(b), name);
            }
            assertArrayEquals(new long[] {0, 7, Long.MAX_VALUE}, back.tensors().get("ids").toLongArray());
            long headerLength = ByteBuffer.wrap(Files.readAllBytes(f), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(0, headerLength % 8, "tensors start 8-byte aligned");
        }
    }

    @Test
    void djlReadsWhatWeWrite(@TempDir Path dir) throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Path f = dir.resolve("t.safetensors");
            Safetensors.write(f, Map.of("w", m.create(new float[] {1, 2, 3, 4}, new Shape(2, 2))));
            NDList djl = NDList.decode(m, Files.readAllBytes(f));
            assertEquals("w", djl.get(0).getName());
            assertArrayEquals(new float[] {1, 2, 3, 4}, djl.get(0).toFloatArray());
        }
    }

    @Test
    void aTruncatedHeaderIsNamed(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("short.safetensors");
        Files.write(f, new byte[] {16, 0, 0});
        assertTrue(readError(f).contains("truncated header: 3 bytes"), readError(f));
        try (NDManager m = NDManager.newBaseManager()) {
            Path whole = dir.resolve("whole.safetensors");
            Safetensors.write(whole, Map.of("w", m.create(new float[] {1, 2}, new Shape(2))));
            byte[] all = Files.readAllBytes(whole);
            Files.write(f, Arrays.copyOf(all, 20)); // the length field says more than is left
            assertTrue(readError(f).contains("truncated header: its length field says"), readError(f));
            Files.write(f, Arrays.copyOf(all, all.length - 3)); // header whole, data cut
            assertTrue(readError(f).contains("tensor w: data_offsets [0, 8] out of range: the data is 5 bytes"), readError(f));
        }
    }

    @Test
    void aBadDtypeIsNamedWithItsTensor(@TempDir Path dir) throws Exception {
        Path f = file(dir, "{\"w\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4);
        assertTrue(readError(f).contains("tensor w: dtype \"BF16\" is not one of F32"), readError(f));
        assertTrue(readError(f).contains("convert BF16 to F32"), readError(f));
        f = file(dir, "{\"w\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4);
        assertTrue(readError(f).contains("dtype \"Q4\""), readError(f));
    }

    @Test
    void offsetsThatDisagreeWithTheShapeOrLeaveTheDataAreErrors(@TempDir Path dir) throws Exception {
        Path f = file(dir, "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8);
        assertTrue(readError(f).contains("hold 8 bytes, shape [3] of F32 needs 12"), readError(f));
        f = file(dir, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 8);
        assertTrue(readError(f).contains("out of range"), readError(f));
        f = file(dir, "{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8);
        assertTrue(readError(f).contains("is not a list of sizes"), readError(f));
        f = file(dir, "{\"w\": [1, 2", 0);
        assertTrue(readError(f).contains("header is not JSON"), readError(f));
        assertTrue(readError(dir.resolve("absent.safetensors")).endsWith("no such file"));
    }

    @Test
    void aTensorCannotBeNamedLikeTheMetadata(@TempDir Path dir) {
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> t = Map.of("__metadata__", m.create(new float[] {1}));
            assertThrows(IllegalArgumentException.class, () -> Safetensors.write(dir.resolve("t.safetensors"), t));
        }
    }
}
