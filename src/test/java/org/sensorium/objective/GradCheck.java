package org.sensorium.objective;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.function.Function;

/** Autograd against central finite differences, for losses of one array on tiny sizes. */
public final class GradCheck {
    private GradCheck() {}

    /** Checks d loss / d x at x (values, shape) for every element: |autograd - (f(x+h) - f(x-h)) / 2h| <= tol. */
    public static void check(Function<NDArray, NDArray> loss, float[] x, Shape shape, double tol) {
        double h = 1e-3;
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray at = m.create(x, shape);
            at.setRequiresGradient(true);
            float[] grad;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(loss.apply(at));
                grad = at.getGradient().toFloatArray();
            }
            for (int i = 0; i < x.length; i++) {
                float[] plus = x.clone(), minus = x.clone();
                plus[i] += (float) h;
                minus[i] -= (float) h;
                double fd = (loss.apply(m.create(plus, shape)).getFloat() - loss.apply(m.create(minus, shape)).getFloat()) / (2 * h);
                assertEquals(fd, grad[i], tol, "d loss / d x[" + i + "]");
            }
        }
    }
}
