package org.sensorium.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class MatchingPairsTest {

    @Test
    void twoLabelsOfTwoForceTheNegativesByHand() {
        // labels x x y y: a caption of another label means 0,1 take 2,3's captions and 2,3 take 0,1's
        List<String> labels = List.of("x", "x", "y", "y");
        for (long seed = 1; seed <= 5; seed++) {
            MatchingPairs.Pairs p = MatchingPairs.matching(labels, seed);
            assertEquals(8, p.size());
            assertEquals(4, p.positives());                                    // one negative per positive
            assertArrayEquals(new int[] {0, 1, 2, 3, 0, 1, 2, 3}, p.a());      // every clip once in each class
            assertArrayEquals(new int[] {0, 1, 2, 3}, Arrays.copyOf(p.b(), 4)); // positives: the clip's own caption
            assertArrayEquals(new boolean[] {true, true, true, true, false, false, false, false}, p.positive());
            int[] neg = Arrays.copyOfRange(p.b(), 4, 8);
            assertTrue(neg[0] >= 2 && neg[1] >= 2 && neg[2] <= 1 && neg[3] <= 1, Arrays.toString(neg));
            assertEquals(6, neg[0] + neg[1] + neg[2] + neg[3]);               // 2 + 3 + 0 + 1: each caption once
        }
    }

    @Test
    void negativesAreAnotherLabelsCaptionEachOnceDrawnWithTheSeed() {
        List<String> labels = List.of("a", "a", "a", "b", "b", "c", "c", "c", "d", "a");
        MatchingPairs.Pairs p = MatchingPairs.matching(labels, 7);
        int n = labels.size();
        int[] neg = Arrays.copyOfRange(p.b(), n, 2 * n);
        for (int i = 0; i < n; i++) {
            assertEquals(i, p.b()[i]);
            assertNotEquals(labels.get(i), labels.get(neg[i]), "negative of " + i);
        }
        int[] sorted = neg.clone();
        Arrays.sort(sorted);
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, sorted); // a permutation
        assertArrayEquals(neg, Arrays.copyOfRange(MatchingPairs.matching(labels, 7).b(), n, 2 * n)); // the same seed, the same draw
        assertTrue(!Arrays.equals(neg, Arrays.copyOfRange(MatchingPairs.matching(labels, 8).b(), n, 2 * n))
                || !Arrays.equals(neg, Arrays.copyOfRange(MatchingPairs.matching(labels, 9).b(), n, 2 * n)));
    }

    @Test
    void eitherSideAloneScoresExactlyChance() {
        // any score of one side alone: the positives' and the negatives' values are the same multiset, AUROC exactly 0.5
        List<String> labels = List.of("l", "r", "u", "d", "l", "r", "u", "d", "l", "r", "u", "d");
        MatchingPairs.Pairs p = MatchingPairs.matching(labels, 3);
        SplittableRandom r = new SplittableRandom(11);
        double[] f = r.doubles(labels.size()).toArray(), byA = new double[p.size()], byB = new double[p.size()], joint = new double[p.size()];
        for (int k = 0; k < p.size(); k++) {
            byA[k] = f[p.a()[k]];
            byB[k] = f[p.b()[k]] * 3 - 1;
            joint[k] = p.a()[k] == p.b()[k] ? 1 : 0; // a score that relates the two sides finds every pair
        }
        assertEquals(0.5, Auroc.of(byA, p.positive()), 1e-12);
        assertEquals(0.5, Auroc.of(byB, p.positive()), 1e-12);
        assertEquals(1.0, Auroc.of(joint, p.positive()), 1e-12);
    }

    @Test
    void aLabelOfMoreThanHalfHasNoNegativesToDraw() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MatchingPairs.matching(List.of("x", "x", "x", "y"), 1));
        assertTrue(e.getMessage().startsWith("label 'x' holds 3 of 4 samples"), e.getMessage());
        MatchingPairs.matching(List.of("x", "x", "y", "z"), 1); // exactly half is enough
    }

    @Test
    void ownPairsAreTheSamplesThemselves() {
        MatchingPairs.Pairs p = MatchingPairs.own(new boolean[] {true, false, false});
        assertArrayEquals(new int[] {0, 1, 2}, p.a());
        assertArrayEquals(new int[] {0, 1, 2}, p.b());
        assertEquals(1, p.positives());
    }
}
