package org.sensorium.objective;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.sensorium.model.Layers;

/**
 * What the masked-embedding objectives share: MAE's random masking, the squared error over masked
 * positions only, and parameter-free target normalisations. Shapes: B batch, N positions (tokens or
 * segments), F features of a position.
 */
final class Masking {
    private Masking() {}

    /** Variance floor of the normalisations (LayerNorm's default). */
    static final float EPS = 1e-5f;

    /** A mask and how many positions it masks. mask is (B, N) float32, 1 = masked. */
    record Drawn(NDArray mask, int count) {}

    /**
     * A random mask with the noise drawn from libtorch's generator, which the training loop re-seeds
     * from (seed, step): a resumed run draws the same masks. Rows of absent samples mask nothing.
     *
     * @param valid (B, N) boolean, or null when every position is valid
     */
    static Drawn draw(NDManager m, long b, long n, NDArray valid, boolean[] present, double ratio) {
        float[] flat = m.randomUniform(0f, 1f, new Shape(b, n)).toFloatArray();
        boolean[] ok = valid == null ? null : valid.toBooleanArray();
        float[][] noise = new float[(int) b][(int) n];
        boolean[][] v = new boolean[(int) b][(int) n];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < n; j++) {
                noise[i][j] = flat[(int) (i * n + j)];
                v[i][j] = present[i] && (ok == null || ok[(int) (i * n + j)]);
            }
        }
        boolean[][] mask = random(noise, v, ratio);
        float[] out = new float[(int) (b * n)];
        int count = 0;
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < n; j++) {
                if (mask[i][j]) {
                    out[(int) (i * n + j)] = 1f;
                    count++;
                }
            }
        }
        return new Drawn(m.create(out, new Shape(b, n)), count);
    }

    /**
     * MAE's random masking (He et al. 2022): in row i, the k_i valid positions with the smallest noise
     * are masked, k_i = round(ratio * valid_i) kept within [1, valid_i - 1] so that something is masked
     * and something is left to predict it from; a row with fewer than 2 valid positions masks nothing.
     *
     * @param noise B x N draws in [0, 1)
     * @param valid B x N, false for padding and for every position of an absent sample
     * @return B x N, true = masked
     */
    static boolean[][] random(float[][] noise, boolean[][] valid, double ratio) {
        boolean[][] mask = new boolean[noise.length][];
        for (int i = 0; i < noise.length; i++) {
            int n = noise[i].length, nValid = 0;
            for (boolean x : valid[i]) {
                nValid += x ? 1 : 0;
            }
            mask[i] = new boolean[n];
            int k = nValid < 2 ? 0 : (int) Math.max(1, Math.min(nValid - 1, Math.round(ratio * nValid)));
            Integer[] order = new Integer[n];
            for (int j = 0; j < n; j++) {
                order[j] = j;
            }
            final int row = i;
            // invalid positions sort last; ties (never, for continuous noise) by position
            java.util.Arrays.sort(order, (x, y) -> Float.compare(valid[row][x] ? noise[row][x] : 2f, valid[row][y] ? noise[row][y] : 2f));
            for (int j = 0; j < k; j++) {
                mask[i][order[j]] = true;
            }
        }
        return mask;
    }

    /**
     * The mean over masked positions of the mean over features of (pred - target)^2; positions not
     * masked add nothing. pred, target (B, N, F), mask (B, N) 0/1, count = sum of mask -> ().
     */
    static NDArray mse(NDArray pred, NDArray target, NDArray mask, int count) {
        NDArray perPosition = pred.sub(target).square().mean(new int[] {2});   // (B, N)
        return Layers.scale(perPosition.mul(mask).sum(), 1f / count);
    }

    /** Each position normalised over its features, no gain or bias: (x - mean) / sqrt(var + eps). (B, N, F) -> (B, N, F). */
    static NDArray layerNorm(NDArray x) {
        NDArray centred = x.sub(x.mean(new int[] {2}, true));                      // (B, N, F)
        NDArray var = centred.square().mean(new int[] {2}, true);                  // (B, N, 1)
        return centred.div(var.add(EPS).sqrt());
    }

    /**
     * Each sample's channel normalised over that sample's valid positions (instance norm, as data2vec
     * normalises a speech teacher's layers): (B, N, F) -> (B, N, F). Padding positions do not enter the
     * statistics; they come out normalised with them and are never masked, so no loss reads them.
     *
     * @param valid (B, N) boolean or null (all valid)
     */
    static NDArray instanceNorm(NDArray x, NDArray valid) {
        if (valid == null) {
            NDArray centred = x.sub(x.mean(new int[] {1}, true));                  // (B, N, F)
            return centred.div(centred.square().mean(new int[] {1}, true).add(EPS).sqrt());
        }
        NDArray w = valid.toType(DataType.FLOAT32, false).expandDims(2);           // (B, N, 1)
        NDArray n = w.sum(new int[] {1}, true).maximum(1f);                         // (B, 1, 1)
        NDArray centred = x.sub(x.mul(w).sum(new int[] {1}, true).div(n));          // (B, N, F)
        NDArray var = centred.square().mul(w).sum(new int[] {1}, true).div(n);     // (B, 1, F)
        return centred.div(var.add(EPS).sqrt());
    }
}
