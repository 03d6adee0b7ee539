package org.sensorium.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class LinearProbeTest {

    @Test
    void separablePairReachesTheHandWorkedOptimum() {
        // x = -1 is class 0, x = +1 is class 1. By symmetry the optimum has w1 = -w0 = a and zero biases, so
        // f(a) = log(1 + e^(-2a)) + (l2/2)(a^2 + a^2); f'(a) = 0 <=> sigmoid(-2a) = l2 a.
        // With l2 = 0.1 (bisection): a = 1.064017.
        float[][] x = {{-1}, {1}};
        int[] y = {0, 1};
        LinearProbe.Model m = LinearProbe.fit(x, y, 2, 0.1);
        double[] t = m.theta();                              // (C, D + 1) = w0, b0, w1, b1
        assertEquals(-1.064017, t[0], 1e-4);
        assertEquals(1.064017, t[2], 1e-4);
        assertEquals(0, t[1], 1e-4);
        assertEquals(0, t[3], 1e-4);
        double[][] s = m.scores(x);
        assertTrue(s[0][0] > s[0][1] && s[1][1] > s[1][0]);
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        float[][] x = {{0.6f, 0.8f}, {-1, 0}, {0, -1}, {0.3f, 0.2f}};
        int[] y = {0, 1, 2, 1};
        double[] theta = {0.1, -0.2, 0.3, 0.4, 0.5, -0.6, -0.7, 0.8, 0.9};
        LinearProbe.Eval e = LinearProbe.loss(theta, x, y, 3, 0.05);
        for (int i = 0; i < theta.length; i++) {
            double[] plus = theta.clone(), minus = theta.clone();
            plus[i] += 1e-6;
            minus[i] -= 1e-6;
            double numeric = (LinearProbe.loss(plus, x, y, 3, 0.05).value() - LinearProbe.loss(minus, x, y, 3, 0.05).value()) / 2e-6;
            assertEquals(numeric, e.gradient()[i], 1e-6, "theta[" + i + "]");
        }
    }

    @Test
    void sweepPicksOnAStratifiedValidationShareAndRefits() {
        // Three classes on the unit circle at 0, 120, 240 degrees, 10 points each jittered by +-10 degrees.
        int n = 30;
        float[][] x = new float[n][];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % 3;
            double a = Math.toRadians(120 * y[i] + (i / 3 - 4.5) * 2);
            x[i] = new float[] {(float) Math.cos(a), (float) Math.sin(a)};
        }
        boolean[] val = LinearProbe.carve(y, 3, 0.2, 7);
        int[] perClass = new int[3];
        for (int i = 0; i < n; i++) {
            perClass[y[i]] += val[i] ? 1 : 0;
        }
        assertEquals(List.of(2, 2, 2), List.of(perClass[0], perClass[1], perClass[2])); // round(0.2 * 10) each
        LinearProbe.Sweep s = LinearProbe.sweep(x, y, 3, List.of(1e-4, 1e-2, 10.0), 0.2, 7);
        assertEquals(24, s.trainSamples());
        assertEquals(6, s.valSamples());
        // every strength separates the held-out 6 (even l2 = 10 keeps the weights' directions): the tie goes to the strongest
        s.validation().values().forEach(acc -> assertEquals(1.0, acc, 1e-12));
        assertEquals(10.0, s.picked(), 1e-12);
        assertEquals(1.0, Classification.score(s.model().scores(x), y, List.of("a", "b", "c")).top1(), 1e-12);
    }
}
