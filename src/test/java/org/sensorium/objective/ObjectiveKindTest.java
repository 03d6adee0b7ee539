package org.sensorium.objective;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigLoader;
import org.sensorium.config.Modality;
import org.sensorium.model.SensoriumModel;

class ObjectiveKindTest {

    /** A tiny model is enough: only building and the declared needs are checked. */
    private static Config alone(ObjectiveKind k) {
        List<String> sets = new ArrayList<>(k.alone());
        sets.addAll(List.of("model.width=16", "model.heads=2", "model.depth=2", "model.embed_dim=8"));
        if (k == ObjectiveKind.PSEUDO_LABELS) {
            return null; // needs a cluster file written by an untrained run (the ablation writes it first)
        }
        return ConfigLoader.load(null, sets).config();
    }

    @Test
    void eachKindTrainedAloneBuildsExactlyItselfAndDeclaresWhatItNeeds() {
        try (NDManager m = NDManager.newBaseManager()) {
            for (ObjectiveKind k : ObjectiveKind.values()) {
                Config c = alone(k);
                if (c == null) {
                    continue;
                }
                List<Objective.Weighted> built = ObjectiveKind.enabled(c, new SensoriumModel(c, m));
                assertEquals(1, built.size(), k.key());
                assertEquals(1f, built.get(0).weight(), k.key());
                Objective o = built.get(0).objective();
                switch (k) {
                    case TWO_VIEW -> assertEquals(Set.of(Modality.VIDEO, Modality.IMU), o.needs().secondViews());
                    case RELATIVE_SPEED -> assertEquals(List.of(0.5, 1.0, 2.0), o.needs().speeds());
                    case KEYFRAME_CONTEXT -> assertTrue(o.needs().keyframes());
                    case MOTION_PREDICTION -> assertEquals(0.25, o.needs().futureSeconds());
                    case TEMPORAL_OT -> {
                        assertEquals(8, o.needs().windows());
                        assertTrue(o.segmenter() != null);
                    }
                    case MASKED_TOKENS, MASKED_SEGMENTS -> assertTrue(!o.readsOutput());
                    case DECLUTR -> assertEquals(2, o.needs().spanWords());
                    default -> assertEquals(org.sensorium.data.Needs.NONE, o.needs(), k.key());
                }
            }
        }
    }

    @Test
    void backgroundErasingTrainsOnStaticScenesAsItsOwnData() {
        assertTrue(ObjectiveKind.BACKGROUND_ERASING.ownData());
        assertEquals("static scenes", ObjectiveKind.BACKGROUND_ERASING.ownDataName());
        assertEquals("long recordings", ObjectiveKind.TEMPORAL_OT.ownDataName());
        assertEquals(null, ObjectiveKind.TWO_VIEW.ownDataName());
        assertEquals(ObjectiveKind.BE_SCENES, alone(ObjectiveKind.BACKGROUND_ERASING).data().synthScenes());
        assertEquals("background_erasing/majority", ObjectiveKind.BACKGROUND_ERASING.baseline().key());
    }

    @Test
    void everyMeasureHasItsTrivialBaselineNamed() {
        for (ObjectiveKind k : ObjectiveKind.values()) {
            if (k.measure() != null) {
                ObjectiveKind.Baseline b = k.baseline();
                org.junit.jupiter.api.Assertions.assertNotNull(b, k.key());
                org.junit.jupiter.api.Assertions.assertTrue(b.key() != null ? b.key().startsWith(k.key() + "/") : !Double.isNaN(b.value()),
                        k.key() + ": " + b);
            }
        }
    }
}
