package org.sensorium.objective;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

class RelativeSpeedTest {

    @Test
    void labelsCompareTheSecondClipWithTheFirst() {
        float[] first = {1, 1, 1, 1};
        float[] second = {0.5f, 1, 2, 2};
        assertArrayEquals(new int[] {0, 1, 2}, RelativeSpeed.labels(first, second, new boolean[] {true, true, false, true}));
    }

    @Test
    void speedLossByHand() {
        // W = 0, b = (0, 0, ln 2): every sample predicts softmax = (1/4, 1/4, 1/2).
        // Labels (faster, slower): -(ln 1/2 + ln 1/4) / 2 = 1.5 ln 2 = 1.039721. With b = 0 it is ln 3 whatever the label.
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray z = m.create(new float[][] {{0.6f, 0.8f}, {1, 0}});
            NDArray w = m.zeros(new Shape(3, 4));
            NDArray b = m.create(new float[] {0, 0, (float) Math.log(2)});
            assertEquals(1.5 * Math.log(2), RelativeSpeed.speedLoss(z, z, new int[] {2, 0}, w, b).getFloat(), 1e-6);
            assertEquals(Math.log(3), RelativeSpeed.speedLoss(z, z, new int[] {1, 1}, w, m.zeros(new Shape(3))).getFloat(), 1e-6);
        }
    }
}
