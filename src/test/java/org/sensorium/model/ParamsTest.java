package org.sensorium.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
}
