package org.sensorium.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The held-out two-view R@1 of {@link Pretrain#viewR1}, on unit vectors worked out by hand. */
class ViewMeasuresTest {
    @Test
    void r1CountsRowsWhoseOwnSecondViewIsTheMostSimilar() {
        // first views a0 = (1, 0), a1 = (0, 1), a2 = (0.6, 0.8); second views b0 = (0.8, 0.6), b1 = (0, 1), b2 = (1, 0)
        // a0: b0 0.8, b1 0, b2 1.0 -> b2 (miss); a1: b0 0.6, b1 1.0, b2 0 -> b1 (hit); a2: b0 0.96, b1 0.8, b2 0.6 -> b0 (miss)
        List<float[]> a = List.of(new float[] {1, 0}, new float[] {0, 1}, new float[] {0.6f, 0.8f});
        List<float[]> b = List.of(new float[] {0.8f, 0.6f}, new float[] {0, 1}, new float[] {1, 0});
        assertEquals(1.0 / 3, Pretrain.viewR1(a, b), 1e-12);
        assertEquals(1.0, Pretrain.viewR1(a, a), 1e-12);
        assertTrue(Double.isNaN(Pretrain.viewR1(List.of(), List.of())));
    }
}
