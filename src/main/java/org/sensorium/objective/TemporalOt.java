package org.sensorium.objective;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.LinkedHashMap;
import java.util.Map;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.data.Batch;
import org.sensorium.model.Layers;
import org.sensorium.model.ModelOutput;
import org.sensorium.model.Params;
import org.sensorium.modality.Modality;
import org.sensorium.modality.ModalitySpec;
import org.sensorium.modality.ModalitySpecs;

/**
 * Temporal optimal transport for unsupervised activity segmentation (TOT: Kumar et al., "Unsupervised
 * Action Segmentation by Joint Representation Learning and Online Clustering", CVPR 2022), online: one
 * Sinkhorn per clip of the mini-batch, no feature store. A clip (a window of a long recording, or all of
 * it) is T frames; a frame is one time step of the modality's trunk tokens (video and motion: a tubelet
 * step, the mean of its grid of tokens; audio: a column of log-mel patches; IMU: a patch of samples),
 * projected to E and L2-normalised. K prototypes stand for K activities in a fixed order.
 * <pre>
 *   z_t   = normalise(W mean_g h[t, g] + b)              (T, E)  per clip
 *   S     = Z C^T                                        (T, K)  C: unit prototype rows
 *   r_t   = (start + (t + 1/2) T_s / T) / span           the frame's place in the recording, in [0, 1]
 *   log P[t, k] = -(r_t - (k + 1/2)/K)^2 / (2 sigma^2)   the temporal prior (Gaussian around the diagonal)
 *   b_k   = 1/T sum_t P(k | t)                           the prior's share of prototype k in this clip
 *   Q     = sinkhorn(S / eps + rho log P; rows 1/T, columns b) * T     (T, K) rows sum to 1; no gradient
 *   L_ot  = -1/(nT) sum_clips sum_t sum_k Q[t, k] log softmax(S[t] / tau)[k]
 *   L_coh = 1/(n |A|) sum_clips sum_{t in A} -log( sum_{s in pos(t)} e^{z_t.z_s / tau_c}
 *                                                 / sum_{s in pos(t) + neg(t)} e^{z_t.z_s / tau_c} )
 * </pre>
 * T_s is the clip's length in seconds (data.clip_seconds), start where it starts and span the length of
 * the sample's span ({@link org.sensorium.data.Batch#spans}); a clip of a span of unknown length counts as
 * the whole recording. For a whole recording b is close to 1/K each (TOT's equipartition); a training
 * window of a longer recording (clip_seconds below the recording's length: the loader draws its start)
 * expects the activities its place makes likely. Windows keep the trunk's positional embeddings from
 * telling the activity on their own: with whole recordings in a fixed order, "frame t belongs to
 * prototype floor(tK/T)" fits the prior's pseudo-labels without looking at the signal. With rho = 0
 * there is no prior and b = 1/K (SwAV's equipartition per clip).
 * pos(t): the other frames within coherence_near seconds of t; neg(t): frames more than coherence_far
 * seconds away; A: the frames that have both. The prior pulls early frames to the first prototypes and
 * late ones to the last, so the pseudo-labels keep the order of activities; the equipartition keeps every
 * prototype in use. Terms: "temporal_ot/&lt;m&gt;" (L_ot) and "temporal_ot/&lt;m&gt;/coherence" (coherence_weight
 * L_coh, already weighted). Logged: the usage entropy and dead prototypes of the predicted assignments,
 * their order agreement (per clip, the longest non-decreasing run of argmax prototypes, as a share of T:
 * 1 when the predicted segmentation is in order) and their agreement with the pseudo-labels.
 */
public final class TemporalOt implements Objective {
    private final Modality modality;
    private final String name;
    private final int steps, grid, prototypeCount;
    private final boolean cls;
    private final double clipSeconds, epsilon, rho, sigma, temperature, coherenceTemperature;
    private final int iterations;
    private final float coherenceWeight;
    private final float[][] positives;  // (T, T)
    private final float[][] negatives;  // (T, T)
    private final float[] anchors;      // (T) 1 where a frame has a positive and a negative
    private final NDArray weight;       // (E, D), decayed
    private final NDArray bias;         // (E)
    private final NDArray prototypes;   // (K, E), not decayed: only directions count
    private final Map<String, Double> stats = new LinkedHashMap<>();

    public TemporalOt(Config config, Params params) {
        Config.TemporalOt c = config.objectives().temporalOt();
        this.modality = c.modality();
        this.name = "temporal_ot/" + modality.key();
        double clip = config.data().clipSeconds();
        int[] f = frames(modality, config.modalities(), clip);
        this.steps = f[0];
        this.grid = f[1];
        if (steps < 2) {
            throw new ConfigException("objectives.temporal_ot.modality",
                    modality.key() + " has " + steps + " time step(s) in a clip of " + clip + " s: needs 2 or more (data.clip_seconds)");
        }
        this.prototypeCount = c.prototypes();
        this.cls = config.model().pool().equals("cls");
        this.clipSeconds = clip;
        this.epsilon = c.epsilon();
        this.rho = c.rho();
        this.sigma = c.sigma();
        this.iterations = c.iterations();
        this.temperature = c.temperature();
        this.coherenceWeight = c.coherenceWeight();
        this.coherenceTemperature = c.coherenceTemperature();
        float[][][] w = windows(steps, clip / steps, c.coherenceNear(), c.coherenceFar());
        this.positives = w[0];
        this.negatives = w[1];
        this.anchors = anchors(positives, negatives);
        if (coherenceWeight > 0 && sum(anchors) == 0) {
            throw new ConfigException("objectives.temporal_ot.coherence_far", "no frame of a " + clip + " s clip (" + steps
                    + " frames of " + clip / steps + " s) has both a frame within coherence_near " + c.coherenceNear()
                    + " s and one beyond coherence_far " + c.coherenceFar() + " s");
        }
        int width = config.model().width(), embed = config.model().embedDim();
        this.weight = params.normal("objective.temporal_ot.proj.weight", 0.02f, embed, width);
        this.bias = params.constant("objective.temporal_ot.proj.bias", 0f, embed);
        this.prototypes = params.embedding("objective.temporal_ot.prototypes", 1f, prototypeCount, embed);
    }

    /** {time steps T, tokens per time step} of a clip of modality m: the trunk's tokens are T x that, time-major. */
    public static int[] frames(Modality m, ModalitySpecs specs, double clipSeconds) {
        return switch (m) {
            case VIDEO -> {
                ModalitySpec.Video v = specs.video();
                yield new int[] {v.frames(clipSeconds) / v.tubeletFrames(), (v.height() / v.patch()) * (v.width() / v.patch())};
            }
            case MOTION -> {
                ModalitySpec.Motion v = specs.motion();
                yield new int[] {v.frames(clipSeconds) / v.tubeletFrames(), (v.gridH() / v.patch()) * (v.gridW() / v.patch())};
            }
            case AUDIO -> {
                ModalitySpec.Audio a = specs.audio();
                yield a.waveform() ? new int[] {a.samples(clipSeconds) / a.waveformPatch(), 1}
                        : new int[] {a.frames(clipSeconds) / a.patch(), a.melBins() / a.patch()};
            }
            case IMU -> new int[] {specs.imu().tokens(clipSeconds), 1};
            case TEXT -> throw new ConfigException("objectives.temporal_ot.modality", "text has no time axis");
        };
    }

    public Modality modality() {
        return modality;
    }

    /** T, frames per clip. */
    public int steps() {
        return steps;
    }

    public int prototypes() {
        return prototypeCount;
    }

    @Override
    public Map<String, NDArray> losses(ModelOutput out, Batch batch) {
        stats.clear();
        NDArray tokens = out.tokens().get(modality);
        if (tokens == null || Contrastive.count(batch.present(modality)) == 0) {
            return Map.of();
        }
        NDArray z = frameEmbeddings(tokens, batch.present(modality)); // (n, T, E)
        NDArray s = scores(z);                                        // (n, T, K)
        double[][][] scores = toArrays(s);
        double[][][] q = new double[scores.length][][];
        boolean[] present = batch.present(modality);
        for (int i = 0, j = 0; i < present.length; i++) {
            if (present[i]) {
                q[j] = plan(scores[j], batch.starts()[i], batch.spans()[i]);
                j++;
            }
        }
        Map<String, NDArray> terms = new LinkedHashMap<>();
        terms.put(name, assignment(s, q, temperature));
        if (coherenceWeight > 0) {
            terms.put(name + "/coherence", Layers.scale(coherence(z, positives, negatives, anchors, coherenceTemperature), coherenceWeight));
        }
        record(scores, q);
        return terms;
    }

    @Override
    public Map<String, Double> stats() {
        return Map.copyOf(stats);
    }

    /**
     * Per clip of the batch, its frames' prototypes: the argmax of the scores (what the representation
     * says), and the argmax of the transport plan with the temporal prior (TOT's decoding, which also
     * uses the order); null for clips without the modality.
     */
    public record Prediction(int[][] argmax, int[][] transport) {}

    public Prediction predict(ModelOutput out, Batch batch) {
        boolean[] present = batch.present(modality);
        int[][] argmax = new int[present.length][], transport = new int[present.length][];
        NDArray tokens = out.tokens().get(modality);
        if (tokens == null || Contrastive.count(present) == 0) {
            return new Prediction(argmax, transport);
        }
        double[][][] scores = toArrays(scores(frameEmbeddings(tokens, present)));
        for (int i = 0, j = 0; i < present.length; i++) {
            if (present[i]) {
                argmax[i] = argmaxRows(scores[j]);
                transport[i] = argmaxRows(plan(scores[j], batch.starts()[i], batch.spans()[i]));
                j++;
            }
        }
        return new Prediction(argmax, transport);
    }

    /** The pseudo-labels of one clip: Sinkhorn with the prior at the clip's place in its recording. scores (T, K). */
    double[][] plan(double[][] scores, double start, double span) {
        if (rho == 0) {
            return Sinkhorn.plan(scores, epsilon, iterations);
        }
        double[][] logPrior = Sinkhorn.temporalPrior(times(start, span), prototypeCount, sigma);
        return Sinkhorn.plan(scores, epsilon, logPrior, rho, Sinkhorn.priorMass(logPrior), iterations);
    }

    /** r_t of the clip's frames: their midpoints' place in the recording, in [0, 1]. */
    double[] times(double start, double span) {
        boolean whole = Double.isNaN(span) || span <= clipSeconds;
        double length = whole ? clipSeconds : span, from = whole ? 0 : start;
        double[] r = new double[steps];
        for (int t = 0; t < steps; t++) {
            r[t] = Math.min(1, (from + (t + 0.5) * clipSeconds / steps) / length);
        }
        return r;
    }

    /** Unit frame embeddings of the clips that have the modality: tokens (B, [1 +] T*G, D) -> (n, T, E). */
    NDArray frameEmbeddings(NDArray tokens, boolean[] present) {
        NDArray h = Contrastive.rows(tokens, present);                        // (n, N, D)
        if (cls) {
            h = h.get(":, 1:, :");                                             // the CLS token is no frame
        }
        long n = h.getShape().get(0), d = h.getShape().get(2);
        if (h.getShape().get(1) != (long) steps * grid) {
            throw new IllegalStateException(modality.key() + " has " + h.getShape().get(1) + " tokens per clip, expected "
                    + steps + " time steps x " + grid);
        }
        NDArray f = h.reshape(n, steps, grid, d).mean(new int[] {2});         // (n, T, D)
        NDArray z = ai.djl.nn.core.Linear.linear(f, weight, bias).singletonOrThrow(); // (n, T, E)
        return unit(z);
    }

    /** Cosine scores of frames against prototypes: z (n, T, E) -> (n, T, K). */
    NDArray scores(NDArray z) {
        NDArray c = z.getManager().zeros(prototypes.getShape()).add(prototypes); // in the step's manager, not the parameters'
        return z.matMul(unit(c).transpose());
    }

    /** -1/(nT) sum Q log softmax(S / tau): s (n, T, K), q n plans (T, K) -> (). */
    static NDArray assignment(NDArray s, double[][][] q, double tau) {
        NDManager m = s.getManager();
        long n = s.getShape().get(0), t = s.getShape().get(1), k = s.getShape().get(2);
        float[] flat = new float[(int) (n * t * k)];
        int at = 0;
        for (double[][] plan : q) {
            for (double[] row : plan) {
                for (double v : row) {
                    flat[at++] = (float) v;
                }
            }
        }
        NDArray target = m.create(flat, s.getShape());                        // no gradient
        NDArray logP = Layers.scale(s, (float) (1 / tau)).logSoftmax(2);
        return Layers.scale(target.mul(logP).sum(), -1f / (n * t));
    }

    /**
     * The temporal coherence InfoNCE: z (n, T, E) unit frames, pos/neg (T, T) 0/1 masks, anchors (T) 0/1
     * -> the mean over clips and anchors of -log(sum_pos e^{sim/tau} / sum_{pos+neg} e^{sim/tau}).
     */
    static NDArray coherence(NDArray z, float[][] pos, float[][] neg, float[] anchors, double tau) {
        NDManager m = z.getManager();
        long n = z.getShape().get(0);
        int t = pos.length;
        float[][] offPos = new float[t][t], offAll = new float[t][t];
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < t; j++) {
                offPos[i][j] = pos[i][j] > 0 ? 0f : -1e9f;
                offAll[i][j] = pos[i][j] > 0 || neg[i][j] > 0 ? 0f : -1e9f;
            }
        }
        NDArray sim = Layers.scale(z.matMul(z.transpose(0, 2, 1)), (float) (1 / tau)); // (n, T, T)
        NDArray lsePos = logSumExp(sim.add(m.create(offPos)));                       // (n, T)
        NDArray lseAll = logSumExp(sim.add(m.create(offAll)));                       // (n, T)
        NDArray w = m.create(anchors);                                               // (T), broadcast over clips
        return Layers.scale(lseAll.sub(lsePos).mul(w).sum(), 1f / (n * sum(anchors)));
    }

    /** log sum exp over the last axis: (n, T, T) -> (n, T). */
    private static NDArray logSumExp(NDArray x) {
        NDArray max = x.max(new int[] {2}, true).stopGradient();
        return x.sub(max).exp().sum(new int[] {2}).log().add(max.squeeze(2));
    }

    /** {positives, negatives} (T, T): other frames within near seconds; frames more than far seconds away. */
    static float[][][] windows(int t, double frameSeconds, double near, double far) {
        float[][] pos = new float[t][t], neg = new float[t][t];
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < t; j++) {
                double gap = Math.abs(i - j) * frameSeconds;
                pos[i][j] = i != j && gap <= near + 1e-9 ? 1f : 0f;
                neg[i][j] = gap > far + 1e-9 ? 1f : 0f;
            }
        }
        return new float[][][] {pos, neg};
    }

    static float[] anchors(float[][] pos, float[][] neg) {
        float[] a = new float[pos.length];
        for (int i = 0; i < a.length; i++) {
            a[i] = sum(pos[i]) > 0 && sum(neg[i]) > 0 ? 1f : 0f;
        }
        return a;
    }

    /** Share of a sequence in its longest non-decreasing subsequence: 1 when it never goes back. */
    static double orderAgreement(int[] seq) {
        int[] tails = new int[seq.length]; // tails[l]: smallest last value of a run of length l + 1
        int len = 0;
        for (int v : seq) {
            int lo = 0, hi = len;
            while (lo < hi) { // first tail greater than v (non-decreasing: equal values extend)
                int mid = (lo + hi) >>> 1;
                if (tails[mid] <= v) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            tails[lo] = v;
            len = Math.max(len, lo + 1);
        }
        return (double) len / seq.length;
    }

    private void record(double[][][] scores, double[][][] q) {
        int n = scores.length, t = scores[0].length;
        double[][] predicted = new double[n * t][];
        double order = 0, agree = 0;
        for (int i = 0; i < n; i++) {
            int[] best = argmaxRows(scores[i]);
            int[] target = argmaxRows(q[i]);
            order += orderAgreement(best) / n;
            for (int j = 0; j < t; j++) {
                predicted[i * t + j] = softmax(scores[i][j], temperature);
                agree += best[j] == target[j] ? 1.0 / (n * t) : 0;
            }
        }
        double[] u = Clustering.usage(predicted);
        stats.put(name + "/usage_entropy", u[0]);
        stats.put(name + "/dead_prototypes", u[1]);
        stats.put(name + "/order_agreement", order);
        stats.put(name + "/pseudo_label_agreement", agree);
    }

    private static double[] softmax(double[] s, double tau) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : s) {
            max = Math.max(max, v / tau);
        }
        double[] p = new double[s.length];
        double sum = 0;
        for (int j = 0; j < s.length; j++) {
            p[j] = Math.exp(s[j] / tau - max);
            sum += p[j];
        }
        for (int j = 0; j < s.length; j++) {
            p[j] /= sum;
        }
        return p;
    }

    private static int[] argmaxRows(double[][] x) {
        int[] out = new int[x.length];
        for (int i = 0; i < x.length; i++) {
            for (int j = 1; j < x[i].length; j++) {
                out[i] = x[i][j] > x[i][out[i]] ? j : out[i];
            }
        }
        return out;
    }

    private static double[][][] toArrays(NDArray s) {
        int n = (int) s.getShape().get(0), t = (int) s.getShape().get(1), k = (int) s.getShape().get(2);
        float[] flat = s.toFloatArray();
        double[][][] out = new double[n][t][k];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < t; j++) {
                for (int c = 0; c < k; c++) {
                    out[i][j][c] = flat[(i * t + j) * k + c];
                }
            }
        }
        return out;
    }

    /** Rows of x divided by their L2 norm over the last axis. */
    private static NDArray unit(NDArray x) {
        int last = x.getShape().dimension() - 1;
        return x.div(x.square().sum(new int[] {last}, true).add(1e-12f).sqrt());
    }

    private static float sum(float[] x) {
        float s = 0;
        for (float v : x) {
            s += v;
        }
        return s;
    }
}
