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
 * With one text per bag it is exactly the symmetric InfoNCE of {@link Contrastive}.
 */
public final class MilNce implements Objective {
    private static final float MASKED = -1e9f;
    private final List<Config.Pair> pairs;

    public MilNce(List<Config.Pair> pairs) {
        this.pairs = List.copyOf(pairs);
    }

    @Override
    public Map<String, NDArray> losses(ModelOutput out, Batch batch) {
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

    /** v (n, E), bags t (n, K, E), valid (n, K) boolean, scale () -> (). */
    public static NDArray milNce(NDArray v, NDArray t, NDArray valid, NDArray scale) {
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
        NDArray sum = clipToAll.sub(own).sum().add(bagToAll.sub(own).sum());
        return Layers.scale(sum, 0.5f / n);
    }

    /** log sum exp over all axes but the first, (n, ...) -> (n); the max is taken out first as a constant (same gradient). */
    static NDArray lse(NDArray x) {
        NDArray flat = x.reshape(x.getShape().get(0), -1);                  // (n, rest)
        NDArray max = flat.max(new int[] {1}, true).stopGradient();          // (n, 1)
        return flat.sub(max).exp().sum(new int[] {1}).log().add(max.squeeze(1));
    }
}
