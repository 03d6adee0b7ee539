package org.sensorium.objective;

import org.sensorium.config.Objectives;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sensorium.config.Modality;
import org.sensorium.config.Config;
import org.sensorium.data.Batch;
import org.sensorium.eval.ClusterMetrics;
import org.sensorium.model.Layers;
import org.sensorium.model.ModelOutput;
import org.sensorium.model.Params;

/**
 * Online cross-modal clustering. K learnable prototypes c_k, kept on the unit sphere by normalising them
 * in the forward pass. For a pair (a, b) over the n samples that have both:
 * <pre>
 *   Z_a = normalise(E_a - mean(E_a))   (n, E) embeddings less the batch mean, unit rows (see centre)
 *   S_a = Z_a C^T                      (n, K) cosine scores, C unit rows
 *   P_a = softmax(S_a / tau)           (n, K) predicted assignments
 * and the targets by objectives.clustering.targets:
 *   swapped (XDC's cross-modal targets, trained online as SwAV does):
 *     Q_a = sinkhorn(S_a / eps), Q_b = sinkhorn(S_b / eps)
 *     L   = -1/2n sum_i ( Q_a[i] . log P_b[i] + Q_b[i] . log P_a[i] )
 *   joint (SeLaVi, Asano et al. 2020: one label per sample, shared by its modalities):
 *     Q   = sinkhorn((S_a + S_b) / 2 eps)
 *     L   = -1/2n sum_i ( Q[i] . log P_a[i] + Q[i] . log P_b[i] )
 * </pre>
 * Sinkhorn makes every row sum to 1 and every cluster take an equal share; Q carries no gradient. As
 * SwAV does when batches are small, Sinkhorn runs over the batch together with a queue of the pair's last
 * {@code queue} samples (scored against the current prototypes) and the batch's rows are the targets; the
 * queue and the running centres are saved in checkpoints.
 *
 * <p>From random weights on the sample set, swapped targets at epsilon 0.05 stay at the uniform loss (ln K per
 * pair): the untrained scores spread little against epsilon, the targets are near uniform, and the flat
 * prediction is the best answer to them. At epsilon 0.02 the targets are sharp enough to carry each sample's
 * cluster and the other modality learns to predict them (docs/measured/objectives.md, Online clustering). Joint targets
 * contain each modality's own scores, so they are partly predictable at any epsilon; joint is the default.
 *
 * <p>Logged per pair and modality: the entropy of the batch's cluster usage (mean of Q over samples; log K
 * when even), the number of dead clusters (no sample's argmax), the mean of each sample's largest
 * assignment (1/K when undecided, 1 when hard) and the score spread (what Sinkhorn sees, against epsilon).
 */
public final class Clustering implements Objective {
    private final List<Config.Pair> pairs;
    private final Objectives.ClusterTargets mode;
    private final NDArray prototypes; // (K, E), a model parameter: saved, optimised
    private final double epsilon, temperature;
    private final int iterations, queueSize;
    private final Map<String, ArrayDeque<float[]>> queues = new LinkedHashMap<>(); // by pair, newest last: (z_a, z_b), 2E floats
    private final Map<Modality, float[]> centres = new EnumMap<>(Modality.class);  // running mean embedding (E)
    private final Map<String, Double> stats = new LinkedHashMap<>();
    static final String STATE_FILE = "clustering-state.bin";

    public Clustering(Objectives.Clustering c, int embedDim, Params params) {
        this.pairs = List.copyOf(c.pairs());
        this.mode = c.targets();
        this.prototypes = params.embedding("objective.clustering.prototypes", 1f, c.prototypes(), embedDim); // not decayed: only directions count
        this.epsilon = c.epsilon();
        this.temperature = c.temperature();
        this.iterations = c.iterations();
        this.queueSize = c.queue();
    }

    public List<Config.Pair> pairs() {
        return pairs;
    }

    /** The modalities whose assignments are targets or predictions. */
    public List<Modality> modalities() {
        return pairs.stream().flatMap(p -> java.util.stream.Stream.of(p.a(), p.b())).distinct().toList();
    }

    @Override
    public Map<String, NDArray> losses(Step step) {
        return losses(step.out(), step.batch());
    }

    /** The terms of one micro-batch's main clips and their output. */
    public Map<String, NDArray> losses(ModelOutput out, Batch batch) {
        stats.clear();
        Map<String, NDArray> terms = new LinkedHashMap<>();
        Map<Modality, NDArray> centred = new EnumMap<>(Modality.class);
        for (Modality m : modalities()) {
            if (out.embeddings().containsKey(m) && Contrastive.count(batch.present(m)) >= 2) {
                centred.put(m, centre(m, out.embedding(m), batch.present(m)));
            }
        }
        for (Config.Pair p : pairs) {
            if (!centred.containsKey(p.a()) || !centred.containsKey(p.b())) {
                continue;
            }
            boolean[] both = Contrastive.both(batch.present(p.a()), batch.present(p.b()));
            if (Contrastive.count(both) < 2) {
                continue;
            }
            NDArray za = Contrastive.rows(centred.get(p.a()), both); // (n, E)
            NDArray zb = Contrastive.rows(centred.get(p.b()), both); // (n, E)
            NDArray p0 = za.getManager().zeros(prototypes.getShape()).add(prototypes); // in the step's manager, not the parameters'
            NDArray c = p0.div(p0.norm(new int[] {1}, true));        // (K, E) unit rows
            NDArray sa = za.matMul(c.transpose());                     // (n, K)
            NDArray sb = zb.matMul(c.transpose());                     // (n, K)
            double[][] ra = toRows(sa), rb = toRows(sb);
            double[][][] queued = queuedScores(p.toString(), c);       // {a, b}: (Q, K) each, or empty
            double[][] qa, qb;
            switch (mode) {
                case SWAPPED -> {
                    qa = targets(ra, queued[0]);
                    qb = targets(rb, queued[1]);
                }
                case JOINT -> {
                    qa = targets(average(ra, rb), average(queued[0], queued[1]));
                    qb = qa;
                }
                default -> throw new IllegalStateException(mode.toString());
            }
            terms.put("clustering/" + p, swapped(sa, sb, qa, qb, temperature));
            record(p + "/" + p.a().key(), qa, ra);
            record(p + "/" + p.b().key(), qb, rb);
            if (queueSize > 0) {
                enqueue(p.toString(), za, zb);
            }
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

    /** The batch's rows (n, K) of Sinkhorn over the batch's scores (n, K) followed by the queue's (Q, K). */
    private double[][] targets(double[][] batchRows, double[][] queueRows) {
        double[][] all = new double[batchRows.length + queueRows.length][];
        System.arraycopy(batchRows, 0, all, 0, batchRows.length);
        System.arraycopy(queueRows, 0, all, batchRows.length, queueRows.length);
        return java.util.Arrays.copyOf(sinkhorn(all, epsilon, iterations), batchRows.length);
    }

    static double[][] average(double[][] a, double[][] b) {
        double[][] out = new double[a.length][];
        for (int i = 0; i < a.length; i++) {
            out[i] = new double[a[i].length];
            for (int j = 0; j < a[i].length; j++) {
                out[i][j] = (a[i][j] + b[i][j]) / 2;
            }
        }
        return out;
    }

    /**
     * z (B, E) unit rows -> (B, E) unit rows less the batch mean of the present rows (with gradient, as the batch
     * norm in SwAV's projection head does). An untrained encoder's embeddings lie in a narrow cone: their scores
     * against the prototypes differed by 0.02-0.07 between samples, below epsilon, so every target was near
     * uniform. The batch mean also moves the modality's running centre (momentum 0.9), which {@link #assign} uses.
     */
    private NDArray centre(Modality m, NDArray z, boolean[] present) {
        NDArray mean = Contrastive.rows(z, present).mean(new int[] {0}, true); // (1, E)
        float[] now = mean.toFloatArray();
        float[] c = centres.get(m);
        if (c == null) {
            centres.put(m, now.clone());
        } else {
            for (int j = 0; j < c.length; j++) {
                c[j] = 0.9f * c[j] + 0.1f * now[j];
            }
        }
        NDArray d = z.sub(mean);
        return d.div(d.norm(new int[] {1}, true).add(1e-6f));
    }

    /** The pair's queued samples scored against the unit prototypes c (K, E), without gradient: {a (Q, K), b (Q, K)}. */
    private double[][][] queuedScores(String pair, NDArray c) {
        ArrayDeque<float[]> queue = queues.get(pair);
        if (queue == null || queue.isEmpty()) {
            return new double[][][] {new double[0][], new double[0][]};
        }
        NDArray rows = c.getManager().create(queue.toArray(new float[0][]));    // (Q, 2E): z_a then z_b
        long e = rows.getShape().get(1) / 2;
        NDArray ct = c.stopGradient().transpose();                              // (E, K)
        return new double[][][] {toRows(rows.get(":, :" + e).matMul(ct)), toRows(rows.get(":, " + e + ":").matMul(ct))};
    }

    /** Appends the rows of za, zb (n, E) to the pair's queue as (z_a, z_b), dropping the oldest beyond its size. */
    private void enqueue(String pair, NDArray za, NDArray zb) {
        float[] a = za.toFloatArray(), b = zb.toFloatArray();
        int n = (int) za.getShape().get(0), e = a.length / n;
        ArrayDeque<float[]> queue = queues.computeIfAbsent(pair, k -> new ArrayDeque<>());
        for (int i = 0; i < n; i++) {
            float[] row = new float[2 * e];
            System.arraycopy(a, i * e, row, 0, e);
            System.arraycopy(b, i * e, row, e, e);
            queue.addLast(row);
        }
        while (queue.size() > queueSize) {
            queue.removeFirst();
        }
    }

    /**
     * Each row of z (n, E)'s nearest prototype: its cluster. The modality's running centre is removed first; before
     * any training step there is none, and the rows' own mean is.
     */
    public int[] assign(Modality m, NDArray z) {
        float[] c = centres.get(m);
        NDArray mean = c != null ? z.getManager().create(c).reshape(1, c.length) : z.mean(new int[] {0}, true);
        NDArray d = z.sub(mean);
        NDArray unit = d.div(d.norm(new int[] {1}, true).add(1e-6f));           // (n, E)
        NDArray p0 = z.getManager().zeros(prototypes.getShape()).add(prototypes);
        NDArray scores = unit.matMul(p0.div(p0.norm(new int[] {1}, true)).transpose()); // (n, K)
        return scores.argMax(1).toType(ai.djl.ndarray.types.DataType.INT32, false).toIntArray();
    }

    /**
     * On training-style views of the held-out samples, each sample's nearest prototype per modality, and from them
     * the measures of {@link #measures}.
     */
    @Override
    public Map<String, Double> measure(HeldOut h) throws InterruptedException {
        Map<Modality, Map<Integer, Integer>> assigned = new java.util.EnumMap<>(Modality.class); // sample index -> prototype
        List<String> labels = new java.util.ArrayList<>();
        h.forEachAsTrained(needs(), (step, from) -> {
            for (Modality m : modalities()) {
                if (step.out().embeddings().containsKey(m)) {
                    int[] k = assign(m, step.out().embedding(m));
                    boolean[] present = step.batch().present(m);
                    for (int i = 0; i < k.length; i++) {
                        if (present[i]) {
                            assigned.computeIfAbsent(m, x -> new java.util.LinkedHashMap<>()).put(from + i, k[i]);
                        }
                    }
                }
            }
            labels.addAll(step.batch().labels());
        });
        return measures(this, assigned, labels);
    }

    /**
     * Online clustering's held-out measures from each sample's nearest prototype: per pair, the NMI between the two
     * modalities' clusters of the same samples (how far one modality's cluster tells the other's, which the objective
     * trains; 0 when independent, and 0 when everything falls in one cluster, so collapse does not score), and per
     * modality the NMI of the clusters against the hidden labels.
     */
    static Map<String, Double> measures(Clustering clustering, Map<Modality, Map<Integer, Integer>> assigned,
            List<String> labels) {
        Map<String, Double> out = new LinkedHashMap<>();
        List<Double> pairNmi = new java.util.ArrayList<>(), chanceNmi = new java.util.ArrayList<>();
        for (Config.Pair p : clustering.pairs()) {
            Map<Integer, Integer> a = assigned.getOrDefault(p.a(), Map.of()), b = assigned.getOrDefault(p.b(), Map.of());
            List<Integer> both = a.keySet().stream().filter(b::containsKey).toList();
            if (!both.isEmpty()) {
                int[] ca = both.stream().mapToInt(a::get).toArray(), cb = both.stream().mapToInt(b::get).toArray();
                double nmi = ClusterMetrics.nmi(ca, cb);
                out.put("clustering/" + p + "/NMI", nmi);
                pairNmi.add(nmi);
                chanceNmi.add(ClusterMetrics.nmi(ca, shuffled(cb)));
            }
        }
        pairNmi.stream().mapToDouble(Double::doubleValue).average() // over the pairs, the one figure
                .ifPresent(mean -> out.put("clustering/cross_modal_NMI", mean));
        // the same cluster sizes, b's dealt to other samples: NMI grows with the number of clusters in use even when
        // they say nothing about each other (many clusters of few samples), so a rise is read against this
        chanceNmi.stream().mapToDouble(Double::doubleValue).average()
                .ifPresent(mean -> out.put("clustering/cross_modal_NMI_chance", mean));
        assigned.forEach((m, clusters) -> {
            List<Integer> ids = clusters.keySet().stream().filter(i -> labels.get(i) != null).toList();
            List<String> classes = ids.stream().map(labels::get).distinct().sorted().toList();
            if (!ids.isEmpty()) {
                out.put("clustering/" + m.key() + "/NMI", ClusterMetrics.nmi(ids.stream().mapToInt(clusters::get).toArray(),
                        ids.stream().mapToInt(i -> classes.indexOf(labels.get(i))).toArray()));
            }
        });
        return out;
    }

    /** A copy of the clusters in an order drawn from a fixed seed (Fisher-Yates). */
    static int[] shuffled(int[] clusters) {
        int[] out = clusters.clone();
        java.util.Random r = new java.util.Random(0);
        for (int i = out.length - 1; i > 0; i--) {
            int j = r.nextInt(i + 1), t = out[i];
            out[i] = out[j];
            out[j] = t;
        }
        return out;
    }

    @Override
    public void save(Path checkpoint) throws IOException {
        try (DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(
                Files.newOutputStream(checkpoint.resolve(STATE_FILE))))) {
            out.writeInt(queues.size());
            for (Map.Entry<String, ArrayDeque<float[]>> q : queues.entrySet()) {
                out.writeUTF(q.getKey());
                out.writeInt(q.getValue().size());
                for (float[] row : q.getValue()) {
                    writeFloats(out, row);
                }
            }
            out.writeInt(centres.size());
            for (Map.Entry<Modality, float[]> c : centres.entrySet()) {
                out.writeUTF(c.getKey().key());
                writeFloats(out, c.getValue());
            }
        }
    }

    @Override
    public void load(Path checkpoint) throws IOException {
        queues.clear();
        centres.clear();
        Path file = checkpoint.resolve(STATE_FILE);
        if (!Files.exists(file)) {
            return; // written while clustering was off: start with empty queues
        }
        try (DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(file)))) {
            int count = in.readInt();
            for (int i = 0; i < count; i++) {
                ArrayDeque<float[]> queue = queues.computeIfAbsent(in.readUTF(), k -> new ArrayDeque<>());
                int rows = in.readInt();
                for (int r = 0; r < rows; r++) {
                    queue.addLast(readFloats(in));
                }
            }
            count = in.readInt();
            for (int i = 0; i < count; i++) {
                centres.put(Modality.parse(in.readUTF()), readFloats(in));
            }
        } catch (IOException | RuntimeException e) {
            throw new IOException(file + ": unreadable clustering state (" + e.getMessage() + ")", e);
        }
    }

    private static void writeFloats(DataOutputStream out, float[] row) throws IOException {
        out.writeInt(row.length);
        for (float v : row) {
            out.writeFloat(v);
        }
    }

    private static float[] readFloats(DataInputStream in) throws IOException {
        float[] row = new float[in.readInt()];
        for (int j = 0; j < row.length; j++) {
            row[j] = in.readFloat();
        }
        return row;
    }

    /** The pair's queued (z_a, z_b) rows, oldest first (for tests). */
    List<float[]> queue(String pair) {
        return List.copyOf(queues.getOrDefault(pair, new ArrayDeque<>()));
    }

    /**
     * The standard deviation of the scores (n, K) once each row's and each column's mean is removed: the only
     * part of the scores Sinkhorn sees (it absorbs row and column constants). Much below epsilon, every target
     * is near uniform.
     */
    public static double spread(double[][] s) {
        int n = s.length, k = s[0].length;
        double[] row = new double[n], col = new double[k];
        double all = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < k; j++) {
                row[i] += s[i][j] / k;
                col[j] += s[i][j] / n;
                all += s[i][j] / ((double) n * k);
            }
        }
        double sq = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < k; j++) {
                double r = s[i][j] - row[i] - col[j] + all;
                sq += r * r;
            }
        }
        return Math.sqrt(sq / ((double) n * k));
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

    private void record(String name, double[][] q, double[][] scores) {
        double[] u = usage(q);
        stats.put("clustering/" + name + "/score_spread", spread(scores));
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
