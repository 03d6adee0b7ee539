package org.sensorium.eval;

import java.util.Comparator;
import java.util.stream.IntStream;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.EigenDecomposition;
import org.apache.commons.math3.linear.RealMatrix;
import org.apache.commons.math3.linear.RealVector;

/**
 * Principal component analysis of N rows of D numbers, for the report's 2-D pictures of embeddings:
 * centre the rows, form the sample covariance (D, D) with N - 1 in the denominator, take the eigenvectors
 * of its k largest eigenvalues (Commons Math, symmetric eigen-decomposition) and project the centred rows
 * on them. Each axis's sign is fixed so that its largest-magnitude component is positive, so the same data
 * always gives the same picture.
 */
public final class Pca {
    private Pca() {}

    /**
     * @param projected (N, k) the centred rows projected on the axes
     * @param axes (k, D) unit principal axes, largest variance first
     * @param variance (k) the variance along each axis (an eigenvalue of the covariance)
     * @param totalVariance the trace of the covariance: variance[i] / totalVariance is axis i's share
     */
    public record Result(double[][] projected, double[][] axes, double[] variance, double totalVariance) {}

    /**
     * @param rows (N, D), N >= 2, every row of the same length D >= 1
     * @param k components wanted; min(k, D) are returned
     * @throws IllegalArgumentException when N < 2, a row's length differs, or k < 1
     */
    public static Result fit(double[][] rows, int k) {
        if (rows.length < 2) {
            throw new IllegalArgumentException("PCA needs at least 2 rows, got " + rows.length);
        }
        if (k < 1) {
            throw new IllegalArgumentException("k = " + k + " must be >= 1");
        }
        int n = rows.length, d = rows[0].length;
        double[] mean = new double[d];
        for (double[] r : rows) {
            if (r.length != d) {
                throw new IllegalArgumentException("rows of different lengths: " + d + " and " + r.length);
            }
            for (int j = 0; j < d; j++) {
                mean[j] += r[j] / n;
            }
        }
        double[][] centred = new double[n][d];                             // (N, D)
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                centred[i][j] = rows[i][j] - mean[j];
            }
        }
        RealMatrix x = new Array2DRowRealMatrix(centred, false);
        RealMatrix cov = x.transpose().multiply(x).scalarMultiply(1.0 / (n - 1)); // (D, D)
        EigenDecomposition eig = new EigenDecomposition(cov);
        double[] values = eig.getRealEigenvalues();
        Integer[] order = IntStream.range(0, d).boxed().sorted(Comparator.comparingDouble(i -> -values[i])).toArray(Integer[]::new);
        int kk = Math.min(k, d);
        double[][] axes = new double[kk][];                                 // (k, D)
        double[] variance = new double[kk];
        for (int c = 0; c < kk; c++) {
            RealVector v = eig.getEigenvector(order[c]);
            axes[c] = v.unitVector().toArray();
            int big = 0;
            for (int j = 1; j < d; j++) {
                if (Math.abs(axes[c][j]) > Math.abs(axes[c][big]) + 1e-12) {
                    big = j;
                }
            }
            if (axes[c][big] < 0) {
                for (int j = 0; j < d; j++) {
                    axes[c][j] = -axes[c][j];
                }
            }
            variance[c] = Math.max(0, values[order[c]]); // round-off can make a zero eigenvalue -1e-17
        }
        double[][] projected = new double[n][kk];                           // (N, k)
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < kk; c++) {
                double s = 0;
                for (int j = 0; j < d; j++) {
                    s += centred[i][j] * axes[c][j];
                }
                projected[i][c] = s;
            }
        }
        return new Result(projected, axes, variance, cov.getTrace());
    }
}
