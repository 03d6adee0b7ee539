package org.sensorium.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.Random;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.sensorium.config.Modality;

class RetrievalTest {

    @Test
    void ranksCountTiesAgainstTheQuery() {
        // candidates c0 (1, 0), c1 (0, 2), c2 (1, 1); query i's match is candidate i.
        // q0 (1, 0) scores (1, 0, 1): c2 ties with its match -> rank 2.
        // q1 (0, 1) scores (0, 2, 1) -> rank 1.
        // q2 (0, 0.5) scores (0, 1, 0.5): c1 beats its match -> rank 2. Ranks (2, 1, 2).
        List<float[]> q = List.of(new float[] {1, 0}, new float[] {0, 1}, new float[] {0, 0.5f});
        List<float[]> c = List.of(new float[] {1, 0}, new float[] {0, 2}, new float[] {1, 1});
        Retrieval.Result r = Retrieval.direction("a->b", q, c);
        assertEquals(3, r.n());
        assertEquals(1 / 3.0, r.r1(), 1e-12);
        assertEquals(1.0, r.r5(), 1e-12);
        assertEquals(2.0, r.medianRank(), 1e-12);
        assertEquals(5 / 3.0, r.meanRank(), 1e-12);
    }

    @Test
    void clipsOfASampleAreAveragedAndRenormalised() {
        Map<Modality, float[][]> v1 = new EnumMap<>(Modality.class);
        v1.put(Modality.VIDEO, new float[][] {{1, 0}, {0, 1}, {1, 0}});
        Map<Modality, float[][]> v2 = new EnumMap<>(Modality.class);
        v2.put(Modality.VIDEO, new float[][] {{0, 1}, {0.6f, 0.8f}}); // sample "c" was skipped in this view
        Retrieval.Embeddings avg = Retrieval.average(List.of(
                new Retrieval.Embeddings(List.of("a", "b", "c"), v1),
                new Retrieval.Embeddings(List.of("a", "b"), v2)));
        assertEquals(List.of("a", "b"), avg.ids());
        float h = (float) Math.sqrt(0.5);
        assertArrayEquals(new float[] {h, h}, avg.rows().get(Modality.VIDEO)[0], 1e-6f);
        // (0, 1) + (0.6, 0.8) = (0.6, 1.8), norm sqrt(3.6) = 1.897367
        assertArrayEquals(new float[] {0.316228f, 0.948683f}, avg.rows().get(Modality.VIDEO)[1], 1e-5f);

        Map<Modality, float[][]> w1 = new EnumMap<>(Modality.class);
        w1.put(Modality.TEXT, new float[][] {{1, 0}});
        Map<Modality, float[][]> w2 = new EnumMap<>(Modality.class);
        w2.put(Modality.TEXT, new float[][] {null});
        assertNull(Retrieval.average(List.of(new Retrieval.Embeddings(List.of("a"), w1),
                new Retrieval.Embeddings(List.of("a"), w2))).rows().get(Modality.TEXT)[0]);
    }

    @Test
    void r1OfTwoViewsCountsRowsWhoseOwnSecondViewIsTheMostSimilar() {
        // the held-out two-view measure of pretraining: first views a0 = (1, 0), a1 = (0, 1), a2 = (0.6, 0.8); second
        // views b0 = (0.8, 0.6), b1 = (0, 1), b2 = (1, 0)
        // a0: b0 0.8, b1 0, b2 1.0 -> b2 (miss); a1: b0 0.6, b1 1.0, b2 0 -> b1 (hit); a2: b0 0.96, b1 0.8, b2 0.6 -> b0 (miss)
        List<float[]> a = List.of(new float[] {1, 0}, new float[] {0, 1}, new float[] {0.6f, 0.8f});
        List<float[]> b = List.of(new float[] {0.8f, 0.6f}, new float[] {0, 1}, new float[] {1, 0});
        assertEquals(1.0 / 3, Retrieval.direction("v->v", a, b).r1(), 1e-12);
        assertEquals(1.0, Retrieval.direction("v->v", a, a).r1(), 1e-12);
        assertTrue(Double.isNaN(Retrieval.direction("v->v", List.of(), List.of()).r1()));
    }

    @Test
    void blockedRanksEqualTheScalarLoopOn2000UnitVectorsWithTies() {
        // 2000 random unit vectors of width 64, then deliberate ties: candidates copied from others (exact
        // duplicates), queries equal to a candidate, and a quarter of the rows on a coarse grid (multiples of 1/4,
        // so many dot products are exactly equal)
        Random rnd = new Random(19);
        int n = 2000, width = 64;
        List<float[]> q = new ArrayList<>(), c = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            q.add(i % 4 == 0 ? grid(rnd, width) : unit(rnd, width));
            c.add(i % 4 == 1 ? grid(rnd, width) : unit(rnd, width));
        }
        for (int i = 0; i < n; i += 7) {
            c.set(i, c.get((i * 31 + 5) % n).clone());
        }
        for (int i = 3; i < n; i += 11) {
            q.set(i, c.get((i * 17 + 1) % n).clone());
        }
        int[] scalar = Retrieval.scalarRanks(q, c);
        assertArrayEquals(scalar, Retrieval.ranks(q, c));
        assertArrayEquals(scalar, Retrieval.ranks(q, c, 256 * 333)); // blocks of 256 x 333, the last ones short
        assertTrue(java.util.Arrays.stream(scalar).filter(r -> r == 1).count() > 0);
    }

    @Test
    void blockedRanksEqualTheScalarLoopWhenScoresAgreeToTheLastBit() {
        // blocks of 7 queries x 64 candidates and scores 1e-9 apart: inside the float32 error band, so the
        // scalar dot decides; and the collapsed model (every row alike) ranks every match last
        List<float[]> q = new ArrayList<>(), c = new ArrayList<>();
        Random rnd = new Random(7);
        for (int i = 0; i < 300; i++) {
            float[] v = unit(rnd, 8);
            q.add(v);
            float[] w = v.clone();
            w[0] = Math.nextUp(w[0]);
            c.add(i % 2 == 0 ? w : v.clone());
        }
        assertArrayEquals(Retrieval.scalarRanks(q, c), Retrieval.ranks(q, c, 7 * 64));
        // rows so small that float32 products underflow to subnormals: the relative error bound alone would not hold
        List<float[]> small = new ArrayList<>();
        for (float[] v : c) {
            float[] w = v.clone();
            for (int k = 0; k < w.length; k++) {
                w[k] *= 1e-22f;
            }
            small.add(w);
        }
        assertArrayEquals(Retrieval.scalarRanks(small, small), Retrieval.ranks(small, small, 7 * 64));
        List<float[]> same = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            same.add(new float[] {0.6f, 0.8f});
        }
        assertArrayEquals(new int[] {5, 5, 5, 5, 5}, Retrieval.ranks(same, same));
    }

    static float[] unit(Random rnd, int width) {
        float[] v = new float[width];
        double s = 0;
        for (int k = 0; k < width; k++) {
            v[k] = (float) rnd.nextGaussian();
            s += (double) v[k] * v[k];
        }
        for (int k = 0; k < width; k++) {
            v[k] = (float) (v[k] / Math.sqrt(s));
        }
        return v;
    }

    static float[] grid(Random rnd, int width) {
        float[] v = new float[width];
        for (int k = 0; k < width; k++) {
            v[k] = (rnd.nextInt(3) - 1) / 4f;
        }
        return v;
    }
}
