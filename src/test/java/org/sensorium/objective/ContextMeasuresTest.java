package org.sensorium.objective;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class ContextMeasuresTest {

    @Test
    void lookRecallByHand() {
        // 4 clips, 4 key frames; looks [red, red, blue, blue]. Nearest key frames: clip 0 -> key 1 (red, a look hit,
        // not an instance hit), clip 1 -> key 1 (red), clip 2 -> key 0 (red: miss), clip 3 -> key 3 (blue) -> 3/4.
        List<float[]> clips = List.of(new float[] {0, 1}, new float[] {0, 1}, new float[] {1, 0}, new float[] {-1, 0});
        List<float[]> keys = List.of(new float[] {1, 0}, new float[] {0, 1}, new float[] {0, -1}, new float[] {-1, 0});
        List<String> looks = List.of("red", "red", "blue", "blue");
        assertEquals(0.75, ContextMeasures.lookR1(clips, keys, looks), 1e-12);
        // chance: a random key frame shares the look with probability (2/4)^2 + (2/4)^2 = 1/2
        assertEquals(0.5, ContextMeasures.lookChance(looks), 1e-12);
        assertEquals(0.625, ContextMeasures.lookChance(List.of("a", "a", "a", "b")), 1e-12); // 9/16 + 1/16
        // a sample without attributes: no look measure
        assertTrue(Double.isNaN(ContextMeasures.lookR1(clips, keys, Arrays.asList("red", null, "blue", "blue"))));
    }
}
