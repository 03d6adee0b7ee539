package org.sensorium.objective;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sensorium.data.Batch;
import org.sensorium.model.Layers;
import org.sensorium.model.ModelOutput;
import org.sensorium.modality.Modality;

/**
 * Same-modality two-view contrastive learning (SimCLR's NT-Xent; CVRL for video, with the second
 * clip drawn by the loader's temporal sampling). For modality m over the n samples with both views:
 * <pre>
 *   Z = [Z1; Z2]                         (2n, E) unit rows, view 1 then view 2
 *   S = Z Z^T / tau, S_ii = -inf          (2n, 2n) no sample is its own negative or positive
 *   L = -1/2n sum_i log softmax(S_i)_{p(i)},   p(i) = i + n mod 2n (the other view)
 * </pre>
 * It needs no other modality, so an IMU-only or video-only collection can pretrain with it.
 */
public final class TwoView implements Objective {
    private static final float MASKED = -1e9f;
    private final List<Modality> modalities;
    private final float temperature;

    public TwoView(List<Modality> modalities, float temperature) {
        this.modalities = List.copyOf(modalities);
        this.temperature = temperature;
    }

    public List<Modality> modalities() {
        return modalities;
    }

    @Override
    public Map<String, NDArray> losses(ModelOutput out, Batch batch) {
        throw new IllegalStateException("the two-view objective needs the second views: call losses(out, batch, second, secondBatch)");
    }

    @Override
    public Map<String, NDArray> losses(ModelOutput out, Batch batch, ModelOutput second, Batch secondBatch) {
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

    /** NT-Xent of two views z1, z2 (n, E) with unit rows -> (). */
    public static NDArray ntXent(NDArray z1, NDArray z2, float tau) {
        NDManager m = z1.getManager();
        int n = (int) z1.getShape().get(0);
        NDArray z = z1.concat(z2, 0);                                        // (2n, E)
        float[][] mask = new float[2 * n][2 * n];
        float[][] positive = new float[2 * n][2 * n];
        for (int i = 0; i < 2 * n; i++) {
            mask[i][i] = MASKED;
            positive[i][(i + n) % (2 * n)] = 1;
        }
        NDArray logits = Layers.scale(z.matMul(z.transpose()), 1 / tau).add(m.create(mask)); // (2n, 2n)
        NDArray picked = logits.logSoftmax(1).mul(m.create(positive)).sum(); // sum_i log softmax(S_i)_{p(i)}
        return Layers.scale(picked, -1f / (2 * n));
    }
}
