package org.sensorium.objective;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.sensorium.config.ConfigException;
import org.sensorium.config.ConfigLoader;

class DeclutrTest {

    @Test
    void lossWorkedByHand() {
        try (NDManager m = NDManager.newBaseManager()) {
            // two documents, anchors = positives = the unit axes, tau 1: Z = [e1; e2; e1; e2]; row 0 sees
            // itself (masked), e2 (0), its positive e1 (1), e2 (0): -log(e / (e + 2)) = log(1 + 2/e); every row alike
            NDArray eye = m.eye(2);
            assertEquals(Math.log(1 + 2 * Math.exp(-1)), TwoView.ntXent(eye, eye, 1f).getFloat(), 1e-6);
        }
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        float[] p = {0.6f, 0.8f, 0f, 0f, 0.6f, 0.8f, 1f, 0f, 0f};                 // (3, 3) unit rows
        GradCheck.check(x -> {
            NDArray a = x.div(x.mul(x).sum(new int[] {1}, true).sqrt());               // unit rows, as the text head gives
            return TwoView.ntXent(a, x.getManager().create(p, new Shape(3, 3)), 0.5f);
        }, new float[] {0.3f, 0.5f, -0.2f, 0.1f, -0.4f, 0.7f, 0.9f, 0.2f, 0.1f}, new Shape(3, 3), 2e-3);
    }

    @Test
    void configSaysTheFrozenTowerCannotLearn() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.load(null, List.of("objectives.declutr.weight=1", "modalities.text.tower=pretrained")).config());
        assertEquals("objectives.declutr.weight", e.key());
        assertTrue(e.getMessage().contains("modalities.text.tower=scratch"), e.getMessage());
    }

    @Test
    void spanToDocumentWorkedByHand() {
        // four documents d1..d4 embedded e1, e2, e1, -e1; d3 has the same text (tokens) as d1; d4 has no anchor
        // (too short for spans): in the gallery, not a query.
        // anchor of 1 = e1: best is d1 (first of the tie with d3) -> found. anchor of 2 = e1: best d1 -> missed.
        // anchor of 3 = e2: best d2, not d3's text -> missed. R@1 = 1/3.
        // chance: d1's and d3's text is 2 of the 4 documents, d2's 1 of 4: (2/4 + 1/4 + 2/4) / 3 = 5/12
        float[] e1 = {1, 0}, e2 = {0, 1}, e3 = {-1, 0};
        float[][] docs = {e1, e2, e1, e3};
        float[][] anchors = {e1, e1, e2, null};
        float[][] tokens = {{101, 7, 102}, {101, 8, 102}, {101, 7, 102}, {101, 9, 102}};
        Map<String, Double> r = Declutr.spanToDocument(anchors, docs, tokens);
        assertEquals(1 / 3.0, r.get("declutr/span_to_document_R@1"), 1e-12);
        assertEquals(5 / 12.0, r.get("declutr/chance_R@1"), 1e-12);
    }
}
