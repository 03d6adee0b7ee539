package org.sensorium.objective;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.sensorium.data.Batch;
import org.sensorium.model.ModelOutput;
import org.sensorium.model.Params;
import org.sensorium.modality.Modality;

/**
 * Compressed-video motion prediction (issue 4, item 7; after IMCN's motion prediction, Huo et al. 2021, and
 * dense predictive coding): from a clip alone, predict the motion-vector field the video's encoder stored for
 * the moments right after it. The target is the {@link org.sensorium.modality.video.MotionAdapter} field of
 * [clip end, clip end + horizon) (T' x gridH x gridW x 2 values, divided by modalities.motion.scale), averaged
 * over pool x pool cells (F = T' x gridH/pool x gridW/pool x 2; with pool = grid, one mean motion vector per
 * future frame: which way the scene will move, not where every moving pixel will be); the predictor is a small MLP on the clip's trunk tokens averaged. Over the n samples with a video clip and a
 * future window (a recording that ends first has none and is left out; no term when n = 0):
 * <pre>
 *   h    = mean_N tokens                      (n, D)   the video's trunk output, averaged over its N tokens
 *   yhat = W2 GELU(W1 h + b1) + b2            (n, F)   W1 (hidden, D), W2 (F, hidden)
 *   L    = 1/(n F) sum (yhat - y)^2                    mean squared error
 * </pre>
 * Logged, not optimised: the error of predicting a zero field (1/(n F) sum y^2; a still scene), the fraction
 * of samples with a target.
 */
public final class MotionPrediction implements Objective {
    static final String NAME = "motion_prediction";
    private final NDArray w1; // (hidden, D)
    private final NDArray b1; // (hidden)
    private final NDArray w2; // (F, hidden)
    private final NDArray b2; // (F)
    private final long[] fieldShape; // (T', gridH, gridW, 2): the future field as decoded
    private final long[] targetShape; // (T', gridH / pool, gridW / pool, 2): what is predicted
    private final int pool;
    private final Map<String, Double> stats = new LinkedHashMap<>();

    /**
     * @param width D, the trunk width
     * @param fieldShape the decoded future field's shape (T', gridH, gridW, 2)
     * @param pool cells per side averaged into one target cell; gridH and gridW must divide by it
     */
    public MotionPrediction(int width, int hidden, long[] fieldShape, int pool, Params params) {
        if (pool < 1 || fieldShape[1] % pool != 0 || fieldShape[2] % pool != 0) {
            throw new org.sensorium.config.ConfigException("objectives.motion_prediction.pool",
                    pool + " must divide the motion grid " + fieldShape[1] + " x " + fieldShape[2]);
        }
        this.fieldShape = fieldShape.clone();
        this.pool = pool;
        this.targetShape = new long[] {fieldShape[0], fieldShape[1] / pool, fieldShape[2] / pool, fieldShape[3]};
        long f = Arrays.stream(targetShape).reduce(1, (a, b) -> a * b);
        this.w1 = params.normal("objective.motion_prediction.fc1.weight", 0.02f, hidden, width);
        this.b1 = params.constant("objective.motion_prediction.fc1.bias", 0f, hidden);
        this.w2 = params.normal("objective.motion_prediction.fc2.weight", 0.02f, f, hidden);
        this.b2 = params.constant("objective.motion_prediction.fc2.bias", 0f, f);
    }

    /** (T', gridH / pool, gridW / pool, 2): the field predicted per sample. */
    public long[] fieldShape() {
        return targetShape.clone();
    }

    /** One sample's decoded future field (T' x gridH x gridW x 2, row-major) averaged over pool x pool cells: (F). */
    public float[] pool(float[] field) {
        int t = (int) fieldShape[0], h = (int) fieldShape[1], w = (int) fieldShape[2], c = (int) fieldShape[3];
        int ph = h / pool, pw = w / pool;
        float[] out = new float[t * ph * pw * c];
        float share = 1f / (pool * pool);
        for (int f = 0; f < t; f++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    for (int k = 0; k < c; k++) {
                        out[((f * ph + y / pool) * pw + x / pool) * c + k] += field[((f * h + y) * w + x) * c + k] * share;
                    }
                }
            }
        }
        return out;
    }

    @Override
    public Map<String, NDArray> losses(ModelOutput out, Batch batch) {
        throw new IllegalStateException("motion prediction needs the future motion fields: call losses(Views)");
    }

    @Override
    public Map<String, NDArray> losses(Views v) {
        stats.clear();
        Modality video = Modality.VIDEO;
        if (v.future() == null || !v.out().tokens().containsKey(video)) {
            return Map.of();
        }
        boolean[] keep = Contrastive.both(v.batch().present(video), v.future().present(Modality.MOTION));
        int n = Contrastive.count(keep);
        stats.put(NAME + "/with_target", (double) n / keep.length);
        if (n == 0) {
            return Map.of();
        }
        NDArray y = targets(v.future(), keep);                                         // (n, F)
        NDArray yhat = predict(Contrastive.rows(v.out().tokens().get(video), keep));   // (n, F)
        stats.put(NAME + "/zero_field_mse", (double) y.square().mean().getFloat());
        return Map.of(NAME, mse(yhat, y));
    }

    @Override
    public Map<String, Double> stats() {
        return Map.copyOf(stats);
    }

    /** The kept samples' future fields, pooled and flattened: (B, T', gridH, gridW, 2) -> (n, F). No gradient. */
    NDArray targets(Batch future, boolean[] keep) {
        NDArray field = future.input(Modality.MOTION);
        int b = (int) field.getShape().get(0);
        float[] all = field.toFloatArray();
        int size = all.length / b;
        float[][] rows = new float[Contrastive.count(keep)][];
        for (int i = 0, r = 0; i < b; i++) {
            if (keep[i]) {
                rows[r++] = pool(Arrays.copyOfRange(all, i * size, (i + 1) * size));
            }
        }
        return field.getManager().create(rows);
    }

    /** The predicted fields from the video's trunk tokens: (n, N, D) -> (n, F). */
    public NDArray predict(NDArray tokens) {
        return decode(tokens.mean(new int[] {1}), w1, b1, w2, b2);
    }

    /** W2 GELU(W1 h + b1) + b2, the features first so results belong to the step: h (n, D) -> (n, F). */
    static NDArray decode(NDArray h, NDArray w1, NDArray b1, NDArray w2, NDArray b2) {
        NDArray hidden = Activation.gelu(Linear.linear(h, w1, b1).singletonOrThrow()); // (n, hidden)
        return Linear.linear(hidden, w2, b2).singletonOrThrow();                       // (n, F)
    }

    /** Mean squared error over every element: (n, F), (n, F) -> (). */
    static NDArray mse(NDArray yhat, NDArray y) {
        return yhat.sub(y).square().mean();
    }
}
