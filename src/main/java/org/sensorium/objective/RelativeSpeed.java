package org.sensorium.objective;

import org.sensorium.config.Objectives;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sensorium.config.Config;
import org.sensorium.data.Batch;
import org.sensorium.data.Batch.Extra;
import org.sensorium.data.Needs;
import org.sensorium.model.Layers;
import org.sensorium.model.ModelOutput;
import org.sensorium.model.Params;
import org.sensorium.config.Modality;

/**
 * RSPNet (Chen et al. 2021): a second clip of each video is played at another speed (the loader
 * draws it from objectives.relative_speed.speeds), and the model must tell from the two clips'
 * features whether the second is slower, as fast, or faster than the first, while an appearance
 * term pulls the two clips' embeddings together against the other videos (they show the same scene):
 * <pre>
 *   y_i = 0 if speed2 &lt; speed1, 1 if equal, 2 if faster        (speed1 = 1: the main clip)
 *   h = mean of the clip's trunk tokens                        (W) before the projection head
 *   logits_i = W [h1_i ; h2_i] + b                             (3)
 *   L_speed = CE(logits, y);   L_appearance = NT-Xent(z1, z2, tau)   z the unit embeddings
 * </pre>
 * As in RSPNet the two tasks share the backbone but not the head: on the embeddings themselves the
 * appearance term makes z1 and z2 speed-invariant, and the speed classifier stayed at ln 3 (measured:
 * 150 steps alone, held-out accuracy 0.41 -> 0.27).
 */
public final class RelativeSpeed implements Objective {
    private final NDArray weight; // (3, 2E)
    private final NDArray bias;   // (3)
    private final float temperature;
    private final List<Double> speeds; // the second clip's playback speed is drawn from these

    /** @param width the trunk's width W (the speed classifier reads mean trunk tokens) */
    public RelativeSpeed(Objectives.RelativeSpeed c, int width, Params params) {
        this.weight = params.normal("objective.relative_speed.weight", 0.02f, 3, 2L * width);
        this.bias = params.constant("objective.relative_speed.bias", 0f, 3);
        this.temperature = c.temperature();
        this.speeds = List.copyOf(c.speeds());
    }

    @Override
    public Needs needs() {
        return Needs.ofSecondViews(java.util.Set.of(Modality.VIDEO), speeds);
    }

    @Override
    public Map<String, NDArray> losses(Step step) {
        return losses(step.out(), step.batch(), step.out(Extra.SECOND_VIEW), step.batch(Extra.SECOND_VIEW));
    }

    /** The terms of the main clips and their second views (second and secondBatch null when no sample has one). */
    public Map<String, NDArray> losses(ModelOutput out, Batch batch, ModelOutput second, Batch secondBatch) {
        Map<String, NDArray> terms = new LinkedHashMap<>();
        Modality v = Modality.VIDEO;
        if (second == null || !out.embeddings().containsKey(v) || !second.embeddings().containsKey(v)) {
            return terms;
        }
        boolean[] both = Contrastive.both(batch.present(v), secondBatch.present(v));
        if (Contrastive.count(both) < 2) {
            return terms;
        }
        NDArray z1 = Contrastive.rows(out.embedding(v), both);    // (n, E)
        NDArray z2 = Contrastive.rows(second.embedding(v), both); // (n, E)
        int[] labels = labels(batch.speeds(), secondBatch.speeds(), both);
        terms.put("relative_speed/speed", speedLoss(pooled(out, both), pooled(second, both), labels, weight, bias));
        terms.put("relative_speed/appearance", TwoView.ntXent(z1, z2, temperature));
        return terms;
    }

    /** The held-out accuracy of the slower/same/faster classifier on training-style views of the held-out samples. */
    @Override
    public Map<String, Double> measure(HeldOut h) throws InterruptedException {
        List<HeldOut.Scored> batches = new java.util.ArrayList<>();
        h.forEachAsTrained(needs(), (step, from) ->
                batches.add(correct(step.out(), step.batch(), step.out(Extra.SECOND_VIEW), step.batch(Extra.SECOND_VIEW))));
        return HeldOut.accuracyAndMajority("relative_speed", batches);
    }

    /**
     * Held-out speed accuracy: the classifier's right answers over the samples with both clips' video, and their
     * slower/same/faster labels (a fresh head guesses about a third).
     */
    HeldOut.Scored correct(ModelOutput out, Batch batch, ModelOutput second, Batch secondBatch) {
        Modality v = Modality.VIDEO;
        if (second == null || !out.embeddings().containsKey(v) || !second.embeddings().containsKey(v)) {
            return HeldOut.Scored.NONE;
        }
        boolean[] both = Contrastive.both(batch.present(v), secondBatch.present(v));
        if (Contrastive.count(both) == 0) {
            return HeldOut.Scored.NONE;
        }
        int[] y = labels(batch.speeds(), secondBatch.speeds(), both);
        NDArray z = pooled(out, both).concat(pooled(second, both), 1); // (n, 2W)
        long[] predicted = z.matMul(weight.transpose()).add(bias).argMax(1).toLongArray();                        // (n)
        int hits = 0;
        for (int i = 0; i < y.length; i++) {
            hits += predicted[i] == y[i] ? 1 : 0;
        }
        return new HeldOut.Scored(hits, y);
    }

    /** The kept clips' mean video trunk tokens: (B, N, W) -> (n, W). */
    private static NDArray pooled(ModelOutput out, boolean[] keep) {
        return Contrastive.rows(out.tokens().get(Modality.VIDEO), keep).mean(new int[] {1});
    }

    /** 0 slower, 1 same, 2 faster: the second clip's speed against the first's, for the kept samples. */
    static int[] labels(float[] first, float[] second, boolean[] keep) {
        int[] y = new int[Contrastive.count(keep)];
        for (int i = 0, k = 0; i < keep.length; i++) {
            if (keep[i]) {
                y[k++] = second[i] < first[i] ? 0 : second[i] == first[i] ? 1 : 2;
            }
        }
        return y;
    }

    /** Mean cross-entropy of the 3-way speed classifier on [h1 ; h2]: h1, h2 (n, W), w (3, 2W), b (3) -> (). */
    static NDArray speedLoss(NDArray z1, NDArray z2, int[] y, NDArray w, NDArray b) {
        NDManager m = z1.getManager();
        int n = y.length;
        NDArray logits = z1.concat(z2, 1).matMul(w.transpose()).add(b);     // (n, 3)
        float[][] onehot = new float[n][3];
        for (int i = 0; i < n; i++) {
            onehot[i][y[i]] = 1;
        }
        return Layers.scale(logits.logSoftmax(1).mul(m.create(onehot)).sum(), -1f / n);
    }
}
