package org.sensorium.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.sensorium.data.ManifestEntry.Segment;

class SegmentationTest {

    @Test
    void hungarianFindsTheCheapestAssignmentByHand() {
        // The six assignments cost 6, 11, 5, 9, 7, 6: the cheapest is 0->1 (1), 1->0 (2), 2->2 (2) = 5.
        int[] a = Segmentation.hungarian(new double[][] {{4, 1, 3}, {2, 0, 5}, {3, 2, 2}});
        assertArrayEquals(new int[] {1, 0, 2}, a);
    }

    @Test
    void hungarianAgreesWithBruteForce() {
        SplittableRandom r = new SplittableRandom(5);
        for (int trial = 0; trial < 50; trial++) {
            int n = 1 + r.nextInt(6);
            double[][] c = new double[n][n];
            for (double[] row : c) {
                for (int j = 0; j < n; j++) {
                    row[j] = r.nextInt(10) - 5;
                }
            }
            int[] a = Segmentation.hungarian(c);
            assertEquals(best(c, new int[n], new boolean[n], 0), cost(c, a), 1e-9, "trial " + trial);
        }
    }

    @Test
    void mofMatchesClustersToActivitiesByAKnownPermutation() {
        // Activities 0 0 0 1 1 2 2 2 2 2; clusters renamed 0 -> 7, 1 -> 3, 2 -> 5, frame 2 wrong (3 for 7):
        // matched 7 -> 0 (2 frames), 3 -> 1 (2), 5 -> 2 (5): 9 of 10.
        int[] truth = {0, 0, 0, 1, 1, 2, 2, 2, 2, 2};
        int[] pred = {7, 7, 3, 3, 3, 5, 5, 5, 5, 5};
        Segmentation.Match m = Segmentation.match(pred, truth);
        assertEquals(0.9, m.mof(), 1e-12);
        assertEquals(Map.of(7, 0, 3, 1, 5, 2), m.mapping());
        // More clusters than activities: each activity takes one cluster, the others' frames are wrong.
        assertEquals(0.5, Segmentation.mof(new int[] {0, 1, 2, 3}, new int[] {0, 0, 1, 1}), 1e-12);
        // Fewer: one cluster for three activities covers its best activity only.
        assertEquals(0.5, Segmentation.mof(new int[] {4, 4, 4, 4}, new int[] {0, 0, 1, 2}), 1e-12);
    }

    @Test
    void frameLabelsTakeTheSegmentAtEachFramesMidpoint() {
        List<Segment> segs = List.of(new Segment(0, 2, "a"), new Segment(2, 3, "b"));
        // clip from 1 s, 2 s long, 4 frames: midpoints 1.25, 1.75, 2.25, 2.75
        assertArrayEquals(new String[] {"a", "a", "b", "b"}, Segmentation.frameLabels(segs, 1, 2, 4));
        String[] past = Segmentation.frameLabels(segs, 2, 2, 2); // midpoints 2.5, 3.5: the second is after the last segment
        assertEquals("b", past[0]);
        assertNull(past[1]);
    }

    @Test
    void scoreWithEqualSplitBaselineByHand() {
        assertArrayEquals(new int[] {0, 0, 0, 1, 1}, Segmentation.equalSplit(5, 2));
        // Two recordings of 4 frames: a a b b and a b b b. Predicted clusters follow the activities under renaming;
        // the equal split (0 0 1 1 per recording) misses frame 5: MoF 7/8.
        List<String> labels = List.of("a", "a", "b", "b", "a", "b", "b", "b");
        int[] pred = {1, 1, 0, 0, 1, 0, 0, 0};
        int[] split = {0, 0, 1, 1, 0, 0, 1, 1};
        Segmentation.Result r = Segmentation.score(pred, labels, split);
        assertEquals(8, r.n());
        assertEquals(1.0, r.mof(), 1e-12);
        assertEquals(1.0, r.nmi(), 1e-12);
        assertEquals(7.0 / 8, r.equalSplitMof(), 1e-12);
    }

    private static double cost(double[][] c, int[] a) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += c[i][a[i]];
        }
        return s;
    }

    private static double best(double[][] c, int[] a, boolean[] used, int row) {
        if (row == c.length) {
            return cost(c, a);
        }
        double min = Double.POSITIVE_INFINITY;
        for (int j = 0; j < c.length; j++) {
            if (!used[j]) {
                used[j] = true;
                a[row] = j;
                min = Math.min(min, best(c, a, used, row + 1));
                used[j] = false;
            }
        }
        return min;
    }

    @Test
    void segmentF1MatchesSegmentsAtAnOverlap() {
        // truth runs A = 0 [0,4), B = 1 [4,8), C = 2 [8,10); predicted runs 0 [0,3), 1 [3,9), 0 [9,10).
        // IoU: [0,3) vs A = 3/4; [3,9) vs B = 4/6; [9,10) vs A = 0 -> FP. C never matched -> FN.
        int[] truth = {0, 0, 0, 0, 1, 1, 1, 1, 2, 2};
        int[] pred = {0, 0, 0, 1, 1, 1, 1, 1, 1, 0};
        assertEquals(3, Segmentation.runs(pred).size());
        Segmentation.SegmentCounts half = Segmentation.segmentCounts(pred, truth, 0.5);
        assertEquals(new Segmentation.SegmentCounts(2, 1, 1), half);
        assertEquals(2 / 3.0, half.f1(), 1e-12);                  // P = R = 2/3
        Segmentation.SegmentCounts strict = Segmentation.segmentCounts(pred, truth, 0.7);
        assertEquals(new Segmentation.SegmentCounts(1, 2, 2), strict); // 4/6 < 0.7
        assertEquals(1 / 3.0, strict.f1(), 1e-12);
        // A true segment is taken once: truth 0 [0,4); predicted 0 [0,2) (IoU 1/2), 1 [2,3), 0 [3,4) (IoU 1/4, A taken).
        Segmentation.SegmentCounts once = Segmentation.segmentCounts(new int[] {0, 0, 1, 0}, new int[] {0, 0, 0, 0}, 0.25);
        assertEquals(new Segmentation.SegmentCounts(1, 2, 0), once);
        assertEquals(0.5, once.f1(), 1e-12);                      // P = 1/3, R = 1
        assertEquals(0.5, half.plus(strict).f1(), 1e-12);          // counts add over recordings: (3, 3, 3)
    }

    @Test
    void f1MapsClustersOverAllFramesThenCountsPerRecording() {
        // Clusters 5, 7, 9 against classes 0, 1: shared frames 5-0: 4, 7-1: 3, 9-1: 1, so 5 -> 0, 7 -> 1, 9 unmatched (-1).
        // Recording 0: predicted [0 0 1 -1] vs [0 0 1 1]: [0,2) IoU 1, [2,3) IoU 1/2, [3,4) a false positive -> (2, 1, 0).
        // Recording 1: [1 1 0 0] exactly -> (2, 0, 0). Sum (4, 1, 0): P = 4/5, R = 1, F1 = 8/9 at 0.1, 0.25 and 0.5.
        int[] clusters = {5, 5, 7, 9, 7, 7, 5, 5};
        int[] classes = {0, 0, 1, 1, 1, 1, 0, 0};
        int[] recording = {0, 0, 0, 0, 1, 1, 1, 1};
        Map<String, Double> f1 = Segmentation.f1(clusters, classes, recording);
        assertEquals(List.of("F1@10", "F1@25", "F1@50"), List.copyOf(f1.keySet()));
        f1.values().forEach(v -> assertEquals(8 / 9.0, v, 1e-12));
    }
}
