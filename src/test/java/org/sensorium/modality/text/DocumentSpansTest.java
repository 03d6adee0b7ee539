package org.sensorium.modality.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class DocumentSpansTest {

    @Test
    void positivesOverlapTouchOrLieInsideTheAnchor() {
        SplittableRandom r = new SplittableRandom(3);
        double anchorShare = 0, positiveShare = 0;
        int draws = 2000, n = 12;
        for (int k = 0; k < draws; k++) {
            DocumentSpans.Pair p = DocumentSpans.draw(n, 2, r);
            DocumentSpans.Span a = p.anchor(), q = p.positive();
            assertTrue(a.from() >= 0 && a.to() <= n && a.length() >= 2, a.toString());
            assertTrue(q.from() >= 0 && q.to() <= n && q.length() >= 2 && q.length() <= a.length(), q.toString());
            assertTrue(q.to() >= a.from() && q.from() <= a.to(), a + " " + q); // overlapping, adjacent or inside
            anchorShare += a.length() / (double) n / draws;
            positiveShare += q.length() / (double) n / draws;
        }
        // Beta(4, 2) has mean 2/3, Beta(2, 4) 1/3: long anchors, shorter positives
        assertTrue(anchorShare > 0.6 && positiveShare < anchorShare * 0.7, anchorShare + " " + positiveShare);
    }

    @Test
    void aDocumentOfMinWordsIsItsOwnSpans() {
        DocumentSpans.Pair p = DocumentSpans.draw(2, 2, new SplittableRandom(1));
        assertEquals(new DocumentSpans.Span(0, 2), p.anchor());
        assertEquals(new DocumentSpans.Span(0, 2), p.positive());
        assertEquals("a b", p.anchor().of(List.of("a", "b")));
        // Beta(1, 1) is the one uniform itself
        assertEquals(new SplittableRandom(5).nextDouble(), DocumentSpans.beta(1, 1, new SplittableRandom(5)), 0);
    }
}
