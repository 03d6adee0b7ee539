package org.sensorium.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;
import org.sensorium.model.Params;

class TrainerTest {

    /** Gradient c for p, from backpropagating sum(p * c). */
    private static void grad(NDManager step, NDArray p, float c) {
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            gc.backward(step.create(new float[] {c}).mul(p).sum());
        }
    }

    @Test
    void aStepMovesOnlyTheParametersItTrainsAndANonFiniteNormSkipsIt() {
        try (NDManager root = NDManager.newBaseManager(); Params params = new Params(root, 1)) {
            NDArray a = params.constant("a", 1f, 1);
            NDArray b = params.constant("b", 1f, 1);
            AdamW opt = new AdamW(params, 0.9f, 0.999f, 1e-8f, 0f);
            try (NDManager sm = root.newSubManager()) {
                grad(sm, a, 3f);
                grad(sm, b, 4f);
                AdamW.GradNorms n = Trainer.applyStep(opt, sm, 0.1f, 1f, name -> name.equals("a"));
                assertEquals(3f, n.global(), 1e-6);                     // b's gradient does not count: sqrt(9)
                // Adam's first step is lr x sign(g), whatever the clipping scale: 1 - 0.1
                assertArrayEquals(new float[] {0.9f}, a.toFloatArray(), 1e-5f);
                assertArrayEquals(new float[] {1f}, b.toFloatArray());  // not trained
                assertEquals(0f, a.getGradient().sum().getFloat());   // gradients zeroed after the step
            }
            try (NDManager sm = root.newSubManager()) {
                grad(sm, a, Float.NaN);
                AdamW.GradNorms n = Trainer.applyStep(opt, sm, 0.1f, 1f, null);
                assertTrue(Float.isNaN(n.global()));
                assertArrayEquals(new float[] {0.9f}, a.toFloatArray(), 1e-5f); // skipped, not applied
                assertEquals(0f, a.getGradient().sum().getFloat());
            }
        }
    }

    /**
     * libtorch's grad mode is per thread and starts enabled on a new thread; DJL's gradient collector restores the
     * mode it found when it closes. A step on such a thread used to run AdamW's in-place updates with autograd
     * recording ("a leaf Variable that requires grad is being used in an in-place operation"): a test that failed
     * now and then, depending on which thread ran the step.
     */
    @Test
    void aStepWorksOnAThreadWhoseGradModeWasNeverSwitchedOff() throws Exception {
        Throwable[] failure = new Throwable[1];
        float[][] after = new float[1][];
        Thread t = new Thread(() -> {
            try (NDManager root = NDManager.newBaseManager(); Params params = new Params(root, 1)) {
                NDArray a = params.constant("a", 1f, 1);
                AdamW opt = new AdamW(params, 0.9f, 0.999f, 1e-8f, 0.5f);
                try (NDManager sm = root.newSubManager()) {
                    grad(sm, a, 3f);
                    java.nio.file.Path file = java.nio.file.Files.createTempFile("params", ".ndlist");
                    params.save(file);
                    params.load(file); // an in-place copy into the parameters, too
                    java.nio.file.Files.delete(file);
                    Trainer.applyStep(opt, sm, 0.1f, 0f, null);
                    after[0] = a.toFloatArray();
                }
            } catch (Throwable e) {
                failure[0] = e;
            }
        });
        t.start();
        t.join();
        assertEquals(null, failure[0], () -> String.valueOf(failure[0]));
        // Adam's first step: 1 - 0.1 x sign(3) (a constant is not decayed)
        assertArrayEquals(new float[] {0.9f}, after[0], 1e-5f);
    }
}
