package org.sensorium.objective;

/**
 * Optimal transport by Sinkhorn-Knopp in the log domain, in Java doubles (the plans are targets and
 * carry no gradient). From a log-kernel l (n, K), alternately shift every column so its mass is b_k
 * (1/K unless given) and every row so its mass is 1/n; the plan returned is n * exp(l), whose rows sum
 * to 1 (exactly, the row step is last) and whose columns sum to n b_k once converged.
 * <ul>
 *   <li>SwAV / online clustering: l = S / eps ({@link Clustering}).</li>
 *   <li>Temporal OT (TOT, Kumar et al. 2022): l = S / eps + rho log P with P a Gaussian prior around
 *       the diagonal of the (time, cluster) grid ({@link #temporalPrior}): the transport is drawn to
 *       assign early frames to low clusters and late frames to high ones, so the clusters follow a fixed
 *       order of activities ({@link TemporalOt}).</li>
 * </ul>
 */
public final class Sinkhorn {
    private Sinkhorn() {}

    /** n * Q for the log-kernel scores / eps: rows sum to 1, columns to n/K once converged. scores (n, K). */
    public static double[][] plan(double[][] scores, double eps, int iterations) {
        return plan(scores, eps, null, 0, iterations);
    }

    /**
     * n * Q for the log-kernel scores / eps + rho * logPrior (logPrior null: no prior): rows sum to 1,
     * columns to n/K once converged. scores and logPrior (n, K).
     */
    public static double[][] plan(double[][] scores, double eps, double[][] logPrior, double rho, int iterations) {
        return plan(scores, eps, logPrior, rho, null, iterations);
    }

    /**
     * The same with column masses b (K, summing to 1; null: 1/K each): rows sum to 1, columns to n b_k once
     * converged.
     */
    public static double[][] plan(double[][] scores, double eps, double[][] logPrior, double rho, double[] columnMass,
            int iterations) {
        int n = scores.length, k = scores[0].length;
        double[][] l = new double[n][k];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < k; j++) {
                l[i][j] = scores[i][j] / eps + (logPrior == null ? 0 : rho * logPrior[i][j]);
            }
        }
        return transport(l, columnMass, iterations);
    }

    /** Sinkhorn on a log-kernel l (n, K), changed in place, to rows 1/n and columns b (null: 1/K); returns n * Q. */
    static double[][] transport(double[][] l, double[] columnMass, int iterations) {
        int n = l.length, k = l[0].length;
        double[] col = new double[n];
        for (int it = 0; it < iterations; it++) {
            for (int j = 0; j < k; j++) { // columns: sum_i Q[i, j] = b_j
                for (int i = 0; i < n; i++) {
                    col[i] = l[i][j];
                }
                double shift = logSumExp(col) - (columnMass == null ? -Math.log(k) : Math.log(columnMass[j]));
                for (int i = 0; i < n; i++) {
                    l[i][j] -= shift;
                }
            }
            for (int i = 0; i < n; i++) { // rows: sum_j Q[i, j] = 1/n
                double shift = logSumExp(l[i]) + Math.log(n);
                for (int j = 0; j < k; j++) {
                    l[i][j] -= shift;
                }
            }
        }
        double[][] q = new double[n][k];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < k; j++) {
                q[i][j] = Math.exp(l[i][j] + Math.log(n));
            }
        }
        return q;
    }

    /**
     * log P of TOT's temporal prior over n frames and K clusters, up to a constant:
     * P[i, j] proportional to exp(-d(i, j)^2 / (2 sigma^2)) with d(i, j) = |(i + 1/2)/n - (j + 1/2)/K|
     * the distance of frame i's relative time from cluster j's place in the order (both in (0, 1)), so
     * the ridge of P is the diagonal from (first frame, first cluster) to (last frame, last cluster).
     */
    public static double[][] temporalPrior(int n, int k, double sigma) {
        double[] times = new double[n];
        for (int i = 0; i < n; i++) {
            times[i] = (i + 0.5) / n;
        }
        return temporalPrior(times, k, sigma);
    }

    /**
     * log P for frames at the given relative times in the recording (in [0, 1]; a window of a longer
     * recording covers part of that range): P[i, j] proportional to exp(-(times[i] - (j + 1/2)/K)^2 / (2 sigma^2)).
     */
    public static double[][] temporalPrior(double[] times, int k, double sigma) {
        double[][] p = new double[times.length][k];
        for (int i = 0; i < times.length; i++) {
            for (int j = 0; j < k; j++) {
                double d = times[i] - (j + 0.5) / k;
                p[i][j] = -d * d / (2 * sigma * sigma);
            }
        }
        return p;
    }

    /**
     * The share of each cluster the prior expects among these frames: b_j = (1/n) sum_i P(j | i), with
     * P(j | i) the prior's row i normalised. About 1/K each for frames spread over a whole recording
     * (TOT's equipartition); for a window, most mass on the activities the window's place makes likely.
     */
    public static double[] priorMass(double[][] logPrior) {
        int n = logPrior.length, k = logPrior[0].length;
        double[] b = new double[k];
        for (double[] row : logPrior) {
            double z = logSumExp(row);
            for (int j = 0; j < k; j++) {
                b[j] += Math.exp(row[j] - z) / n;
            }
        }
        return b;
    }

    static double logSumExp(double[] x) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : x) {
            max = Math.max(max, v);
        }
        if (max == Double.NEGATIVE_INFINITY) {
            return max;
        }
        double s = 0;
        for (double v : x) {
            s += Math.exp(v - max);
        }
        return max + Math.log(s);
    }
}
