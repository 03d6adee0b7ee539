package org.sensorium.objective;

import org.sensorium.config.Pretexts;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.sensorium.config.Modality;
import org.sensorium.config.ModalitySpec;
import org.sensorium.config.Objectives;
import org.sensorium.data.Batch;
import org.sensorium.data.Batch.Extra;
import org.sensorium.data.Needs;
import org.sensorium.eval.Classification;
import org.sensorium.eval.Retrieval;
import org.sensorium.model.ClipOps;
import org.sensorium.model.ModelOutput;
import org.sensorium.model.SensoriumModel;

/**
 * Background Erasing (Wang et al., "Removing the background by adding the background", CVPR 2021): one random frame
 * of a clip, added to every frame of it, adds a static background and no motion; the clip so "erased" and the clip
 * itself are a positive pair, so the embedding learns to ignore what does not move. Over the n clips of the
 * micro-batch with video (B, T, H, W, C as the video stem reads them):
 * <pre>
 *   x'_i,t = (1 - l_i) x_i,t + l_i x_i,k_i       k_i a random frame of clip i, l_i ~ U(0, lambda_max)
 *   x'_i  <- J(x'_i; b_i, c_i)                    own_jitter: brightness b_i ~ U(1 -+ brightness), contrast c_i alike
 *                                                 second_view: x' is made from the loader's second clip of sample i
 *   z, z' = f(x), f(x')                           (n, E) unit rows; z is the main pass's embedding
 *   L = NT-Xent(z, z', tau)                       the other clips of the batch (both views) are the negatives
 *   own_negative: s_i = x_i,k'_i at every t (still) or s_i,t = x_i,T-1-t (reversed); z_s = f(s), (n, E): a copy of
 *                                                 every clip with its scene and shape and no or backward motion, one
 *                                                 more negative of every row
 * </pre>
 * In a worker group the negatives are this rank's micro-batch only (not gathered).
 * modalities.video.background_erasing applies the same blend while decoding, as an augmentation of the one clip
 * each sample trains on; this objective needs the clip and its erased copy side by side, so it blends the tensors
 * ({@link VideoViews#blend}, the same equation on normalised frames). The clip x carries the loader's augmentation
 * (crop, flip, brightness, contrast); without own_jitter its erased copy carries the same, and on the built-in
 * sample set (one shape on a plain grey field) the brightness and contrast of the grey field alone tell the clips of
 * a batch apart: the pair is then matched on them, and held-out centred clips, which all share one grey, are not
 * (docs/measured/video-pretexts.md). J ({@link ClipOps#jittered}) gives the erased copy its own draw, as the two views of a two-view method have
 * theirs; second_view erases the loader's second clip of the sample, z staying the main clip's embedding.
 * The ablation trains it on the sample set drawn over static textured scenes (data.synth_scenes), which has a static
 * background to erase.
 */
public final class BackgroundErasing implements Objective {
    private static final Modality V = Modality.VIDEO;
    /** Weight of the foreign static frame in the held-out measure: half the frame is another clip's scene. */
    static final float FOREIGN_WEIGHT = 0.5f;
    private final SensoriumModel model;
    private final float lambdaMax;
    private final float temperature;
    private final ModalitySpec.Video video; // brightness and contrast ranges, mean and std of the normalisation
    private final boolean ownJitter;
    private final boolean secondView; // erase the loader's second view of the sample instead of the clip itself
    private final Pretexts.OwnNegative ownNegative; // a copy of each clip that is a negative of every row

    public BackgroundErasing(Pretexts.BackgroundErasing c, ModalitySpec.Video video, SensoriumModel model) {
        this.model = model;
        this.lambdaMax = c.lambdaMax();
        this.temperature = c.temperature();
        this.video = video;
        this.ownJitter = c.ownJitter();
        this.secondView = c.secondView();
        this.ownNegative = c.ownNegative();
    }

    /** With second_view the loader's second clip of each sample (its own crop, flip, brightness, contrast and time). */
    @Override
    public Needs needs() {
        return secondView ? Needs.ofSecondViews(Set.of(V), List.of(1.0)) : Needs.NONE;
    }

    @Override
    public Map<String, NDArray> losses(Step step) {
        Map<String, NDArray> terms = new LinkedHashMap<>();
        ModelOutput out = step.out();
        Batch batch = step.batch();
        if (out == null || !out.embeddings().containsKey(V)) {
            return terms;
        }
        Batch source = secondView ? step.batch(Extra.SECOND_VIEW) : batch;         // the clip that gets erased
        if (source == null) {
            return terms;
        }
        boolean[] has = Contrastive.both(batch.present(V), source.present(V));
        int n = Contrastive.count(has);
        if (n < 2) {
            return terms;
        }
        NDArray x = Contrastive.rows(source.input(V), has);                         // (n, T, H, W, C)
        NDArray erased = erased(x, x.getManager());
        NDArray z2 = model.forward(Map.of(V, erased), Map.of(), true).embedding(V);  // (n, E)
        NDArray z1 = Contrastive.rows(out.embedding(V), has);                       // (n, E)
        if (ownNegative == Pretexts.OwnNegative.NONE) {
            terms.put("background_erasing/video", TwoView.ntXent(z1, z2, temperature));
            return terms;
        }
        NDArray s = ownNegative == Pretexts.OwnNegative.STILL ? still(x, x.getManager()) : reversed(x);  // (n, T, H, W, C)
        NDArray zs = model.forward(Map.of(V, s), Map.of(), true).embedding(V);      // (n, E)
        terms.put("background_erasing/video", TwoView.ntXent(z1, z2, zs, temperature));
        return terms;
    }

    /** s above: clip i's random frame k'_i in every frame. x (n, T, H, W, C) -> (n, T, H, W, C). */
    static NDArray still(NDArray x, NDManager m) {
        int n = (int) x.getShape().get(0), t = (int) x.getShape().get(1);
        return VideoViews.frames(x, identity(n), VideoViews.randomFrames(m, n, t)).repeat(1, t);
    }

    /** s above for reversed: every clip's frames in reverse order. x (n, T, H, W, C) -> (n, T, H, W, C). */
    static NDArray reversed(NDArray x) {
        int t = (int) x.getShape().get(1);
        int[] order = new int[t];
        for (int i = 0; i < t; i++) {
            order[i] = t - 1 - i;
        }
        return VideoViews.reordered(x, order);
    }

    /**
     * x' above: every frame of clip i blended with its own random frame k_i at l_i ~ U(0, lambda_max), then with
     * own_jitter its own brightness and contrast. x (n, T, H, W, C) -> (n, T, H, W, C).
     */
    NDArray erased(NDArray x, NDManager m) {
        int n = (int) x.getShape().get(0), t = (int) x.getShape().get(1);
        NDArray blended = VideoViews.blend(x, VideoViews.frames(x, identity(n), VideoViews.randomFrames(m, n, t)),
                VideoViews.uniform(m, n, lambdaMax));
        if (!ownJitter) {
            return blended;
        }
        float[] b = VideoViews.aroundOne(m, n, (float) video.brightness()), c = VideoViews.aroundOne(m, n, (float) video.contrast());
        return ClipOps.jittered(blended, b, c, ClipOps.floats(video.mean()), ClipOps.floats(video.std()));
    }

    private static int[] identity(int n) {
        int[] self = new int[n];
        for (int i = 0; i < n; i++) {
            self[i] = i;
        }
        return self;
    }

    /**
     * background_erasing/foreign_static_R@1 (the ablation's measure): each held-out clip (centred) with half of another
     * held-out clip's static frame blended into every frame, x_i/2 + x_{i+1, k}/2, finds its own clean clip among all
     * clean held-out clips (chance 1/N). Chosen before measuring: the pair the objective trains on (an erasing of at
     * most 0.3 of the clip's own frame) is nearly the clip itself, so retrieving it is at its ceiling for any encoder;
     * what Background Erasing claims is that the embedding follows the moving content and not a static background,
     * and a foreign background tests that. An encoder that sees only the static scene finds the other clip.
     *
     * <p>Two more, added after the first measured run (where the measure above fell, 0.141 -> 0.047): erased_R@1,
     * the training pair itself (the clip erased at lambda_max with its own frame, found among every clip's erased copy
     * from the clean clip; chance 1/N), and foreign_static_label_R@1, the share of distracted clips whose nearest clean
     * clip has their label (an embedding of the motion may find another clip of the same motion; chance about the
     * largest label's share).
     *
     * <p>One more, a diagnostic of the fall of erased_R@1: erased_as_trained_R@1, the same pair on the held-out clips
     * as training decodes them (random crop, flip, brightness, contrast), without own_jitter. If it stays high while
     * erased_R@1 on centred clips falls, the embedding matches the pair on the augmentation both views share.
     *
     * <p>The ablation row's measure since it trains on clips over static scenes (data.synth_scenes; chosen before
     * measuring there): scene_free_label_R@1, the share of held-out clean clips whose nearest other clean clip
     * ({@link #leaveOneOutLabelHits}) has their motion label, next to majority, the share of the most frequent label
     * (the answer of an embedding that knows nothing of the motion). On that set the clips nearest by background are
     * of a random label, so an embedding of the scene scores about the label's chance and one of the motion scores high.
     */
    @Override
    public Map<String, Double> measure(HeldOut h) throws InterruptedException {
        List<Batch.Decoded> samples = h.centred(Set.of(V), Needs.NONE);
        h.seedRandom();
        List<float[]> clean = new ArrayList<>(), distracted = new ArrayList<>(), erased = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        forEachClips(h, samples, (sm, x, clipLabels) -> {
            int n = (int) x.getShape().get(0);
            int[] other = new int[n];
            for (int i = 0; i < n; i++) {
                other[i] = (i + 1) % n;
            }
            NDArray foreign = blendedWith(x, sm, other, FOREIGN_WEIGHT);
            NDArray own = blendedWith(x, sm, identity(n), lambdaMax);
            clean.addAll(Retrieval.rows(model.forward(Map.of(V, x), Map.of(), false).embedding(V)));
            distracted.addAll(Retrieval.rows(model.forward(Map.of(V, foreign), Map.of(), false).embedding(V)));
            erased.addAll(Retrieval.rows(model.forward(Map.of(V, own), Map.of(), false).embedding(V)));
            labels.addAll(clipLabels);
        });
        if (clean.size() < 2) {
            return Map.of();
        }
        Map<String, Double> out = new LinkedHashMap<>();
        out.put("background_erasing/foreign_static_R@1", Retrieval.direction("video->video", distracted, clean).r1());
        out.put("background_erasing/chance_R@1", 1.0 / clean.size());
        out.put("background_erasing/erased_R@1", Retrieval.direction("video->video", clean, erased).r1());
        out.put("background_erasing/foreign_static_label_R@1", labelHits(distracted, clean, labels));
        out.put("background_erasing/scene_free_label_R@1", leaveOneOutLabelHits(clean, labels));
        out.put("background_erasing/majority", majority(labels));
        double asTrained = erasedAsTrained(h);
        if (!Double.isNaN(asTrained)) {
            out.put("background_erasing/erased_as_trained_R@1", asTrained);
        }
        return out;
    }

    /** erased_R@1 on the held-out clips as training decodes them (augmented): clean clip -> its copy erased at lambda_max. */
    private double erasedAsTrained(HeldOut h) throws InterruptedException {
        List<Batch.Decoded> samples = h.asTrained(Set.of(V), Needs.NONE);
        h.seedRandom();
        List<float[]> clean = new ArrayList<>(), erased = new ArrayList<>();
        forEachClips(h, samples, (sm, x, labels) -> {
            NDArray own = blendedWith(x, sm, identity((int) x.getShape().get(0)), lambdaMax);
            clean.addAll(Retrieval.rows(model.forward(Map.of(V, x), Map.of(), false).embedding(V)));
            erased.addAll(Retrieval.rows(model.forward(Map.of(V, own), Map.of(), false).embedding(V)));
        });
        return clean.size() < 2 ? Double.NaN : Retrieval.direction("video->video", clean, erased).r1();
    }

    /** The share of queries whose nearest candidate (dot product of unit rows) has the query's label. */
    static double labelHits(List<float[]> queries, List<float[]> candidates, List<String> labels) {
        return nearestLabelHits(queries, candidates, labels, false);
    }

    /**
     * scene_free_label_R@1: the share of rows whose nearest other row (largest dot product of unit rows, the row itself
     * excluded; of equal dot products the first in order) has the row's label. NaN for fewer than 2 rows.
     */
    static double leaveOneOutLabelHits(List<float[]> rows, List<String> labels) {
        return rows.size() < 2 ? Double.NaN : nearestLabelHits(rows, rows, labels, true);
    }

    /**
     * The share of queries whose nearest candidate (largest dot product; of equal ones the first in order; with
     * excludeSelf candidate q is not query q's) has label q; labels are the queries', and the candidates' by index.
     */
    private static double nearestLabelHits(List<float[]> queries, List<float[]> candidates, List<String> labels, boolean excludeSelf) {
        int hits = 0;
        for (int q = 0; q < queries.size(); q++) {
            int best = -1;
            double bestDot = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < candidates.size(); c++) {
                if (excludeSelf && c == q) {
                    continue;
                }
                double dot = 0;
                for (int k = 0; k < queries.get(q).length; k++) {
                    dot += queries.get(q)[k] * candidates.get(c)[k];
                }
                if (best < 0 || dot > bestDot) {
                    bestDot = dot;
                    best = c;
                }
            }
            hits += java.util.Objects.equals(labels.get(best), labels.get(q)) ? 1 : 0;
        }
        return hits / (double) queries.size();
    }

    /** The share of the most frequent label (null labels count as one more label). */
    static double majority(List<String> labels) {
        Map<String, Integer> index = new java.util.HashMap<>();
        int[] ids = new int[labels.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = index.computeIfAbsent(String.valueOf(labels.get(i)), k -> index.size());
        }
        return Classification.majorityShare(ids);
    }

    /** What a held-out measure does with one batch: x (n, T, H, W, C) the clips with video, labels theirs. */
    private interface ClipsBody {
        void accept(NDManager sm, NDArray x, List<String> labels);
    }

    /** body on each batch of samples with 2 or more video clips (fewer give no retrieval to measure). */
    private static void forEachClips(HeldOut h, List<Batch.Decoded> samples, ClipsBody body) {
        h.forEachBatch(samples, (sm, chunk, from) -> {
            Batch b = Batch.collate(sm, chunk, Map.of(V, h.shapes().get(V)));
            boolean[] has = b.present(V);
            if (Contrastive.count(has) < 2) {
                return;
            }
            List<String> labels = new ArrayList<>();
            for (int i = 0; i < has.length; i++) {
                if (has[i]) {
                    labels.add(b.labels().get(i));
                }
            }
            body.accept(sm, Contrastive.rows(b.input(V), has), labels);
        });
    }

    /** Every frame of clip i blended at weight with one random frame of clip from[i]: (n, T, H, W, C) -> the same. */
    private static NDArray blendedWith(NDArray x, NDManager m, int[] from, float weight) {
        int n = (int) x.getShape().get(0);
        float[] w = new float[n];
        java.util.Arrays.fill(w, weight);
        return VideoViews.blend(x, VideoViews.frames(x, from, VideoViews.randomFrames(m, n, (int) x.getShape().get(1))), w);
    }
}
