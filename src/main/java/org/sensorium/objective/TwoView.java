package org.sensorium.objective;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sensorium.data.Batch;
import org.sensorium.data.Batch.Extra;
import org.sensorium.data.Needs;
import org.sensorium.distributed.Collective;
import org.sensorium.eval.Retrieval;
import org.sensorium.model.Layers;
import org.sensorium.model.ModelOutput;
import org.sensorium.config.Modality;

/**
 * Same-modality two-view contrastive learning (SimCLR's NT-Xent; CVRL for video, with the second
 * clip drawn by the loader's temporal sampling). For modality m over the n samples with both views:
 * <pre>
 *   Z = [Z1; Z2]                         (2n, E) unit rows, view 1 then view 2
 *   S = Z Z^T / tau, S_ii = -inf          (2n, 2n) no sample is its own negative or positive
 *   L = -1/2n sum_i log softmax(S_i)_{p(i)},   p(i) = i + n mod 2n (the other view)
 * </pre>
 * It needs no other modality, so an IMU-only or video-only collection can pretrain with it. In a worker group
 * both views of every rank's samples are the negatives ({@link GlobalBatch}), as one worker with the whole batch;
 * with dist.local_loss a rank builds only its own samples' rows of S ({@link #localPicked}).
 */
public final class TwoView implements Objective {
    private static final float MASKED = -1e9f;
    private final List<Modality> modalities;
    private final float temperature;
    private final Collective group; // negatives from every rank when it has more than one
    private final int embedDim;
    private final boolean localLoss; // in a group: only this rank's rows of the logits (dist.local_loss)
    private final Map<String, Double> stats = new LinkedHashMap<>();
    private ProjectionHead projection = ProjectionHead.none(); // SimCLR's head before NT-Xent only (projection: mlp)

    public TwoView(List<Modality> modalities, float temperature) {
        this(modalities, temperature, Collective.local(), 0, false);
    }

    /**
     * @param group the workers; negatives come from every rank's batch when there is more than one
     * @param localLoss in a group, build only this rank's rows of the logits against the group's columns
     */
    public TwoView(List<Modality> modalities, float temperature, Collective group, int embedDim, boolean localLoss) {
        this.modalities = List.copyOf(modalities);
        this.temperature = temperature;
        this.group = group;
        this.embedDim = embedDim;
        this.localLoss = localLoss;
    }

    /** The same objective with NT-Xent read through a projection head (SimCLR); evaluation and measure keep the embeddings. */
    public TwoView withProjection(ProjectionHead head) {
        this.projection = head;
        return this;
    }

    /** In a group: per modality the shape of the logits this rank built (logits_rows x logits_cols). */
    @Override
    public Map<String, Double> stats() {
        return Map.copyOf(stats);
    }

    public List<Modality> modalities() {
        return modalities;
    }

    @Override
    public Needs needs() {
        return Needs.ofSecondViews(java.util.Set.copyOf(modalities), List.of(1.0));
    }

    @Override
    public Map<String, NDArray> losses(Step step) {
        return losses(step.out(), step.batch(), step.out(Extra.SECOND_VIEW), step.batch(Extra.SECOND_VIEW));
    }

    /** The terms of the main clips and their second views (second and secondBatch null when no sample has one). */
    public Map<String, NDArray> losses(ModelOutput out, Batch batch, ModelOutput second, Batch secondBatch) {
        out = projection.apply(out);
        second = projection.apply(second);
        if (group.worldSize() > 1) {
            return globalLosses(out, batch, second, secondBatch);
        }
        Map<String, NDArray> terms = new LinkedHashMap<>();
        if (second == null) {
            return terms;
        }
        for (Modality m : modalities) {
            if (!out.embeddings().containsKey(m) || !second.embeddings().containsKey(m)) {
                continue;
            }
            boolean[] both = Contrastive.both(batch.present(m), secondBatch.present(m));
            if (Contrastive.count(both) < 2) {
                continue;
            }
            NDArray z1 = Contrastive.rows(out.embedding(m), both);    // (n, E)
            NDArray z2 = Contrastive.rows(second.embedding(m), both); // (n, E)
            terms.put("two_view/" + m.key(), ntXent(z1, z2, temperature));
        }
        return terms;
    }

    /** Per modality, this rank's share of NT-Xent over both views of the group's samples; the same calls on every rank. */
    private Map<String, NDArray> globalLosses(ModelOutput out, Batch batch, ModelOutput second, Batch secondBatch) {
        Map<String, NDArray> emb = new LinkedHashMap<>();
        Map<String, boolean[]> present = new LinkedHashMap<>();
        for (Modality m : modalities) {
            emb.put(m.key() + "/1", out == null ? null : out.embeddings().get(m));
            present.put(m.key() + "/1", batch.present(m));
            emb.put(m.key() + "/2", second == null ? null : second.embeddings().get(m));
            present.put(m.key() + "/2", secondBatch == null ? null : secondBatch.present(m));
        }
        GlobalBatch.Gathered g = GlobalBatch.gather(group, batch.size(), embedDim, emb, present);
        NDManager step = out.embeddings().values().iterator().next().getManager();
        Map<String, NDArray> terms = new LinkedHashMap<>();
        stats.clear();
        for (Modality m : modalities) {
            String k1 = m.key() + "/1", k2 = m.key() + "/2";
            Map<String, NDArray> local = new LinkedHashMap<>();
            local.put(k1, emb.get(k1));
            local.put(k2, emb.get(k2));
            GlobalBatch.Term t = GlobalBatch.term(group, g, local, null, step, (x, p, own, scale) -> {
                boolean[] both = Contrastive.both(p.get(k1), p.get(k2));
                int n = Contrastive.count(both);
                if (n < 2) {
                    return null;
                }
                NDArray z1 = Contrastive.rows(x.get(k1), both), z2 = Contrastive.rows(x.get(k2), both); // (n, E)
                if (localLoss) {
                    GlobalBatch.Own o = GlobalBatch.Own.of(own, both);
                    NDArray picked = o.count() == 0 ? Layers.scale(z1.sum().add(z2.sum()), 0f) // nothing of this rank's
                            : localPicked(z1, z2, o, temperature).sum();
                    return new GlobalBatch.Part(Layers.scale(picked, -1f / (2 * n)), 2 * o.count(), 2 * n);
                }
                float[] ownRows = GlobalBatch.select(own, both), own2 = new float[2 * n]; // (2n): view 1 rows, then view 2
                System.arraycopy(ownRows, 0, own2, 0, n);
                System.arraycopy(ownRows, 0, own2, n, n);
                return new GlobalBatch.Part(Layers.scale(picked(z1, z2, temperature)
                        .mul(x.get(k1).getManager().create(own2)).sum(), -1f / (2 * n)), 2 * n, 2 * n);
            });
            if (t != null) {
                terms.put("two_view/" + m.key(), t.value());
                stats.putAll(t.stats("two_view/" + m.key()));
            }
        }
        return terms;
    }

    /**
     * Per modality, the held-out R@1 of finding a sample's second view among all second views from its first,
     * on training-style views (the same clips before the first step and after the last).
     */
    @Override
    public Map<String, Double> measure(HeldOut h) throws InterruptedException {
        Map<Modality, List<float[]>> first = new java.util.EnumMap<>(Modality.class), second = new java.util.EnumMap<>(Modality.class);
        h.forEachAsTrained(needs(), (step, from) -> {
            ModelOutput o1 = step.out(), o2 = step.out(Extra.SECOND_VIEW);
            for (Modality m : modalities) {
                if (o2 == null || !o1.embeddings().containsKey(m) || !o2.embeddings().containsKey(m)) {
                    continue;
                }
                boolean[] p1 = step.batch().present(m), p2 = step.batch(Extra.SECOND_VIEW).present(m);
                float[] z1 = o1.embedding(m).toFloatArray(), z2 = o2.embedding(m).toFloatArray(); // (B * E)
                int e = z1.length / p1.length;
                for (int i = 0; i < p1.length; i++) {
                    if (p1[i] && p2[i]) {
                        first.computeIfAbsent(m, k -> new java.util.ArrayList<>()).add(java.util.Arrays.copyOfRange(z1, i * e, (i + 1) * e));
                        second.computeIfAbsent(m, k -> new java.util.ArrayList<>()).add(java.util.Arrays.copyOfRange(z2, i * e, (i + 1) * e));
                    }
                }
            }
        });
        Map<String, Double> out = new LinkedHashMap<>();
        first.forEach((m, rows) -> {
            out.put("two_view/" + m.key() + "/R@1", Retrieval.direction(m.key() + "->" + m.key(), rows, second.get(m)).r1());
            out.put("two_view/" + m.key() + "/chance_R@1", 1.0 / rows.size());
        });
        return out;
    }

    /** NT-Xent of two views z1, z2 (n, E) with unit rows -> (). */
    public static NDArray ntXent(NDArray z1, NDArray z2, float tau) {
        return ntXent(z1, z2, null, tau);
    }

    /**
     * {@link #ntXent} with the rows of extra (e, E; null for none) as more negatives of every row: each row of
     * [z1; z2] against the 2n + e columns [z1; z2; extra] (Background Erasing's own negatives).
     */
    public static NDArray ntXent(NDArray z1, NDArray z2, NDArray extra, float tau) {
        int n = (int) z1.getShape().get(0);
        return Layers.scale(picked(z1, z2, extra, tau).sum(), -1f / (2 * n));     // -1/2n sum_i log softmax(S_i)_{p(i)}
    }

    /** log softmax(S_i)_{p(i)} of every row i of [z1; z2] (2n), as in {@link #ntXent}. */
    static NDArray picked(NDArray z1, NDArray z2, float tau) {
        return picked(z1, z2, null, tau);
    }

    /** {@link #picked} against the columns [z1; z2; extra] (2n + e; extra null for none). */
    private static NDArray picked(NDArray z1, NDArray z2, NDArray extra, float tau) {
        NDManager m = z1.getManager();
        int n = (int) z1.getShape().get(0), columns = 2 * n + (extra == null ? 0 : (int) extra.getShape().get(0));
        NDArray z = z1.concat(z2, 0);                                        // (2n, E)
        float[][] mask = new float[2 * n][columns];
        float[][] positive = new float[2 * n][columns];
        for (int i = 0; i < 2 * n; i++) {
            mask[i][i] = MASKED;
            positive[i][(i + n) % (2 * n)] = 1;
        }
        NDArray candidates = extra == null ? z : z.concat(extra, 0);        // (2n + e, E)
        NDArray logits = Layers.scale(z.matMul(candidates.transpose()), 1 / tau).add(m.create(mask)); // (2n, 2n + e)
        return logits.logSoftmax(1).mul(m.create(positive)).sum(new int[] {1});                // (2n)
    }

    /**
     * {@link #picked} of this rank's rows o only, both views: [Z1[o]; Z2[o]] (2n_r, E) against all 2n rows of Z,
     * logits (2n_r, 2n) instead of (2n, 2n); z1, z2 (n, E) -> (2n_r), view 1's rows then view 2's.
     */
    static NDArray localPicked(NDArray z1, NDArray z2, GlobalBatch.Own o, float tau) {
        NDManager m = z1.getManager();
        int n = o.n(), c = o.count();
        NDArray q = o.rowsOf(z1).concat(o.rowsOf(z2), 0);                   // (2n_r, E)
        float[][] mask = new float[2 * c][2 * n];
        float[][] positive = new float[2 * c][2 * n];
        for (int i = 0; i < c; i++) {
            int self1 = o.from() + i, self2 = n + o.from() + i;            // row i of view 1 and of view 2 in Z
            mask[i][self1] = MASKED;
            mask[c + i][self2] = MASKED;
            positive[i][self2] = 1;
            positive[c + i][self1] = 1;
        }
        NDArray logits = Layers.scale(q.matMul(z1.concat(z2, 0).transpose()), 1 / tau).add(m.create(mask)); // (2n_r, 2n)
        return logits.logSoftmax(1).mul(m.create(positive)).sum(new int[] {1});                              // (2n_r)
    }
}
