package org.sensorium.objective;

import org.sensorium.config.Pretexts;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.sensorium.config.Config;
import org.sensorium.config.Modality;
import org.sensorium.config.Objectives;
import org.sensorium.data.Batch;
import org.sensorium.data.Needs;
import org.sensorium.model.ClipOps;
import org.sensorium.model.Layers.Linear;
import org.sensorium.model.Params;
import org.sensorium.eval.Classification;

/**
 * Motion and appearance statistics (Wang et al., CVPR 2019, "Self-supervised spatio-temporal representation
 * learning for videos by predicting motion and appearance statistics"; the STS extension): labels computed from the
 * clip itself, classified from its video tokens. The labels come from the clip's motion field (the encoder's motion
 * vectors, modality motion, (T, gridH, gridW, 2), x right and y down) and its RGB frames, the frame cut into R x R
 * regions:
 * <pre>
 *   region    r* = argmax_r sum over the clip's fields and r's cells of |v|          one of R^2
 *   direction the angle of sum over r*'s cells of v, in one of A bins (bin 0 centred on +x, bin A/4 on +y = down)
 *   hue       the most common hue bin (of H) of r*'s pixels over the clip, counting pixels of saturation at
 *             least s; class H when none is (a grey region)
 * </pre>
 * Heads of the objective's own read the clip's video trunk tokens averaged per region (over time and the region's
 * patches; the regions must tile the token grid), side by side, over the n samples with both video and motion:
 * <pre>
 *   h   = [mean of region 1's tokens, ..., mean of region R^2's tokens]   (n, R^2 D)
 *   L_k = -1/n sum_i log softmax(W_k h_i + b_k)[y_k,i]      k in {region, direction, hue}, one term each
 * </pre>
 * Keeping the regions apart is what lets a linear head say where the motion is; one mean over the whole clip
 * left region accuracy at the majority label.
 * Ties go to the lowest index: a clip whose field is all zero (a still scene, or only key frames) gets region 0 and
 * direction 0. Motion only gives labels; what is classified is the RGB clip. The paper's statistics are of optical flow on
 * several pattern partitions; this keeps its first pattern (a grid) and reads the compressed stream's vectors.
 * Training clips are augmented (crop, brightness, contrast) and the field is not, so the training labels are those
 * of the uncropped clip; the held-out measure reads the centred clips, whose labels are exact.
 */
public final class MotionStatistics implements Objective {
    static final String NAME = "motion_statistics";

    /** The three labels of one clip. */
    record Labels(int region, int direction, int hue) {}

    private final Pretexts.MotionStatistics cfg;
    private final float[] mean, std; // the video's per-channel normalisation, undone to read colours
    private final Linear region, direction, hue;
    private final int rows, columns; // the video's patches per frame: H / p by W / p

    public MotionStatistics(Config c, int width, Params params) {
        this.cfg = c.objectives().motionStatistics();
        var video = c.modalities().video();
        this.mean = ClipOps.floats(video.mean());
        this.std = ClipOps.floats(video.std());
        this.rows = video.height() / video.patch();
        this.columns = video.width() / video.patch();
        int r = cfg.regions(), features = r * r * width;
        region = Linear.create(params, "objective.motion_statistics.region", features, r * r);
        direction = Linear.create(params, "objective.motion_statistics.direction", features, cfg.directions());
        hue = Linear.create(params, "objective.motion_statistics.hue", features, cfg.hues() + 1);
    }

    /** The tokens averaged per region, side by side: (n, N, D) -> (n, R^2 D). */
    NDArray regionFeatures(NDArray tokens) {
        long n = tokens.getShape().get(0), d = tokens.getShape().get(2);
        int count = (int) tokens.getShape().get(1);
        NDArray pool = tokens.getManager().create(regionMeans(count, rows, columns, cfg.regions()),
                new ai.djl.ndarray.types.Shape(count, (long) cfg.regions() * cfg.regions()));    // (N, R^2)
        return tokens.transpose(0, 2, 1).matMul(pool)                                            // (n, D, R^2)
                .transpose(0, 2, 1).reshape(n, -1);                                              // (n, R^2, D) -> (n, R^2 D)
    }

    /**
     * The (N, R^2) matrix that averages time-major tokens (T/t steps of rows x columns patches) per region:
     * entry (token, r) is 1 / (tokens in r) when the token's patch lies in region r, else 0.
     */
    static float[] regionMeans(int tokens, int rows, int columns, int regions) {
        int perStep = rows * columns, r2 = regions * regions;
        float[] a = new float[tokens * r2];
        float share = (float) r2 / tokens;
        for (int t = 0; t < tokens; t++) {
            int y = t % perStep / columns, x = t % columns;
            a[t * r2 + (y * regions / rows) * regions + x * regions / columns] = share;
        }
        return a;
    }

    @Override
    public Map<String, NDArray> losses(Step v) {
        Batch batch = v.batch();
        if (!v.out().tokens().containsKey(Modality.VIDEO) || !batch.inputs().containsKey(Modality.MOTION)) {
            return Map.of();
        }
        boolean[] keep = Contrastive.both(batch.present(Modality.VIDEO), batch.present(Modality.MOTION));
        if (Contrastive.count(keep) == 0) {
            return Map.of();
        }
        List<Labels> y = labels(batch, keep);
        NDArray h = regionFeatures(Contrastive.rows(v.out().tokens().get(Modality.VIDEO), keep));     // (n, R^2 D)
        NDManager m = h.getManager();
        Map<String, NDArray> terms = new LinkedHashMap<>();
        terms.put(NAME + "/region", crossEntropy(region.forward(h), oneHot(m, y.stream().mapToInt(Labels::region).toArray(), regionClasses())));
        terms.put(NAME + "/direction", crossEntropy(direction.forward(h), oneHot(m, y.stream().mapToInt(Labels::direction).toArray(), cfg.directions())));
        terms.put(NAME + "/hue", crossEntropy(hue.forward(h), oneHot(m, y.stream().mapToInt(Labels::hue).toArray(), cfg.hues() + 1)));
        return terms;
    }

    /**
     * On the centred held-out clips with video and motion: the accuracy of each head, next to the share of the most
     * frequent held-out label (always predicting it; a stricter baseline than the most frequent training label).
     * motion_statistics/accuracy is the mean of the region and direction accuracies, majority the mean of theirs.
     */
    @Override
    public Map<String, Double> measure(HeldOut h) throws InterruptedException {
        List<Batch.Decoded> samples = h.centred(Set.of(Modality.VIDEO, Modality.MOTION), Needs.NONE).stream()
                .filter(d -> d.items().containsKey(Modality.VIDEO) && d.items().containsKey(Modality.MOTION)).toList();
        List<Labels> truth = new ArrayList<>();
        List<Labels> predicted = new ArrayList<>();
        Map<Modality, long[]> shapes = Map.of(Modality.VIDEO, h.shapes().get(Modality.VIDEO), Modality.MOTION, h.shapes().get(Modality.MOTION));
        h.forEachBatch(samples, (sm, chunk, from) -> {
            Batch batch = Batch.collate(sm, chunk, shapes);
            NDArray tokens = h.model().forward(Map.of(Modality.VIDEO, batch.input(Modality.VIDEO)), Map.of(), false)
                    .tokens().get(Modality.VIDEO);                                                      // (B, N, D)
            NDArray pooled = regionFeatures(tokens);                                                     // (B, R^2 D)
            long[] r = region.forward(pooled).argMax(1).toLongArray();
            long[] a = direction.forward(pooled).argMax(1).toLongArray();
            long[] c = hue.forward(pooled).argMax(1).toLongArray();
            for (int i = 0; i < r.length; i++) {
                predicted.add(new Labels((int) r[i], (int) a[i], (int) c[i]));
            }
            boolean[] all = new boolean[chunk.size()];
            java.util.Arrays.fill(all, true);
            truth.addAll(labels(batch, all));
        });
        Map<String, Double> out = new LinkedHashMap<>();
        out.put(NAME + "/n", (double) truth.size());
        if (truth.isEmpty()) {
            return out;
        }
        double[] acc = new double[3], major = new double[3];
        String[] names = {"region", "direction", "hue"};
        for (int k = 0; k < 3; k++) {
            int kk = k;
            int[] t = truth.stream().mapToInt(l -> get(l, kk)).toArray();
            int[] p = predicted.stream().mapToInt(l -> get(l, kk)).toArray();
            acc[k] = accuracy(p, t);
            major[k] = Classification.majorityShare(t);
            out.put(NAME + "/" + names[k] + "_accuracy", acc[k]);
            out.put(NAME + "/" + names[k] + "_majority", major[k]);
        }
        out.put(NAME + "/accuracy", (acc[0] + acc[1]) / 2);
        out.put(NAME + "/majority", (major[0] + major[1]) / 2);
        return out;
    }

    private static int get(Labels l, int k) {
        return k == 0 ? l.region() : k == 1 ? l.direction() : l.hue();
    }

    private int regionClasses() {
        return cfg.regions() * cfg.regions();
    }

    /** The labels of the kept samples, from the batch's motion field (B, T, gh, gw, 2) and normalised frames (B, T, H, W, 3). */
    List<Labels> labels(Batch batch, boolean[] keep) {
        NDArray field = batch.input(Modality.MOTION), video = batch.input(Modality.VIDEO);
        long[] fs = field.getShape().getShape(), vs = video.getShape().getShape();
        float[] f = field.toFloatArray(), x = video.toFloatArray();
        int fPer = f.length / (int) fs[0], vPer = x.length / (int) vs[0];
        List<Labels> out = new ArrayList<>();
        for (int i = 0; i < keep.length; i++) {
            if (keep[i]) {
                float[] rgb = new float[vPer];
                for (int j = 0; j < vPer; j++) { // back to [0, 1]: pixel = normalised * std + mean, per channel
                    int ch = j % 3;
                    rgb[j] = x[i * vPer + j] * std[ch] + mean[ch];
                }
                out.add(labels(java.util.Arrays.copyOfRange(f, i * fPer, (i + 1) * fPer), new int[] {(int) fs[1], (int) fs[2], (int) fs[3]},
                        rgb, new int[] {(int) vs[1], (int) vs[2], (int) vs[3]}, cfg.regions(), cfg.directions(), cfg.hues(), cfg.saturation()));
            }
        }
        return out;
    }

    /**
     * One clip's labels.
     *
     * @param field (T, gh, gw, 2) row-major, x right and y down
     * @param fieldShape {T, gh, gw}
     * @param rgb (T', H, W, 3) row-major in [0, 1]
     * @param frameShape {T', H, W}
     */
    static Labels labels(float[] field, int[] fieldShape, float[] rgb, int[] frameShape, int regions, int directions, int hues,
            float saturation) {
        int t = fieldShape[0], gh = fieldShape[1], gw = fieldShape[2];
        double[] magnitude = new double[regions * regions], sx = new double[regions * regions], sy = new double[regions * regions];
        for (int f = 0; f < t; f++) {
            for (int y = 0; y < gh; y++) {
                for (int x = 0; x < gw; x++) {
                    int at = ((f * gh + y) * gw + x) * 2, r = (y * regions / gh) * regions + x * regions / gw;
                    float vx = field[at], vy = field[at + 1];
                    magnitude[r] += Math.sqrt(vx * vx + vy * vy);
                    sx[r] += vx;
                    sy[r] += vy;
                }
            }
        }
        int best = Classification.argmax(magnitude);
        double angle = Math.atan2(sy[best], sx[best]);                      // (-pi, pi], from +x toward +y (down)
        double bin = 2 * Math.PI / directions;
        int dir = (int) Math.floor((angle + bin / 2 + 2 * Math.PI) / bin) % directions;
        return new Labels(best, dir, dominantHue(rgb, frameShape, best / regions, best % regions, regions, hues, saturation));
    }

    /** The most common hue bin of region (ry, rx)'s pixels with HSV saturation at least s; hues (the grey class) when none. */
    static int dominantHue(float[] rgb, int[] frameShape, int ry, int rx, int regions, int hues, float s) {
        int frames = frameShape[0], h = frameShape[1], w = frameShape[2];
        double[] votes = new double[hues + 1];
        for (int f = 0; f < frames; f++) {
            for (int y = ry * h / regions; y < (ry + 1) * h / regions; y++) {
                for (int x = rx * w / regions; x < (rx + 1) * w / regions; x++) {
                    int at = ((f * h + y) * w + x) * 3;
                    votes[hueBin(rgb[at], rgb[at + 1], rgb[at + 2], hues, s)]++;
                }
            }
        }
        votes[hues] = 0; // grey pixels do not vote; the grey class wins only when no pixel has a hue
        return java.util.Arrays.stream(votes).sum() == 0 ? hues : Classification.argmax(votes);
    }

    /** HSV hue of one pixel in one of hues bins (bin 0 starts at red), or hues when its saturation is below s. */
    static int hueBin(float r, float g, float b, int hues, float s) {
        float max = Math.max(r, Math.max(g, b)), min = Math.min(r, Math.min(g, b));
        if (max <= 0 || (max - min) / max < s || max == min) {
            return hues;
        }
        double h; // in sixths of the circle
        if (max == r) {
            h = (g - b) / (max - min);
        } else if (max == g) {
            h = 2 + (b - r) / (max - min);
        } else {
            h = 4 + (r - g) / (max - min);
        }
        h = (h + 6) % 6 / 6;                                               // [0, 1)
        return Math.min(hues - 1, (int) (h * hues));
    }

    /** -1/n sum_i log softmax(logits_i) . y_i: logits (n, K), one-hot y (n, K) -> (). */
    static NDArray crossEntropy(NDArray logits, NDArray y) {
        long n = logits.getShape().get(0);
        return org.sensorium.model.Layers.scale(logits.logSoftmax(1).mul(y).sum(), -1f / n);
    }

    static NDArray oneHot(NDManager m, int[] labels, int classes) {
        float[][] y = new float[labels.length][classes];
        for (int i = 0; i < labels.length; i++) {
            y[i][labels[i]] = 1f;
        }
        return m.create(y);
    }

    static double accuracy(int[] predicted, int[] truth) {
        int hit = 0;
        for (int i = 0; i < truth.length; i++) {
            hit += predicted[i] == truth[i] ? 1 : 0;
        }
        return (double) hit / truth.length;
    }
}
