package org.sensorium.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import org.sensorium.config.Modality;

/**
 * VATT's DropToken (Akbari et al. 2021): during pretraining the trunk sees only a random share of each video and
 * audio clip's tokens, which the paper found to cost little accuracy for a large saving in compute (attention is
 * quadratic in the tokens). Tokens are dropped after the stem and the position embedding, so the kept tokens still
 * know where they sit; every sample keeps its own uniform random subset of one fixed count, so the batch stays
 * rectangular. Evaluation and embedding see every token.
 */
public final class DropToken {
    private DropToken() {}

    /**
     * The tokens the trunk sees: h itself when nothing is dropped (not training, rate 0, a modality other than video
     * and audio, or padded tokens), else the kept ones in their order.
     *
     * @param h (B, N, D) stem tokens + positions + modality embedding
     * @param valid (B, N) token mask, or null when every token is valid (video and audio have no padding)
     * @param rate share of the N tokens dropped, in [0, 1); keep = N - round(rate * N), at least 1
     * @return (B, keep, D); the noise comes from libtorch's generator, which the training loop seeds per step
     */
    public static NDArray apply(NDArray h, Modality m, NDArray valid, float rate, boolean training) {
        if (!training || rate == 0f || valid != null || (m != Modality.VIDEO && m != Modality.AUDIO)) {
            return h;
        }
        long b = h.getShape().get(0), n = h.getShape().get(1), d = h.getShape().get(2);
        int keep = keptCount(n, rate);
        NDArray noise = h.getManager().randomUniform(0f, 1f, new Shape(b, n));         // (B, N)
        return h.get(kept(noise, keep)).reshape(b, keep, d);                              // (B*keep, D) -> (B, keep, D)
    }

    /** Tokens kept of n: n - round(rate * n), never fewer than 1. */
    static int keptCount(long n, float rate) {
        return (int) Math.max(1, n - Math.round(rate * n));
    }

    /** (B, N) boolean, true at the keep tokens of smallest noise in each row (one random subset per sample). */
    static NDArray kept(NDArray noise, int keep) {
        NDArray rank = noise.argSort(1).argSort(1);                                       // (B, N) rank of each token's noise
        return rank.lt(keep);
    }
}
