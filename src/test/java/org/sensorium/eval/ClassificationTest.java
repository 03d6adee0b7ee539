package org.sensorium.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ClassificationTest {
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
