package org.sensorium.modality;

import java.util.Arrays;

/**
 * One sample's input for one modality, before batching: a dense float array in the adapter's
 * input shape. Text stores token ids as floats (exact below 2^24, far above any vocabulary) and a
 * per-token valid mask; other modalities have every token valid (valid == null).
 */
public record Item(float[] values, long[] shape, boolean[] valid) {
    public Item {
        long n = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        if (n != values.length) {
            throw new IllegalArgumentException("values has " + values.length + " elements, shape " + Arrays.toString(shape) + " needs " + n);
        }
    }
}
