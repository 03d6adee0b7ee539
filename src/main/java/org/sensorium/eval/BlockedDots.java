package org.sensorium.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;

/**
 * Dot products of every query with every candidate as float32 matrix products in libtorch, one block of
 * queries against all candidates at a time, so memory is bounded by the block (rows x n floats), not n x n.
 *
 * <p>Decisions match the scalar loop ({@link Retrieval#dot}: float products summed in double) exactly, ties
 * included. A float32 product of width E differs from the scalar dot by at most {@link #slack} = (E + 2) u
 * |q| |c| (u = 2^-24: the float32 sum's error is at most E u sum|q_k c_k| (Higham, Accuracy and Stability of
 * Numerical Algorithms, 3.1), the scalar's float products add u sum|q_k c_k|, and sum|q_k c_k| <= |q| |c|).
 * A comparison whose float32 margin exceeds that bound is decided by the float32 score; the few inside the
 * band are recomputed with the scalar dot.
 *
 * <p>Shapes: r rows of a block of queries, n candidates, E width.
 */
final class BlockedDots {
    private BlockedDots() {}

    /** Float32 scores per block: 2^21 floats (8 MB), small enough that the comparisons after the product read it from cache. */
    static final long BLOCK_FLOATS = 1L << 21;

    /** Rows of candidates copied to libtorch at a time. */
    private static final int COPY_ROWS = 4096;

    /** Bound of |float32 product - scalar dot| per unit of |q| |c|, with 1% to spare. */
    static double slack(int width) {
        return (width + 2) * 0x1p-24 * 1.01;
    }

    /** Euclidean norms of rows, in double; NaN when a row is not finite or its norm could overflow float32 products. */
    static double[] norms(List<float[]> rows) {
        double[] out = new double[rows.size()];
        for (int i = 0; i < out.length; i++) {
            double s = 0;
            for (float x : rows.get(i)) {
                s += (double) x * x;
            }
            out[i] = Double.isFinite(s) && s < 1e30 ? Math.sqrt(s) : Double.NaN;
        }
        return out;
    }

    /** True when every norm is a number: the float32 path and its error bound hold. */
    static boolean safe(double[] norms) {
        for (double v : norms) {
            if (Double.isNaN(v)) {
                return false;
            }
        }
        return true;
    }

    static double max(double[] v) {
        double m = 0;
        for (double x : v) {
            m = Math.max(m, x);
        }
        return m;
    }

    /** Rows [from, to) as an (to - from, E) float32 array. */
    static NDArray rows(NDManager manager, List<float[]> rows, int from, int to, int width) {
        float[] flat = new float[(to - from) * width];
        for (int i = from; i < to; i++) {
            System.arraycopy(rows.get(i), 0, flat, (i - from) * width, width);
        }
        return manager.create(flat, new Shape(to - from, width));
    }

    /** All candidates as (n, E), copied a few thousand rows at a time so no second n x E copy sits on the Java heap. */
    static NDArray candidates(NDManager manager, List<float[]> candidates, int width) {
        int n = candidates.size();
        NDList parts = new NDList();
        for (int from = 0; from < n; from += COPY_ROWS) {
            parts.add(rows(manager, candidates, from, Math.min(n, from + COPY_ROWS), width));
        }
        if (parts.size() == 1) {
            return parts.head();
        }
        NDArray all = NDArrays.concat(parts);   // (n, E)
        parts.close();
        return all;
    }

    /** Query rows per block: at most 256 (enough for an efficient product) and at most blockFloats / 64. */
    static int blockRows(int queries, long blockFloats) {
        return (int) Math.max(1, Math.min(Math.min(queries, 256), blockFloats / 64));
    }

    /** Candidate columns per block of rows queries: rows x cols <= blockFloats, so the scores stay in cache. */
    static int blockCols(int n, int rows, long blockFloats) {
        return (int) Math.max(1, Math.min(n, blockFloats / rows));
    }
}
