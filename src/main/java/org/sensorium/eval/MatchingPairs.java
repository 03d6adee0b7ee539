package org.sensorium.eval;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The pairs a binary fusion head scores: sample a's first modality with sample b's second, and whether the pair is
 * a positive. Two constructions:
 * <pre>
 *   own(y):             n pairs (i, i), positive where y_i (a label of the sample itself)
 *   matching(labels):   2n pairs, video-text matching as ALBEF / BLIP's image-text matching:
 *                       (i, i) positive (the clip with its own caption) and (i, p(i)) negative, p a permutation
 *                       drawn with the seed such that label(p(i)) != label(i) (a caption of a clip of another label)
 * </pre>
 * In the matching pairs every sample's first modality is in one positive and one negative, and so is every
 * sample's second modality (p is a permutation): any score of one side alone has the same values on the positives
 * as on the negatives, so its AUROC is exactly 0.5; only a score that relates the two sides can rise above it.
 */
public final class MatchingPairs {
    private MatchingPairs() {}

    /** Pair k: first modality of sample a[k], second of sample b[k], positive[k]. */
    public record Pairs(int[] a, int[] b, boolean[] positive) {
        public int size() {
            return a.length;
        }

        public int positives() {
            int p = 0;
            for (boolean y : positive) {
                p += y ? 1 : 0;
            }
            return p;
        }
    }

    /** Each sample with itself, positive where y says. */
    public static Pairs own(boolean[] y) {
        int[] idx = new int[y.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        return new Pairs(idx, idx.clone(), y.clone());
    }

    /**
     * The n positive pairs (i, i) then the n negative pairs (i, p(i)), p drawn with seed: a random permutation,
     * then each i whose p(i) has its own label swaps p(i) with a p(j) such that both ends differ in label after
     * the swap (such a j exists while no label holds more than half the samples).
     *
     * @throws IllegalArgumentException when a label holds more than half the samples (no such permutation)
     */
    public static Pairs matching(List<String> labels, long seed) {
        int n = labels.size();
        Map<String, Integer> count = new HashMap<>();
        labels.forEach(l -> count.merge(l, 1, Integer::sum));
        for (Map.Entry<String, Integer> e : count.entrySet()) {
            if (2 * e.getValue() > n) {
                throw new IllegalArgumentException("label '" + e.getKey() + "' holds " + e.getValue() + " of " + n
                        + " samples; matching needs every label at most half, so each caption can go to a clip of another label");
            }
        }
        SplittableRandom r = new SplittableRandom(seed);
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) { // Fisher-Yates
            swap(p, i, r.nextInt(i + 1));
        }
        for (int i = 0; i < n; i++) {
            while (labels.get(p[i]).equals(labels.get(i))) {
                int j = r.nextInt(n);
                if (!labels.get(p[j]).equals(labels.get(i)) && !labels.get(p[i]).equals(labels.get(j))) {
                    swap(p, i, j); // i gets another label's caption; j gets i's, whose label differs from j's
                }
            }
        }
        int[] a = new int[2 * n], b = new int[2 * n];
        boolean[] positive = new boolean[2 * n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
            b[i] = i;
            positive[i] = true;
            a[n + i] = i;
            b[n + i] = p[i];
        }
        return new Pairs(a, b, positive);
    }

    private static void swap(int[] x, int i, int j) {
        int t = x[i];
        x[i] = x[j];
        x[j] = t;
    }
}
