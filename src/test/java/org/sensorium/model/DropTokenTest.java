package org.sensorium.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.sensorium.config.Modality;

class DropTokenTest {

    @Test
    void keepsTheTokensOfSmallestNoiseInOrder() {
        try (NDManager m = NDManager.newBaseManager()) {
            // row 0 noise (0.9, 0.1, 0.5, 0.3): keep 2 -> tokens 1 and 3; row 1 (0.2, 0.8, 0.1, 0.7) -> tokens 0 and 2
            NDArray noise = m.create(new float[][] {{0.9f, 0.1f, 0.5f, 0.3f}, {0.2f, 0.8f, 0.1f, 0.7f}});
            assertArrayEquals(new boolean[] {false, true, false, true, true, false, true, false},
                    DropToken.kept(noise, 2).toBooleanArray());
            NDArray h = m.arange(16f).reshape(2, 4, 2);                      // token j of sample i = (8i + 2j, 8i + 2j + 1)
            NDArray kept = h.get(DropToken.kept(noise, 2)).reshape(2, 2, 2);
            assertArrayEquals(new float[] {2, 3, 6, 7, 8, 9, 12, 13}, kept.toFloatArray());
        }
    }

    @Test
    void dropsAFixedShareOfVideoAndAudioInTrainingOnly() {
        assertEquals(4, DropToken.keptCount(8, 0.5f));
        assertEquals(1, DropToken.keptCount(2, 0.9f)); // never every token
        assertEquals(7, DropToken.keptCount(10, 0.25f)); // round(2.5) = 3 dropped
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray h = m.randomNormal(new Shape(3, 8, 4));
            assertEquals(new Shape(3, 4, 4), DropToken.apply(h, Modality.VIDEO, null, 0.5f, true).getShape());
            assertEquals(new Shape(3, 4, 4), DropToken.apply(h, Modality.AUDIO, null, 0.5f, true).getShape());
            assertSame(h, DropToken.apply(h, Modality.VIDEO, null, 0.5f, false));  // evaluation sees every token
            assertSame(h, DropToken.apply(h, Modality.IMU, null, 0.5f, true));     // VATT drops video and audio only
            assertSame(h, DropToken.apply(h, Modality.VIDEO, null, 0f, true));
            // every kept row is one of the sample's own tokens, each at most once
            NDArray kept = DropToken.apply(h, Modality.VIDEO, null, 0.5f, true);
            for (int i = 0; i < 3; i++) {
                NDArray mine = h.get(i), k = kept.get(i);                       // (8, 4), (4, 4)
                NDArray equal = k.expandDims(1).eq(mine.expandDims(0)).toType(ai.djl.ndarray.types.DataType.INT32, false);
                NDArray matches = equal.sum(new int[] {2}).eq(4).toType(ai.djl.ndarray.types.DataType.INT32, false); // (4, 8)
                assertEquals(4, matches.sum().getLong());
                assertEquals(1, matches.sum(new int[] {0}).max().getLong());
            }
        }
    }

    @Test
    void badValuesAndObjectivesThatReadEveryTokenAreConfigErrors() {
        for (String[] c : new String[][] {{"model.drop_token=1.0", "model.drop_token"},
                {"model.drop_token=-0.1", "model.drop_token"},
                {"model.drop_token=0.5,objectives.motion_prediction.weight=1,objectives.motion_prediction.from=video",
                        "objectives.motion_prediction.from"}}) {
            org.sensorium.config.ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(
                    org.sensorium.config.ConfigException.class,
                    () -> org.sensorium.config.ConfigLoader.load(null, java.util.List.of(c[0].split(","))));
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains(c[1]), e.getMessage());
        }
    }
}
