package org.sensorium.objective;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sensorium.config.Config;
import org.sensorium.data.Batch;
import org.sensorium.model.Layers;
import org.sensorium.model.ModelOutput;
import org.sensorium.model.Params;

/**
 * Online cross-modal clustering with swapped prediction (XDC's cross-modal targets, trained online
 * as SwAV does). K learnable prototypes c_k, kept on the unit sphere by normalising them in the
 * forward pass. For a pair (a, b) over the n samples that have both:
 * <pre>
 *   S_a = Z_a C^T                      (n, K) cosine scores, Z_a unit rows, C unit rows
 *   Q_a = sinkhorn(S_a / eps)          (n, K) soft assignments, rows sum to 1, clusters used equally
 *   P_b = softmax(S_b / tau)           (n, K) predicted assignments
 *   L   = -1/2n sum_i ( sum_k Q_a[i,k] log P_b[i,k] + sum_k Q_b[i,k] log P_a[i,k] )
 * </pre>
 * Q carries no gradient (it is a target). Logged per pair: the entropy of the batch's cluster usage
 * (mean of Q over samples; log K when even), the number of dead clusters (no sample's argmax),
 * and the mean of each sample's largest assignment (1/K when undecided, 1 when hard).
 */
public final class Clustering implements Objective {
    private final List<Config.Pair> pairs;
    private final NDArray prototypes; // (K, E), a model parameter: saved, optimised
    private final double epsilon, temperature;
    private final int iterations;
    private final Map<String, Double> stats = new LinkedHashMap<>();

    public Clustering(Config.Clustering c, int embedDim, Params params) {
        this.pairs = List.copyOf(c.pairs());
        this.prototypes = params.embedding("objective.clustering.prototypes", 1f, c.prototypes(), embedDim); // not decayed: only directions count
        this.epsilon = c.epsilon();
        this.temperature = c.temperature();
        this.iterations = c.iterations();
    }

    @Override
    public Map<String, NDArray> losses(ModelOutput out, Batch batch) {
        stats.clear();
        Map<String, NDArray> terms = new LinkedHashMap<>();
        for (Config.Pair p : pairs) {
            if (!out.embeddings().containsKey(p.a()) || !out.embeddings().containsKey(p.b())) {
                continue;
            }
            boolean[] both = Contrastive.both(batch.present(p.a()), batch.present(p.b()));
            if (Contrastive.count(both) < 2) {
                continue;
            }
            NDArray za = Contrastive.rows(out.embedding(p.a()), both); // (n, E)
            NDArray zb = Contrastive.rows(out.embedding(p.b()), both); // (n, E)
            NDArray p0 = za.getManager().zeros(prototypes.getShape()).add(prototypes); // in the step's manager, not the parameters'
            NDArray c = p0.div(p0.norm(new int[] {1}, true));                 // (K, E) unit rows
            NDArray sa = za.matMul(c.transpose());                     // (n, K)
            NDArray sb = zb.matMul(c.transpose());                     // (n, K)
            double[][] qa = sinkhorn(toRows(sa), epsilon, iterations);
            double[][] qb = sinkhorn(toRows(sb), epsilon, iterations);
            terms.put("clustering/" + p, swapped(sa, sb, qa, qb, temperature));
            record(p + "/" + p.a().key(), qa);
            record(p + "/" + p.b().key(), qb);
        }
        return terms;
    }

    @Override
    public Map<String, Double> stats() {
        return Map.copyOf(stats);
    }

    /** -1/2n sum_i (Q_a[i] . log softmax(S_b[i] / tau) + Q_b[i] . log softmax(S_a[i] / tau)); sa, sb (n, K) -> (). */
    static NDArray swapped(NDArray sa, NDArray sb, double[][] qa, double[][] qb, double tau) {
        NDManager m = sa.getManager();
        long n = sa.getShape().get(0);
        NDArray ta = m.create(toFloat(qa)), tb = m.create(toFloat(qb)); // (n, K) targets, no gradient
        NDArray logPa = Layers.scale(sa, (float) (1 / tau)).logSoftmax(1);
        NDArray logPb = Layers.scale(sb, (float) (1 / tau)).logSoftmax(1);
        NDArray sum = ta.mul(logPb).sum().add(tb.mul(logPa).sum());
        return Layers.scale(sum, -0.5f / n);
    }

    /**
     * Sinkhorn-Knopp in the log domain (SwAV's equipartition): from log Q = S / eps, alternately make
     * every cluster's total 1/K and every sample's total 1/n; returns n * Q, whose rows sum to 1 and
     * whose columns sum to n/K once converged. scores (n, K) -> (n, K). See {@link Sinkhorn}.
     */
    public static double[][] sinkhorn(double[][] scores, double eps, int iterations) {
        return Sinkhorn.plan(scores, eps, iterations);
    }

    /** Cluster usage statistics of soft assignments q (n, K): entropy, dead clusters, mean max. */
    public static double[] usage(double[][] q) {
        int n = q.length, k = q[0].length;
        double[] mean = new double[k];
        int[] argmaxCount = new int[k];
        double meanMax = 0;
        for (double[] row : q) {
            int best = 0;
            for (int j = 0; j < k; j++) {
                mean[j] += row[j] / n;
                best = row[j] > row[best] ? j : best;
            }
            argmaxCount[best]++;
            meanMax += row[best] / n;
        }
        double entropy = 0;
        int dead = 0;
        for (int j = 0; j < k; j++) {
            entropy -= mean[j] > 0 ? mean[j] * Math.log(mean[j]) : 0;
            dead += argmaxCount[j] == 0 ? 1 : 0;
        }
        return new double[] {entropy, dead, meanMax};
    }

    private void record(String name, double[][] q) {
        double[] u = usage(q);
        stats.put("clustering/" + name + "/usage_entropy", u[0]);
        stats.put("clustering/" + name + "/dead_clusters", u[1]);
        stats.put("clustering/" + name + "/mean_max", u[2]);
    }

    static double[][] toRows(NDArray x) {
        long n = x.getShape().get(0), k = x.getShape().get(1);
        float[] flat = x.toFloatArray();
        double[][] out = new double[(int) n][(int) k];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < k; j++) {
                out[i][j] = flat[(int) (i * k + j)];
            }
        }
        return out;
    }

    static float[][] toFloat(double[][] x) {
        float[][] out = new float[x.length][x[0].length];
        for (int i = 0; i < x.length; i++) {
            for (int j = 0; j < x[0].length; j++) {
                out[i][j] = (float) x[i][j];
            }
        }
        return out;
    }
}
