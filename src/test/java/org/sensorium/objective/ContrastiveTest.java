package org.sensorium.objective;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.sensorium.config.Config;
import org.sensorium.data.Batch;
import org.sensorium.model.ModelOutput;
import org.sensorium.config.Modality;

class ContrastiveTest {

    @Test
    void identicalRowsOverABatchOfFourGiveLog4() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = m.create(new float[] {0.6f, 0.8f}).reshape(1, 2).repeat(0, 4); // (4, 2), equal rows
            float loss = Contrastive.infoNce(a, a, m.create(10f)).getFloat();
            assertEquals(Math.log(4), loss, 1e-6);
        }
    }

    @Test
    void orthonormalPairsGiveLogOnePlusExpMinusScale() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray eye = m.eye(2);
            // logits = s I; each row: -log(e^s / (e^s + 1)) = log(1 + e^-s)
            assertEquals(Math.log(1 + Math.exp(-1)), Contrastive.infoNce(eye, eye, m.create(1f)).getFloat(), 1e-6);
            assertEquals(Math.log(1 + Math.exp(-3)), Contrastive.infoNce(eye, eye, m.create(3f)).getFloat(), 1e-6);
        }
    }

    @Test
    void asymmetricCaseWorkedByHand() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = m.create(new float[] {1, 0, 0, 1}, new Shape(2, 2));
            NDArray b = m.create(new float[] {1, 0, 1, 0}, new Shape(2, 2));
            // S = [[1,1],[0,0]]: rows give log 2, log 2. S^T = [[1,0],[1,0]]: log(1+e^-1), log(1+e).
            double expected = (Math.log(2) + (Math.log(1 + Math.exp(-1)) + Math.log(1 + Math.E)) / 2) / 2;
            assertEquals(expected, Contrastive.infoNce(a, b, m.create(1f)).getFloat(), 1e-6);
        }
    }

    @Test
    void onlySamplesWithBothModalitiesCount() {
        try (NDManager m = NDManager.newBaseManager()) {
            // Sample 1 has no text; its (garbage) text row must not change the loss.
            NDArray video = m.create(new float[] {1, 0, 0, 1, 0, 1}, new Shape(3, 2));
            NDArray text = m.create(new float[] {1, 0, 1, 0, 0, 1}, new Shape(3, 2));
            Batch batch = new Batch(List.of("a", "b", "c"), List.of("x", "y", "z"), Map.of(),
                    Map.of(Modality.VIDEO, new boolean[] {true, true, true}, Modality.TEXT, new boolean[] {true, false, true}),
                    Map.of());
            ModelOutput out = new ModelOutput(Map.of(), Map.of(Modality.VIDEO, video, Modality.TEXT, text), m.create(2f));
            Map<String, NDArray> terms = new Contrastive(List.of(Config.Pair.parse("video-text"))).losses(out, batch);
            NDArray eye = m.eye(2);
            assertEquals(Contrastive.infoNce(eye, eye, m.create(2f)).getFloat(),
                    terms.get("contrastive/video-text").getFloat(), 1e-6);
            // A pair absent from the output gives no term.
            assertTrue(new Contrastive(List.of(Config.Pair.parse("imu-text"))).losses(out, batch).isEmpty());
        }
    }
}
