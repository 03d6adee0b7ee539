package org.sensorium.objective;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.sensorium.data.Batch;
import org.sensorium.data.Batch.Extra;
import org.sensorium.modality.Item;
import org.sensorium.eval.Retrieval;
import org.sensorium.model.ModelOutput;
import org.sensorium.config.Modality;

/**
 * Held-out measures of the compressed-video objectives, on samples decoded with their clip's context (the key
 * frame, the future motion field): clip-to-key-frame retrieval for context matching, and the motion-prediction
 * error next to the errors of two fields that ignore the clip.
 */
final class ContextMeasures {
    private ContextMeasures() {}

    /**
     * Clip-to-key-frame matching on held-out samples.
     *
     * @param instance each clip queries the key frames of the samples (as static clips, through the same encoder); its
     *     match is its own; chance R@1 is 1/n
     * @param lookR1 the share of clips whose nearest key frame shows the same look, the manifest's attributes (the
     *     sample set's colour and shape); NaN when the samples have no attributes
     * @param lookChance that share for a key frame drawn at random: sum over looks of (count / n)^2
     */
    public record KeyframeMatch(Retrieval.Result instance, double lookR1, double lookChance) {}

    /** Over the samples that have a video clip and a key frame. */
    static KeyframeMatch keyframeMatch(HeldOut h, List<Batch.Decoded> samples) {
        List<Batch.Decoded> both = samples.stream()
                .filter(d -> d.items().containsKey(Modality.VIDEO) && d.extra(Extra.KEYFRAME) != null).toList();
        List<float[]> clips = new ArrayList<>(), keys = new ArrayList<>();
        h.forEachBatch(both, (sm, chunk, from) -> {
            Batch batch = Batch.only(sm, chunk, Modality.VIDEO);
            Batch keyframes = Batch.collate(sm, chunk, Extra.KEYFRAME);
            clips.addAll(Retrieval.rows(h.model().forward(batch.inputs(), batch.valid(), false).embedding(Modality.VIDEO)));
            keys.addAll(Retrieval.rows(h.model().forward(keyframes.inputs(), keyframes.valid(), false).embedding(Modality.VIDEO)));
        });
        List<String> looks = both.stream().map(d -> d.attributes().isEmpty() ? null
                : new java.util.TreeMap<>(d.attributes()).toString()).toList();
        return new KeyframeMatch(Retrieval.direction("video->keyframe", clips, keys), lookR1(clips, keys, looks),
                lookChance(looks));
    }

    /** The share of queries (n, E) whose most similar key (n, E) has the query's look; NaN when a look is missing. */
    static double lookR1(List<float[]> queries, List<float[]> keys, List<String> looks) {
        if (queries.isEmpty() || looks.stream().anyMatch(java.util.Objects::isNull)) {
            return Double.NaN;
        }
        int hits = 0;
        for (int i = 0; i < queries.size(); i++) {
            int best = 0;
            double bestScore = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < keys.size(); j++) {
                double s = Retrieval.dot(queries.get(i), keys.get(j));
                if (s > bestScore) {
                    bestScore = s;
                    best = j;
                }
            }
            hits += looks.get(best).equals(looks.get(i)) ? 1 : 0;
        }
        return hits / (double) queries.size();
    }

    static double lookChance(List<String> looks) {
        if (looks.isEmpty() || looks.stream().anyMatch(java.util.Objects::isNull)) {
            return Double.NaN;
        }
        Map<String, Long> counts = looks.stream().collect(java.util.stream.Collectors.groupingBy(l -> l,
                java.util.stream.Collectors.counting()));
        return counts.values().stream().mapToDouble(c -> Math.pow(c / (double) looks.size(), 2)).sum();
    }

    /**
     * Mean squared error of the motion predictor on the held-out future fields, and of two fields that ignore the
     * clip: zero (a still scene) and the mean of the held-out targets themselves (the best constant field for this
     * split, so a stricter baseline than any field a model could learn from the training split alone). Every error
     * is over the measured target values only (see {@link MotionPrediction}).
     *
     * @param n the samples with a clip of the predictor's source modality and a future field
     */
    public record MotionError(int n, double mse, double zeroFieldMse, double meanFieldMse) {}

    static MotionError motionError(HeldOut h, MotionPrediction predictor, List<Batch.Decoded> samples) {
        Modality from = predictor.from();
        List<Batch.Decoded> both = samples.stream()
                .filter(d -> d.items().containsKey(from) && d.extra(Extra.FUTURE_MOTION) != null).toList();
        if (both.isEmpty()) {
            return new MotionError(0, Double.NaN, Double.NaN, Double.NaN);
        }
        List<float[][]> targets = new ArrayList<>();
        List<float[]> predicted = new ArrayList<>();
        h.forEachBatch(both, (sm, chunk, start) -> {
            Batch batch = Batch.only(sm, chunk, from);
            ModelOutput out = h.model().forward(batch.inputs(), batch.valid(), false);
            predicted.addAll(Retrieval.rows(predictor.predict(out.tokens().get(from))));  // (b, F)
            chunk.forEach(d -> { // as the objective's targets
                Item future = d.extraItem(Extra.FUTURE_MOTION, Modality.MOTION);
                targets.add(predictor.pool(future.values(), future.valid()));
            });
        });
        int f = targets.get(0)[0].length;
        double[] mean = new double[f], count = new double[f];
        for (float[][] y : targets) {
            for (int j = 0; j < f; j++) {
                mean[j] += y[0][j] * y[1][j];
                count[j] += y[1][j];
            }
        }
        double mse = 0, zero = 0, constant = 0, measured = 0;
        for (int i = 0; i < targets.size(); i++) {
            float[] y = targets.get(i)[0], m = targets.get(i)[1], p = predicted.get(i);
            for (int j = 0; j < f; j++) {
                if (m[j] > 0) {
                    double mu = mean[j] / count[j];
                    mse += (p[j] - y[j]) * (double) (p[j] - y[j]);
                    zero += y[j] * (double) y[j];
                    constant += (mu - y[j]) * (mu - y[j]);
                    measured++;
                }
            }
        }
        return new MotionError(targets.size(), mse / measured, zero / measured, constant / measured);
    }
}
