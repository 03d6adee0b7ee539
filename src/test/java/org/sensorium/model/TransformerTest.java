package org.sensorium.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

class TransformerTest {

    @Test
    void dropPathZeroesWholeSamplesAndRescalesTheRest() {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(3);
            NDArray ones = m.ones(new Shape(64, 2, 3));
            float[] out = Transformer.Block.dropPath(ones, 0.5f, true).toFloatArray();
            int kept = 0;
            for (int b = 0; b < 64; b++) {
                float first = out[b * 6];
                assertTrue(first == 0f || first == 2f, "sample " + b + " got " + first);
                for (int i = 1; i < 6; i++) {
                    assertEquals(first, out[b * 6 + i], 0f);   // one decision per sample
                }
                kept += first == 2f ? 1 : 0;
            }
            assertTrue(kept > 16 && kept < 48, "kept " + kept + " of 64 at rate 0.5");
            assertArrayEquals(ones.toFloatArray(), Transformer.Block.dropPath(ones, 0.5f, false).toFloatArray(), 0f);
        }
    }

    @Test
    void scaledConstantSurvivesGarbageCollectionBeforeBackward() {
        try (NDManager root = NDManager.newBaseManager()) {
            NDArray w = root.create(new float[] {1f, -2f});
            w.setRequiresGradient(true);
            for (int attempt = 0; attempt < 20; attempt++) {
                try (NDManager sm = root.newSubManager()) {
                    try (ai.djl.training.GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        NDArray y = Layers.scale(sm.zeros(new Shape(2)).add(w), 3f);   // 3 w
                        // Free what the collector can and reuse the memory before the backward pass.
                        System.gc();
                        for (int i = 0; i < 200; i++) {
                            java.nio.ByteBuffer.allocateDirect(4).putFloat(0, 0f);
                        }
                        gc.backward(y.square().sum());                                  // d/dw 9 w^2 = 18 w
                    }
                    NDArray g = w.getGradient();
                    g.attach(sm);
                    assertArrayEquals(new float[] {18f, -36f}, g.toFloatArray(), 1e-5f, "attempt " + attempt);
                    g.set(new ai.djl.ndarray.index.NDIndex("..."), 0f);
                }
            }
        }
    }

    @Test
    void keyBiasMasksPaddedKeysOnly() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray valid = m.create(new boolean[] {true, true, false}, new Shape(1, 3));
            NDArray bias = Transformer.keyBias(valid);
            assertEquals(new Shape(1, 1, 1, 3), bias.getShape());
            assertArrayEquals(new float[] {0f, 0f, Transformer.MASKED}, bias.toFloatArray(), 0f);
        }
    }
}
