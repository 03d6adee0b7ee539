package org.sensorium.eval;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Metrics of a C-class classifier from its confusion matrix (rows = true label, columns = predicted), as
 * scikit-learn defines them:
 * <ul>
 *   <li>accuracy: trace / total;</li>
 *   <li>per-class accuracy of class c: C[c][c] / row sum (its recall); NaN for a class with no true sample;</li>
 *   <li>balanced accuracy: the mean of the per-class accuracies over the classes that have a true sample
 *       ({@code balanced_accuracy_score});</li>
 *   <li>macro-F1: the mean over classes of F1_c = 2 TP / (2 TP + FP + FN), over the classes that occur as a
 *       true or a predicted label ({@code f1_score(average='macro')} with its default labels; a class that
 *       occurs only as a prediction scores 0).</li>
 * </ul>
 */
public final class Classification {
    private Classification() {}

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
