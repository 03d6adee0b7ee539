package org.sensorium.objective;

import org.sensorium.config.Objectives;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.sensorium.data.Batch;
import org.sensorium.data.Batch.Extra;
import org.sensorium.data.Needs;
import org.sensorium.model.ModelOutput;
import org.sensorium.model.Params;
import org.sensorium.model.SensoriumModel;
import org.sensorium.config.Config;
import org.sensorium.config.Modality;

/**
 * Compressed-video motion prediction (after IMCN's motion prediction, Huo et al. 2021, and
 * dense predictive coding): from a clip alone, predict the motion-vector field the video's encoder stored for
 * the moments right after it. The target is the {@link org.sensorium.modality.video.MotionAdapter} field of
 * [clip end, clip end + horizon) (T' x gridH x gridW x 2 values, divided by modalities.motion.scale), averaged
 * over the measured cells of each pool x pool block (F = T' x gridH/pool x
 * gridW/pool x 2). A cell the encoder coded intra (every cell of a key frame) holds no measurement, not a still
 * scene: it is left out of the loss. The decoder reads the clip's last moment: the trunk tokens of the last time
 * step of modality {@code from} (video frames, or the clip's own motion field), averaged, or with read = all side by
 * side (h is then (n, N/S x D), and which part of the frame moves stays visible to the decoder). Over the n samples with
 * a clip and a future window (a recording that ends first has none and is left out; no term when n = 0):
 * <pre>
 *   h    = mean of the last step's tokens     (n, D)   tokens (n, N, D), S time steps of N / S tokens each
 *   yhat = W2 GELU(W1 h + b1) + b2            (n, F)   W1 (hidden, D), W2 (F, hidden)
 *   L    = sum m (yhat - y)^2 / sum m                  mean squared error over the measured values (m = 1)
 * </pre>
 * Logged, not optimised: the error of predicting a zero field (sum m y^2 / sum m; a still scene), the fraction
 * of samples with a target.
 */
public final class MotionPrediction implements Objective {
    static final String NAME = "motion_prediction";
    private final Modality from;
    private final int steps;     // S, time steps of the source's tokens
    private final boolean readAll; // the decoder reads the last step's N / S tokens side by side, not their mean
    private final NDArray w1; // (hidden, D)
    private final NDArray b1; // (hidden)
    private final NDArray w2; // (F, hidden)
    private final NDArray b2; // (F)
    private final long[] fieldShape; // (T', gridH, gridW, 2): the future field as decoded
    private final long[] targetShape; // (T', gridH / pool, gridW / pool, 2): what is predicted
    private final int pool;
    private final double horizonSeconds; // how much field after the clip is the target
    private final Map<String, Double> stats = new LinkedHashMap<>();

    /**
     * @param from the modality whose clip tokens are read: video or motion
     * @param steps S, the time steps of its tokens (N must divide by it)
     * @param width D, the trunk width
     * @param fieldShape the decoded future field's shape (T', gridH, gridW, 2)
     * @param pool cells per side averaged into one target cell; gridH and gridW must divide by it
     */
    public MotionPrediction(Modality from, int steps, int width, int hidden, long[] fieldShape, int pool, Params params) {
        this(from, steps, width, hidden, fieldShape, pool, params, Double.NaN, 0);
    }

    /** The objective of a run's config, predicting objectives.motion_prediction.horizon_seconds after each clip. */
    static MotionPrediction of(Config c, SensoriumModel model) {
        Objectives.MotionPrediction mp = c.objectives().motionPrediction();
        int perStep = mp.read().equals("all") ? model.tokens(mp.from()) / Math.max(1, model.steps(mp.from())) : 0;
        return new MotionPrediction(mp.from(), model.steps(mp.from()), c.model().width(), mp.hidden(),
                c.modalities().motion().inputShape(mp.horizonSeconds()), mp.pool(), model.params(), mp.horizonSeconds(), perStep);
    }

    /** @param perStep 0: the decoder reads the mean of the last step's tokens; else it reads those perStep tokens side by side */
    MotionPrediction(Modality from, int steps, int width, int hidden, long[] fieldShape, int pool, Params params,
            double horizonSeconds, int perStep) {
        this.horizonSeconds = horizonSeconds;
        if (pool < 1 || fieldShape[1] % pool != 0 || fieldShape[2] % pool != 0) {
            throw new org.sensorium.config.ConfigException("objectives.motion_prediction.pool",
                    pool + " must divide the motion grid " + fieldShape[1] + " x " + fieldShape[2]);
        }
        this.from = from;
        this.steps = Math.max(1, steps);
        this.fieldShape = fieldShape.clone();
        this.pool = pool;
        this.targetShape = new long[] {fieldShape[0], fieldShape[1] / pool, fieldShape[2] / pool, fieldShape[3]};
        long f = Arrays.stream(targetShape).reduce(1, (a, b) -> a * b);
        this.readAll = perStep > 0;
        this.w1 = params.normal("objective.motion_prediction.fc1.weight", 0.02f, hidden, readAll ? (long) perStep * width : width);
        this.b1 = params.constant("objective.motion_prediction.fc1.bias", 0f, hidden);
        this.w2 = params.normal("objective.motion_prediction.fc2.weight", 0.02f, f, hidden);
        this.b2 = params.constant("objective.motion_prediction.fc2.bias", 0f, f);
    }

    /** The modality whose clip tokens the decoder reads. */
    public Modality from() {
        return from;
    }

    /** (T', gridH / pool, gridW / pool, 2): the field predicted per sample. */
    public long[] fieldShape() {
        return targetShape.clone();
    }

    /**
     * One sample's target: its decoded future field (T' x gridH x gridW x 2, row-major) averaged over pool x pool
     * cells, over the measured cells only (measured: T' x gridH x gridW, the target's valid mask; null: every cell).
     *
     * @return {values (F), measured (F): 1 where any of the pooled cells was measured, else 0 (and a value of 0)}
     */
    public float[][] pool(float[] field, boolean[] measuredCells) {
        int t = (int) fieldShape[0], h = (int) fieldShape[1], w = (int) fieldShape[2], c = (int) fieldShape[3];
        int ph = h / pool, pw = w / pool;
        float[] out = new float[t * ph * pw * c];
        float[] weight = new float[t * ph * pw];
        for (int f = 0; f < t; f++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    float cov = measuredCells == null || measuredCells[(f * h + y) * w + x] ? 1f : 0f;
                    int cell = (f * ph + y / pool) * pw + x / pool;
                    weight[cell] += cov;
                    for (int k = 0; k < c; k++) {
                        out[cell * c + k] += field[((f * h + y) * w + x) * c + k] * cov;
                    }
                }
            }
        }
        float[] measured = new float[out.length];
        for (int cell = 0; cell < weight.length; cell++) {
            for (int k = 0; k < c; k++) {
                out[cell * c + k] = weight[cell] > 0 ? out[cell * c + k] / weight[cell] : 0f;
                measured[cell * c + k] = weight[cell] > 0 ? 1f : 0f;
            }
        }
        return new float[][] {out, measured};
    }

    @Override
    public Needs needs() {
        return Needs.ofFutureMotion(horizonSeconds);
    }

    @Override
    public Map<String, NDArray> losses(Step v) {
        stats.clear();
        if (v.batch(Extra.FUTURE_MOTION) == null || !v.out().tokens().containsKey(from)) {
            return Map.of();
        }
        boolean[] keep = Contrastive.both(v.batch().present(from), v.batch(Extra.FUTURE_MOTION).present(Modality.MOTION));
        int n = Contrastive.count(keep);
        stats.put(NAME + "/with_target", (double) n / keep.length);
        if (n == 0) {
            return Map.of();
        }
        NDArray[] y = targets(v.batch(Extra.FUTURE_MOTION), keep);                                      // (n, F) values, (n, F) measured
        NDArray yhat = predict(Contrastive.rows(v.out().tokens().get(from), keep));   // (n, F)
        float measured = y[1].sum().getFloat();
        if (measured == 0) {
            return Map.of();
        }
        stats.put(NAME + "/zero_field_mse", (double) y[0].square().sum().getFloat() / measured);
        stats.put(NAME + "/measured", (double) measured / y[1].size());
        return Map.of(NAME, mse(yhat, y[0], y[1]));
    }

    /**
     * The held-out error of the prediction on the centred clips, next to the errors of a zero field (a still scene)
     * and of the held-out targets' own mean field.
     */
    @Override
    public Map<String, Double> measure(HeldOut h) throws InterruptedException {
        ContextMeasures.MotionError e = ContextMeasures.motionError(h, this, h.centred(java.util.Set.of(from), needs()));
        Map<String, Double> out = new LinkedHashMap<>();
        out.put(NAME + "/n", (double) e.n());
        out.put(NAME + "/mse", e.mse());
        out.put(NAME + "/zero_field_mse", e.zeroFieldMse());
        out.put(NAME + "/mean_field_mse", e.meanFieldMse());
        return out;
    }

    @Override
    public Map<String, Double> stats() {
        return Map.copyOf(stats);
    }

    /**
     * The kept samples' future fields, pooled and flattened: (B, T', gridH, gridW, 2) -> {values (n, F), measured
     * (n, F)}, the coverage from the future batch's valid mask (B, T' gridH gridW) when it has one. No gradient.
     */
    NDArray[] targets(Batch future, boolean[] keep) {
        NDArray field = future.input(Modality.MOTION);
        NDArray valid = future.valid(Modality.MOTION);
        int b = (int) field.getShape().get(0);
        float[] all = field.toFloatArray();
        boolean[] cov = valid == null ? null : valid.toBooleanArray();
        int size = all.length / b, cells = size / (int) fieldShape[3];
        float[][] values = new float[Contrastive.count(keep)][], measured = new float[values.length][];
        for (int i = 0, r = 0; i < b; i++) {
            if (keep[i]) {
                float[][] t = pool(Arrays.copyOfRange(all, i * size, (i + 1) * size),
                        cov == null ? null : Arrays.copyOfRange(cov, i * cells, (i + 1) * cells));
                values[r] = t[0];
                measured[r++] = t[1];
            }
        }
        return new NDArray[] {field.getManager().create(values), field.getManager().create(measured)};
    }

    /**
     * The predicted fields from the source's trunk tokens: (n, N, D) -> the last N / S tokens, their mean (n, D) or
     * all of them side by side (n, N / S x D) -> (n, F).
     */
    public NDArray predict(NDArray tokens) {
        long n = tokens.getShape().get(1);
        NDArray last = tokens.get(new ai.djl.ndarray.index.NDIndex(":, {}:, :", n - n / steps)); // (n, N / S, D)
        NDArray h = readAll ? last.reshape(last.getShape().get(0), -1) : last.mean(new int[] {1}); // (n, N/S x D) | (n, D)
        return decode(h, w1, b1, w2, b2);
    }

    /** W2 GELU(W1 h + b1) + b2, the features first so results belong to the step: h (n, D) -> (n, F). */
    static NDArray decode(NDArray h, NDArray w1, NDArray b1, NDArray w2, NDArray b2) {
        NDArray hidden = Activation.gelu(Linear.linear(h, w1, b1).singletonOrThrow()); // (n, hidden)
        return Linear.linear(hidden, w2, b2).singletonOrThrow();                       // (n, F)
    }

    /** Mean squared error over the measured elements: (n, F), (n, F), (n, F) of 0 / 1 -> (). */
    static NDArray mse(NDArray yhat, NDArray y, NDArray measured) {
        return yhat.sub(y).square().mul(measured).sum().div(measured.sum());
    }
}
