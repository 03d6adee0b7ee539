package org.sensorium.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDManager;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.sensorium.config.ConfigException;
import org.sensorium.config.Modality;

class BinaryFusionTest {

    @Test
    void weightedLogisticWorkedByHand() {
        try (NDManager m = NDManager.newBaseManager()) {
            // logits 0: every sample -log(1/2) = log 2, whatever the weights
            assertEquals(Math.log(2), BinaryFusion.weightedLogistic(m.create(new float[] {0, 0}), m.create(new float[] {1, 0}),
                    m.create(new float[] {1, 3})).getFloat(), 1e-6);
            // z = (2, -1), y = (1, 0), w = (1, 3): (1 log(1 + e^-2) + 3 log(1 + e^-1)) / 4
            double want = (Math.log(1 + Math.exp(-2)) + 3 * Math.log(1 + Math.exp(-1))) / 4;
            assertEquals(want, BinaryFusion.weightedLogistic(m.create(new float[] {2, -1}), m.create(new float[] {1, 0}),
                    m.create(new float[] {1, 3})).getFloat(), 1e-6);
            // a large logit does not overflow: log(1 + e^-60) is about e^-60
            assertEquals(0, BinaryFusion.weightedLogistic(m.create(new float[] {60}), m.create(new float[] {1}),
                    m.create(new float[] {1})).getFloat(), 1e-6);
        }
    }

    @Test
    void optionsNameTheirFlag() {
        ConfigException e = assertThrows(ConfigException.class, () -> new BinaryFusion.Options(null, List.of(Modality.VIDEO), "left",
                64, 30, 0.01f, 32, List.of(1L), false, List.of()));
        assertEquals("--modality", e.key());
        e = assertThrows(ConfigException.class, () -> new BinaryFusion.Options(null, List.of(Modality.VIDEO, Modality.TEXT), " ",
                64, 30, 0.01f, 32, List.of(1L), false, List.of()));
        assertEquals("--positive", e.key());
        e = assertThrows(ConfigException.class, () -> new BinaryFusion.Options(null, List.of(Modality.VIDEO, Modality.TEXT), "left", true,
                64, 30, 0.01f, 32, List.of(1L), false, List.of()));
        assertEquals("--binary", e.key());
        new BinaryFusion.Options(null, List.of(Modality.VIDEO, Modality.TEXT), null, true, 64, 30, 0.01f, 32, List.of(1L), false, List.of());
    }
}
