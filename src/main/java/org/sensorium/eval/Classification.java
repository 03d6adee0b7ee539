package org.sensorium.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Classification from embeddings: the scores of zero-shot prompts (open_clip), of cosine kNN votes
 * (DINO) and of a linear probe all end here, as scores (n, C) of n samples over C classes, scored as
 * top-1 / top-5 accuracy, mean per-class top-1 (balanced), per-class accuracy and a confusion matrix.
 * Rows of embeddings are unit vectors, so a dot product is a cosine.
 */
public final class Classification {
    private Classification() {}

    /**
     * Scores of n samples.
     *
     * @param top5 NaN when there are 5 classes or fewer (top-5 would be trivial)
     * @param perClass accuracy (top-1) of each class that has test samples, in class order
     * @param confusion rows = true class, columns = argmax class, (C, C)
     */
    public record Result(int n, List<String> classes, double top1, double top5, double meanPerClassTop1,
            Map<String, Double> perClass, int[][] confusion) {
        public Map<String, Double> metrics() {
            Map<String, Double> m = new LinkedHashMap<>();
            m.put("top1", top1);
            if (!Double.isNaN(top5)) {
                m.put("top5", top5);
            }
            m.put("mean_per_class_top1", meanPerClassTop1);
            m.put("n", (double) n);
            m.put("chance_top1", 1.0 / classes.size());
            return m;
        }
    }

    /**
     * 1-based rank of the true class among the scores; a tie counts against it, so a model that
     * scores every class alike ranks the truth last, not first.
     */
    public static int rank(double[] scores, int truth) {
        int rank = 1;
        for (int c = 0; c < scores.length; c++) {
            if (c != truth && scores[c] >= scores[truth]) {
                rank++;
            }
        }
        return rank;
    }

    /** The share of the most frequent label: the accuracy of always predicting it (0 for no labels). */
    public static double majorityShare(int[] labels) {
        Map<Integer, Integer> counts = new HashMap<>();
        for (int l : labels) {
            counts.merge(l, 1, Integer::sum);
        }
        return labels.length == 0 ? 0 : counts.values().stream().mapToInt(Integer::intValue).max().orElse(0) / (double) labels.length;
    }

    /** The first class of highest score. */
    public static int argmax(double[] scores) {
        int best = 0;
        for (int c = 1; c < scores.length; c++) {
            if (scores[c] > scores[best]) {
                best = c;
            }
        }
        return best;
    }

    /** Top-k metrics of scores (n, C) against true classes (n) indexing classes. */
    public static Result score(double[][] scores, int[] truth, List<String> classes) {
        int n = truth.length, c = classes.size();
        if (n == 0) {
            throw new IllegalArgumentException("no samples to score");
        }
        int[][] confusion = new int[c][c];
        int[] right = new int[c], total = new int[c];
        int top1 = 0, top5 = 0;
        for (int i = 0; i < n; i++) {
            int r = rank(scores[i], truth[i]);
            top1 += r == 1 ? 1 : 0;
            top5 += r <= 5 ? 1 : 0;
            total[truth[i]]++;
            right[truth[i]] += r == 1 ? 1 : 0;
            confusion[truth[i]][argmax(scores[i])]++;
        }
        Map<String, Double> perClass = new LinkedHashMap<>();
        double sum = 0;
        for (int k = 0; k < c; k++) {
            if (total[k] > 0) {
                perClass.put(classes.get(k), right[k] / (double) total[k]);
                sum += right[k] / (double) total[k];
            }
        }
        return new Result(n, List.copyOf(classes), top1 / (double) n, c > 5 ? top5 / (double) n : Double.NaN,
                sum / perClass.size(), perClass, confusion);
    }

    /**
     * Dot products (n, m) of rows; with unit rows, cosines. Float32 matrix products in blocks
     * ({@link BlockedDots}); an entry within the float32 error bound of another in its row is the scalar dot
     * ({@link #dot}), so every comparison within a row (ranks, ties, argmax) comes out as in
     * {@link #scalarSimilarities}, though a lone entry may differ from it in the eighth digit.
     */
    public static double[][] similarities(float[][] queries, float[][] keys) {
        List<float[]> q = Arrays.asList(queries), c = Arrays.asList(keys);
        double[] qNorm = BlockedDots.norms(q), cNorm = BlockedDots.norms(c);
        if (queries.length == 0 || keys.length == 0 || !BlockedDots.safe(qNorm) || !BlockedDots.safe(cNorm)) {
            return scalarSimilarities(queries, keys);
        }
        int n = queries.length, m = keys.length, width = queries[0].length;
        double slack = BlockedDots.slack(width) * BlockedDots.max(cNorm);
        double[][] out = new double[n][];
        int rows = (int) Math.max(1, Math.min(BlockedDots.blockRows(n, BlockedDots.BLOCK_FLOATS), BlockedDots.BLOCK_FLOATS / m));
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray all = BlockedDots.candidates(manager, c, width);                           // (m, E)
            for (int from = 0; from < n; from += rows) {
                int r = Math.min(n - from, rows);
                try (NDManager block = manager.newSubManager()) {
                    int first = from;
                    BlockedDots.products(block, BlockedDots.rows(block, q, from, from + r, width), all, 0, m, s -> { // (r, m)
                        for (int i = 0; i < r; i++) {
                            out[first + i] = exactOrder(s, i * m, m, queries[first + i], keys, 2 * (slack * qNorm[first + i] + BlockedDots.tiny(width)));
                        }
                    });
                }
            }
        }
        return out;
    }

    /**
     * One row of float32 scores as doubles, every entry within band of its neighbour in sorted order replaced by
     * the scalar dot: an entry left as float32 is more than band from every other, so its order against any
     * entry is the scalar order.
     */
    private static double[] exactOrder(FloatBuffer s, int at, int m, float[] query, float[][] keys, double band) {
        Integer[] order = new Integer[m];
        double[] row = new double[m];
        for (int j = 0; j < m; j++) {
            order[j] = j;
            row[j] = s.get(at + j);
        }
        Arrays.sort(order, (a, b) -> Float.compare(s.get(at + a), s.get(at + b)));
        boolean[] close = new boolean[m];
        for (int p = 1; p < m; p++) {
            if ((double) s.get(at + order[p]) - s.get(at + order[p - 1]) <= band) {
                close[order[p]] = true;
                close[order[p - 1]] = true;
            }
        }
        for (int j = 0; j < m; j++) {
            if (close[j]) {
                row[j] = dot(query, keys[j]);
            }
        }
        return row;
    }

    /** The scalar O(n m E) loop {@link #similarities} must agree with (ClassificationTest). */
    static double[][] scalarSimilarities(float[][] queries, float[][] keys) {
        double[][] s = new double[queries.length][keys.length];
        for (int i = 0; i < queries.length; i++) {
            for (int j = 0; j < keys.length; j++) {
                s[i][j] = dot(queries[i], keys[j]);
            }
        }
        return s;
    }

    /**
     * DINO's weighted kNN vote of one query: the k most similar training samples each add
     * exp(similarity / temperature) to their class (Wu et al. 2018, as DINO's eval_knn.py).
     *
     * @param sims similarity of the query to every training sample
     * @return votes per class (C)
     */
    public static double[] knnVotes(double[] sims, int[] trainLabels, int classes, int k, double temperature) {
        Integer[] order = new Integer[sims.length];
        for (int j = 0; j < order.length; j++) {
            order[j] = j;
        }
        Arrays.sort(order, (a, b) -> Double.compare(sims[b], sims[a]));
        double[] votes = new double[classes];
        for (int r = 0; r < Math.min(k, order.length); r++) {
            votes[trainLabels[order[r]]] += Math.exp(sims[order[r]] / temperature);
        }
        return votes;
    }

    /**
     * Votes (n, C) of every test row against the training rows: the k nearest from blocked float32 products
     * with a running top-k ({@link BlockedDots#nearest}), equal to {@link #scalarKnn}'s.
     */
    public static double[][] knn(float[][] test, float[][] train, int[] trainLabels, int classes, int k, double temperature) {
        List<float[]> q = Arrays.asList(test), c = Arrays.asList(train);
        double[] qNorm = BlockedDots.norms(q), cNorm = BlockedDots.norms(c);
        if (test.length == 0 || train.length == 0 || !BlockedDots.safe(qNorm) || !BlockedDots.safe(cNorm)) {
            return scalarKnn(test, train, trainLabels, classes, k, temperature);
        }
        BlockedDots.Nearest near = BlockedDots.nearest(q, c, k, qNorm, cNorm, BlockedDots.BLOCK_FLOATS);
        double[][] out = new double[test.length][classes];
        for (int i = 0; i < test.length; i++) {
            for (int r = 0; r < near.index()[i].length; r++) {
                out[i][trainLabels[near.index()[i][r]]] += Math.exp(near.dot()[i][r] / temperature);
            }
        }
        return out;
    }

    /** The scalar loop {@link #knn} must equal (ClassificationTest). */
    static double[][] scalarKnn(float[][] test, float[][] train, int[] trainLabels, int classes, int k, double temperature) {
        double[][] sims = scalarSimilarities(test, train);
        double[][] out = new double[test.length][];
        for (int i = 0; i < test.length; i++) {
            out[i] = knnVotes(sims[i], trainLabels, classes, k, temperature);
        }
        return out;
    }

    /**
     * A class's zero-shot embedding: the mean of its prompts' unit text embeddings, normalised again
     * (CLIP's prompt ensembling over templates).
     */
    public static float[] ensemble(List<float[]> prompts) {
        float[] sum = new float[prompts.get(0).length];
        for (float[] p : prompts) {
            for (int i = 0; i < sum.length; i++) {
                sum[i] += p[i];
            }
        }
        double norm = Math.sqrt(dot(sum, sum));
        for (int i = 0; i < sum.length; i++) {
            sum[i] = (float) (sum[i] / Math.max(norm, 1e-12));
        }
        return sum;
    }

    /** The mean row of x (n, E) -> (E). */
    public static float[] mean(float[][] x) {
        float[] m = new float[x[0].length];
        for (float[] row : x) {
            for (int i = 0; i < m.length; i++) {
                m[i] += row[i] / x.length;
            }
        }
        return m;
    }

    /**
     * Each row minus the centre, renormalised to unit length: (n, E) -> (n, E). A modality's embeddings
     * sit in a narrow cone away from the text's (the modality gap); taking the cone's centre away makes
     * the cosine with each class prompt depend on where a sample differs from the average, so one prompt
     * that happens to lie near the centre no longer draws most samples.
     */
    public static float[][] centred(float[][] x, float[] centre) {
        float[][] out = new float[x.length][centre.length];
        for (int r = 0; r < x.length; r++) {
            double norm = 0;
            for (int i = 0; i < centre.length; i++) {
                out[r][i] = x[r][i] - centre[i];
                norm += (double) out[r][i] * out[r][i];
            }
            float inv = (float) (1 / Math.max(Math.sqrt(norm), 1e-12));
            for (int i = 0; i < centre.length; i++) {
                out[r][i] *= inv;
            }
        }
        return out;
    }

    static double dot(float[] x, float[] y) {
        double s = 0;
        for (int i = 0; i < x.length; i++) {
            s += x[i] * y[i];
        }
        return s;
    }

    // ---- from a confusion matrix (fine-tuning, QA): rows = true label, columns = predicted, as scikit-learn ----

    /** The metrics of one confusion matrix; perClass maps each label to its accuracy (NaN: no true sample). */
    public record Scores(List<String> labels, long[][] confusion, long n, double accuracy, double balancedAccuracy,
            double macroF1, Map<String, Double> perClass) {

        /** The contract's "metrics" entries: flat name -> number. */
        public Map<String, Object> metrics() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("accuracy", accuracy);
            m.put("balanced_accuracy", balancedAccuracy);
            m.put("macro_f1", macroF1);
            m.put("n", n);
            return m;
        }

        /** The contract's "confusion" entry: {"labels": [...], "matrix": [[...]]}, rows = true label. */
        public Map<String, Object> confusionMap() {
            List<List<Long>> rows = new ArrayList<>();
            for (long[] row : confusion) {
                List<Long> r = new ArrayList<>();
                for (long v : row) {
                    r.add(v);
                }
                rows.add(r);
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("labels", labels);
            m.put("matrix", rows);
            return m;
        }
    }

    /**
     * @param truth true class index of each sample, in [0, labels.size())
     * @param predicted predicted class index of each sample, same length
     */
    public static Scores score(List<String> labels, int[] truth, int[] predicted) {
        if (truth.length != predicted.length) {
            throw new IllegalArgumentException(truth.length + " true labels but " + predicted.length + " predictions");
        }
        long[][] c = new long[labels.size()][labels.size()];
        for (int i = 0; i < truth.length; i++) {
            c[truth[i]][predicted[i]]++;
        }
        return fromConfusion(labels, c);
    }

    /** @param confusion C x C counts, rows = true label */
    public static Scores fromConfusion(List<String> labels, long[][] confusion) {
        int k = labels.size();
        long[] rowSum = new long[k], colSum = new long[k];
        long total = 0, trace = 0;
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) {
                rowSum[i] += confusion[i][j];
                colSum[j] += confusion[i][j];
                total += confusion[i][j];
            }
            trace += confusion[i][i];
        }
        Map<String, Double> perClass = new LinkedHashMap<>();
        double recallSum = 0, f1Sum = 0;
        int withTruth = 0, occurring = 0;
        for (int c = 0; c < k; c++) {
            long tp = confusion[c][c], fn = rowSum[c] - tp, fp = colSum[c] - tp;
            double recall = rowSum[c] == 0 ? Double.NaN : tp / (double) rowSum[c];
            perClass.put(labels.get(c), recall);
            if (rowSum[c] > 0) {
                recallSum += recall;
                withTruth++;
            }
            if (rowSum[c] > 0 || colSum[c] > 0) {
                f1Sum += 2.0 * tp / (2.0 * tp + fp + fn);
                occurring++;
            }
        }
        return new Scores(List.copyOf(labels), confusion, total, total == 0 ? Double.NaN : trace / (double) total,
                withTruth == 0 ? Double.NaN : recallSum / withTruth, occurring == 0 ? Double.NaN : f1Sum / occurring,
                perClass);
    }

    /** Element-wise sum of confusion matrices of the same labels (several seeds' test predictions pooled). */
    public static long[][] sum(List<long[][]> matrices) {
        int k = matrices.get(0).length;
        long[][] s = new long[k][k];
        for (long[][] m : matrices) {
            for (int i = 0; i < k; i++) {
                for (int j = 0; j < k; j++) {
                    s[i][j] += m[i][j];
                }
            }
        }
        return s;
    }
}
