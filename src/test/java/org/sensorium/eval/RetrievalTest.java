package org.sensorium.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumMap;
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
}
