package org.sensorium.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.sensorium.config.ModalitySpec;

/**
 * Operations on batches of decoded video clips, x (B, T, H, W, C) normalised per channel ((p - mean) / std): resized
 * crops, brightness and contrast, and the video loader's training augmentation redone on decoded clips (for a phase
 * that trains on clips decoded once, the QA pretext). Draws come from libtorch's generator.
 */
public final class ClipOps {
    private ClipOps() {}

    /** A crop box in pixels: rows top..top+height-1, columns left..left+width-1. */
    public record Box(int top, int left, int height, int width) {}

    /**
     * The video loader's training augmentation (its Augment, without flip) on decoded clips: per clip an area share
     * a ~ U(crop_min_scale, 1), a place fx, fy ~ U(0, 1) and brightness, contrast factors ~ U(1 -+ brightness /
     * contrast); the box {@link #loaderBox} resized back to H x W ({@link #cropped}), then {@link #jittered}. Unlike the
     * loader it resamples the decoded H x W frame, not the source frame. x (B, T, H, W, C) -> same shape.
     */
    public static NDArray asTrained(NDArray x, ModalitySpec.Video spec) {
        NDManager m = x.getManager();
        int b = (int) x.getShape().get(0), h = (int) x.getShape().get(2), w = (int) x.getShape().get(3);
        float[] area = uniform(m, b), fx = uniform(m, b), fy = uniform(m, b);
        Box[] boxes = new Box[b];
        for (int i = 0; i < b; i++) {
            boxes[i] = loaderBox(spec.cropMinScale() + (1 - spec.cropMinScale()) * area[i], fx[i], fy[i], h, w);
        }
        return jittered(cropped(x, boxes), aroundOne(m, b, spec.brightness()), aroundOne(m, b, spec.contrast()),
                floats(spec.mean()), floats(spec.std()));
    }

    /**
     * The loader's crop on an h x w frame: a box round(sqrt(area) h) x round(sqrt(area) w) (at least 1 pixel), its
     * top-left corner fy and fx of the way along the room left (0 = top / left edge, 1 = bottom / right edge), rounded.
     */
    static Box loaderBox(double area, double fx, double fy, int h, int w) {
        int bh = (int) Math.max(1, Math.min(h, Math.round(Math.sqrt(area) * h)));
        int bw = (int) Math.max(1, Math.min(w, Math.round(Math.sqrt(area) * w)));
        return new Box((int) Math.round(fy * (h - bh)), (int) Math.round(fx * (w - bw)), bh, bw);
    }

    /**
     * Brightness and contrast of every frame of clip i changed by its own factors b_i, c_i, as the video loader's
     * augmentation changes pixels p in [0, 1], on normalised clips x = (p - mean) / std:
     * <pre>
     *   p = std x + mean,   p' = clip(((p - 1/2) c_i + 1/2) b_i, 0, 1),   x' = (p' - mean) / std
     * </pre>
     * x (B, T, H, W, C); b, c (B); mean, std (C) -> (B, T, H, W, C).
     */
    public static NDArray jittered(NDArray x, float[] b, float[] c, float[] mean, float[] std) {
        NDManager m = x.getManager();
        int n = b.length, ch = mean.length;
        NDArray mu = m.create(mean).reshape(1, 1, 1, 1, ch), sigma = m.create(std).reshape(1, 1, 1, 1, ch); // (1, 1, 1, 1, C)
        NDArray bi = m.create(b).reshape(n, 1, 1, 1, 1), ci = m.create(c).reshape(n, 1, 1, 1, 1);           // (B, 1, 1, 1, 1)
        NDArray p = x.mul(sigma).add(mu);                                                                    // pixels in [0, 1]
        return p.sub(0.5f).mul(ci).add(0.5f).mul(bi).clip(0f, 1f).sub(mu).div(sigma);
    }

    /**
     * Bilinear resampling of pixels from..from+size-1 of a side of `side` pixels onto `side` pixels, as a matrix
     * (side, side): output i reads source coordinate from + (i + 1/2) size / side - 1/2 (pixel centres, no antialias),
     * kept within [0, side - 1], split between its two neighbours.
     */
    public static float[] resampling(int from, int size, int side) {
        float[] r = new float[side * side];
        for (int i = 0; i < side; i++) {
            double src = Math.max(0, Math.min(side - 1, from + (i + 0.5) * size / side - 0.5));
            int lo = (int) Math.floor(src), hi = Math.min(lo + 1, side - 1);
            float frac = (float) (src - lo);
            r[i * side + lo] += 1 - frac;
            r[i * side + hi] += frac;
        }
        return r;
    }

    /**
     * Clip i's box boxes[i] of every frame, resized bilinearly to the frame's H x W: out = R_i x X Q_i^T per frame and
     * channel, R_i (H, H) and Q_i (W, W) the rows' and columns' resampling. x (B, T, H, W, C) -> (B, T, H, W, C).
     */
    public static NDArray cropped(NDArray x, Box[] boxes) {
        Shape s = x.getShape();
        int b = (int) s.get(0), t = (int) s.get(1), h = (int) s.get(2), w = (int) s.get(3), c = (int) s.get(4);
        float[] rows = new float[b * h * h], columns = new float[b * w * w];
        for (int i = 0; i < b; i++) {
            System.arraycopy(resampling(boxes[i].top(), boxes[i].height(), h), 0, rows, i * h * h, h * h);
            System.arraycopy(resampling(boxes[i].left(), boxes[i].width(), w), 0, columns, i * w * w, w * w);
        }
        NDManager m = x.getManager();
        NDArray byRow = x.transpose(0, 2, 1, 3, 4).reshape(b, h, (long) t * w * c);          // (B, H, T W C)
        NDArray y = m.create(rows, new Shape(b, h, h)).matMul(byRow).reshape(b, h, t, w, c); // (B, H', T, W, C)
        NDArray byColumn = y.transpose(0, 3, 2, 1, 4).reshape(b, w, (long) t * h * c);        // (B, W, T H' C)
        NDArray z = m.create(columns, new Shape(b, w, w)).matMul(byColumn).reshape(b, w, t, h, c); // (B, W', T, H', C)
        return z.transpose(0, 2, 3, 1, 4);                                                    // (B, T, H', W', C)
    }

    /** A config's list of doubles (per-channel mean, std) as floats. */
    public static float[] floats(List<Double> xs) {
        float[] out = new float[xs.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = xs.get(i).floatValue();
        }
        return out;
    }

    /** n draws of U(0, 1) from libtorch's generator. */
    private static float[] uniform(NDManager m, int n) {
        return m.randomUniform(0f, 1f, new Shape(n)).toFloatArray();
    }

    /** n factors drawn from U(1 - r, 1 + r). */
    private static float[] aroundOne(NDManager m, int n, double r) {
        float[] u = uniform(m, n);
        for (int i = 0; i < n; i++) {
            u[i] = (float) (1 - r + 2 * r * u[i]);
        }
        return u;
    }
}
