package org.sensorium.objective;

import org.sensorium.config.Objectives;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDManager;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.sensorium.config.Config;
import org.sensorium.config.Modality;
import org.sensorium.model.Params;
import org.sensorium.objective.Clustering;

class ClusterMeasuresTest {

    @Test
    void crossModalAndLabelNmiByHand() {
        try (NDManager m = NDManager.newBaseManager()) {
            Clustering k = new Clustering(new Objectives.Clustering(1f, List.of(Config.Pair.parse("video-audio")), 4, 0.05, 3,
                    0.1, 0, Objectives.ClusterTargets.JOINT), 2, new Params(m, 1));
            // 4 samples; audio is missing for sample 3. Video clusters [0, 0, 1, 1] and audio [5, 5, 7] name the same
            // split of samples 0-2 -> cross-modal NMI 1. Labels [x, x, y, y]: video's clusters are the labels -> NMI 1;
            // audio [5, 5, 7] against [x, x, y] -> NMI 1.
            Map<Modality, Map<Integer, Integer>> assigned = Map.of(
                    Modality.VIDEO, Map.of(0, 0, 1, 0, 2, 1, 3, 1),
                    Modality.AUDIO, Map.of(0, 5, 1, 5, 2, 7));
            Map<String, Double> out = Clustering.measures(k, assigned, Arrays.asList("x", "x", "y", "y"));
            assertEquals(1.0, out.get("clustering/video-audio/NMI"), 1e-12);
            assertEquals(1.0, out.get("clustering/video/NMI"), 1e-12);
            assertEquals(1.0, out.get("clustering/cross_modal_NMI"), 1e-12);
            // everything in one cluster carries no information: 0, however much the two modalities "agree"
            Map<String, Double> collapsed = Clustering.measures(k, Map.of(
                    Modality.VIDEO, Map.of(0, 2, 1, 2, 2, 2, 3, 2), Modality.AUDIO, Map.of(0, 2, 1, 2, 2, 3, 3, 3)),
                    Arrays.asList("x", "x", "y", null));
            assertEquals(0.0, collapsed.get("clustering/video-audio/NMI"), 1e-12);
            assertEquals(0.0, collapsed.get("clustering/video/NMI"), 1e-12);
            assertEquals(1.0, collapsed.get("clustering/audio/NMI"), 1e-12); // [2, 2, 3] vs [x, x, y]; sample 3 unlabelled
            // one cluster per sample in both: NMI 1, and 1 again with audio's clusters dealt to other samples -- the
            // chance level a cross-modal NMI is read against rises with the clusters in use
            Map<String, Double> singletons = Clustering.measures(k, Map.of(
                    Modality.VIDEO, Map.of(0, 0, 1, 1, 2, 2, 3, 3), Modality.AUDIO, Map.of(0, 4, 1, 5, 2, 6, 3, 7)),
                    Arrays.asList("x", "x", "y", "y"));
            assertEquals(1.0, singletons.get("clustering/cross_modal_NMI"), 1e-12);
            assertEquals(1.0, singletons.get("clustering/cross_modal_NMI_chance"), 1e-12);
        }
    }
}
