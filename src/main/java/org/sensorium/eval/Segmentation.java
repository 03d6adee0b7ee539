package org.sensorium.eval;

import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Unsupervised temporal segmentation scores: predicted clusters of frames against the true activity
 * of each frame. Cluster numbers are arbitrary, so clusters are first matched one-to-one to
 * activities by the Hungarian method, maximising the frames they share (over the whole evaluation
 * set at once, as TOT and CTE evaluate); MoF (mean over frames) is then the share of frames whose
 * matched cluster is their activity. A cluster left without an activity (more clusters than
 * activities) counts its frames as wrong. NMI ({@link ClusterMetrics#nmi}) needs no matching.
 */
public final class Segmentation {
    private Segmentation() {}

    /**
     * Frame-level scores over n frames.
     *
     * @param mof mean over frames after Hungarian matching
     * @param nmi arithmetic-mean NMI of clusters and activities
     * @param equalSplitMof MoF of the baseline that cuts every recording into K equal parts in order
     *     (K = clusters the model has), scored the same way: what the frame's time alone gives
     */
    public record Result(int n, int clusters, int classes, double mof, double nmi, double equalSplitMof) {
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("frames", n);
            m.put("clusters", clusters);
            m.put("classes", classes);
            m.put("mof", mof);
            m.put("nmi", nmi);
            m.put("equal_split_mof", equalSplitMof);
            return m;
        }
    }

    /** MoF after matching: clusters and classes are any ints, one per frame. */
    public static double mof(int[] clusters, int[] classes) {
        return match(clusters, classes).mof();
    }

    /**
     * The one-to-one matching of cluster values to class values that covers the most frames.
     *
     * @param mapping cluster value -> class value (clusters left unmatched are absent)
     */
    public record Match(double mof, Map<Integer, Integer> mapping) {}

    public static Match match(int[] clusters, int[] classes) {
        if (clusters.length != classes.length || clusters.length == 0) {
            throw new IllegalArgumentException("needs n > 0 frames in both, got " + clusters.length + " and " + classes.length);
        }
        int[] cu = values(clusters), cv = values(classes);
        Map<Integer, Integer> iu = index(cu), iv = index(cv);
        int size = Math.max(cu.length, cv.length);
        double[][] cost = new double[size][size]; // padded rows/columns cost 0: unmatched
        for (int i = 0; i < clusters.length; i++) {
            cost[iu.get(clusters[i])][iv.get(classes[i])] -= 1;
        }
        int[] assign = hungarian(cost);
        long right = 0;
        Map<Integer, Integer> mapping = new HashMap<>();
        for (int r = 0; r < cu.length; r++) {
            if (assign[r] < cv.length) {
                right += Math.round(-cost[r][assign[r]]);
                mapping.put(cu[r], cv[assign[r]]);
            }
        }
        return new Match((double) right / clusters.length, Map.copyOf(mapping));
    }

    /**
     * Minimum-cost assignment on a square cost matrix (n, n) by the Hungarian method with row and
     * column potentials (Kuhn-Munkres, Jonker-Volgenant style shortest augmenting paths), O(n^3).
     *
     * @return row i's column
     */
    public static int[] hungarian(double[][] cost) {
        int n = cost.length;
        for (double[] row : cost) {
            if (row.length != n) {
                throw new IllegalArgumentException("cost matrix must be square, got " + n + " x " + row.length);
            }
        }
        // 1-based: column 0 is a virtual column holding the row being inserted
        double[] u = new double[n + 1], v = new double[n + 1];
        int[] rowOf = new int[n + 1]; // column j's row (0 = free)
        int[] way = new int[n + 1];
        for (int i = 1; i <= n; i++) {
            rowOf[0] = i;
            int j0 = 0;
            double[] minv = new double[n + 1];
            Arrays.fill(minv, Double.POSITIVE_INFINITY);
            boolean[] used = new boolean[n + 1];
            do {
                used[j0] = true;
                int i0 = rowOf[j0], j1 = 0;
                double delta = Double.POSITIVE_INFINITY;
                for (int j = 1; j <= n; j++) {
                    if (!used[j]) {
                        double cur = cost[i0 - 1][j - 1] - u[i0] - v[j];
                        if (cur < minv[j]) {
                            minv[j] = cur;
                            way[j] = j0;
                        }
                        if (minv[j] < delta) {
                            delta = minv[j];
                            j1 = j;
                        }
                    }
                }
                for (int j = 0; j <= n; j++) {
                    if (used[j]) {
                        u[rowOf[j]] += delta;
                        v[j] -= delta;
                    } else {
                        minv[j] -= delta;
                    }
                }
                j0 = j1;
            } while (rowOf[j0] != 0);
            do { // augment along the path back to the virtual column
                int j1 = way[j0];
                rowOf[j0] = rowOf[j1];
                j0 = j1;
            } while (j0 != 0);
        }
        int[] out = new int[n];
        for (int j = 1; j <= n; j++) {
            out[rowOf[j] - 1] = j - 1;
        }
        return out;
    }

    /**
     * The true activity of each of a clip's frames: frame i covers [start + i s/T, start + (i+1) s/T)
     * of the span (s = clip seconds) and takes the label of the segment holding its midpoint; null
     * where no segment does.
     */
    public static String[] frameLabels(List<org.sensorium.data.ManifestEntry.Segment> segments, double clipStart,
            double clipSeconds, int frames) {
        double[] times = new double[frames];
        for (int i = 0; i < frames; i++) {
            times[i] = clipStart + (i + 0.5) * clipSeconds / frames;
        }
        return labelsAt(segments, times);
    }

    /** The label of the segment holding each time (seconds from the start of the span); null where none does. */
    public static String[] labelsAt(List<org.sensorium.data.ManifestEntry.Segment> segments, double[] times) {
        String[] out = new String[times.length];
        for (int i = 0; i < times.length; i++) {
            for (org.sensorium.data.ManifestEntry.Segment s : segments) {
                if (times[i] >= s.start() && times[i] < s.end()) {
                    out[i] = s.label();
                    break;
                }
            }
        }
        return out;
    }

    /** The equal-split baseline of one clip: frame i of T goes to part floor(i K / T) of K. */
    public static int[] equalSplit(int frames, int k) {
        int[] out = new int[frames];
        for (int i = 0; i < frames; i++) {
            out[i] = (int) ((long) i * k / frames);
        }
        return out;
    }

    /**
     * Scores predicted clusters against labels over many recordings' frames (flattened, frames without
     * a label already dropped).
     *
     * @param clusters cluster of each frame
     * @param labels activity of each frame
     * @param equalSplit the equal-split baseline's part of each frame
     */
    public static Result score(int[] clusters, List<String> labels, int[] equalSplit) {
        int[] classes = ClusterMetrics.codes(labels);
        return new Result(clusters.length, values(clusters).length, values(classes).length, mof(clusters, classes),
                ClusterMetrics.nmi(clusters, classes), mof(equalSplit, classes));
    }

    /** A segment of a frame sequence: a maximal run of one value over frames [start, end). */
    public record Run(int value, int start, int end) {}

    /** The maximal runs of equal values, in order. */
    public static List<Run> runs(int[] frames) {
        List<Run> out = new java.util.ArrayList<>();
        for (int i = 0, start = 0; i < frames.length; i++) {
            if (i == frames.length - 1 || frames[i + 1] != frames[i]) {
                out.add(new Run(frames[i], start, i + 1));
                start = i + 1;
            }
        }
        return out;
    }

    /** Segment matches of one or more sequences: true positives, false positives, false negatives. */
    public record SegmentCounts(int tp, int fp, int fn) {
        public SegmentCounts plus(SegmentCounts o) {
            return new SegmentCounts(tp + o.tp, fp + o.fp, fn + o.fn);
        }

        /** 2 P R / (P + R); 0 when nothing matched. */
        public double f1() {
            double p = tp / (double) Math.max(1, tp + fp), r = tp / (double) Math.max(1, tp + fn);
            return p + r == 0 ? 0 : 2 * p * r / (p + r);
        }
    }

    /**
     * Segment-level matching of one sequence (Lea et al. 2017, the F1@k of MS-TCN): each predicted
     * segment, in order, takes the true segment of the same value with the highest IoU; it is a true
     * positive when that IoU is at least {@code overlap} and the true segment was not taken before,
     * else a false positive. True segments never taken are false negatives.
     *
     * @param predicted value of each frame, already mapped to class values (e.g. by {@link #match})
     * @param truth class value of each frame
     */
    public static SegmentCounts segmentCounts(int[] predicted, int[] truth, double overlap) {
        if (predicted.length != truth.length || truth.length == 0) {
            throw new IllegalArgumentException("needs n > 0 frames in both, got " + predicted.length + " and " + truth.length);
        }
        List<Run> p = runs(predicted), t = runs(truth);
        boolean[] taken = new boolean[t.size()];
        int tp = 0, fp = 0;
        for (Run s : p) {
            int best = -1;
            double bestIou = 0;
            for (int j = 0; j < t.size(); j++) {
                Run g = t.get(j);
                if (g.value() == s.value()) {
                    double inter = Math.max(0, Math.min(s.end(), g.end()) - Math.max(s.start(), g.start()));
                    double iou = inter / (Math.max(s.end(), g.end()) - Math.min(s.start(), g.start()));
                    if (iou > bestIou) {
                        bestIou = iou;
                        best = j;
                    }
                }
            }
            if (best >= 0 && bestIou >= overlap && !taken[best]) {
                taken[best] = true;
                tp++;
            } else {
                fp++;
            }
        }
        return new SegmentCounts(tp, fp, t.size() - tp);
    }

    /** The overlaps of the F1@{10, 25, 50} of action segmentation work (MS-TCN). */
    public static final double[] OVERLAPS = {0.1, 0.25, 0.5};

    /**
     * Segment F1 at each of {@link #OVERLAPS}, keyed "F1@10", "F1@25", "F1@50": clusters are mapped to
     * classes by {@link #match} over all frames (unmatched clusters become -1, never right), then each
     * recording's frames, in order, are matched by {@link #segmentCounts}; counts add over recordings.
     *
     * @param recording which recording each frame belongs to; a recording's frames are in time order
     */
    public static Map<String, Double> f1(int[] clusters, int[] classes, int[] recording) {
        Map<Integer, Integer> mapping = match(clusters, classes).mapping();
        Map<Integer, List<Integer>> frames = new LinkedHashMap<>();
        for (int i = 0; i < recording.length; i++) {
            frames.computeIfAbsent(recording[i], r -> new java.util.ArrayList<>()).add(i);
        }
        Map<String, Double> out = new LinkedHashMap<>();
        for (double overlap : OVERLAPS) {
            SegmentCounts total = new SegmentCounts(0, 0, 0);
            for (List<Integer> at : frames.values()) {
                int[] pred = at.stream().mapToInt(i -> mapping.getOrDefault(clusters[i], -1)).toArray();
                int[] truth = at.stream().mapToInt(i -> classes[i]).toArray();
                total = total.plus(segmentCounts(pred, truth, overlap));
            }
            out.put("F1@" + Math.round(overlap * 100), total.f1());
        }
        return out;
    }

    private static int[] values(int[] x) {
        return Arrays.stream(x).distinct().sorted().toArray();
    }

    private static Map<Integer, Integer> index(int[] values) {
        Map<Integer, Integer> m = new HashMap<>();
        for (int i = 0; i < values.length; i++) {
            m.put(values[i], i);
        }
        return m;
    }
}
