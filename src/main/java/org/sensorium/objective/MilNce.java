package org.sensorium.objective;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sensorium.config.Config;
import org.sensorium.distributed.Collective;
import org.sensorium.data.Batch;
import org.sensorium.model.Layers;
import org.sensorium.model.ModelOutput;

/**
 * MIL-NCE (Miech et al. 2020, used by VATT for video-text): each clip has a bag of positive texts
 * (its overlapping cues, captions and nearest cues: modalities.text.bag), and the bag as a whole
 * must beat the other clips' texts. For a pair (a, b), b the bagged modality, over the n samples
 * with both, s the logit scale, v_i the a-embedding, t_jk the k-th text of sample j (masked if absent):
 * <pre>
 *   S[i, j, k] = s v_i . t_jk                                         (n, n, K)
 *   L_ab = 1/n sum_i ( lse_{j,k} S[i, j, k] - lse_k S[i, i, k] )      clip i against every text
 *   L_ba = 1/n sum_j ( lse_{i,k} S[i, j, k] - lse_k S[j, j, k] )      bag j against every clip
 *   L = (L_ab + L_ba) / 2
 * </pre>
 * With one text per bag it is exactly the symmetric InfoNCE of {@link Contrastive}. With several workers, the
 * clips and bags of every rank's batch take part ({@link GlobalBatch}), as one worker with the whole batch; with
 * dist.local_loss a rank builds only its own clips' rows and its own bags' columns of S ({@link #localPerSample}).
 */
public final class MilNce implements Objective {
    private static final float MASKED = -1e9f;
    private final List<Config.Pair> pairs;
    private final Collective group; // negatives from every rank when it has more than one
    private final int embedDim;
    private final boolean localLoss; // in a group: only this rank's rows of the logits (dist.local_loss)
    private final Map<String, Double> stats = new LinkedHashMap<>();

    public MilNce(List<Config.Pair> pairs) {
        this(pairs, Collective.local(), 0, false);
    }

    /**
     * @param group the workers; negatives come from every rank's batch when there is more than one
     * @param localLoss in a group, build only this rank's clips' and bags' logits against the group's
     */
    public MilNce(List<Config.Pair> pairs, Collective group, int embedDim, boolean localLoss) {
        this.pairs = List.copyOf(pairs);
        this.group = group;
        this.embedDim = embedDim;
        this.localLoss = localLoss;
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
        if (group.worldSize() > 1) {
            return globalLosses(out, batch);
        }
        Map<String, NDArray> terms = new LinkedHashMap<>();
        for (Config.Pair p : pairs) {
            if (!out.embeddings().containsKey(p.a()) || !out.bags().containsKey(p.b())) {
                continue;
            }
            boolean[] both = Contrastive.both(batch.present(p.a()), batch.present(p.b()));
            if (Contrastive.count(both) < 2) {
                continue;
            }
            NDArray v = Contrastive.rows(out.embedding(p.a()), both);          // (n, E)
            NDArray t = Contrastive.rows(out.bags().get(p.b()), both);        // (n, K, E)
            NDArray valid = Contrastive.rows(out.bagValid().get(p.b()), both); // (n, K)
            terms.put("mil_nce/" + p, milNce(v, t, valid, out.logitScale()));
        }
        return terms;
    }

    /**
     * Per pair, one all-gather of this rank's clips (B, E), bags (B, K x E) and bag masks (B, K), then this rank's share
     * of the loss over the group's n samples with both: 1/2n sum over own rows i of r_i ({@link #perSample}).
     */
    private Map<String, NDArray> globalLosses(ModelOutput out, Batch batch) {
        Map<String, NDArray> terms = new LinkedHashMap<>();
        stats.clear();
        for (Config.Pair p : pairs) { // every rank the same pairs in the same order, whatever its batch holds
            NDArray v = out.embeddings().get(p.a()), bag = out.bags().get(p.b()), valid = out.bagValid().get(p.b());
            if (bag == null || v == null) {
                continue; // the model has no such modality: the same on every rank
            }
            int b = batch.size(), k = (int) bag.getShape().get(1);
            Map<String, NDArray> emb = new LinkedHashMap<>();
            emb.put("clip", v);
            emb.put("bag", bag.reshape(b, (long) k * embedDim));
            emb.put("valid", valid.toType(ai.djl.ndarray.types.DataType.FLOAT32, false));
            Map<String, boolean[]> present = Map.of("clip", batch.present(p.a()), "bag", batch.present(p.b()),
                    "valid", batch.present(p.b()));
            GlobalBatch.Gathered g = GlobalBatch.gather(group, b, Map.of("clip", embedDim, "bag", k * embedDim, "valid", k), emb, present);
            Map<String, NDArray> local = new LinkedHashMap<>();
            local.put("clip", v);
            local.put("bag", emb.get("bag"));
            GlobalBatch.Term t = GlobalBatch.term(group, g, local, out.logitScale(), out.logitScale().getManager(), (x, pres, own, scale) -> {
                boolean[] both = Contrastive.both(pres.get("clip"), pres.get("bag"));
                int n = Contrastive.count(both);
                if (n < 2) {
                    return null;
                }
                NDManager m = x.get("clip").getManager();
                NDArray mask = Contrastive.rows(m.create(g.rows().get("valid"), new ai.djl.ndarray.types.Shape(g.total(), k)), both)
                        .gt(0.5f);                                                               // (n, K)
                NDArray clips = Contrastive.rows(x.get("clip"), both);                          // (n, E)
                NDArray bags = Contrastive.rows(x.get("bag"), both).reshape(n, k, embedDim);     // (n, K, E)
                if (localLoss) {
                    GlobalBatch.Own o = GlobalBatch.Own.of(own, both);
                    NDArray r = o.count() == 0 ? Layers.scale(clips.sum().add(bags.sum()), 0f) // nothing of this rank's
                            : localPerSample(clips, bags, mask, o, scale).sum();               // (n_r) summed
                    return new GlobalBatch.Part(Layers.scale(r, 0.5f / n), o.count(), n);
                }
                NDArray r = perSample(clips, bags, mask, scale);                                 // (n)
                return new GlobalBatch.Part(Layers.scale(r.mul(m.create(GlobalBatch.select(own, both))).sum(), 0.5f / n), n, n);
            });
            if (t != null) {
                terms.put("mil_nce/" + p, t.value());
                stats.putAll(t.stats("mil_nce/" + p));
            }
        }
        return terms;
    }

    /** v (n, E), bags t (n, K, E), valid (n, K) boolean, scale () -> (). */
    public static NDArray milNce(NDArray v, NDArray t, NDArray valid, NDArray scale) {
        return Layers.scale(perSample(v, t, valid, scale).sum(), 0.5f / t.getShape().get(0));
    }

    /** r_i = (lse_{j,k} S[i, j, k] - lse_k S[i, i, k]) + (lse_{j,k} S[j, i, k] - lse_k S[i, i, k]): (n); L = 1/2n sum_i r_i. */
    static NDArray perSample(NDArray v, NDArray t, NDArray valid, NDArray scale) {
        NDManager m = v.getManager();
        long n = t.getShape().get(0), k = t.getShape().get(1), e = t.getShape().get(2);
        boolean[] present = valid.toBooleanArray();
        float[] absent = new float[(int) (n * k)];
        float[] notOwn = new float[(int) (n * n * k)]; // (n, n, K): MASKED except on i's own bag
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                for (int c = 0; c < k; c++) {
                    notOwn[(int) ((i * n + j) * k + c)] = i == j ? 0 : MASKED;
                }
            }
        }
        for (int x = 0; x < absent.length; x++) {
            absent[x] = present[x] ? 0 : MASKED;
        }
        NDArray s = v.matMul(t.reshape(n * k, e).transpose()).mul(scale)   // (n, n*K)
                .add(m.create(absent).reshape(1, n * k))
                .reshape(n, n, k);                                           // S[i, j, k]
        NDArray own = lse(s.add(m.create(notOwn).reshape(n, n, k)));      // (n) lse_k S[i, i, k]
        NDArray clipToAll = lse(s);                                          // (n) lse_{j,k} S[i, j, k]
        NDArray bagToAll = lse(s.transpose(1, 0, 2));                       // (n) lse_{i,k} S[i, j, k], indexed by j
        return clipToAll.sub(own).add(bagToAll.sub(own));
    }

    /**
     * {@link #perSample}'s r_i for this rank's samples o only, from its clips against all n bags, S[o, :, :], and its
     * bags against all n clips, S[:, o, :]: (n_r, n x K) logits each instead of (n, n x K); v (n, E), t (n, K, E),
     * valid (n, K) boolean -> (n_r).
     */
    static NDArray localPerSample(NDArray v, NDArray t, NDArray valid, GlobalBatch.Own o, NDArray scale) {
        NDManager m = v.getManager();
        int n = o.n(), c = o.count();
        long k = t.getShape().get(1), e = t.getShape().get(2);
        boolean[] present = valid.toBooleanArray();
        float[] absent = new float[(int) (n * k)];                        // (n, K): MASKED where bag j has no k-th text
        for (int x = 0; x < absent.length; x++) {
            absent[x] = present[x] ? 0 : MASKED;
        }
        float[] absentOwn = new float[(int) (c * k)];                     // (n_r, K): the same for this rank's bags
        System.arraycopy(absent, (int) (o.from() * k), absentOwn, 0, absentOwn.length);
        float[] notOwn = new float[(int) (c * n * k)];                    // (n_r, n, K): MASKED except on i's own bag
        for (int i = 0; i < c; i++) {
            for (int j = 0; j < n; j++) {
                for (int q = 0; q < k; q++) {
                    notOwn[(int) ((i * n + j) * k + q)] = j == o.from() + i ? 0 : MASKED;
                }
            }
        }
        NDArray clipRows = o.rowsOf(v).matMul(t.reshape(n * k, e).transpose()).mul(scale) // (n_r, n*K)
                .add(m.create(absent).reshape(1, n * k))
                .reshape(c, n, k);                                           // S[o_i, j, k]
        NDArray bagRows = o.rowsOf(t).reshape(c * k, e).matMul(v.transpose()).mul(scale)  // (n_r*K, n)
                .add(m.create(absentOwn).reshape(c * k, 1))
                .reshape(c, k, n);                                           // S[j, o_i, k] as [i, k, j]
        NDArray own = lse(clipRows.add(m.create(notOwn).reshape(c, n, k))); // (n_r) lse_k S[o_i, o_i, k]
        return lse(clipRows).sub(own).add(lse(bagRows).sub(own));
    }

    /** log sum exp over all axes but the first, (n, ...) -> (n); the max is taken out first as a constant (same gradient). */
    static NDArray lse(NDArray x) {
        NDArray flat = x.reshape(x.getShape().get(0), -1);                  // (n, rest)
        NDArray max = flat.max(new int[] {1}, true).stopGradient();          // (n, 1)
        return flat.sub(max).exp().sum(new int[] {1}).log().add(max.squeeze(1));
    }
}
