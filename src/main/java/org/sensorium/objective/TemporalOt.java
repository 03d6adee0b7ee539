package org.sensorium.objective;

import org.sensorium.config.Objectives;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.data.Batch;
import org.sensorium.data.Needs;
import org.sensorium.eval.TemporalSegmentation;
import org.sensorium.model.Layers;
import org.sensorium.model.ModelOutput;
import org.sensorium.model.Params;
import org.sensorium.config.Modality;
import org.sensorium.config.ModalitySpec;
import org.sensorium.config.ModalitySpecs;

/**
 * Temporal optimal transport for unsupervised activity segmentation (TOT: Kumar et al., "Unsupervised
 * Action Segmentation by Joint Representation Learning and Online Clustering", CVPR 2022), online: one
 * Sinkhorn per sequence of frames in the mini-batch, no feature store. K prototypes stand for K
 * activities in a fixed order. A sequence is, by objectives.temporal_ot.windows:
 * <ul>
 *   <li>0 (time steps): one clip (a window of a long recording, or all of it), its frames the T time
 *       steps of the modality's trunk tokens (video and motion: a tubelet step, the mean of its grid of
 *       tokens; audio: a column of log-mel patches; IMU: a patch of samples), projected by a linear layer
 *       of this objective to E and L2-normalised; frame t is at start + (t + 1/2) T_s / T seconds.</li>
 *   <li>N &gt; 0 (windows): the N clips the loader decodes per sample, tiling its recording in time order
 *       ({@link org.sensorium.data.Loader#windowClip}), each encoded on its own; a frame is one clip's unit
 *       embedding, at the clip's middle. As in TOT, where a frame's features come from a per-frame
 *       encoder, a frame then cannot tell from its position where it is in the recording.</li>
 * </ul>
 * <pre>
 *   Z     = the sequence's unit frame embeddings        (T, E)
 *   S     = Z C^T                                        (T, K)  C: unit prototype rows
 *   r_t   = time_t / span                                the frame's place in the recording, in [0, 1]
 *   log P[t, k] = -(r_t - (k + 1/2)/K)^2 / (2 sigma^2)   the temporal prior (Gaussian around the diagonal)
 *   b_k   = 1/T sum_t P(k | t)                           the prior's share of prototype k in this clip
 *   Q     = sinkhorn(S / eps + rho log P; rows 1/T, columns b) * T     (T, K) rows sum to 1; no gradient
 *   L_ot  = -1/(nT) sum_clips sum_t sum_k Q[t, k] log softmax(S[t] / tau)[k]
 *   L_coh = 1/(n |A|) sum_clips sum_{t in A} -log( sum_{s in pos(t)} e^{z_t.z_s / tau_c}
 *                                                 / sum_{s in pos(t) + neg(t)} e^{z_t.z_s / tau_c} )
 * </pre>
 * T_s is the clip's length in seconds (data.clip_seconds), start where a clip starts and span the length
 * of the sample's span ({@link org.sensorium.data.Batch#spans}); a span of unknown length, or one no
 * longer than a clip, counts as one clip. For a whole recording b is close to 1/K each (TOT's
 * equipartition); a clip shorter than its recording (time steps with clip_seconds below the recording's
 * length: the loader draws its start) expects the activities its place makes likely. With rho = 0 there
 * is no prior and b = 1/K (SwAV's equipartition per sequence).
 * <p>
 * Why windows: with time steps of a whole recording whose activities come in a fixed order, the trunk's
 * positional embeddings alone fit the prior's pseudo-labels ("frame t is prototype floor(tK/T)"), and the
 * model learns the equal split without looking at the signal. Shorter clips weaken that shortcut;
 * separately encoded windows remove it.
 * pos(t): the other frames within coherence_near seconds of t; neg(t): frames more than coherence_far
 * seconds away; A: the frames that have both. The prior pulls early frames to the first prototypes and
 * late ones to the last, so the pseudo-labels keep the order of activities; the equipartition keeps every
 * prototype in use. Terms: "temporal_ot/&lt;m&gt;" (L_ot) and "temporal_ot/&lt;m&gt;/coherence" (coherence_weight
 * L_coh, already weighted). Logged: the usage entropy and dead prototypes of the predicted assignments,
 * their order agreement (per clip, the longest non-decreasing run of argmax prototypes, as a share of T:
 * 1 when the predicted segmentation is in order) and their agreement with the pseudo-labels.
 */
public final class TemporalOt implements Objective, TemporalSegmentation.Segmenter {
    private final Modality modality;
    private final String name;
    private final int windows;         // 0: frames are time steps of one clip's tokens; N: frames are N clips
    private final int steps, grid;     // T frames per sequence; tokens per time step (time-step mode)
    private final int prototypeCount;
    private final boolean cls;
    private final double clipSeconds, epsilon, rho, sigma, temperature, near, far, coherenceTemperature;
    private final int iterations;
    private final float coherenceWeight;
    private final NDArray weight;       // (E, D), decayed; time-step mode only
    private final NDArray bias;         // (E)
    private final NDArray prototypes;   // (K, E), not decayed: only directions count
    private final Map<String, Double> stats = new LinkedHashMap<>();

    public TemporalOt(Config config, Params params) {
        Objectives.TemporalOt c = config.objectives().temporalOt();
        this.modality = c.modality();
        this.name = "temporal_ot/" + modality.key();
        this.windows = c.windows();
        double clip = config.data().clipSeconds();
        int[] f = frames(modality, config.modalities(), clip);
        this.steps = windows > 0 ? windows : f[0];
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
        this.near = c.coherenceNear();
        this.far = c.coherenceFar();
        this.coherenceTemperature = c.coherenceTemperature();
        if (windows == 0 && coherenceWeight > 0) { // the frames' spacing is known: check that the term has anchors
            float[][][] w = TemporalCoherence.windows(stepTimes(0), near, far);
            if (sum(TemporalCoherence.anchors(w[0], w[1])) == 0) {
                throw new ConfigException("objectives.temporal_ot.coherence_far", "no frame of a " + clip + " s clip (" + steps
                        + " frames of " + clip / steps + " s) has both a frame within coherence_near " + near
                        + " s and one beyond coherence_far " + far + " s");
            }
        }
        int embed = config.model().embedDim();
        this.weight = windows > 0 ? null : params.normal("objective.temporal_ot.proj.weight", 0.02f, embed, config.model().width());
        this.bias = windows > 0 ? null : params.constant("objective.temporal_ot.proj.bias", 0f, embed);
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

    /** T, frames per sequence. */
    public int steps() {
        return steps;
    }

    public int prototypes() {
        return prototypeCount;
    }

    /** N windows per sample, or 0 when frames are the time steps of one clip. */
    public int windows() {
        return windows;
    }

    /**
     * A sequence of frames in a batch: the batch rows it comes from (time steps: one row; windows: T
     * consecutive rows of one sample), each frame's time in seconds from the start of the span, the span.
     */
    public record Sequence(String id, int[] rows, double[] times, double span) {}

    /** The sequences of a batch, in batch order: present clips (time steps), or complete runs of T windows of one sample. */
    public List<Sequence> sequences(Batch batch) {
        boolean[] present = batch.present(modality);
        List<Sequence> out = new ArrayList<>();
        if (present == null) {
            return out;
        }
        if (windows == 0) {
            for (int i = 0; i < present.length; i++) {
                if (present[i]) {
                    out.add(new Sequence(batch.ids().get(i), new int[] {i}, stepTimes(batch.starts()[i]), batch.spans()[i]));
                }
            }
            return out;
        }
        for (int i = 0; i < present.length; ) {
            int j = i;
            while (j < present.length && batch.ids().get(j).equals(batch.ids().get(i))) {
                j++;
            }
            boolean all = j - i == steps;
            for (int r = i; r < j && all; r++) {
                all = present[r];
            }
            if (all) {
                int[] rows = new int[steps];
                double[] times = new double[steps];
                for (int t = 0; t < steps; t++) {
                    rows[t] = i + t;
                    times[t] = batch.starts()[i + t] + clipSeconds / 2;
                }
                out.add(new Sequence(batch.ids().get(i), rows, times, batch.spans()[i]));
            }
            i = j;
        }
        return out;
    }

    /** Frame times of a clip starting at start (time steps): start + (t + 1/2) T_s / T. */
    double[] stepTimes(double start) {
        double[] t = new double[steps];
        for (int i = 0; i < steps; i++) {
            t[i] = start + (i + 0.5) * clipSeconds / steps;
        }
        return t;
    }

    /** Frame times as places in the recording, in [0, 1]: divided by the span, or by a clip's length when the span is unknown or short. */
    double[] relative(double[] times, double span) {
        double length = Double.isNaN(span) || span <= clipSeconds ? clipSeconds : span;
        double[] r = new double[times.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = Math.min(1, times[i] / length);
        }
        return r;
    }

    /** r_t of a time-step clip starting at start in a span (tests). */
    double[] times(double start, double span) {
        boolean whole = Double.isNaN(span) || span <= clipSeconds;
        return relative(stepTimes(whole ? 0 : start), span);
    }

    @Override
    public Map<String, NDArray> losses(Step step) {
        return losses(step.out(), step.batch());
    }

    /** The terms of one micro-batch's main clips and their output. */
    public Map<String, NDArray> losses(ModelOutput out, Batch batch) {
        stats.clear();
        List<Sequence> seqs = sequences(batch);
        if (seqs.isEmpty() || !out.tokens().containsKey(modality)) {
            return Map.of();
        }
        NDArray z = frameEmbeddings(out, batch, seqs);                // (G, T, E)
        NDArray s = scores(z);                                        // (G, T, K)
        double[][][] scores = toArrays(s);
        double[][][] q = new double[scores.length][][];
        for (int g = 0; g < q.length; g++) {
            q[g] = plan(scores[g], seqs.get(g));
        }
        Map<String, NDArray> terms = new LinkedHashMap<>();
        terms.put(name, assignment(s, q, temperature));
        if (coherenceWeight > 0) {
            float[][][] pos = new float[seqs.size()][][], neg = new float[seqs.size()][][];
            float[][] anchors = new float[seqs.size()][];
            for (int g = 0; g < seqs.size(); g++) {
                float[][][] w = TemporalCoherence.windows(seqs.get(g).times(), near, far);
                pos[g] = w[0];
                neg[g] = w[1];
                anchors[g] = TemporalCoherence.anchors(w[0], w[1]);
            }
            if (sum(anchors) > 0) {
                terms.put(name + "/coherence", Layers.scale(TemporalCoherence.coherence(z, pos, neg, anchors, coherenceTemperature), coherenceWeight));
            }
        }
        record(scores, q);
        return terms;
    }

    @Override
    public Map<String, Double> stats() {
        return Map.copyOf(stats);
    }

    /**
     * A sequence's prototypes: the argmax of each frame's scores (what the representation says), and the
     * argmax of the transport plan with the temporal prior (TOT's decoding, which also uses the order).
     */
    public record Prediction(Sequence sequence, int[] argmax, int[] transport) {}

    @Override
    public List<TemporalSegmentation.Segmenter.Segmented> segment(ModelOutput out, Batch batch) {
        return predict(out, batch).stream().map(p -> new Segmented(p.sequence().times(), p.argmax(), p.transport())).toList();
    }

    @Override
    public TemporalSegmentation.Segmenter segmenter() {
        return this;
    }

    @Override
    public Needs needs() {
        return windows > 0 ? Needs.ofWindows(windows) : Needs.NONE;
    }

    /** Predictions for every sequence of the batch, in batch order. */
    public List<Prediction> predict(ModelOutput out, Batch batch) {
        List<Sequence> seqs = sequences(batch);
        List<Prediction> list = new ArrayList<>();
        if (seqs.isEmpty() || !out.tokens().containsKey(modality)) {
            return list;
        }
        double[][][] scores = toArrays(scores(frameEmbeddings(out, batch, seqs)));
        for (int g = 0; g < seqs.size(); g++) {
            list.add(new Prediction(seqs.get(g), argmaxRows(scores[g]), argmaxRows(plan(scores[g], seqs.get(g)))));
        }
        return list;
    }

    /** The pseudo-labels of one sequence: Sinkhorn with the prior at its frames' places in the recording. scores (T, K). */
    double[][] plan(double[][] scores, Sequence seq) {
        if (rho == 0) {
            return Sinkhorn.plan(scores, epsilon, iterations);
        }
        double[][] logPrior = Sinkhorn.temporalPrior(relative(seq.times(), seq.span()), prototypeCount, sigma);
        return Sinkhorn.plan(scores, epsilon, logPrior, rho, Sinkhorn.priorMass(logPrior), iterations);
    }

    /** Unit frame embeddings of the sequences: (G, T, E). */
    NDArray frameEmbeddings(ModelOutput out, Batch batch, List<Sequence> seqs) {
        boolean[] keep = new boolean[batch.size()];
        for (Sequence q : seqs) {
            for (int r : q.rows()) {
                keep[r] = true;
            }
        }
        if (windows > 0) { // the rows of the sequences in order: each window's unit embedding
            NDArray e = Contrastive.rows(out.embedding(modality), keep);             // (G*T, E)
            return e.reshape(seqs.size(), steps, e.getShape().get(1));
        }
        return frameEmbeddings(out.tokens().get(modality), keep);
    }

    /** Time steps: unit frame embeddings of the kept clips, tokens (B, [1 +] T*G, D) -> (n, T, E). */
    NDArray frameEmbeddings(NDArray tokens, boolean[] keep) {
        NDArray h = Contrastive.rows(tokens, keep);                           // (n, N, D)
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

    static float sum(float[] x) {
        float s = 0;
        for (float v : x) {
            s += v;
        }
        return s;
    }

    static float sum(float[][] x) {
        float s = 0;
        for (float[] row : x) {
            s += sum(row);
        }
        return s;
    }
}
