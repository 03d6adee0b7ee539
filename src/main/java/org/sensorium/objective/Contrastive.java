package org.sensorium.objective;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.sensorium.config.Config;
import org.sensorium.data.Batch;
import org.sensorium.distributed.Collective;
import org.sensorium.model.Layers;
import org.sensorium.model.ModelOutput;
import org.sensorium.config.Modality;

/**
 * Symmetric InfoNCE (CLIP; VATT's NCE for every modality pair). For a pair (a, b) over the n samples
 * that have both:
 * <pre>
 *   S = s * A B^T                      (n, n), s the clamped logit scale, rows of A, B unit norm
 *   L = ( CE(S, I) + CE(S^T, I) ) / 2  CE(X, I) = -1/n sum_i log softmax(X_i)_i
 * </pre>
 * A pair with fewer than 2 such samples has no negatives and gives no term.
 *
 * <p>In a worker group of w ranks the negatives are exact and global (CLIP's gather with gradients): every
 * rank's embeddings are all-gathered, rank r's loss takes its own rows against all columns, and the gradient
 * that flows to other ranks' embeddings is summed back to their owners, so the averaged update equals one
 * worker with the whole batch; see {@link #globalLosses}. With local logits (dist.local_loss) rank r builds only
 * its own rows of S and S^T against the group's columns, (n_r, n) instead of (n, n), for the same loss and gradients.
 */
public final class Contrastive implements Objective {
    private final List<Config.Pair> pairs;
    private final Collective group; // negatives from every rank when it has more than one
    private final int embedDim;
    private final boolean localLoss; // in a group: only this rank's rows of the logits (dist.local_loss)
    private final Map<String, Double> stats = new LinkedHashMap<>();
    private ProjectionHead projection = ProjectionHead.none(); // SimCLR's head before this loss only (projection: mlp)

    public Contrastive(List<Config.Pair> pairs) {
        this(pairs, Collective.local(), 0, false);
    }

    /**
     * @param group the workers; negatives come from every rank's batch when there is more than one
     * @param localLoss in a group, build only this rank's rows of the logits against the group's columns
     */
    public Contrastive(List<Config.Pair> pairs, Collective group, int embedDim, boolean localLoss) {
        this.pairs = List.copyOf(pairs);
        this.group = group;
        this.embedDim = embedDim;
        this.localLoss = localLoss;
    }

    /** The same objective with its loss read through a projection head (SimCLR); evaluation keeps the embeddings. */
    public Contrastive withProjection(ProjectionHead head) {
        this.projection = head;
        return this;
    }

    /** In a group: per pair the shape of the logits this rank built (logits_rows x logits_cols, in samples). */
    @Override
    public Map<String, Double> stats() {
        return Map.copyOf(stats);
    }

    @Override
    public Map<String, NDArray> losses(Step step) {
        return losses(step.out(), step.batch());
    }

    /** The terms of one micro-batch's main clips and their output. */
    public Map<String, NDArray> losses(ModelOutput out, Batch batch) {
        out = projection.apply(out);
        if (group.worldSize() > 1) {
            return globalLosses(out, batch);
        }
        Map<String, NDArray> terms = new LinkedHashMap<>();
        for (Config.Pair p : pairs) {
            if (!out.embeddings().containsKey(p.a()) || !out.embeddings().containsKey(p.b())) {
                continue;
            }
            boolean[] both = both(batch.present(p.a()), batch.present(p.b()));
            int n = count(both);
            if (n < 2) {
                continue;
            }
            NDArray a = rows(out.embedding(p.a()), both);   // (n, E)
            NDArray b = rows(out.embedding(p.b()), both);   // (n, E)
            terms.put("contrastive/" + p, infoNce(a, b, out.logitScale()));
        }
        return terms;
    }

    /**
     * The pairs' terms over the whole group's batch ({@link GlobalBatch}): one all-gather of every used modality's
     * embeddings per micro-batch, then per pair this rank's share of the symmetric InfoNCE over the n samples of
     * the group's batch that have both, -1/(2n) sum over own rows (w x that share is the value logged).
     */
    private Map<String, NDArray> globalLosses(ModelOutput out, Batch batch) {
        Set<Modality> used = EnumSet.noneOf(Modality.class);
        pairs.forEach(p -> {
            used.add(p.a());
            used.add(p.b());
        });
        Map<String, NDArray> emb = new LinkedHashMap<>();
        Map<String, boolean[]> present = new LinkedHashMap<>();
        for (Modality m : used) {                 // enum order: the same on every rank
            emb.put(m.key(), out.embeddings().get(m));
            present.put(m.key(), batch.present(m));
        }
        GlobalBatch.Gathered g = GlobalBatch.gather(group, batch.size(), embedDim, emb, present);
        Map<String, NDArray> terms = new LinkedHashMap<>();
        stats.clear();
        for (Config.Pair p : pairs) {
            Map<String, NDArray> local = new LinkedHashMap<>();
            local.put(p.a().key(), emb.get(p.a().key()));
            local.put(p.b().key(), emb.get(p.b().key()));
            GlobalBatch.Term t = GlobalBatch.term(group, g, local, out.logitScale(), out.logitScale().getManager(),
                    GlobalBatch.symmetricInfoNce(p.a().key(), p.b().key(), 1f, localLoss));
            if (t != null) { // n < 2 in the whole group's batch: no term on any rank
                terms.put("contrastive/" + p, t.value());
                stats.putAll(t.stats("contrastive/" + p));
            }
        }
        return terms;
    }

    /** Symmetric InfoNCE of matched rows: a, b (n, E) unit norm, scale () -> (). */
    public static NDArray infoNce(NDArray a, NDArray b, NDArray scale) {
        NDArray logits = a.matMul(b.transpose()).mul(scale);             // (n, n)
        return Layers.scale(crossEntropyDiagonal(logits).add(crossEntropyDiagonal(logits.transpose())), 0.5f);
    }

    /** -mean_i log softmax(x_i)_i for square logits (n, n). */
    static NDArray crossEntropyDiagonal(NDArray logits) {
        long n = logits.getShape().get(0);
        NDManager m = logits.getManager();
        NDArray eye = m.eye((int) n);                                     // (n, n)
        return Layers.scale(logits.logSoftmax(1).mul(eye).sum(), -1f / n);
    }

    static NDArray rows(NDArray x, boolean[] keep) {
        if (count(keep) == keep.length) {
            return x;
        }
        return x.get(x.getManager().create(keep));                       // rows where keep: (n, E)
    }

    static boolean[] both(boolean[] a, boolean[] b) {
        boolean[] r = new boolean[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = a[i] && b[i];
        }
        return r;
    }

    static int count(boolean[] x) {
        int n = 0;
        for (boolean v : x) {
            n += v ? 1 : 0;
        }
        return n;
    }
}
