package org.sensorium.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * Dot products of every query with every candidate as float32 matrix products in libtorch, a block of up to
 * 256 queries x 8192 candidates at a time, so the scores in memory are one block, not n x n.
 *
 * <p>Decisions match the scalar loop ({@link Retrieval#dot}: float products summed in double) exactly, ties
 * included. A float32 product of width E differs from the scalar dot by at most {@link #slack} = (E + 2) u
 * |q| |c| (u = 2^-24: the float32 sum's error is at most E u sum|q_k c_k| (Higham, Accuracy and Stability of
 * Numerical Algorithms, 3.1), the scalar's float products add u sum|q_k c_k|, and sum|q_k c_k| <= |q| |c|).
 * Underflow adds at most {@link #tiny} whatever the norms. A comparison whose float32 margin exceeds that bound is
 * decided by the float32 score; the few inside the band are recomputed with the scalar dot.
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

    /** Bound of the absolute error that float32 underflow (subnormal products and sums) can add to a dot of width E. */
    static double tiny(int width) {
        return 2 * (width + 2) * 0x1p-149;
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

    /** The k nearest candidates of each query, most similar first (ties: lower index first), with their scalar dots. */
    record Nearest(int[][] index, double[][] dot) {}

    /**
     * The k nearest candidates of each query by dot product, in the order of a stable sort of all candidates by
     * scalar dot (descending), as DINO's kNN takes them. A running float32 top-k per query gives the k-th best
     * float32 score t; every candidate within 2 x the error bound of t is rescored with the scalar dot, which
     * decides. Caller checks {@link #safe} first.
     */
    static Nearest nearest(List<float[]> queries, List<float[]> candidates, int k, double[] qNorm, double[] cNorm, long blockFloats) {
        int nq = queries.size(), n = candidates.size(), width = queries.get(0).length, kk = Math.min(k, n);
        double slack = slack(width) * max(cNorm);
        int[][] index = new int[nq][];
        double[][] dot = new double[nq][];
        int rows = blockRows(nq, blockFloats), cols = blockCols(n, rows, blockFloats);
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray all = candidates(manager, candidates, width);                              // (n, E)
            for (int from = 0; from < nq; from += rows) {
                int r = Math.min(nq, from + rows) - from;
                RunningTop[] top = new RunningTop[r];
                for (int i = 0; i < r; i++) {
                    top[i] = new RunningTop(kk, 2 * (slack * qNorm[from + i] + tiny(width)));
                }
                try (NDManager block = manager.newSubManager()) {
                    NDArray q = rows(block, queries, from, from + r, width);                    // (r, E)
                    for (int c0 = 0; c0 < n; c0 += cols) {
                        int m = Math.min(n, c0 + cols) - c0;
                        int first = c0;
                        products(block, q, all, c0, m, s -> {                                  // (r, m) row-major
                            for (int i = 0; i < r; i++) {
                                top[i].offer(s, i * m, m, first);
                            }
                        });
                    }
                }
                for (int i = 0; i < r; i++) {
                    int[] pick = top[i].decide(queries.get(from + i), candidates);
                    index[from + i] = pick;
                    dot[from + i] = new double[pick.length];
                    for (int p = 0; p < pick.length; p++) {
                        dot[from + i][p] = Retrieval.dot(queries.get(from + i), candidates.get(pick[p]));
                    }
                }
            }
        }
        return new Nearest(index, dot);
    }

    /**
     * Hands the float32 scores (r, m) of q against candidates [c0, c0 + m), row-major, to read. The buffer is
     * libtorch's own memory (no copy), valid only during the call.
     */
    static void products(NDManager block, NDArray q, NDArray all, int c0, int m, Consumer<FloatBuffer> read) {
        try (NDManager part = block.newSubManager()) {
            NDArray c = all.get(new NDIndex("{}:{}", c0, c0 + m));                               // (m, E), a view
            c.tempAttach(part);
            NDArray s = q.matMul(c.transpose());                                                 // (r, m), contiguous
            s.tempAttach(part);
            read.accept(s.toByteBuffer(true).asFloatBuffer());
        }
    }

    /**
     * One query's running top-k of float32 scores (a min-heap of the k best) and every candidate that may still
     * belong to the exact top-k: a score at least the heap's minimum minus the band (2 x the error bound).
     */
    private static final class RunningTop {
        private final float[] heap;
        private int size;
        private final double band;
        private int[] kept = new int[16];
        private float[] keptScore = new float[16];
        private int nKept;

        RunningTop(int k, double band) {
            this.heap = new float[k];
            this.band = band;
        }

        private double floor() {
            return size < heap.length ? Double.NEGATIVE_INFINITY : heap[0] - band;
        }

        void offer(FloatBuffer s, int at, int m, int c0) {
            double floor = floor();
            for (int j = 0; j < m; j++) {
                float v = s.get(at + j);
                if (v < floor) {
                    continue;
                }
                if (nKept == kept.length) {
                    compact();
                }
                kept[nKept] = c0 + j;
                keptScore[nKept++] = v;
                if (size < heap.length) {
                    push(v);
                } else if (v > heap[0]) {
                    heap[0] = v;
                    siftDown();
                }
                floor = floor();
            }
        }

        /** Drops the kept candidates that fell below the floor; grows the arrays if that frees too little. */
        private void compact() {
            double floor = floor();
            int w = 0;
            for (int i = 0; i < nKept; i++) {
                if (keptScore[i] >= floor) {
                    kept[w] = kept[i];
                    keptScore[w++] = keptScore[i];
                }
            }
            nKept = w;
            if (nKept > kept.length / 2) {
                kept = Arrays.copyOf(kept, kept.length * 2);
                keptScore = Arrays.copyOf(keptScore, keptScore.length * 2);
            }
        }

        /** The exact top-k: candidates within the band rescored with the scalar dot, stable-sorted, the first k. */
        int[] decide(float[] query, List<float[]> candidates) {
            if (heap.length == 0) {
                return new int[0];
            }
            compact();
            Integer[] order = new Integer[nKept];
            double[] dots = new double[nKept];
            for (int i = 0; i < nKept; i++) {
                order[i] = i;
                dots[i] = Retrieval.dot(query, candidates.get(kept[i]));
            }
            Arrays.sort(order, (a, b) -> Double.compare(dots[b], dots[a]));   // stable: ties keep index order
            int[] out = new int[heap.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = kept[order[i]];
            }
            return out;
        }

        private void push(float v) {
            int i = size++;
            heap[i] = v;
            while (i > 0 && heap[(i - 1) / 2] > heap[i]) {
                float t = heap[i];
                heap[i] = heap[(i - 1) / 2];
                heap[(i - 1) / 2] = t;
                i = (i - 1) / 2;
            }
        }

        private void siftDown() {
            int i = 0;
            while (true) {
                int l = 2 * i + 1, r = l + 1, least = i;
                if (l < size && heap[l] < heap[least]) {
                    least = l;
                }
                if (r < size && heap[r] < heap[least]) {
                    least = r;
                }
                if (least == i) {
                    return;
                }
                float t = heap[i];
                heap[i] = heap[least];
                heap[least] = t;
                i = least;
            }
        }
    }
}
