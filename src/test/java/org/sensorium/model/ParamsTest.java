package org.sensorium.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ParamsTest {

    @Test
    void objectiveParametersAreOptionalOnBothSidesEncoderParametersAreNot(@TempDir Path dir) throws Exception {
        try (NDManager m = NDManager.newBaseManager(); Params saved = new Params(m, 1); Params other = new Params(m, 2);
                Params fewer = new Params(m, 3)) {
            saved.normal("trunk.w", 1f, 2, 2);
            saved.normal("objective.old.head", 1f, 3, 2);
            saved.save(dir.resolve("model.ndlist"));

            // A model with another objective: the old head is ignored, the new one keeps its initial values.
            other.normal("trunk.w", 1f, 2, 2);
            float[] fresh = other.normal("objective.new.head", 1f, 4, 2).toFloatArray();
            assertEquals(List.of("objective.new.head"), other.load(dir.resolve("model.ndlist")));
            assertArrayEquals(saved.all().get("trunk.w").toFloatArray(), other.all().get("trunk.w").toFloatArray(), 0f);
            assertArrayEquals(fresh, other.all().get("objective.new.head").toFloatArray(), 0f);

            // An encoder parameter the file lacks is still an error.
            fewer.normal("trunk.w", 1f, 2, 2);
            fewer.normal("trunk.v", 1f, 2);
            IOException e = assertThrows(IOException.class, () -> fewer.load(dir.resolve("model.ndlist")));
            assertTrue(e.getMessage().contains("trunk.v"), e.getMessage());
        }
    }

    @Test
    void buffersAreSavedAndLoadedButNeverTrained(@TempDir Path dir) throws Exception {
        try (NDManager m = NDManager.newBaseManager(); Params saved = new Params(m, 1); Params back = new Params(m, 2);
                Params older = new Params(m, 3); Params encoder = new Params(m, 4)) {
            saved.normal("trunk.w", 1f, 2, 2);
            saved.buffer("objective.h.running_var", 1f, 2).set(new float[] {2f, 3f});
            // Not a parameter: 4 trained numbers, no gradient, not in all().
            assertEquals(4, saved.count());
            assertEquals(List.of("trunk.w"), List.copyOf(saved.all().keySet()));
            assertEquals(List.of("objective.h.running_var"), List.copyOf(saved.buffers().keySet()));
            assertFalse(saved.buffers().get("objective.h.running_var").hasGradient());
            saved.save(dir.resolve("model.ndlist"));

            // Round trip: the buffer comes back with its saved values (2, 3), not its initial (1, 1).
            back.normal("trunk.w", 1f, 2, 2);
            NDArray var = back.buffer("objective.h.running_var", 1f, 2);
            assertEquals(List.of(), back.load(dir.resolve("model.ndlist")));
            assertArrayEquals(new float[] {2f, 3f}, var.toFloatArray(), 0f);
            assertArrayEquals(saved.all().get("trunk.w").toFloatArray(), back.all().get("trunk.w").toFloatArray(), 0f);

            // A checkpoint written before the buffers existed: objective buffers keep the values they have.
            older.normal("trunk.w", 1f, 2, 2);
            older.save(dir.resolve("older.ndlist"));
            NDArray mean = back.buffer("objective.h.running_mean", 0f, 2);
            assertEquals(List.of("objective.h.running_var", "objective.h.running_mean"), back.load(dir.resolve("older.ndlist")));
            assertArrayEquals(new float[] {0f, 0f}, mean.toFloatArray(), 0f);
            assertArrayEquals(new float[] {2f, 3f}, var.toFloatArray(), 0f);

            // An encoder buffer the file lacks is an error naming it.
            encoder.normal("trunk.w", 1f, 2, 2);
            encoder.buffer("trunk.norm.running_mean", 0f, 2);
            IOException e = assertThrows(IOException.class, () -> encoder.load(dir.resolve("older.ndlist")));
            assertTrue(e.getMessage().contains("trunk.norm.running_mean"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> encoder.buffer("trunk.w", 0f, 2));
        }
    }
}
