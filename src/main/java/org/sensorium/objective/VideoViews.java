package org.sensorium.objective;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.sensorium.model.ClipOps;

/**
 * Views of a batch of video clips built from the tensor the video stem reads, for the objectives that pull apart
 * scene and motion (DSM, background erasing). Shapes: B clips, T frames, H x W pixels, C = 3 channels, F = H W C.
 * Clips are normalised per channel ((x - mean) / std); a convex blend of normalised frames is the normalised blend
 * of their pixels, so blending here equals blending the decoded frames. Draws come from libtorch's generator, which
 * the training loop seeds per step and the held-out measures seed before they start.
 */
final class VideoViews {
    private VideoViews() {}

    /** One static frame per clip: frame time[i] of clip source[i]. x (B, T, H, W, C) -> (B, 1, H, W, C). */
    static NDArray frames(NDArray x, int[] source, int[] time) {
        Shape s = x.getShape();
        int b = (int) s.get(0), t = (int) s.get(1);
        float[][] pick = new float[source.length][b * t];                          // one-hot rows over the B*T frames
        for (int i = 0; i < source.length; i++) {
            pick[i][source[i] * t + time[i]] = 1;
        }
        NDArray flat = x.reshape(b * t, -1);                                       // (B*T, F)
        return x.getManager().create(pick).matMul(flat).reshape(source.length, 1, s.get(2), s.get(3), s.get(4)); // (B, 1, H, W, C)
    }

    /** x'_t = (1 - lambda_i) x_t + lambda_i s_i for every frame t of clip i: x (B, T, H, W, C), s (B, 1, H, W, C). */
    static NDArray blend(NDArray x, NDArray s, float[] lambda) {
        NDArray l = x.getManager().create(lambda).reshape(lambda.length, 1, 1, 1, 1); // (B, 1, 1, 1, 1)
        return x.mul(l.neg().add(1f)).add(s.mul(l));
    }

    /** n factors drawn from U(1 - r, 1 + r), from libtorch's generator (1 each for r = 0). */
    static float[] aroundOne(NDManager m, int n, float r) {
        float[] u = uniform(m, n, 2 * r);
        for (int i = 0; i < n; i++) {
            u[i] += 1 - r;
        }
        return u;
    }

    /** The frames of every clip in the order order: x'[:, t] = x[:, order[t]]. x (B, T, H, W, C) -> same shape. */
    static NDArray reordered(NDArray x, int[] order) {
        Shape s = x.getShape();
        int t = order.length;
        float[][] perm = new float[t][t];
        for (int i = 0; i < t; i++) {
            perm[i][order[i]] = 1;
        }
        NDArray flat = x.reshape(s.get(0), t, -1);                                 // (B, T, F)
        return x.getManager().create(perm).matMul(flat).reshape(s);               // (T, T) x (B, T, F) -> (B, T, F)
    }

    /** A random order of 0..t-1 that is not the identity (t >= 2), from libtorch's generator. */
    static int[] shuffledOrder(NDManager m, int t) {
        while (true) {
            NDArray noise = m.randomUniform(0f, 1f, new Shape(t));
            int[] order = toInts(noise.argSort().toLongArray());
            for (int i = 0; i < t; i++) {
                if (order[i] != i) {
                    return order;
                }
            }
        }
    }

    /** n random frame indices in [0, t), from libtorch's generator. */
    static int[] randomFrames(NDManager m, int n, int t) {
        float[] u = m.randomUniform(0f, 1f, new Shape(n)).toFloatArray();
        int[] k = new int[n];
        for (int i = 0; i < n; i++) {
            k[i] = Math.min(t - 1, (int) (u[i] * t));
        }
        return k;
    }

    /** n draws of U(0, max), from libtorch's generator. */
    static float[] uniform(NDManager m, int n, float max) {
        float[] u = m.randomUniform(0f, 1f, new Shape(n)).toFloatArray();
        for (int i = 0; i < n; i++) {
            u[i] *= max;
        }
        return u;
    }

    /** CropMAE's crops: a share of the frame's area in [CROP_MIN_AREA, 1], an aspect (w / h) in [3/4, 4/3], log-uniform. */
    static final double CROP_MIN_AREA = 0.3, CROP_MAX_ASPECT = 4.0 / 3.0;

    /**
     * The crop box of four uniform draws u in [0, 1) on an h x w frame: area share a = MIN + (1 - MIN) u0, aspect
     * r = exp((2 u1 - 1) ln 4/3), box height round(sqrt(a h w / r)) and width round(sqrt(a h w r)), each kept within
     * [1, side]; its top-left corner u2, u3 of the way along the room left.
     */
    static ClipOps.Box box(float u0, float u1, float u2, float u3, int h, int w) {
        double area = (CROP_MIN_AREA + (1 - CROP_MIN_AREA) * u0) * h * w;
        double aspect = Math.exp((2 * u1 - 1) * Math.log(CROP_MAX_ASPECT));
        int bh = (int) Math.max(1, Math.min(h, Math.round(Math.sqrt(area / aspect))));
        int bw = (int) Math.max(1, Math.min(w, Math.round(Math.sqrt(area * aspect))));
        return new ClipOps.Box(Math.min(h - bh, (int) (u2 * (h - bh + 1))), Math.min(w - bw, (int) (u3 * (w - bw + 1))), bh, bw);
    }

    private static int[] toInts(long[] v) {
        int[] r = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            r[i] = (int) v[i];
        }
        return r;
    }
}
