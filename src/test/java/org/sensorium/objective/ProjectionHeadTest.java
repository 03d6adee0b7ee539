package org.sensorium.objective;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.config.ConfigLoader;
import org.sensorium.config.Modality;
import org.sensorium.model.Layers.Linear;
import org.sensorium.model.ModelOutput;
import org.sensorium.model.SensoriumModel;

class ProjectionHeadTest {

    @Test
    void projectionByHand() {
        // W1 = [[1, 0], [0, -1]], b1 = 0; W2 = [[0, 1], [1, 0]], b2 = (0.3, 0).
        // z = (0.6, 0.8): W1 z = (0.6, -0.8), ReLU (0.6, 0), W2 . = (0, 0.6), + b2 = (0.3, 0.6), norm sqrt(0.45):
        //   g = (0.447214, 0.894427). z = (0, 1): W1 z = (0, -1), ReLU 0, + b2 = (0.3, 0) -> g = (1, 0).
        try (NDManager m = NDManager.newBaseManager()) {
            Linear first = new Linear(m.create(new float[][] {{1, 0}, {0, -1}}), m.create(new float[] {0, 0}));
            Linear second = new Linear(m.create(new float[][] {{0, 1}, {1, 0}}), m.create(new float[] {0.3f, 0}));
            NDArray g = ProjectionHead.project(m.create(new float[][] {{0.6f, 0.8f}, {0, 1}}), first, second);
            assertArrayEquals(new float[] {0.447214f, 0.894427f, 1, 0}, g.toFloatArray(), 1e-5f);
        }
    }

    @Test
    void gradientOfNtXentThroughTheHeadMatchesFiniteDifferences() {
        float[] z2 = {0.8f, 0.6f, -0.6f, 0.8f, 0f, -1f};
        GradCheck.check(x -> {
            NDManager m = x.getManager();
            Linear first = new Linear(m.create(new float[][] {{1, 0.5f}, {-0.3f, 1}}), m.create(new float[] {0.1f, 0.2f}));
            Linear second = new Linear(m.create(new float[][] {{0.7f, -0.2f}, {0.4f, 0.9f}}), m.create(new float[] {0.05f, -0.1f}));
            NDArray other = m.create(z2, new Shape(3, 2));
            return TwoView.ntXent(ProjectionHead.project(x, first, second), ProjectionHead.project(other, first, second), 0.5f);
        }, new float[] {0.6f, 0.8f, -1f, 0f, 0.28f, -0.96f}, new Shape(3, 2), 2e-3);
    }

    @Test
    void mlpIsObjectiveParametersAndTheLossOnlyReadsIt() {
        Config c = ConfigLoader.load(null, List.of("objectives.contrastive.weight=0", "objectives.two_view.weight=1",
                "objectives.two_view.projection=mlp", "model.width=16", "model.heads=2", "model.depth=1", "model.embed_dim=8"))
                .config();
        try (NDManager m = NDManager.newBaseManager()) {
            SensoriumModel model = new SensoriumModel(c, m);
            ObjectiveKind.enabled(c, model);
            for (String p : List.of("objective.two_view.projection.video.0.weight", "objective.two_view.projection.imu.1.bias")) {
                assertTrue(model.params().all().containsKey(p), p);
            }
            // projection none leaves the output as it is; mlp replaces the embeddings only
            ModelOutput out = new ModelOutput(Map.of(), Map.of(Modality.VIDEO, m.create(new float[][] {{1, 0, 0, 0, 0, 0, 0, 0}})),
                    m.create(1f));
            assertSame(out, ProjectionHead.none().apply(out));
            ModelOutput projected = ProjectionHead.of("mlp", "t", List.of(Modality.VIDEO), 8, model.params()).apply(out);
            assertEquals(1.0, projected.embedding(Modality.VIDEO).square().sum().getFloat(), 1e-5);
            assertSame(out.logitScale(), projected.logitScale());
        }
        ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class,
                () -> ConfigLoader.load(null, List.of("objectives.two_view.projection=linear")));
        assertTrue(e.getMessage().contains("objectives.two_view.projection"), e.getMessage());
    }
}
