package org.sensorium.objective;

import org.sensorium.config.Objectives;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.sensorium.config.Config;
import org.sensorium.data.Batch;
import org.sensorium.config.Modality;
import org.sensorium.model.ModelOutput;
import org.sensorium.model.Params;

class ClusteringTest {

    @Test
    void oneSinkhornIterationByHand() {
        // exp(S) = [[e^2, 1], [e, 1]]. Columns to 1/2 each: col 0 -> [e/(e+1), 1/(e+1)] / 2 = [0.3655293, 0.1344707],
        // col 1 -> [0.25, 0.25]. Rows to 1: [0.3655293, 0.25] / 0.6155293 = [0.593845, 0.406155];
        // [0.1344707, 0.25] / 0.3844707 = [0.349755, 0.650245].
        double[][] q = Clustering.sinkhorn(new double[][] {{2, 0}, {1, 0}}, 1.0, 1);
        assertEquals(0.593845, q[0][0], 1e-6);
        assertEquals(0.406155, q[0][1], 1e-6);
        assertEquals(0.349755, q[1][0], 1e-6);
        assertEquals(0.650245, q[1][1], 1e-6);
    }

    @Test
    void convergedAssignmentsHaveTheRightMarginals() {
        SplittableRandom r = new SplittableRandom(1);
        double[][] s = new double[6][3];
        for (double[] row : s) {
            for (int j = 0; j < 3; j++) {
                row[j] = r.nextDouble(-1, 1);
            }
        }
        double[][] q = Clustering.sinkhorn(s, 0.2, 500);
        for (double[] row : q) { // each sample's assignments sum to 1
            assertEquals(1.0, row[0] + row[1] + row[2], 1e-9);
        }
        for (int j = 0; j < 3; j++) { // each cluster gets n / K = 2 samples' worth
            double col = 0;
            for (double[] row : q) {
                col += row[j];
            }
            assertEquals(2.0, col, 1e-6);
        }
        // large scores (1 / eps = 20 times) stay finite in the log domain
        double[][] hard = Clustering.sinkhorn(new double[][] {{50, -50}, {-50, 50}}, 0.01, 3);
        assertEquals(1.0, hard[0][0], 1e-12);
        assertEquals(1.0, hard[1][1], 1e-12);
    }

    @Test
    void swappedPredictionByHand() {
        // S_a = 0 -> log P_a = log 1/2 everywhere. S_b row 0 = [ln 3, 0] -> P_b = [3/4, 1/4]; row 1 = 0 -> [1/2, 1/2].
        // Q_a = I, Q_b = 1/2: sum Q_a log P_b = ln 3/4 + ln 1/2; sum Q_b log P_a = 4 * 1/2 * ln 1/2 = 2 ln 1/2.
        // L = -1/(2*2) (ln 0.75 + 3 ln 0.5) = 0.591781
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray sa = m.zeros(new ai.djl.ndarray.types.Shape(2, 2));
            NDArray sb = m.create(new float[][] {{(float) Math.log(3), 0}, {0, 0}});
            double[][] qa = {{1, 0}, {0, 1}};
            double[][] qb = {{0.5, 0.5}, {0.5, 0.5}};
            assertEquals(0.591781, Clustering.swapped(sa, sb, qa, qb, 1.0).getFloat(), 1e-6);
        }
    }

    @Test
    void usageStatisticsByHand() {
        // mean usage [2/3, 1/6, 1/6]: entropy -(2/3 ln 2/3 + 2 * 1/6 ln 1/6) = 0.867563; cluster 2 is nobody's argmax
        double[] u = Clustering.usage(new double[][] {{1, 0, 0}, {1, 0, 0}, {0, 0.5, 0.5}});
        assertEquals(0.867563, u[0], 1e-6);
        assertEquals(1, u[1]);
        assertEquals(2.5 / 3, u[2], 1e-12);
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        double[][] qa = {{0.7, 0.2, 0.1}, {0.1, 0.8, 0.1}, {0.3, 0.3, 0.4}};
        double[][] qb = {{0.2, 0.5, 0.3}, {0.6, 0.2, 0.2}, {0.1, 0.1, 0.8}};
        float[] a = {0.3f, -0.2f, 0.5f, 0.1f, 0.4f, -0.6f, -0.3f, 0.2f, 0.0f};
        float[][] b = {{0.2f, 0.1f, -0.4f}, {0.5f, -0.5f, 0.3f}, {0.0f, 0.3f, 0.1f}};
        GradCheck.check(sa -> Clustering.swapped(sa, sa.getManager().create(b), qa, qb, 0.5), a, new Shape(3, 3), 2e-4);
    }

    @Test
    void scoreSpreadIgnoresRowAndColumnConstants() {
        // [[1, 0], [0, 1]]: row means 1/2, column means 1/2, overall 1/2 -> residuals +-1/2 -> spread 1/2.
        assertEquals(0.5, Clustering.spread(new double[][] {{1, 0}, {0, 1}}), 1e-12);
        // adding 3 to row 0 and 5 to column 1 changes nothing Sinkhorn sees
        assertEquals(0.5, Clustering.spread(new double[][] {{4, 8}, {0, 6}}), 1e-12);
        assertEquals(0.0, Clustering.spread(new double[][] {{1, 2}, {1, 2}}), 1e-12);
    }

    @Test
    void jointTargetsAreSharedAndTheQueueAndCentresSurviveACheckpoint(@TempDir Path dir) throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Objectives.Clustering c = new Objectives.Clustering(1f, List.of(Config.Pair.parse("video-audio")), 3, 0.5, 3, 0.1, 4,
                    Objectives.ClusterTargets.JOINT);
            Params params = new Params(m, 7);
            Clustering k = new Clustering(c, 2, params);
            // 3 samples, sample 1 has no audio: the pair sees samples 0 and 2
            NDArray video = m.create(new float[] {1, 0, 0, 1, 0.6f, 0.8f}, new Shape(3, 2));
            NDArray audio = m.create(new float[] {0, 1, 9, 9, 1, 0}, new Shape(3, 2));
            Batch batch = new Batch(List.of("a", "b", "c"), List.of("x", "y", "z"), Map.of(),
                    Map.of(Modality.VIDEO, new boolean[] {true, true, true}, Modality.AUDIO, new boolean[] {true, false, true}),
                    Map.of());
            ModelOutput out = new ModelOutput(Map.of(), Map.of(Modality.VIDEO, video, Modality.AUDIO, audio), null);
            Map<String, NDArray> terms = k.losses(out, batch);
            assertTrue(Float.isFinite(terms.get("clustering/video-audio").getFloat()));
            // the queue holds the pair's 2 samples as (z_video, z_audio), centred by the batch mean of the present rows:
            // video mean of all 3 rows = (1.6, 1.8) / 3; sample 0: (1, 0) - mean = (0.466667, -0.6) / 0.760117
            List<float[]> queued = k.queue("video-audio");
            assertEquals(2, queued.size());
            assertEquals(0.466667 / 0.760117, queued.get(0)[0], 1e-4);
            assertEquals(-0.6 / 0.760117, queued.get(0)[1], 1e-4);
            // audio mean over samples 0 and 2 only (sample 1's 9s are absent): (0.5, 0.5); sample 0: (-0.5, 0.5) / 0.707107
            assertEquals(-0.707107, queued.get(0)[2], 1e-4);
            assertEquals(0.707107, queued.get(0)[3], 1e-4);
            int[] before = k.assign(Modality.VIDEO, video);

            Files.createDirectories(dir);
            k.save(dir);
            Clustering restored = new Clustering(c, 2, new Params(m, 7));
            restored.load(dir);
            assertEquals(2, restored.queue("video-audio").size());
            assertArrayEquals(queued.get(1), restored.queue("video-audio").get(1));
            assertArrayEquals(before, restored.assign(Modality.VIDEO, video)); // same running centre
            Clustering fresh = new Clustering(c, 2, new Params(m, 7));
            fresh.load(dir.resolve("missing")); // a checkpoint written while clustering was off: empty state
            assertEquals(0, fresh.queue("video-audio").size());
        }
    }
}
