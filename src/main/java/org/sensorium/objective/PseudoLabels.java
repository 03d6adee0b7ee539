package org.sensorium.objective;

import org.sensorium.config.Objectives;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.data.Batch;
import org.sensorium.data.PseudoLabelFile;
import org.sensorium.model.Layers;
import org.sensorium.model.ModelOutput;
import org.sensorium.model.Params;
import org.sensorium.config.Modality;

/**
 * Offline cross-modal deep clustering (XDC, Alwassel et al. 2020, on DeepCluster's loop): {@code sensorium
 * cluster} writes the k-means clusters of one modality's embeddings; here another modality's embedding
 * learns to predict them through a linear head. Over the n samples of the batch that have the modality
 * and a pseudo-label (the others are left out; no term when n = 0):
 * <pre>
 *   X      = (Z - mu) / sqrt(var + eps)          (n, E)   Z (n, E) unit rows; mu, var (E) per dimension
 *   logits = X W^T + b                           (n, K)   W (K, E), b (K)
 *   L      = -1/n sum_i log softmax(logits_i)[y_i]       y_i in [0, K) the sample's cluster
 * </pre>
 * The standardisation is MAE's linear probe (He et al. 2022: BatchNorm without affine before the linear
 * classifier): the unit embeddings of an untrained encoder are nearly collinear (mean pairwise cosine 0.985),
 * and on raw Z the head does not leave the class prior in 150 steps (docs/measured/pseudo-labels.md, sessions
 * 11 to 13). In training mu and var are the n rows' mean and biased variance and the gradient flows through
 * them, as BatchNorm's does (the loss is a function of the batch's statistics: a stop-gradient would hand the
 * encoder directions the normalisation undoes; measured, it ended lower in three seeds of three); the running
 * mean and unbiased variance, buffers updated after each micro-batch with momentum m (PyTorch's BatchNorm1d
 * habit; no update when n = 1, whose one row standardises to 0, so its logits are b), standardise the held-out
 * measure's rows. With objectives.pseudo_labels.standardise false, X = Z (the head before).
 * The head belongs to one clustering: cluster numbers are arbitrary, so DeepCluster re-initialises its
 * classifier after every clustering. Here W and b are named after the file's SHA-256
 * (objective.pseudo_labels.&lt;sha12&gt;.weight): --resume with a new file starts a fresh head and the
 * checkpoint's old one is dropped ({@link Params#load}). Logged: the head's accuracy on the batch.
 */
public final class PseudoLabels implements Objective {
    private final Modality modality;
    private final Map<String, Integer> labels; // sample id -> cluster
    private final NDArray weight; // (K, E), decayed
    private final NDArray bias;   // (K)
    private final NDArray runningMean; // (E) buffer; null when the head reads Z itself
    private final NDArray runningVar;  // (E) buffer, unbiased; null likewise
    private final float momentum;
    private final String name;
    private final Map<String, Double> stats = new LinkedHashMap<>();

    /** Reads c.file(); a missing or malformed file, or one whose k is not c.k(), is a {@link ConfigException}. */
    public PseudoLabels(Objectives.PseudoLabels c, int embedDim, Params params) {
        Path file = Path.of(c.file());
        PseudoLabelFile f = PseudoLabelFile.read(file, "objectives.pseudo_labels.file");
        if (f.k() != c.k()) {
            throw new ConfigException("objectives.pseudo_labels.k", c.k() + " but " + file + " has k = " + f.k());
        }
        this.modality = c.modality();
        this.labels = f.clusters();
        this.name = "pseudo_labels/" + modality.key();
        String head = "objective.pseudo_labels." + PseudoLabelFile.sha256(file).substring(0, 12);
        this.weight = params.normal(head + ".weight", 0.02f, c.k(), embedDim);
        this.bias = params.constant(head + ".bias", 0f, c.k());
        this.runningMean = c.standardise() ? params.buffer(head + ".running_mean", 0f, embedDim) : null;
        this.runningVar = c.standardise() ? params.buffer(head + ".running_var", 1f, embedDim) : null;
        this.momentum = c.momentum();
    }

    /** Per-dimension variance floor of the standardisation (PyTorch BatchNorm's eps). */
    static final float EPS = 1e-5f;

    @Override
    public Map<String, NDArray> losses(Step step) {
        return losses(step.out(), step.batch());
    }

    /** The terms of one micro-batch's main clips and their output. */
    public Map<String, NDArray> losses(ModelOutput out, Batch batch) {
        stats.clear();
        if (!out.embeddings().containsKey(modality)) {
            return Map.of();
        }
        boolean[] present = batch.present(modality);
        boolean[] keep = new boolean[batch.size()];
        int[] all = new int[batch.size()];
        for (int i = 0; i < keep.length; i++) {
            Integer y = labels.get(batch.ids().get(i));
            keep[i] = present[i] && y != null;
            all[i] = y == null ? -1 : y;
        }
        int n = Contrastive.count(keep);
        if (n == 0) {
            return Map.of();
        }
        int[] targets = new int[n];
        for (int i = 0, j = 0; i < keep.length; i++) {
            if (keep[i]) {
                targets[j++] = all[i];
            }
        }
        NDArray z = Contrastive.rows(out.embedding(modality), keep); // (n, E)
        NDArray x = runningMean == null ? z : batchStandardised(z);  // (n, E)
        if (runningMean != null && n >= 2) {
            updateRunning(z);
        }
        NDArray logits = logits(x, weight, bias);                    // (n, K)
        stats.put(name + "/accuracy", accuracy(logits, targets));
        return Map.of(name, crossEntropy(logits, targets));
    }

    /** The held-out accuracy of the head on the held-out samples' clusters (the cluster file covers the whole manifest). */
    @Override
    public Map<String, Double> measure(HeldOut h) throws InterruptedException {
        List<HeldOut.Scored> batches = new java.util.ArrayList<>();
        h.forEachAsTrained(needs(), (step, from) -> batches.add(correct(step.out(), step.batch())));
        return HeldOut.accuracyAndMajority("pseudo_labels", batches);
    }

    /** Held-out accuracy: the head's right answers over the batch's samples with the modality and a pseudo-label, and those labels. */
    HeldOut.Scored correct(ModelOutput out, Batch batch) {
        if (!out.embeddings().containsKey(modality)) {
            return HeldOut.Scored.NONE;
        }
        boolean[] present = batch.present(modality);
        float[] z = out.embedding(modality).toFloatArray(); // (B * E)
        int e = z.length / present.length;
        int hits = 0;
        List<Integer> truth = new java.util.ArrayList<>();
        try (NDManager m = out.embedding(modality).getManager().newSubManager()) {
            NDArray rows = m.create(z, new ai.djl.ndarray.types.Shape(present.length, e)); // (B, E)
            NDArray x = runningMean == null ? rows : standardised(rows, runningMean, runningVar);
            long[] predicted = logits(x, weight, bias).argMax(1).toLongArray();
            for (int i = 0; i < present.length; i++) {
                Integer y = labels.get(batch.ids().get(i));
                if (present[i] && y != null) {
                    hits += predicted[i] == y ? 1 : 0;
                    truth.add(y);
                }
            }
        }
        return new HeldOut.Scored(hits, truth.stream().mapToInt(Integer::intValue).toArray());
    }

    @Override
    public Map<String, Double> stats() {
        return Map.copyOf(stats);
    }

    /**
     * (Z - mu) / sqrt(var + eps) with mu and var the rows' own mean and biased variance per dimension, differentiable
     * through both (BatchNorm in training): z (n, E) -> (n, E).
     */
    static NDArray batchStandardised(NDArray z) {
        NDArray centred = z.sub(z.mean(new int[] {0}, true));                // (n, E)
        NDArray var = centred.square().mean(new int[] {0}, true);           // (1, E), biased
        return centred.div(var.add(EPS).sqrt());
    }

    /** (Z - mean) / sqrt(var + eps) with given statistics (the running ones): z (n, E), mean and var (E) -> (n, E). */
    static NDArray standardised(NDArray z, NDArray mean, NDArray var) {
        return z.sub(mean).div(var.add(EPS).sqrt());
    }

    /**
     * running = (1 - m) running + m batch, for the mean and the unbiased variance (x n / (n - 1)) of z's n &gt;= 2 rows,
     * outside the gradient: z (n, E). Each rank updates its own (see {@link Params}).
     */
    private void updateRunning(NDArray z) {
        int n = (int) z.getShape().get(0);
        float[] rows = z.toFloatArray(); // (n * E), row-major
        float[] mean = runningMean.toFloatArray(), var = runningVar.toFloatArray();
        int e = mean.length;
        for (int j = 0; j < e; j++) {
            double mu = 0, ss = 0;
            for (int i = 0; i < n; i++) {
                mu += rows[i * e + j];
            }
            mu /= n;
            for (int i = 0; i < n; i++) {
                double d = rows[i * e + j] - mu;
                ss += d * d;
            }
            mean[j] = (float) ((1 - momentum) * mean[j] + momentum * mu);
            var[j] = (float) ((1 - momentum) * var[j] + momentum * ss / (n - 1));
        }
        runningMean.set(mean);
        runningVar.set(var);
    }

    /** Z W^T + b, the embedding first so the result belongs to the step's manager: z (n, E), w (K, E), b (K) -> (n, K). */
    static NDArray logits(NDArray z, NDArray w, NDArray b) {
        return ai.djl.nn.core.Linear.linear(z, w, b).singletonOrThrow();
    }

    /** -1/n sum_i log softmax(logits_i)[targets_i]: logits (n, K), targets n ints in [0, K) -> (). */
    static NDArray crossEntropy(NDArray logits, int[] targets) {
        NDManager m = logits.getManager();
        int n = targets.length, k = (int) logits.getShape().get(1);
        float[][] onehot = new float[n][k];
        for (int i = 0; i < n; i++) {
            onehot[i][targets[i]] = 1f;
        }
        return Layers.scale(logits.logSoftmax(1).mul(m.create(onehot)).sum(), -1f / n);
    }

    private static double accuracy(NDArray logits, int[] targets) {
        long[] best = logits.argMax(1).toLongArray();
        int right = 0;
        for (int i = 0; i < targets.length; i++) {
            right += best[i] == targets[i] ? 1 : 0;
        }
        return (double) right / targets.length;
    }
}
