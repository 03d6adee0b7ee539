package org.sensorium.eval;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Area under the ROC curve of a binary classifier's scores, as the Mann-Whitney statistic: the share of
 * (positive, negative) pairs the score orders correctly, a tie counting 1/2,
 * <pre>
 *   AUROC = 1/(P N) sum_{i positive} sum_{j negative} ( [s_i > s_j] + 1/2 [s_i = s_j] )
 * </pre>
 * computed from the ranks of the pooled scores (tied scores share their mean rank):
 * AUROC = (R_pos - P (P + 1) / 2) / (P N), R_pos the sum of the positives' ranks. 0.5 is chance; a constant
 * score gives exactly 0.5. The confidence interval is the percentile bootstrap over samples (resampled with
 * replacement, a resample without both classes drawn again), as the surgical-feedback paper reports its AUROC.
 */
public final class Auroc {
    private Auroc() {}

    /** An AUROC and its bootstrap interval (lo, hi), at level (e.g. 0.95) over resamples draws. */
    public record Interval(double auroc, double lo, double hi, double level, int resamples, long seed) {}

    /**
     * @param scores n scores, higher = more likely positive
     * @param positive n labels
     * @throws IllegalArgumentException when the lengths differ or a class is absent
     */
    public static double of(double[] scores, boolean[] positive) {
        if (scores.length != positive.length) {
            throw new IllegalArgumentException(scores.length + " scores for " + positive.length + " labels");
        }
        int n = scores.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(scores[a], scores[b]));
        double rankSum = 0;
        long p = 0;
        for (int from = 0; from < n; ) {
            int to = from;
            while (to + 1 < n && scores[order[to + 1]] == scores[order[from]]) {
                to++;
            }
            double meanRank = (from + to) / 2.0 + 1; // ranks from + 1 .. to + 1 share their mean
            for (int k = from; k <= to; k++) {
                if (positive[order[k]]) {
                    rankSum += meanRank;
                    p++;
                }
            }
            from = to + 1;
        }
        long q = n - p;
        if (p == 0 || q == 0) {
            throw new IllegalArgumentException("AUROC needs both classes: " + p + " positive, " + q + " negative");
        }
        return (rankSum - p * (p + 1) / 2.0) / ((double) p * q);
    }

    /**
     * The AUROC with a percentile bootstrap interval: resamples draws of n samples with replacement from a
     * generator seeded with seed, the (1 - level)/2 and (1 + level)/2 quantiles of their AUROCs.
     */
    public static Interval bootstrap(double[] scores, boolean[] positive, int resamples, double level, long seed) {
        if (resamples < 1 || !(level > 0 && level < 1)) {
            throw new IllegalArgumentException("resamples " + resamples + " must be >= 1 and level " + level + " in (0, 1)");
        }
        double auroc = of(scores, positive);
        int n = scores.length;
        SplittableRandom r = new SplittableRandom(seed);
        double[] values = new double[resamples];
        double[] s = new double[n];
        boolean[] y = new boolean[n];
        for (int b = 0; b < resamples; b++) {
            int pos;
            do {
                pos = 0;
                for (int i = 0; i < n; i++) {
                    int j = r.nextInt(n);
                    s[i] = scores[j];
                    y[i] = positive[j];
                    pos += y[i] ? 1 : 0;
                }
            } while (pos == 0 || pos == n);
            values[b] = of(s, y);
        }
        Arrays.sort(values);
        return new Interval(auroc, quantile(values, (1 - level) / 2), quantile(values, (1 + level) / 2), level, resamples, seed);
    }

    /** The q-quantile of sorted values, linear between the two nearest order statistics. */
    static double quantile(double[] sorted, double q) {
        double at = q * (sorted.length - 1);
        int lo = (int) Math.floor(at), hi = (int) Math.ceil(at);
        return sorted[lo] + (at - lo) * (sorted[hi] - sorted[lo]);
    }
}
