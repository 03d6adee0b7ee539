package org.sensorium.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.config.ConfigException;

class ClassificationTest {

    @Test
    void topKAndMeanPerClassFromScores() {
        // 6 classes (so top-5 is reported). Ranks of the truth, ties counting against it:
        // s0 truth 0 [5 1 1 1 1 1] -> 1;  s1 truth 1 [5 4 1 1 1 1] -> 2;
        // s2 truth 2 [6 5 0 4 3 2] -> 6;  s3 truth 0 [1 1 0 0 0 0] -> 2 (tie with class 1).
        // top1 = 1/4, top5 = 3/4; per class: 0 -> 1/2, 1 -> 0, 2 -> 0; mean = 1/6.
        double[][] s = {{5, 1, 1, 1, 1, 1}, {5, 4, 1, 1, 1, 1}, {6, 5, 0, 4, 3, 2}, {1, 1, 0, 0, 0, 0}};
        Classification.Result r = Classification.score(s, new int[] {0, 1, 2, 0}, List.of("a", "b", "c", "d", "e", "f"));
        assertEquals(0.25, r.top1(), 1e-12);
        assertEquals(0.75, r.top5(), 1e-12);
        assertEquals(1 / 6.0, r.meanPerClassTop1(), 1e-12);
        assertEquals(Map.of("a", 0.5, "b", 0.0, "c", 0.0), r.perClass());
        // argmax (first of ties) is class 0 for every sample: rows = true class
        assertArrayEquals(new int[] {2, 0, 0, 0, 0, 0}, r.confusion()[0]);
        assertArrayEquals(new int[] {1, 0, 0, 0, 0, 0}, r.confusion()[1]);
        assertArrayEquals(new int[] {1, 0, 0, 0, 0, 0}, r.confusion()[2]);
        assertEquals(1 / 6.0, r.metrics().get("chance_top1"), 1e-12);

        Classification.Result three = Classification.score(new double[][] {{0, 1, 0}}, new int[] {1}, List.of("a", "b", "c"));
        assertTrue(Double.isNaN(three.top5()) && !three.metrics().containsKey("top5")); // top-5 of 3 classes is trivial
    }

    @Test
    void knnVotesAreWeightedByTemperature() {
        // neighbours by similarity: 0.9 (class 0), 0.8 (1), 0.7 (1), 0.1 (0); k = 3 keeps the first three.
        // T = 0.1: class 0 gets e^9 = 8103.08, class 1 e^8 + e^7 = 2980.96 + 1096.63 = 4077.59 -> class 0,
        // though two of the three neighbours are class 1. T = 1: e^0.9 = 2.4596 vs e^0.8 + e^0.7 = 4.2393 -> class 1.
        double[] sims = {0.1, 0.9, 0.7, 0.8};
        int[] labels = {0, 0, 1, 1};
        double[] sharp = Classification.knnVotes(sims, labels, 2, 3, 0.1);
        assertEquals(Math.exp(9), sharp[0], 1e-6);
        assertEquals(Math.exp(8) + Math.exp(7), sharp[1], 1e-6);
        assertEquals(0, Classification.argmax(sharp));
        double[] soft = Classification.knnVotes(sims, labels, 2, 3, 1.0);
        assertEquals(2.4596, soft[0], 1e-4);
        assertEquals(4.2393, soft[1], 1e-4);
        assertEquals(1, Classification.argmax(soft));
    }

    /** Unit rows, a third on a coarse grid (many exact ties), every seventh a copy of another row. */
    private static float[][] tiedRows(Random rnd, int n, int width) {
        float[][] x = new float[n][];
        for (int i = 0; i < n; i++) {
            x[i] = i % 3 == 0 ? RetrievalTest.grid(rnd, width) : RetrievalTest.unit(rnd, width);
        }
        for (int i = 0; i < n; i += 7) {
            x[i] = x[(i * 13 + 3) % n].clone();
        }
        return x;
    }

    @Test
    void blockedKnnEqualsTheScalarLoopWithTies() {
        Random rnd = new Random(5);
        float[][] train = tiedRows(rnd, 2000, 32), test = tiedRows(rnd, 700, 32);
        int[] labels = new int[train.length];
        for (int j = 0; j < labels.length; j++) {
            labels[j] = rnd.nextInt(10);
        }
        for (int k : new int[] {1, 5, 20, 2500}) {
            assertArrayEquals(Classification.scalarKnn(test, train, labels, 10, k, 0.07),
                    Classification.knn(test, train, labels, 10, k, 0.07), "k = " + k);
        }
        // blocks of 8 queries x 125 candidates: the running top-k carries across sixteen blocks of candidates
        BlockedDots.Nearest near = BlockedDots.nearest(List.of(test), List.of(train), 20, BlockedDots.norms(List.of(test)),
                BlockedDots.norms(List.of(train)), 8 * 125);
        double[][] sims = Classification.scalarSimilarities(test, train);
        for (int i = 0; i < test.length; i++) {
            double[] row = sims[i];
            int[] best = java.util.stream.IntStream.range(0, train.length).boxed().sorted(
                    (a, b) -> Double.compare(row[b], row[a])).mapToInt(Integer::intValue).limit(20).toArray();
            assertArrayEquals(best, near.index()[i], "query " + i);
        }
    }

    @Test
    void blockedSimilaritiesOrderEveryRowAsTheScalarLoop() {
        Random rnd = new Random(11);
        float[][] queries = tiedRows(rnd, 900, 48), keys = tiedRows(rnd, 60, 48);
        double[][] blocked = Classification.similarities(queries, keys), scalar = Classification.scalarSimilarities(queries, keys);
        int[] truth = new int[queries.length];
        for (int i = 0; i < queries.length; i++) {
            truth[i] = rnd.nextInt(keys.length);
            for (int a = 0; a < keys.length; a++) {
                assertEquals(scalar[i][a], blocked[i][a], 1e-5);
                for (int b = 0; b < keys.length; b++) {
                    assertEquals(Double.compare(scalar[i][a], scalar[i][b]), Double.compare(blocked[i][a], blocked[i][b]));
                }
            }
        }
        List<String> names = new ArrayList<>();
        for (int c = 0; c < keys.length; c++) {
            names.add("c" + c);
        }
        Classification.Result b = Classification.score(blocked, truth, names), s2 = Classification.score(scalar, truth, names);
        assertEquals(s2.top1(), b.top1());
        assertEquals(s2.top5(), b.top5());
        for (int c = 0; c < keys.length; c++) {
            assertArrayEquals(s2.confusion()[c], b.confusion()[c]);
        }
    }

    @Test
    void promptEnsembleIsTheRenormalisedMean() {
        // (1, 0) and (0.6, 0.8): mean (0.8, 0.4), norm sqrt(0.8) = 0.894427 -> (0.894427, 0.447214)
        float[] e = Classification.ensemble(List.of(new float[] {1, 0}, new float[] {0.6f, 0.8f}));
        assertArrayEquals(new float[] {0.894427f, 0.447214f}, e, 1e-5f);
    }

    private static final List<String> LABELS = List.of("a", "b", "c", "d");

    /**
     * Rows = true, columns = predicted:
     * <pre>
     *        a  b  c  d   | row
     *   a    3  1  0  0   | 4
     *   b    0  4  1  0   | 5
     *   c    1  0  0  1   | 2
     *   d    0  0  0  0   | 0     (d never true, predicted once)
     *  col   4  5  1  1   | 11
     * </pre>
     * accuracy = 7/11; per class a 3/4, b 4/5, c 0/2, d NaN; balanced = (0.75 + 0.8 + 0) / 3 = 0.516667;
     * F1: a 2*3/(6+1+1) = 0.75, b 8/(8+1+1) = 0.8, c 0, d 0 (predicted, never true) -> macro (1.55)/4 = 0.3875.
     */
    private static final long[][] CONFUSION = {{3, 1, 0, 0}, {0, 4, 1, 0}, {1, 0, 0, 1}, {0, 0, 0, 0}};

    @Test
    void metricsOfAHandWorkedConfusionMatrix() {
        Classification.Scores s = Classification.fromConfusion(LABELS, CONFUSION);
        assertEquals(11, s.n());
        assertEquals(7.0 / 11, s.accuracy(), 1e-12);
        assertEquals(0.75, s.perClass().get("a"), 1e-12);
        assertEquals(0.8, s.perClass().get("b"), 1e-12);
        assertEquals(0.0, s.perClass().get("c"), 1e-12);
        assertTrue(Double.isNaN(s.perClass().get("d")));
        assertEquals(1.55 / 3, s.balancedAccuracy(), 1e-12);
        assertEquals(0.3875, s.macroF1(), 1e-12);
    }

    @Test
    void scoreBuildsTheConfusionMatrixRowsTrue() {
        // the same 11 samples as (truth, prediction) pairs
        int[] truth = {0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2};
        int[] pred = {0, 0, 0, 1, 1, 1, 1, 1, 2, 0, 3};
        Classification.Scores s = Classification.score(LABELS, truth, pred);
        for (int i = 0; i < 4; i++) {
            assertArrayEquals(CONFUSION[i], s.confusion()[i], "row " + i);
        }
        assertEquals(0.3875, s.macroF1(), 1e-12);
        assertEquals(List.of(List.of(3L, 1L, 0L, 0L), List.of(0L, 4L, 1L, 0L), List.of(1L, 0L, 0L, 1L), List.of(0L, 0L, 0L, 0L)),
                s.confusionMap().get("matrix"));
    }

    @Test
    void perfectAndSummed() {
        // two seeds' matrices summed: [[2,0],[0,1]] + [[1,1],[0,2]] = [[3,1],[0,3]]: accuracy 6/7, balanced (3/4 + 1) / 2
        long[][] sum = Classification.sum(List.of(new long[][] {{2, 0}, {0, 1}}, new long[][] {{1, 1}, {0, 2}}));
        Classification.Scores s = Classification.fromConfusion(List.of("x", "y"), sum);
        assertEquals(6.0 / 7, s.accuracy(), 1e-12);
        assertEquals(0.875, s.balancedAccuracy(), 1e-12);
        // F1 x: 6/(6+0+1) = 6/7; y: 6/(6+1+0) = 6/7
        assertEquals(6.0 / 7, s.macroF1(), 1e-12);
        assertEquals(1.0, Classification.score(List.of("x", "y"), new int[] {0, 1}, new int[] {0, 1}).macroF1(), 1e-12);
    }
}
