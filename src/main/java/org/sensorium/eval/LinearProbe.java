package org.sensorium.eval;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Linear probe on frozen embeddings: multinomial logistic regression, fitted by L-BFGS on the full
 * batch, minimising mean cross-entropy + (l2 / 2) ||W||^2 (the bias is not penalised). The L2
 * strength is picked on a validation share of the training samples (stratified), then the probe is
 * refitted on all training samples with it (the CLIP / open_clip linear-probe protocol).
 * Parameters theta = (C, D + 1) row-major: class c's weights, then its bias.
 */
public final class LinearProbe {
    private LinearProbe() {}

    static final int MAX_ITERATIONS = 500;
    private static final int MEMORY = 10;

    /** A fitted probe: weights (C, D + 1), the bias last. */
    public record Model(int classes, int dim, double[] theta) {
        /** Logits (n, C). */
        public double[][] scores(float[][] x) {
            double[][] out = new double[x.length][classes];
            for (int i = 0; i < x.length; i++) {
                for (int c = 0; c < classes; c++) {
                    int at = c * (dim + 1);
                    double z = theta[at + dim];
                    for (int d = 0; d < dim; d++) {
                        z += theta[at + d] * x[i][d];
                    }
                    out[i][c] = z;
                }
            }
            return out;
        }
    }

    /** Fits one probe: x (n, D) features, y (n) classes in [0, C). */
    public static Model fit(float[][] x, int[] y, int classes, double l2) {
        int dim = x[0].length;
        double[] theta = new double[classes * (dim + 1)];
        lbfgs(t -> loss(t, x, y, classes, l2), theta);
        return new Model(classes, dim, theta);
    }

    /** The validation accuracy of every L2 strength, the one picked (best; the stronger one on a tie) and the refit. */
    public record Sweep(Map<Double, Double> validation, double picked, int trainSamples, int valSamples, Model model) {}

    /**
     * Picks l2 on a stratified validation share valFraction of (x, y) (each class with 2+ samples gives
     * at least one), then refits on all of (x, y).
     */
    public static Sweep sweep(float[][] x, int[] y, int classes, List<Double> l2s, double valFraction, long seed) {
        boolean[] val = carve(y, classes, valFraction, seed);
        List<Integer> tr = new ArrayList<>(), va = new ArrayList<>();
        for (int i = 0; i < y.length; i++) {
            (val[i] ? va : tr).add(i);
        }
        Map<Double, Double> accuracy = new LinkedHashMap<>();
        double picked = l2s.get(0), best = -1;
        for (double l2 : l2s) {
            double acc = Double.NaN;
            if (!va.isEmpty() && !tr.isEmpty()) {
                Model m = fit(rows(x, tr), pick(y, tr), classes, l2);
                acc = Classification.score(m.scores(rows(x, va)), pick(y, va), names(classes)).top1();
            }
            accuracy.put(l2, acc);
            if (acc > best || (acc == best && l2 > picked)) {
                best = acc;
                picked = l2;
            }
        }
        return new Sweep(accuracy, picked, tr.size(), va.size(), fit(x, y, classes, picked));
    }

    /** Stratified validation mask: per class, round(fraction * count) samples drawn with the seed (at least 1 when the class has 2+). */
    static boolean[] carve(int[] y, int classes, double fraction, long seed) {
        boolean[] val = new boolean[y.length];
        SplittableRandom rng = new SplittableRandom(seed);
        for (int c = 0; c < classes; c++) {
            List<Integer> at = new ArrayList<>();
            for (int i = 0; i < y.length; i++) {
                if (y[i] == c) {
                    at.add(i);
                }
            }
            for (int i = at.size() - 1; i > 0; i--) { // Fisher-Yates
                int j = rng.nextInt(i + 1);
                Integer t = at.get(i);
                at.set(i, at.get(j));
                at.set(j, t);
            }
            int take = at.size() < 2 ? 0 : Math.max(1, (int) Math.round(fraction * at.size()));
            for (int i = 0; i < Math.min(take, at.size() - 1); i++) {
                val[at.get(i)] = true;
            }
        }
        return val;
    }

    /** Value and gradient of the objective at theta. */
    record Eval(double value, double[] gradient) {}

    static Eval loss(double[] theta, float[][] x, int[] y, int classes, double l2) {
        int n = x.length, dim = x[0].length;
        Model m = new Model(classes, dim, theta);
        double[][] z = m.scores(x);                                     // (n, C)
        double[] g = new double[theta.length];
        double value = 0;
        for (int i = 0; i < n; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (double v : z[i]) {
                max = Math.max(max, v);
            }
            double sum = 0;
            for (int c = 0; c < classes; c++) {
                sum += Math.exp(z[i][c] - max);
            }
            value += Math.log(sum) + max - z[i][y[i]];
            for (int c = 0; c < classes; c++) {
                double r = (Math.exp(z[i][c] - max) / sum - (c == y[i] ? 1 : 0)) / n; // d loss / d z
                int at = c * (dim + 1);
                for (int d = 0; d < dim; d++) {
                    g[at + d] += r * x[i][d];
                }
                g[at + dim] += r;
            }
        }
        value /= n;
        for (int c = 0; c < classes; c++) {
            for (int d = 0; d < dim; d++) {
                int at = c * (dim + 1) + d;
                value += 0.5 * l2 * theta[at] * theta[at];
                g[at] += l2 * theta[at];
            }
        }
        return new Eval(value, g);
    }

    /**
     * Minimises f from theta (in place) by L-BFGS (Nocedal and Wright, Algorithm 7.4, two-loop
     * recursion) with a backtracking Armijo line search; stops when the largest gradient entry is
     * below 1e-6, the value stops moving, or after {@link #MAX_ITERATIONS}.
     */
    static void lbfgs(java.util.function.Function<double[], Eval> f, double[] theta) {
        int p = theta.length;
        List<double[]> ss = new ArrayList<>(), ys = new ArrayList<>();
        Eval cur = f.apply(theta);
        for (int it = 0; it < MAX_ITERATIONS && maxAbs(cur.gradient()) > 1e-6; it++) {
            double[] dir = cur.gradient().clone();                       // two-loop recursion: dir = H g
            double[] alpha = new double[ss.size()];
            for (int k = ss.size() - 1; k >= 0; k--) {
                alpha[k] = dot(ss.get(k), dir) / dot(ys.get(k), ss.get(k));
                axpy(-alpha[k], ys.get(k), dir);
            }
            if (!ss.isEmpty()) {
                double[] s = ss.get(ss.size() - 1), y = ys.get(ys.size() - 1);
                scale(dot(s, y) / dot(y, y), dir);
            }
            for (int k = 0; k < ss.size(); k++) {
                double beta = dot(ys.get(k), dir) / dot(ys.get(k), ss.get(k));
                axpy(alpha[k] - beta, ss.get(k), dir);
            }
            scale(-1, dir);
            double slope = dot(cur.gradient(), dir);
            if (slope >= 0) { // not a descent direction: restart from steepest descent
                ss.clear();
                ys.clear();
                dir = cur.gradient().clone();
                scale(-1, dir);
                slope = dot(cur.gradient(), dir);
            }
            double step = ss.isEmpty() ? Math.min(1, 1 / Math.sqrt(-slope)) : 1;
            double[] next = new double[p];
            Eval trial;
            int tries = 0;
            while (true) {
                for (int i = 0; i < p; i++) {
                    next[i] = theta[i] + step * dir[i];
                }
                trial = f.apply(next);
                if (trial.value() <= cur.value() + 1e-4 * step * slope || ++tries > 40) {
                    break;
                }
                step /= 2;
            }
            if (tries > 40) {
                return;
            }
            double[] s = new double[p], y = new double[p];
            for (int i = 0; i < p; i++) {
                s[i] = next[i] - theta[i];
                y[i] = trial.gradient()[i] - cur.gradient()[i];
            }
            if (dot(s, y) > 1e-12) {
                ss.add(s);
                ys.add(y);
                if (ss.size() > MEMORY) {
                    ss.remove(0);
                    ys.remove(0);
                }
            }
            double change = cur.value() - trial.value();
            System.arraycopy(next, 0, theta, 0, p);
            cur = trial;
            if (change < 1e-12 * Math.max(1, Math.abs(cur.value()))) {
                return;
            }
        }
    }

    private static float[][] rows(float[][] x, List<Integer> at) {
        return at.stream().map(i -> x[i]).toArray(float[][]::new);
    }

    private static int[] pick(int[] y, List<Integer> at) {
        return at.stream().mapToInt(i -> y[i]).toArray();
    }

    private static List<String> names(int classes) {
        List<String> out = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            out.add(Integer.toString(c));
        }
        return out;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    private static void axpy(double a, double[] x, double[] y) {
        for (int i = 0; i < y.length; i++) {
            y[i] += a * x[i];
        }
    }

    private static void scale(double a, double[] x) {
        for (int i = 0; i < x.length; i++) {
            x[i] *= a;
        }
    }

    private static double maxAbs(double[] x) {
        double m = 0;
        for (double v : x) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }
}
