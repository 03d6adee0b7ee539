package org.sensorium.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class AurocTest {

    @Test
    void pairsOrderedRightWithTiesAsHalf() {
        // positives score 0.9, 0.4, 0.4; negatives 0.4, 0.1. The 6 (positive, negative) pairs:
        //   0.9 > 0.4 -> 1    0.9 > 0.1 -> 1
        //   0.4 = 0.4 -> 1/2  0.4 > 0.1 -> 1      (twice: both positives at 0.4)
        // sum = 2 + 1.5 + 1.5 = 5, AUROC = 5/6.
        double[] s = {0.9, 0.4, 0.4, 0.4, 0.1};
        boolean[] y = {true, true, true, false, false};
        assertEquals(5 / 6.0, Auroc.of(s, y), 1e-12);
    }

    @Test
    void perfectReversedAndConstant() {
        boolean[] y = {false, true, false, true};
        assertEquals(1.0, Auroc.of(new double[] {0, 1, 0.2, 0.8}, y), 1e-12);
        assertEquals(0.0, Auroc.of(new double[] {1, 0, 0.8, 0.2}, y), 1e-12);
        assertEquals(0.5, Auroc.of(new double[] {3, 3, 3, 3}, y), 1e-12); // every pair tied
        assertThrows(IllegalArgumentException.class, () -> Auroc.of(new double[] {1, 2}, new boolean[] {true, true}));
    }

    @Test
    void bootstrapIsSeededAndBracketsTheEstimate() {
        double[] s = {0.9, 0.8, 0.7, 0.6, 0.55, 0.5, 0.4, 0.3, 0.2, 0.1};
        boolean[] y = {true, true, false, true, false, true, false, false, true, false};
        Auroc.Interval a = Auroc.bootstrap(s, y, 1000, 0.95, 7);
        Auroc.Interval b = Auroc.bootstrap(s, y, 1000, 0.95, 7);
        assertEquals(a, b);
        assertEquals(Auroc.of(s, y), a.auroc(), 1e-12);
        assertTrue(a.lo() <= a.auroc() && a.auroc() <= a.hi() && a.lo() >= 0 && a.hi() <= 1, a.toString());
        // the quantile interpolates: of {0, 1, 2, 3} the 0.5-quantile is 1.5
        assertEquals(1.5, Auroc.quantile(new double[] {0, 1, 2, 3}, 0.5), 1e-12);
    }
}
