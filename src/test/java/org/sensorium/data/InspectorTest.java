package org.sensorium.data;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The statistics and axis ticks of `sensorium data inspect`, on numbers worked out by hand. */
class InspectorTest {

    @Test
    void statsSkipNaNAndCountZeros() {
        Inspector.Stats s = Inspector.Stats.of(new float[] {0, 1, Float.NaN, 3}, 0, 1);
        assertEquals(0.0, s.min());
        assertEquals(3.0, s.max());
        assertEquals(4.0 / 3, s.mean(), 1e-12);
        // ((0 - 4/3)^2 + (1 - 4/3)^2 + (3 - 4/3)^2) / 3 = (16 + 1 + 25) / 27 = 14 / 9
        assertEquals(Math.sqrt(14.0 / 9), s.std(), 1e-12);
        assertEquals(0.25, s.nan());
        assertEquals(0.25, s.zero());
    }

    @Test
    void statsOfOneChannelOfInterleavedValues() {
        // (3, 2): channel 1 is 10, 20, 30.
        Inspector.Stats s = Inspector.Stats.of(new float[] {1, 10, 2, 20, 3, 30}, 1, 2);
        assertEquals(10.0, s.min());
        assertEquals(30.0, s.max());
        assertEquals(20.0, s.mean(), 1e-12);
        assertEquals(Math.sqrt(200.0 / 3), s.std(), 1e-9);
    }

    @Test
    void ticksAreRoundValuesInsideTheRange() {
        assertEquals(List.of(0.0, 0.5, 1.0, 1.5), Inspector.ticks(0, 1.92));
        assertEquals(List.of(0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0), Inspector.ticks(0, 64));
        // 2.7 / 5 = 0.54 = 5.4 x 0.1 -> step 5 x 0.1
        assertEquals(List.of(-1.5, -1.0, -0.5, 0.0, 0.5, 1.0), Inspector.ticks(-1.6, 1.1));
        // 0.3 / 5 = 0.06 -> step 0.05
        List<Double> t = Inspector.ticks(0.1, 0.4);
        double[] expected = {0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4};
        assertEquals(expected.length, t.size(), t.toString());
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], t.get(i), 1e-12, t.toString());
        }
    }
}
