package org.sensorium.objective;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SinkhornTest {

    @Test
    void temporalPriorByHand() {
        // n = 2 frames at relative times 1/4, 3/4; K = 2 clusters at 1/4, 3/4; sigma = 1/2:
        // log P = -d^2 / (2 * 1/4) = -2 d^2: 0 on the diagonal, -2 * (1/2)^2 = -0.5 off it.
        double[][] p = Sinkhorn.temporalPrior(2, 2, 0.5);
        assertEquals(0.0, p[0][0], 1e-12);
        assertEquals(-0.5, p[0][1], 1e-12);
        assertEquals(-0.5, p[1][0], 1e-12);
        assertEquals(0.0, p[1][1], 1e-12);
        // 3 frames (1/6, 1/2, 5/6), 2 clusters, sigma 1: frame 1 is halfway, -(1/4)^2 / 2 = -1/32 to both.
        double[][] q = Sinkhorn.temporalPrior(3, 2, 1.0);
        assertEquals(-1.0 / 32, q[1][0], 1e-12);
        assertEquals(-1.0 / 32, q[1][1], 1e-12);
        assertEquals(-(1.0 / 12) * (1.0 / 12) / 2, q[0][0], 1e-12);
    }

    @Test
    void oneIterationWithPriorByHand() {
        // Scores [[1, 0], [0, 0]] / eps 1 plus rho 2 times the prior above: l = [[1, -1], [-1, 0]].
        // Columns to 1/2: col 0 = [e, e^-1] / (e + e^-1) / 2 = [0.440399, 0.059601];
        //                 col 1 = [e^-1, 1] / (e^-1 + 1) / 2 = [0.134471, 0.365529].
        // Rows to 1/2, times n = 2: row 0 = [0.440399, 0.134471] / 0.574870 = [0.766084, 0.233916];
        //                          row 1 = [0.059601, 0.365529] / 0.425130 = [0.140195, 0.859805].
        double[][] q = Sinkhorn.plan(new double[][] {{1, 0}, {0, 0}}, 1.0, Sinkhorn.temporalPrior(2, 2, 0.5), 2.0, 1);
        assertEquals(0.766084, q[0][0], 1e-6);
        assertEquals(0.233916, q[0][1], 1e-6);
        assertEquals(0.140195, q[1][0], 1e-6);
        assertEquals(0.859805, q[1][1], 1e-6);
    }

    @Test
    void plansWithThePriorHaveTheRightMarginals() {
        SplittableRandom r = new SplittableRandom(3);
        int n = 12, k = 3;
        double[][] s = new double[n][k];
        for (double[] row : s) {
            for (int j = 0; j < k; j++) {
                row[j] = r.nextDouble(-1, 1);
            }
        }
        double[][] q = Sinkhorn.plan(s, 0.1, Sinkhorn.temporalPrior(n, k, 0.3), 1.0, 1000);
        for (double[] row : q) { // every frame's assignments sum to 1
            assertEquals(1.0, row[0] + row[1] + row[2], 1e-9);
        }
        for (int j = 0; j < k; j++) { // every cluster gets n / K = 4 frames' worth
            double col = 0;
            for (double[] row : q) {
                col += row[j];
            }
            assertEquals(4.0, col, 1e-6);
        }
    }

    @Test
    void columnMassesFromThePriorAreMetForAWindow() {
        // Frames of the first half of a recording: the prior expects mostly the first two of 4 clusters.
        double[] times = new double[10];
        for (int i = 0; i < 10; i++) {
            times[i] = (i + 0.5) / 20;
        }
        double[][] logPrior = Sinkhorn.temporalPrior(times, 4, 0.15);
        double[] b = Sinkhorn.priorMass(logPrior);
        assertEquals(1.0, b[0] + b[1] + b[2] + b[3], 1e-12);
        assertTrue(b[0] + b[1] > 0.85 && b[1] > b[2] && b[2] > b[3], java.util.Arrays.toString(b)); // [0.483, 0.413, 0.101, 0.003]
        // Over a whole recording the masses are symmetric and near 1/K (TOT's equipartition).
        double[] whole = Sinkhorn.priorMass(Sinkhorn.temporalPrior(40, 4, 0.15));
        assertEquals(whole[0], whole[3], 1e-12);
        assertEquals(0.25, whole[1], 0.02);
        SplittableRandom r = new SplittableRandom(9);
        double[][] s = new double[10][4];
        for (double[] row : s) {
            for (int j = 0; j < 4; j++) {
                row[j] = r.nextDouble(-1, 1);
            }
        }
        double[][] q = Sinkhorn.plan(s, 0.1, logPrior, 1.0, b, 2000);
        for (int j = 0; j < 4; j++) { // column j carries n b_j
            double col = 0;
            for (double[] row : q) {
                col += row[j];
            }
            assertEquals(10 * b[j], col, 1e-6);
        }
        for (double[] row : q) {
            assertEquals(1.0, row[0] + row[1] + row[2] + row[3], 1e-9);
        }
    }

    @Test
    void withFlatScoresThePriorOrdersTheAssignments() {
        int n = 20, k = 4;
        double[][] q = Sinkhorn.plan(new double[n][k], 0.05, Sinkhorn.temporalPrior(n, k, 0.2), 1.0, 20);
        int before = 0;
        for (int i = 0; i < n; i++) {
            int best = argmax(q[i]);
            assertTrue(best >= before, "frame " + i + " goes to cluster " + best + " after cluster " + before);
            before = best;
        }
        assertEquals(0, argmax(q[0]));
        assertEquals(k - 1, argmax(q[n - 1]));
        assertEquals(1, argmax(q[n / 4 + 1])); // frames 5..9 are the second quarter
        // Without the prior, flat scores leave every frame undecided.
        double[][] flat = Sinkhorn.plan(new double[n][k], 0.05, 20);
        assertEquals(0.25, flat[7][2], 1e-12);
    }

    private static int argmax(double[] x) {
        int best = 0;
        for (int j = 1; j < x.length; j++) {
            best = x[j] > x[best] ? j : best;
        }
        return best;
    }
}
