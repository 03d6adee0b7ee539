package org.sensorium.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.sensorium.config.ModalitySpec;

/** The loader's training augmentation redone on decoded clips (ClipOps.asTrained, the QA pretext's --pretext-augment). */
class ClipOpsTest {
    private static final List<Double> MEAN = List.of(0.45, 0.45, 0.45), STD = List.of(0.225, 0.225, 0.225);

    @Test
    void loaderBoxByHand() {
        // area 1/4 of 32 x 32: a 16 x 16 box; fx 1 = right edge (column 32 - 16 = 16), fy 0 = top
        assertEquals(new ClipOps.Box(0, 16, 16, 16), ClipOps.loaderBox(0.25, 1, 0, 32, 32));
        // area 0.6: sqrt(0.6) 32 = 24.79 -> 25; room 7, half of it 3.5 -> 4
        assertEquals(new ClipOps.Box(4, 4, 25, 25), ClipOps.loaderBox(0.6, 0.5, 0.5, 32, 32));
        assertEquals(new ClipOps.Box(0, 0, 32, 32), ClipOps.loaderBox(1, 0.3, 0.9, 32, 32));
    }

    /** Clips of 2 frames of 4 x 4 pixels p in [0.1, 0.9], normalised. */
    private static float[] pixels() {
        SplittableRandom r = new SplittableRandom(7);
        float[] p = new float[2 * 2 * 4 * 4 * 3];
        for (int i = 0; i < p.length; i++) {
            p[i] = (float) (0.1 + 0.8 * r.nextDouble());
        }
        return p;
    }

    /** (p - 0.45) / 0.225, the normalisation of MEAN and STD. */
    private static float[] normalised(float[] p) {
        float[] x = new float[p.length];
        for (int i = 0; i < p.length; i++) {
            x[i] = (p[i] - 0.45f) / 0.225f;
        }
        return x;
    }

    @Test
    void noCropNoJitterLeavesClipsAlone() {
        // crop_min_scale 1 -> the whole frame (resampling i -> i exactly); brightness = contrast = 0 -> factors 1
        var spec = new ModalitySpec.Video(4.0, 4, 4, 2, 2, MEAN, STD, 1.0, false, 0.0, 0.0);
        float[] p = pixels(), x = normalised(p);
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(3);
            float[] y = ClipOps.asTrained(m.create(x, new Shape(2, 2, 4, 4, 3)), spec).toFloatArray();
            assertArrayEquals(x, y, 1e-4f);
        }
    }

    @Test
    void brightnessAloneScalesEachClipsPixelsByOneFactorWithinRange() {
        // no crop, contrast 0, brightness 0.2: p' = p b_i with b_i in [0.8, 1.2], one b per clip (pixels <= 0.9 * 1.2 < 1: no clipping)
        var spec = new ModalitySpec.Video(4.0, 4, 4, 2, 2, MEAN, STD, 1.0, false, 0.2, 0.0);
        float[] p = pixels(), x = normalised(p);
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(3);
            float[] y = ClipOps.asTrained(m.create(x, new Shape(2, 2, 4, 4, 3)), spec).toFloatArray();
            int per = p.length / 2;
            double[] factor = new double[2];
            for (int b = 0; b < 2; b++) {
                factor[b] = (y[b * per] * 0.225 + 0.45) / p[b * per];
                assertTrue(factor[b] >= 0.8 - 1e-4 && factor[b] <= 1.2 + 1e-4, "factor " + factor[b]);
                for (int i = b * per; i < (b + 1) * per; i++) {
                    assertEquals(factor[b], (y[i] * 0.225 + 0.45) / p[i], 1e-3);
                }
            }
            assertTrue(Math.abs(factor[0] - factor[1]) > 1e-4, "each clip draws its own factor");
        }
    }
}
