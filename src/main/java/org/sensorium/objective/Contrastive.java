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
 * Symmetric InfoNCE (CLIP; VATT's NCE for every modality pair). For a pair (a, b) over the n samples
 * that have both:
 * <pre>
 *   S = s * A B^T                      (n, n), s the clamped logit scale, rows of A, B unit norm
 *   L = ( CE(S, I) + CE(S^T, I) ) / 2  CE(X, I) = -1/n sum_i log softmax(X_i)_i
 * </pre>
 * A pair with fewer than 2 such samples has no negatives and gives no term.
 */
public final class Contrastive implements Objective {
    private final List<Config.Pair> pairs;

    public Contrastive(List<Config.Pair> pairs) {
        this.pairs = List.copyOf(pairs);
    }

    @Override
    public Map<String, NDArray> losses(ModelOutput out, Batch batch) {
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
