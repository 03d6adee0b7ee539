package org.sensorium.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.norm.Dropout;

/** The two parameterised primitives every module is made of, and the one safe way to scale by a constant. */
public final class Layers {
    private Layers() {}

    /**
     * x * v, for arrays in the autograd graph. DJL's {@code mul(Number)} and {@code div(Number)} wrap
     * the constant in an array over a direct buffer, multiply, and close it at once; the graph keeps
     * the constant for the backward pass, reads it after the garbage collector has freed that buffer,
     * and gradients come out wrong (measured: zero or garbage in some steps when the collector ran).
     * Here the constant belongs to x's manager and lives until that manager closes, after backward.
     */
    public static NDArray scale(NDArray x, float v) {
        return x.mul(x.getManager().create(v));
    }

    /** y = x W^T + b over the last axis: (..., in) -> (..., out). */
    /** Inputs come first so results belong to the caller's manager, not the parameters'. */
    public record Linear(NDArray weight, NDArray bias) {
        public static Linear create(Params p, String name, int in, int out) {
            return new Linear(p.normal(name + ".weight", 0.02f, out, in), p.constant(name + ".bias", 0f, out));
        }

        public NDArray forward(NDArray x) {
            return ai.djl.nn.core.Linear.linear(x, weight, bias).singletonOrThrow();
        }
    }

    /** LayerNorm over the last axis only (DJL's default normalises every axis but the batch). */
    record Norm(NDArray gain, NDArray bias, int width) {
        static Norm create(Params p, String name, int width) {
            return new Norm(p.constant(name + ".gain", 1f, width), p.constant(name + ".bias", 0f, width), width);
        }

        NDArray forward(NDArray x) {
            return ai.djl.nn.norm.LayerNorm.layerNorm(x, new Shape(width), gain, bias, 1e-5f).singletonOrThrow();
        }
    }

    static NDArray dropout(NDArray x, float rate, boolean training) {
        if (!training || rate == 0f) {
            return x;
        }
        return Dropout.dropout(x, rate, true).singletonOrThrow();
    }
}
