package org.sensorium.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.model.Params;

class AdamWTest {

    /** Sets gradients to c by backpropagating sum(p * c). */
    private static void grad(NDManager step, NDArray p, float... c) {
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            gc.backward(step.create(c).reshape(p.getShape()).mul(p).sum());
        }
    }

    @Test
    void firstStepsMoveBySignTimesLrAndDecayOnlyWeights() {
        try (NDManager root = NDManager.newBaseManager(); Params params = new Params(root, 1)) {
            NDArray w = params.normal("w", 1f, 1, 1);         // 2-D: decayed
            w.set(new float[] {1f});
            NDArray b = params.constant("b", 1f, 2);          // 1-D: never decayed
            NDArray idle = params.constant("idle", 5f, 1);    // receives no gradient
            NDArray buffer = params.buffer("objective.h.running_mean", 7f, 1); // kept, never trained
            AdamW opt = new AdamW(params, 0.9f, 0.999f, 1e-8f, 0.5f);
            for (int step = 0; step < 2; step++) {
                try (NDManager sm = root.newSubManager()) {
                    grad(sm, w, 2f);
                    grad(sm, b, -3f, 0f);
                    AdamW.GradNorms n = opt.norms(sm);
                    assertEquals(Math.sqrt(4 + 9), n.global(), 1e-5);
                    opt.step(sm, n, 0.1f, 1f);
                    opt.zeroGradients(sm);
                }
            }
            // With a constant gradient m/(1-b1^t) = g and v/(1-b2^t) = g^2, so each step moves lr * sign(g).
            // w: twice p = p (1 - lr wd) - lr: 1 -> 0.95 - 0.1 = 0.85 -> 0.8075 - 0.1 = 0.7075
            assertEquals(0.7075f, w.getFloat(0), 1e-5);
            // b: no decay; element 0 gets +0.1 twice; element 1 had a zero gradient entry: m = v = 0, no move.
            assertArrayEquals(new float[] {1.2f, 1f}, b.toFloatArray(), 1e-5f);
            assertEquals(5f, idle.getFloat(0), 0f);
            assertEquals(7f, buffer.getFloat(0), 0f);
        }
    }

    @Test
    void savedStateContinuesExactly(@TempDir Path dir) throws Exception {
        try (NDManager root = NDManager.newBaseManager(); Params pa = new Params(root, 1); Params pb = new Params(root, 2)) {
            NDArray wa = pa.normal("w", 1f, 2, 2);
            NDArray wb = pb.normal("w", 1f, 2, 2);
            AdamW a = new AdamW(pa, 0.9f, 0.99f, 1e-8f, 0.1f);
            stepOnce(root, wa, a, 1, 2, 3, 4);
            pa.save(dir.resolve("model.ndlist"));
            a.save(dir);
            pb.load(dir.resolve("model.ndlist"));
            AdamW b = new AdamW(pb, 0.9f, 0.99f, 1e-8f, 0.1f);
            b.load(dir);
            stepOnce(root, wa, a, -1, 5, 0.5f, 2);
            stepOnce(root, wb, b, -1, 5, 0.5f, 2);
            assertArrayEquals(wa.toFloatArray(), wb.toFloatArray(), 0f);
        }
    }

    @Test
    void threeStepsFollowTheWrittenUpdateWithEpsilonBiasCorrectionAndScale() {
        // p = 1, grads 0.5, -2, 1 scaled by 0.5, b1 0.9, b2 0.99, eps 1e-3 (large enough to matter), wd 0.1, lr 0.1:
        // g = 0.25: m = 0.025, v = 0.000625, p = 1 * 0.99 - 0.1 * (0.025 / 0.1) / (sqrt(0.000625 / 0.01) + 0.001)
        //   = 0.99 - 0.1 * 0.25 / 0.251 = 0.890398; steps 2 and 3 the same way (double precision): 0.937257, 0.938878
        try (NDManager root = NDManager.newBaseManager(); Params params = new Params(root, 1)) {
            NDArray w = params.normal("w", 1f, 1, 1);
            w.set(new float[] {1f});
            AdamW opt = new AdamW(params, 0.9f, 0.99f, 1e-3f, 0.1f);
            float[] expected = {0.890398f, 0.937257f, 0.938878f};
            float[] grads = {0.5f, -2f, 1f};
            for (int i = 0; i < 3; i++) {
                try (NDManager sm = root.newSubManager()) {
                    grad(sm, w, grads[i]);
                    opt.step(sm, opt.norms(sm), 0.1f, 0.5f);
                    opt.zeroGradients(sm);
                }
                assertEquals(expected[i], w.getFloat(0), 2e-6, "step " + (i + 1));
            }
        }
    }

    private static void stepOnce(NDManager root, NDArray w, AdamW opt, float... g) {
        try (NDManager sm = root.newSubManager()) {
            grad(sm, w, g);
            opt.step(sm, opt.norms(sm), 0.01f, 1f);
            opt.zeroGradients(sm);
        }
    }

    @Test
    void scheduleWarmsUpThenFollowsTheCosine() {
        Schedule s = new Schedule(1f, 0f, 10, 110);
        assertEquals(0.1f, s.at(0), 1e-6);
        assertEquals(1f, s.at(9), 1e-6);
        assertEquals(1f, s.at(10), 1e-6);
        assertEquals(0.5f, s.at(60), 1e-6);   // half way through the decay: (1 + cos(pi/2)) / 2
        assertEquals(0f, s.at(110), 1e-6);
    }
}
