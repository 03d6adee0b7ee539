package org.sensorium.objective;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.sensorium.data.Batch;
import org.sensorium.data.Batch.Extra;
import org.sensorium.data.Needs;
import org.sensorium.distributed.Collective;
import org.sensorium.model.ModelOutput;
import org.sensorium.config.Modality;

/**
 * Compressed-video context matching (after IMCN, Huo et al. 2021, which matches a clip's
 * motion/residual stream against its I-frame): a clip and the key frame of its group of pictures show the
 * same scene, so their embeddings are pulled together against the other samples' key frames. The key frame
 * goes through the video encoder as a static clip (the loader repeats it over T frames), so the clip's
 * embedding must carry what the picture holds, not only how it moves. Over the n samples with both:
 * <pre>
 *   S = Z K^T / tau                     (n, n)   Z clip embeddings, K key-frame embeddings, unit rows
 *   L = ( CE(S, I) + CE(S^T, I) ) / 2            CE(X, I) = -1/n sum_i log softmax(X_i)_i
 * </pre>
 * Fewer than 2 such samples give no term. Logged: the batch's clip-to-key-frame R@1 (argmax of S_i is i). In a
 * worker group every rank's key frames are the negatives ({@link GlobalBatch}); R@1 stays the rank's own batch's,
 * and the logits' shape is logged (logits_rows x logits_cols: n x n, or this rank's rows x n with dist.local_loss).
 */
public final class KeyframeContext implements Objective {
    static final String NAME = "keyframe_context";
    private final float temperature;
    private final Map<String, Double> stats = new LinkedHashMap<>();

    private final Collective group; // negatives from every rank when it has more than one
    private final int embedDim;
    private final boolean localLoss; // in a group: only this rank's rows of the logits (dist.local_loss)

    public KeyframeContext(float temperature) {
        this(temperature, Collective.local(), 0, false);
    }

    /**
     * @param group the workers; negatives come from every rank's batch when there is more than one
     * @param localLoss in a group, build only this rank's rows of the logits against the group's columns
     */
    public KeyframeContext(float temperature, Collective group, int embedDim, boolean localLoss) {
        this.temperature = temperature;
        this.group = group;
        this.embedDim = embedDim;
        this.localLoss = localLoss;
    }

    @Override
    public Needs needs() {
        return Needs.ofKeyframes();
    }

    @Override
    public Map<String, NDArray> losses(Step v) {
        stats.clear();
        Modality video = Modality.VIDEO;
        if (group.worldSize() > 1) {
            return globalLoss(v);
        }
        if (v.out(Extra.KEYFRAME) == null || !v.out().embeddings().containsKey(video)) {
            return Map.of();
        }
        boolean[] both = Contrastive.both(v.batch().present(video), v.batch(Extra.KEYFRAME).present(video));
        int n = Contrastive.count(both);
        stats.put(NAME + "/with_keyframe", (double) Contrastive.count(v.batch(Extra.KEYFRAME).present(video)) / both.length);
        if (n < 2) {
            return Map.of();
        }
        NDArray z = Contrastive.rows(v.out().embedding(video), both);       // (n, E)
        NDArray k = Contrastive.rows(v.out(Extra.KEYFRAME).embedding(video), both); // (n, E)
        NDArray loss = loss(z, k, temperature);
        stats.put(NAME + "/r1", recallAt1(z, k));
        return Map.of(NAME, loss);
    }

    /** This rank's share of the loss over the group's clips and key frames; the same calls on every rank. */
    private Map<String, NDArray> globalLoss(Step v) {
        Modality video = Modality.VIDEO;
        NDArray clips = v.out() == null ? null : v.out().embeddings().get(video);
        NDArray keys = v.out(Extra.KEYFRAME) == null || clips == null ? null : v.out(Extra.KEYFRAME).embeddings().get(video);
        Map<String, NDArray> emb = new LinkedHashMap<>();
        Map<String, boolean[]> present = new LinkedHashMap<>();
        emb.put("clip", clips);
        present.put("clip", v.batch().present(video));
        emb.put("keyframe", keys);
        present.put("keyframe", keys == null ? null : v.batch(Extra.KEYFRAME).present(video));
        GlobalBatch.Gathered g = GlobalBatch.gather(group, v.batch().size(), embedDim, emb, present);
        if (keys != null) {
            boolean[] both = Contrastive.both(present.get("clip"), present.get("keyframe"));
            stats.put(NAME + "/with_keyframe", (double) Contrastive.count(present.get("keyframe")) / both.length);
            if (Contrastive.count(both) >= 2) {
                stats.put(NAME + "/r1", recallAt1(Contrastive.rows(clips, both), Contrastive.rows(keys, both)));
            }
        }
        NDManager step = v.out().embeddings().values().iterator().next().getManager();
        GlobalBatch.Term t = GlobalBatch.term(group, g, emb, null, step,
                GlobalBatch.symmetricInfoNce("clip", "keyframe", 1f / temperature, localLoss));
        if (t == null) {
            return Map.of();
        }
        stats.putAll(t.stats(NAME));
        return Map.of(NAME, t.value());
    }

    /**
     * Held-out clip-to-key-frame matching on the centred clips (R@1, R@5), and on clips and key frames each augmented
     * as training does (an untrained encoder matches an unaugmented clip to its key frame by their shared pixels),
     * where a match of the same look (the manifest's attributes) also counts.
     */
    @Override
    public Map<String, Double> measure(HeldOut h) throws InterruptedException {
        Map<String, Double> out = new LinkedHashMap<>();
        Set<Modality> video = Set.of(Modality.VIDEO);
        ContextMeasures.KeyframeMatch match = ContextMeasures.keyframeMatch(h, h.centred(video, needs()));
        out.put(NAME + "/n", (double) match.instance().n());
        out.put(NAME + "/R@1", match.instance().r1());
        out.put(NAME + "/R@5", match.instance().r5());
        List<Batch.Decoded> augmented = h.asTrained(video, needs());
        if (!augmented.isEmpty()) {
            ContextMeasures.KeyframeMatch a = ContextMeasures.keyframeMatch(h, augmented);
            out.put(NAME + "/augmented_R@1", a.instance().r1());
            out.put(NAME + "/augmented_R@5", a.instance().r5());
            if (!Double.isNaN(a.lookR1())) {
                out.put(NAME + "/augmented_look_R@1", a.lookR1());
                out.put(NAME + "/look_chance", a.lookChance());
            }
        }
        return out;
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
