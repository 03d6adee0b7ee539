package org.sensorium.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class PcaTest {
    private static final double EPS = 1e-9;

    @Test
    void twoDimensionsPrincipalAxisIsTheDiagonal() {
        // Centred rows (-2,-2), (2,2), (-1,1), (1,-1), shifted by (10,-5) so centring is tested too.
        // Covariance (N - 1 = 3): xx = (4+4+1+1)/3 = 10/3, yy = 10/3, xy = (4+4-1-1)/3 = 2
        //   -> [[10/3, 2], [2, 10/3]]: eigenvalues 10/3 + 2 = 16/3 along (1,1)/sqrt2 and 10/3 - 2 = 4/3 along (1,-1)/sqrt2.
        // Projections on (1,1)/sqrt2: -4/sqrt2 = -2 sqrt2, 2 sqrt2, 0, 0; on (1,-1)/sqrt2 (sign: first component > 0): 0, 0, -sqrt2, sqrt2.
        double[][] rows = {{8, -7}, {12, -3}, {9, -4}, {11, -6}};
        Pca.Result p = Pca.fit(rows, 2);
        double s = Math.sqrt(0.5), r2 = Math.sqrt(2);
        assertArrayEquals(new double[] {s, s}, p.axes()[0], EPS);
        assertArrayEquals(new double[] {s, -s}, p.axes()[1], EPS);
        assertArrayEquals(new double[] {16.0 / 3, 4.0 / 3}, p.variance(), EPS);
        assertEquals(20.0 / 3, p.totalVariance(), EPS);
        double[][] expected = {{-2 * r2, 0}, {2 * r2, 0}, {0, -r2}, {0, r2}};
        for (int i = 0; i < rows.length; i++) {
            assertArrayEquals(expected[i], p.projected()[i], EPS, "row " + i);
        }
    }

    @Test
    void threeDimensionsKeepsTheTwoLargestAxes() {
        // a = (1,2,2) and b = (2,-2,1) are orthogonal, both of norm 3. Rows 2a, -2a, b, -b (mean 0):
        // covariance = (2 (2a)(2a)^T + 2 b b^T) / 3 = (8 a a^T + 2 b b^T) / 3, so the variance along a/3 is 8 * 9 / 3 = 24,
        // along b/3 it is 2 * 9 / 3 = 6, and 0 along a x b. Trace 30: the axes explain 80% and 20%.
        // Signs: a/3 = (1/3, 2/3, 2/3) has positive largest components; b/3 = (2/3, -2/3, 1/3) ties in magnitude between
        // +2/3 and -2/3, and the first of equal magnitudes decides, so +b/3.
        // Projections on a/3: 2a . a/3 = 6, -6, 0, 0; on b/3: 0, 0, 3, -3.
        double[][] rows = {{2, 4, 4}, {-2, -4, -4}, {2, -2, 1}, {-2, 2, -1}};
        Pca.Result p = Pca.fit(rows, 2);
        assertEquals(2, p.axes().length);
        assertArrayEquals(new double[] {1.0 / 3, 2.0 / 3, 2.0 / 3}, p.axes()[0], 1e-9);
        assertArrayEquals(new double[] {2.0 / 3, -2.0 / 3, 1.0 / 3}, p.axes()[1], 1e-9);
        assertArrayEquals(new double[] {24, 6}, p.variance(), 1e-9);
        assertEquals(30, p.totalVariance(), 1e-9);
        double[][] expected = {{6, 0}, {-6, 0}, {0, 3}, {0, -3}};
        for (int i = 0; i < rows.length; i++) {
            assertArrayEquals(expected[i], p.projected()[i], 1e-9, "row " + i);
        }
    }

    @Test
    void oneDimensionGivesOneAxisAndTooFewRowsAreRefused() {
        Pca.Result p = Pca.fit(new double[][] {{1}, {3}}, 2);      // mean 2, variance ((−1)^2 + 1^2) / 1 = 2
        assertEquals(1, p.axes().length);
        assertArrayEquals(new double[] {2}, p.variance(), EPS);
        assertArrayEquals(new double[] {-1}, p.projected()[0], EPS);
        assertThrows(IllegalArgumentException.class, () -> Pca.fit(new double[][] {{1, 2}}, 2));
        assertThrows(IllegalArgumentException.class, () -> Pca.fit(new double[][] {{1, 2}, {3}}, 2));
    }
}
