package org.sensorium.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;
import java.util.SplittableRandom;
import java.util.Map;
import java.util.stream.Collectors;
import org.sensorium.model.Layers;

/**
 * The two pretext losses of multiple-choice video QA (Kim et al. 2021, "Self-supervised pre-training and
 * contrastive representation learning for multiple-choice video QA"), on the encoders' unit embeddings of b items:
 * v the moment's video, s its subtitles (zero without), q the question alone, m "question [MASK]..." (the correct
 * answer's words masked), t_k "question answer_k" for the K answers, y the correct answer, tau a temperature.
 * <pre>
 *   question prediction (the answer task turned into predicting the item's question from its context):
 *     c_i = unit(v_i + s_i),  S_ij = c_i . q_j / tau                       (b, b)
 *     S_ij = -inf for j != i asking the same question text (not a negative)
 *     L_qp = -1/b sum_i log softmax(S_i)_i
 *   masked-answer contrastive (the masked input against the item's K inputs; the unmasked correct one is the positive):
 *     a_i = unit(v_i + s_i + m_i),  p_ik = unit(v_i + s_i + t_ik),  T_ik = a_i . p_ik / tau    (b, K)
 *     L_ma = -1/b sum_i log softmax(T_i)_{y_i}
 * </pre>
 * Not an objective of pretraining: `sensorium qa` runs them on its train items before the fusion head.
 */
public final class QaPretext {
    private static final float MASKED = -1e9f;

    private QaPretext() {}

    /**
     * L_qp: context (b, E) = v + s, questions (b, E); sameQuestion[i][j] true where items i and j ask the same text.
     *
     * @return () the mean over the b items
     */
    public static NDArray questionPrediction(NDArray context, NDArray questions, boolean[][] sameQuestion, float temperature) {
        NDManager m = context.getManager();
        int b = (int) context.getShape().get(0);
        float[] mask = new float[b * b];                                            // (b, b): -inf on same-question others
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < b; j++) {
                mask[i * b + j] = i != j && sameQuestion[i][j] ? MASKED : 0;
            }
        }
        NDArray s = Layers.scale(unit(context).matMul(unit(questions).transpose()), 1 / temperature) // (b, b)
                .add(m.create(mask).reshape(b, b));
        return Layers.scale(s.logSoftmax(1).mul(m.eye(b)).sum(), -1f / b);
    }

    /**
     * The items left out of L_qp: those whose question text is asked of more than a share of the items (counted
     * once, over the train items). Such a generic question ("what moved?" asked of every recording) says nothing
     * about any one context, so it cannot be predicted from it; as the positive of many contexts it pulls them all
     * towards it. share 1 leaves nothing out.
     *
     * @param asked each item's question text (n)
     * @return (n) true where the item's question is asked of more than share x n items
     */
    public static boolean[] generic(List<String> asked, double share) {
        if (!(share > 0 && share <= 1)) {
            throw new IllegalArgumentException("share " + share + " must be in (0, 1]");
        }
        Map<String, Long> counts = asked.stream().collect(Collectors.groupingBy(q -> q, Collectors.counting()));
        boolean[] out = new boolean[asked.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = counts.get(asked.get(i)) > share * asked.size();
        }
        return out;
    }

    /**
     * L_ma: context (b, E) = v + s, masked (b, E) the masked question's embedding, answers (b, K, E), correct b indices.
     *
     * @return () the mean over the b items
     */
    public static NDArray maskedAnswer(NDArray context, NDArray masked, NDArray answers, int[] correct, float temperature) {
        long b = answers.getShape().get(0), k = answers.getShape().get(1), e = answers.getShape().get(2);
        NDArray a = unit(context.add(masked)).reshape(b, 1, e);                      // (b, 1, E)
        NDArray p = unit(answers.add(context.reshape(b, 1, e)));                     // (b, K, E)
        NDArray t = Layers.scale(a.mul(p).sum(new int[] {2}), 1 / temperature);       // (b, K)
        NDArray onehot = context.getManager().create(correct).oneHot((int) k);       // (b, K)
        return Layers.scale(t.logSoftmax(1).mul(onehot).sum(), -1f / b);
    }

    /**
     * Question-prediction R@1 on held-out items: item i's context c_i = v_i + s_i (n, E) against the Q distinct
     * questions' embeddings (Q, E); a hit when its own question (question[i] in 0..Q-1) scores highest (cosine).
     * Two averages: over the n items (micro; a context-free guess of the most frequent question gets that
     * question's share) and over the Q questions (balanced: the mean of each question's hit rate, which any
     * context-free guess holds at 1/Q).
     */
    public static QuestionR1 questionR1(float[][] context, float[][] questions, int[] question) {
        int q = questions.length, n = context.length;
        int[] hits = new int[q], asked = new int[q], named = new int[q];
        boolean[] hit = new boolean[n];
        for (int i = 0; i < n; i++) {
            int best = nearest(context[i], questions);
            hit[i] = best == question[i];
            asked[question[i]]++;
            named[best]++;
            hits[question[i]] += hit[i] ? 1 : 0;
        }
        double micro = 0, frequent = 0;
        double[] hitRate = new double[q], namedShare = new double[q];
        int withItems = 0;
        for (int j = 0; j < q; j++) {
            micro += hits[j];
            frequent = Math.max(frequent, asked[j]);
            hitRate[j] = asked[j] > 0 ? hits[j] / (double) asked[j] : Double.NaN;
            namedShare[j] = named[j] / (double) n;
            withItems += asked[j] > 0 ? 1 : 0;
        }
        return new QuestionR1(micro / n, balanced(hit, question, java.util.stream.IntStream.range(0, n).toArray()), 1.0 / withItems,
                frequent / n, hitRate, namedShare);
    }

    /** Per item whether its context names its own question first (cosine): context (n, E), questions (Q, E), question (n). */
    public static boolean[] hits(float[][] context, float[][] questions, int[] question) {
        boolean[] hit = new boolean[context.length];
        for (int i = 0; i < context.length; i++) {
            hit[i] = nearest(context[i], questions) == question[i];
        }
        return hit;
    }

    /** The question (row of questions) with the largest cosine to c; of equal ones the first. */
    private static int nearest(float[] c, float[][] questions) {
        int best = 0;
        double bestScore = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < questions.length; j++) {
            double score = cosine(c, questions[j]);
            if (score > bestScore) {
                best = j;
                bestScore = score;
            }
        }
        return best;
    }

    /**
     * Which items belong to a share of the recordings spread evenly over them: recordings numbered 0, 1, ... in the
     * order they first appear in recording (one entry per item); recording r is picked when floor((r + 1) share) >
     * floor(r share), so share 0.25 picks recordings 3, 7, 11, ... with every item of theirs.
     */
    public static boolean[] spread(List<String> recording, double share) {
        List<String> order = recording.stream().distinct().toList();
        java.util.Set<String> picked = new java.util.HashSet<>();
        for (int r = 0; r < order.size(); r++) {
            if (Math.floor((r + 1) * share) > Math.floor(r * share)) {
                picked.add(order.get(r));
            }
        }
        boolean[] out = new boolean[recording.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = picked.contains(recording.get(i));
        }
        return out;
    }

    /** A value with its percentile bootstrap interval (lo, hi). */
    public record Interval(double value, double lo, double hi) {}

    /** Balanced R@1 of per-item hits: the mean over the questions asked (question[i]) of their items' hit rate. */
    static double balanced(boolean[] hit, int[] question, int[] pick) {
        int q = java.util.Arrays.stream(question).max().orElse(0) + 1;
        int[] hits = new int[q], asked = new int[q];
        for (int i : pick) {
            asked[question[i]]++;
            hits[question[i]] += hit[i] ? 1 : 0;
        }
        double sum = 0;
        int with = 0;
        for (int j = 0; j < q; j++) {
            if (asked[j] > 0) {
                sum += hits[j] / (double) asked[j];
                with++;
            }
        }
        return sum / with;
    }

    /**
     * Balanced R@1 after minus before on the same items (before null: balanced R@1 of after itself) with a 95%
     * percentile bootstrap interval: resamples draws of the n items with replacement (SplittableRandom(seed)), each
     * resample's value on the same drawn items (paired); a question no drawn item asks drops out of that resample's mean.
     */
    public static Interval balancedR1Interval(boolean[] before, boolean[] after, int[] question, int resamples, long seed) {
        int n = after.length;
        java.util.function.ToDoubleFunction<int[]> value = pick -> balanced(after, question, pick)
                - (before == null ? 0 : balanced(before, question, pick));
        SplittableRandom r = new SplittableRandom(seed);
        double[] values = new double[resamples];
        int[] pick = new int[n];
        for (int b = 0; b < resamples; b++) {
            for (int i = 0; i < n; i++) {
                pick[i] = r.nextInt(n);
            }
            values[b] = value.applyAsDouble(pick);
        }
        java.util.Arrays.sort(values);
        return new Interval(value.applyAsDouble(java.util.stream.IntStream.range(0, n).toArray()), Auroc.quantile(values, 0.025),
                Auroc.quantile(values, 0.975));
    }

    /**
     * @param r1 share of items whose own question scores highest
     * @param balancedR1 mean over the distinct questions of that share among the items asking it
     * @param chance 1 / #distinct questions (balanced R@1 of any guess that ignores the context)
     * @param frequent share of the most frequent question (R@1 of always guessing it)
     * @param hitRate (Q) per question, the share of the items asking it whose context names it (NaN: asked by none)
     * @param named (Q) per question, the share of all items whose context names it (sums to 1)
     */
    public record QuestionR1(double r1, double balancedR1, double chance, double frequent, double[] hitRate, double[] named) {}

    /**
     * Masked-answer accuracy on held-out items: the share of items whose masked input unit(c_i + m_i) is nearest
     * (dot product of unit vectors) to unit(c_i + t_ik) at the correct k among the K; chance 1/K.
     * context (n, E), masked (n, E), answers (n, K, E).
     */
    public static double maskedAccuracy(float[][] context, float[][] masked, float[][][] answers, int[] correct) {
        int right = 0;
        for (int i = 0; i < context.length; i++) {
            float[] a = plus(context[i], masked[i]);
            int best = 0;
            double bestScore = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < answers[i].length; k++) {
                double score = cosine(a, plus(context[i], answers[i][k]));
                if (score > bestScore) {
                    best = k;
                    bestScore = score;
                }
            }
            right += best == correct[i] ? 1 : 0;
        }
        return right / (double) context.length;
    }

    private static float[] plus(float[] x, float[] y) {
        float[] z = new float[x.length];
        for (int i = 0; i < z.length; i++) {
            z[i] = x[i] + y[i];
        }
        return z;
    }

    public static double cosine(float[] x, float[] y) {
        double dot = 0, xx = 0, yy = 0;
        for (int i = 0; i < x.length; i++) {
            dot += x[i] * y[i];
            xx += x[i] * x[i];
            yy += y[i] * y[i];
        }
        return dot / Math.sqrt((xx + 1e-12) * (yy + 1e-12));
    }

    /** Rows scaled to unit length over the last axis: (..., E) -> (..., E). */
    static NDArray unit(NDArray x) {
        int last = x.getShape().dimension() - 1;
        return x.div(x.mul(x).sum(new int[] {last}, true).add(x.getManager().create(1e-12f)).sqrt());
    }
}
