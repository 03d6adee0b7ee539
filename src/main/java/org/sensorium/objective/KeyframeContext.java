package org.sensorium.objective;

import ai.djl.ndarray.NDArray;
import java.util.LinkedHashMap;
import java.util.Map;
import org.sensorium.data.Batch;
import org.sensorium.model.ModelOutput;
import org.sensorium.modality.Modality;

/**
 * Compressed-video context matching (issue 4, item 7; after IMCN, Huo et al. 2021, which matches a clip's
 * motion/residual stream against its I-frame): a clip and the key frame of its group of pictures show the
 * same scene, so their embeddings are pulled together against the other samples' key frames. The key frame
 * goes through the video encoder as a static clip (the loader repeats it over T frames), so the clip's
 * embedding must carry what the picture holds, not only how it moves. Over the n samples with both:
 * <pre>
 *   S = Z K^T / tau                     (n, n)   Z clip embeddings, K key-frame embeddings, unit rows
 *   L = ( CE(S, I) + CE(S^T, I) ) / 2            CE(X, I) = -1/n sum_i log softmax(X_i)_i
 * </pre>
 * Fewer than 2 such samples give no term. Logged: the batch's clip-to-key-frame R@1 (argmax of S_i is i).
 */
public final class KeyframeContext implements Objective {
    static final String NAME = "keyframe_context";
    private final float temperature;
    private final Map<String, Double> stats = new LinkedHashMap<>();

    public KeyframeContext(float temperature) {
        this.temperature = temperature;
    }

    @Override
    public Map<String, NDArray> losses(ModelOutput out, Batch batch) {
        throw new IllegalStateException("context matching needs the key frames: call losses(Views)");
    }

    @Override
    public Map<String, NDArray> losses(Views v) {
        stats.clear();
        Modality video = Modality.VIDEO;
        if (v.keyframes() == null || !v.out().embeddings().containsKey(video)) {
            return Map.of();
        }
        boolean[] both = Contrastive.both(v.batch().present(video), v.keyframeBatch().present(video));
        int n = Contrastive.count(both);
        stats.put(NAME + "/with_keyframe", (double) Contrastive.count(v.keyframeBatch().present(video)) / both.length);
        if (n < 2) {
            return Map.of();
        }
        NDArray z = Contrastive.rows(v.out().embedding(video), both);       // (n, E)
        NDArray k = Contrastive.rows(v.keyframes().embedding(video), both); // (n, E)
        NDArray loss = loss(z, k, temperature);
        stats.put(NAME + "/r1", recallAt1(z, k));
        return Map.of(NAME, loss);
    }

    @Override
    public Map<String, Double> stats() {
        return Map.copyOf(stats);
    }

    /** Symmetric InfoNCE at a fixed temperature: z, k (n, E) unit rows -> (). */
    static NDArray loss(NDArray z, NDArray k, float tau) {
        return Contrastive.infoNce(z, k, z.getManager().create(1f / tau));
    }

    /** Fraction of clips whose most similar key frame is their own. */
    private static double recallAt1(NDArray z, NDArray k) {
        long[] best = z.matMul(k.transpose()).argMax(1).toLongArray();     // (n)
        int right = 0;
        for (int i = 0; i < best.length; i++) {
            right += best[i] == i ? 1 : 0;
        }
        return (double) right / best.length;
    }
}
