package org.sensorium.objective;

import org.sensorium.config.Pretexts;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.sensorium.config.Modality;
import org.sensorium.config.Objectives;
import org.sensorium.data.Batch;
import org.sensorium.data.Needs;
import org.sensorium.model.Layers;
import org.sensorium.model.ModelOutput;
import org.sensorium.model.SensoriumModel;

/**
 * DSM (Wang et al., "Enhancing unsupervised video representation learning by decoupling the scene and the motion",
 * AAAI 2021): each clip's positive keeps its motion and breaks its scene, its negative keeps the scene and breaks
 * the motion, so the embedding must follow the motion. Both views are built here from the clips the video stem
 * reads (B, T, H, W, C), over the n clips of the micro-batch that have video:
 * <pre>
 *   x+_i,t = (1 - l) x_i,t + l x_{i+1 mod n, k_i}   every frame blended with one static frame k_i of another clip
 *   x-_i   = x_i with its frames in one shuffled order (not the identity): the same frames, no motion left
 *   z, p, q = f(x), f(x+), f(x-)                     (n, E) unit rows; z is the main pass's embedding
 *   L = -1/n sum_i log [ exp(z_i.p_i / tau) / ( sum_j exp(z_i.p_j / tau) + exp(z_i.q_i / tau) ) ]
 * </pre>
 * InfoNCE with the other clips' positives as negatives, plus each clip's own scene-keeping negative (DSM's triplet
 * term is this hard negative; the batch negatives are its contrastive term). l = objectives.dsm.scene_blend. In a
 * worker group the negatives are this rank's micro-batch only (not gathered, unlike contrastive and two_view).
 */
public final class DecoupledSceneMotion implements Objective {
    private static final Modality V = Modality.VIDEO;
    private final SensoriumModel model;
    private final float sceneBlend;
    private final float temperature;

    public DecoupledSceneMotion(Pretexts.Dsm c, SensoriumModel model) {
        this.model = model;
        this.sceneBlend = c.sceneBlend();
        this.temperature = c.temperature();
    }

    @Override
    public Map<String, NDArray> losses(Step step) {
        Map<String, NDArray> terms = new LinkedHashMap<>();
        Views v = views(step.out(), step.batch(), true);
        if (v != null) {
            terms.put("dsm/video", loss(v.anchor(), v.positive(), v.negative(), temperature));
        }
        return terms;
    }

    /** Anchor, motion-keeping positive and scene-keeping negative embeddings, (n, E) each. */
    record Views(NDArray anchor, NDArray positive, NDArray negative) {}

    /** The three embeddings of the clips with video, or null when fewer than 2 have it (no other clip's scene). */
    Views views(ModelOutput out, Batch batch, boolean training) {
        if (out == null || !out.embeddings().containsKey(V)) {
            return null;
        }
        boolean[] has = batch.present(V);
        int n = Contrastive.count(has);
        if (n < 2) {
            return null;
        }
        NDArray x = Contrastive.rows(batch.input(V), has);                          // (n, T, H, W, C)
        NDManager m = x.getManager();
        int t = (int) x.getShape().get(1);
        int[] other = new int[n];
        for (int i = 0; i < n; i++) {
            other[i] = (i + 1) % n;
        }
        float[] l = new float[n];
        java.util.Arrays.fill(l, sceneBlend);
        NDArray positive = VideoViews.blend(x, VideoViews.frames(x, other, VideoViews.randomFrames(m, n, t)), l);
        NDArray negative = VideoViews.reordered(x, VideoViews.shuffledOrder(m, t));
        NDArray both = model.forward(Map.of(V, positive.concat(negative, 0)), Map.of(), training).embedding(V); // (2n, E)
        return new Views(Contrastive.rows(out.embedding(V), has), both.get("0:" + n), both.get(n + ":"));
    }

    /** The DSM InfoNCE above: z, p, q (n, E) unit rows -> (). */
    static NDArray loss(NDArray z, NDArray p, NDArray q, float tau) {
        NDManager m = z.getManager();
        int n = (int) z.getShape().get(0);
        NDArray hard = z.mul(q).sum(new int[] {1}, true);                            // (n, 1) z_i . q_i
        NDArray logits = Layers.scale(z.matMul(p.transpose()).concat(hard, 1), 1 / tau); // (n, n+1)
        float[][] target = new float[n][n + 1];
        for (int i = 0; i < n; i++) {
            target[i][i] = 1;
        }
        return Layers.scale(logits.logSoftmax(1).mul(m.create(target)).sum(), -1f / n);
    }

    /**
     * dsm/motion_nearer: the share of held-out clips (centred, as evaluation sees them) whose motion-keeping positive
     * is nearer than their scene-keeping negative, z.p &gt; z.q. Chosen before measuring because it asks exactly what
     * DSM teaches, and it has a plain baseline: 0.5 for an encoder with no preference. An untrained encoder sees
     * almost the same frames in x and x-, so it starts far below that.
     */
    @Override
    public Map<String, Double> measure(HeldOut h) throws InterruptedException {
        List<Batch.Decoded> samples = h.centred(Set.of(V), Needs.NONE);
        h.seedRandom();
        int[] counts = new int[2];
        h.forEachBatch(samples, (sm, chunk, from) -> {
            Batch b = Batch.collate(sm, chunk, Map.of(V, h.shapes().get(V)));
            Views v = views(model.forward(b.inputs(), b.valid(), false), b, false);
            if (v == null) {
                return;
            }
            float[] gap = v.anchor().mul(v.positive()).sum(new int[] {1}).sub(v.anchor().mul(v.negative()).sum(new int[] {1}))
                    .toFloatArray();                                                 // (n) z.p - z.q
            for (float g : gap) {
                counts[0] += g > 0 ? 1 : 0;
                counts[1]++;
            }
        });
        return counts[1] == 0 ? Map.of() : Map.of("dsm/motion_nearer", counts[0] / (double) counts[1]);
    }
}
