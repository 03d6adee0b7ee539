package org.sensorium.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.sensorium.config.Modality;
import org.junit.jupiter.api.Test;

class ClusterMetricsTest {

    @Test
    void theClassesThemselvesScoreOneUnderAnyRenaming() {
        int[] classes = {0, 0, 1, 1, 2, 2};
        assertEquals(1.0, ClusterMetrics.nmi(classes, classes), 1e-12);
        assertEquals(1.0, ClusterMetrics.purity(classes, classes), 1e-12);
        int[] renamed = {7, 7, 3, 3, 5, 5};
        assertEquals(1.0, ClusterMetrics.nmi(renamed, classes), 1e-12);
        assertEquals(1.0, ClusterMetrics.purity(renamed, classes), 1e-12);
        ClusterMetrics.Score s = ClusterMetrics.score(renamed, List.of("a", "a", "b", "b", "c", "c"), 1);
        assertEquals(6, s.n());
        assertEquals(3, s.clusters());
        assertEquals(3, s.classes());
        assertEquals(1.0, s.nmi(), 1e-12);
    }

    @Test
    void heldOutKMeansFindsWellSeparatedClassesPerModality() {
        // Video: two tight groups far apart that are the classes -> NMI 1. Audio: the groups cut across the
        // classes (a and b each half in both) -> NMI 0. Sample s4 has no audio, s5 no label: both left out.
        float[][] video = {{1, 0}, {0.99f, 0.01f}, {0, 1}, {0.01f, 0.99f}, {1, 0.02f}, {0, 1}};
        float[][] audio = {{1, 0}, {0, 1}, {1, 0}, {0, 1}, null, {1, 0}};
        Retrieval.Embeddings emb = new Retrieval.Embeddings(List.of("s0", "s1", "s2", "s3", "s4", "s5"),
                Map.of(Modality.VIDEO, video, Modality.AUDIO, audio));
        Map<String, String> labels = Map.of("s0", "a", "s1", "a", "s2", "b", "s3", "b", "s4", "a");
        Map<String, ClusterMetrics.Score> s = ClusterMetrics.byModality(emb, labels, 3);
        assertEquals(5, s.get("video").n());
        assertEquals(2, s.get("video").clusters());
        assertEquals(1.0, s.get("video").nmi(), 1e-12);
        assertEquals(4, s.get("audio").n());
        assertEquals(0.0, s.get("audio").nmi(), 1e-12);
    }

    @Test
    void independentClustersScoreZero() {
        // Every cluster holds one sample of every class: n_uv = n_u n_v / n, so I(U; V) = 0.
        int[] clusters = {0, 0, 1, 1};
        int[] classes = {0, 1, 0, 1};
        assertEquals(0.0, ClusterMetrics.nmi(clusters, classes), 1e-12);
        assertEquals(0.5, ClusterMetrics.purity(clusters, classes), 1e-12);
        // One cluster for everything carries no information either (H(U) = 0, I = 0).
        assertEquals(0.0, ClusterMetrics.nmi(new int[] {4, 4, 4, 4}, classes), 1e-12);
        // Two single-valued labelings agree perfectly (scikit-learn's convention).
        assertEquals(1.0, ClusterMetrics.nmi(new int[] {1, 1}, new int[] {0, 0}), 1e-12);
    }

    @Test
    void twoClustersThreeClassesByHand() {
        // n = 6, contingency (rows clusters, columns classes):
        //   [[2, 1, 0],
        //    [0, 1, 2]]       cluster sizes (3, 3), class sizes (2, 2, 2)
        // H(U) = ln 2, H(V) = ln 3.
        // I = sum n_uv/n ln(n n_uv / (n_u n_v)): the 2s give 2/6 ln(12/6) each, the 1s give 1/6 ln(6/6) = 0,
        //   so I = 2/3 ln 2 = 0.4620981.
        // NMI = I / ((ln 2 + ln 3) / 2) = (2/3 ln 2) / (ln 6 / 2) = 4 ln 2 / (3 ln 6) = 0.5158037.
        // Purity = (2 + 2) / 6 = 2/3.
        int[] clusters = {0, 0, 0, 1, 1, 1};
        int[] classes = {0, 0, 1, 1, 2, 2};
        long[][] c = ClusterMetrics.contingency(clusters, classes);
        assertEquals(List.of(2L, 1L, 0L), List.of(c[0][0], c[0][1], c[0][2]));
        assertEquals(List.of(0L, 1L, 2L), List.of(c[1][0], c[1][1], c[1][2]));
        assertEquals(0.5158037, ClusterMetrics.nmi(clusters, classes), 1e-7);
        assertEquals(4 * Math.log(2) / (3 * Math.log(6)), ClusterMetrics.nmi(clusters, classes), 1e-12);
        assertEquals(ClusterMetrics.nmi(classes, clusters), ClusterMetrics.nmi(clusters, classes), 1e-12); // symmetric
        assertEquals(2 / 3.0, ClusterMetrics.purity(clusters, classes), 1e-12);
    }

    @Test
    void chanceNmiIsWellAboveZeroWithManyClustersPerSample() {
        // 8 classes of 16 and 32 clusters of 4: perfect purity-style clusters, but a random dealing of the same
        // sizes already scores a sizeable NMI; it is the number to beat, and it is reproducible from its seed.
        int n = 128;
        int[] clusters = new int[n];
        String[] labels = new String[n];
        for (int i = 0; i < n; i++) {
            clusters[i] = i / 4;
            labels[i] = "class" + i / 16;
        }
        ClusterMetrics.Score s = ClusterMetrics.score(clusters, List.of(labels), 3);
        assertEquals(1.0, s.purity(), 1e-12);
        assertTrue(s.chanceNmi() > 0.2 && s.chanceNmi() < s.nmi(), s.toString());
        assertEquals(s.chanceNmi(), ClusterMetrics.score(clusters, List.of(labels), 3).chanceNmi(), 0.0);
    }
}
