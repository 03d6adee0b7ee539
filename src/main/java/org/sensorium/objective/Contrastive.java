package org.sensorium.objective;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.sensorium.config.Config;
import org.sensorium.data.Batch;
import org.sensorium.dist.DataParallel;
import org.sensorium.dist.Group;
import org.sensorium.model.Layers;
import org.sensorium.model.ModelOutput;
import org.sensorium.modality.Modality;

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
 * worker with the whole batch; see {@link #globalLosses}.
 */
public final class Contrastive implements Objective {
    private final List<Config.Pair> pairs;
    private final DataParallel dp; // null: one worker
    private final int embedDim;

    public Contrastive(List<Config.Pair> pairs) {
        this(pairs, null, 0);
    }

    /** @param dp the worker group's trainer side; negatives are gathered from every rank when it has more than one */
    public Contrastive(List<Config.Pair> pairs, DataParallel dp, int embedDim) {
        this.pairs = List.copyOf(pairs);
        this.dp = dp != null && dp.distributed() ? dp : null;
        this.embedDim = embedDim;
    }

    @Override
    public Map<String, NDArray> losses(ModelOutput out, Batch batch) {
        if (dp != null) {
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
     * The pairs' terms over the whole group's batch. One all-gather brings every rank's embeddings (B_r, E) and
     * presence masks; per pair, over the N = sum B_r gathered rows, on a detached copy X_a, X_b that records a
     * gradient (and a detached copy of the scale):
     * <pre>
     *   L_r = w / (2n) * sum_{i own, both present} ( -log softmax(S_i)_i - log softmax(S^T_i)_i ),  S = s X_a X_b^T
     * </pre>
     * so that the mean over ranks of L_r is the one-worker loss over the n rows with both modalities. Backward of
     * L_r alone (only these copies are in its graph) gives G_r = dL_r/dX; the all-reduce sums G over ranks, and
     * the term returned is the surrogate sum(e_a * G_a[own]) + sum(e_b * G_b[own]) + s * dL_r/ds (G constant),
     * whose gradient with respect to this rank's embeddings is exactly their share, shifted to the value of L_r.
     * Every rank makes the same collective calls whatever its batch holds.
     */
    private Map<String, NDArray> globalLosses(ModelOutput out, Batch batch) {
        Group group = dp.group();
        int w = group.worldSize(), rank = group.rank(), b = batch.size(), e = embedDim;
        Set<Modality> used = EnumSet.noneOf(Modality.class);
        pairs.forEach(p -> {
            used.add(p.a());
            used.add(p.b());
        });
        // this rank's block: B, then per used modality (enum order) presence (B) and rows (B, E)
        float[] mine = new float[1 + used.size() * b * (1 + e)];
        mine[0] = b;
        int off = 1;
        for (Modality m : used) {
            NDArray emb = out.embeddings().get(m);
            if (emb != null) {
                boolean[] present = batch.present(m);
                for (int i = 0; i < b; i++) {
                    mine[off + i] = present[i] ? 1 : 0;
                }
                System.arraycopy(emb.toFloatArray(), 0, mine, off + b, b * e); // (B, E) row-major
            }
            off += b * (1 + e);
        }
        long t0 = System.nanoTime();
        float[][] all = group.allGather(mine);
        dp.addSeconds((System.nanoTime() - t0) / 1e9);
        int[] sizes = new int[w], offsets = new int[w + 1];
        for (int r = 0; r < w; r++) {
            sizes[r] = (int) all[r][0];
            offsets[r + 1] = offsets[r] + sizes[r];
        }
        Map<String, NDArray> terms = new LinkedHashMap<>();
        for (Config.Pair p : pairs) {
            Gathered ga = gather(all, sizes, used, p.a()), gb = gather(all, sizes, used, p.b());
            boolean[] both = both(ga.present(), gb.present());
            int n = count(both);
            if (n < 2) {
                continue; // the same on every rank: n counts the whole group's batch
            }
            terms.put("contrastive/" + p, globalPair(out, p, ga, gb, both, n, offsets[rank], b));
        }
        return terms;
    }

    /** One modality's gathered embeddings (N, E) row-major and presence (N). */
    private record Gathered(float[] rows, boolean[] present) {}

    private Gathered gather(float[][] all, int[] sizes, Set<Modality> used, Modality m) {
        int total = 0;
        for (int s : sizes) {
            total += s;
        }
        float[] rows = new float[total * embedDim];
        boolean[] present = new boolean[total];
        int row = 0;
        for (int r = 0; r < all.length; r++) {
            int b = sizes[r], off = 1;
            for (Modality u : used) {
                if (u == m) {
                    break;
                }
                off += b * (1 + embedDim);
            }
            for (int i = 0; i < b; i++) {
                present[row + i] = all[r][off + i] > 0.5f;
            }
            System.arraycopy(all[r], off + b, rows, row * embedDim, b * embedDim);
            row += b;
        }
        return new Gathered(rows, present);
    }

    private NDArray globalPair(ModelOutput out, Config.Pair p, Gathered ga, Gathered gb, boolean[] both, int n, int ownFrom, int b) {
        int e = embedDim, w = dp.group().worldSize();
        int total = both.length;
        float[] xa = new float[n * e], xb = new float[n * e], own = new float[n];
        int[] rowOf = new int[n]; // gathered row index of each of the n rows
        for (int i = 0, k = 0; i < total; i++) {
            if (both[i]) {
                System.arraycopy(ga.rows(), i * e, xa, k * e, e);
                System.arraycopy(gb.rows(), i * e, xb, k * e, e);
                own[k] = i >= ownFrom && i < ownFrom + b ? 1 : 0;
                rowOf[k++] = i;
            }
        }
        NDManager step = out.logitScale().getManager();
        float lossValue, scaleGrad;
        float[] grads = new float[2 * n * e];
        try (NDManager local = step.newSubManager()) {
            NDArray a = local.create(xa, new Shape(n, e));                        // (n, E), a leaf
            NDArray bm = local.create(xb, new Shape(n, e));                       // (n, E)
            NDArray s = local.create(out.logitScale().getFloat());                // ()
            a.setRequiresGradient(true);
            bm.setRequiresGradient(true);
            s.setRequiresGradient(true);
            NDArray ownMask = local.create(own);                                  // (n)
            NDArray eye = local.eye(n);                                           // (n, n)
            NDArray logits = a.matMul(bm.transpose()).mul(s);                     // (n, n)
            NDArray rowsLoss = logits.logSoftmax(1).mul(eye).sum(new int[] {1}).mul(ownMask).sum();
            NDArray colsLoss = logits.transpose().logSoftmax(1).mul(eye).sum(new int[] {1}).mul(ownMask).sum();
            NDArray loss = Layers.scale(rowsLoss.add(colsLoss), -0.5f * w / n); // ()
            JniUtils.backward((PtNDArray) loss, (PtNDArray) local.ones(loss.getShape()), false, false);
            lossValue = loss.getFloat();
            System.arraycopy(a.getGradient().toFloatArray(), 0, grads, 0, n * e);
            System.arraycopy(bm.getGradient().toFloatArray(), 0, grads, n * e, n * e);
            scaleGrad = s.getGradient().getFloat();
        }
        long t0 = System.nanoTime();
        dp.group().allReduce(grads);                                              // G summed over the ranks
        dp.addSeconds((System.nanoTime() - t0) / 1e9);
        float[] gaOwn = new float[b * e], gbOwn = new float[b * e];               // (B, E): this rank's rows of G
        for (int k = 0; k < n; k++) {
            int i = rowOf[k] - ownFrom;
            if (i >= 0 && i < b) {
                System.arraycopy(grads, k * e, gaOwn, i * e, e);
                System.arraycopy(grads, n * e + k * e, gbOwn, i * e, e);
            }
        }
        NDArray surrogate = out.logitScale().mul(step.create(scaleGrad));        // ()
        NDArray ea = out.embeddings().get(p.a()), eb = out.embeddings().get(p.b());
        if (ea != null) {
            surrogate = surrogate.add(ea.mul(step.create(gaOwn, new Shape(b, e))).sum());
        }
        if (eb != null) {
            surrogate = surrogate.add(eb.mul(step.create(gbOwn, new Shape(b, e))).sum());
        }
        // the value of L_r with the surrogate's gradient
        return surrogate.sub(surrogate.stopGradient()).add(step.create(lossValue));
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
