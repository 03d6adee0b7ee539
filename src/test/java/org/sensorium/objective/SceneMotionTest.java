package org.sensorium.objective;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigLoader;
import org.sensorium.config.Modality;
import org.sensorium.data.Batch;
import org.sensorium.model.ClipOps;
import org.sensorium.model.ModelOutput;
import org.sensorium.model.SensoriumModel;

/** DSM and Background Erasing: the views they build from the video tensor, their losses by hand, their gradients. */
class SceneMotionTest {

    /** Two clips of two 1 x 1 pixel, 1-channel frames: clip 0 = (1, 2), clip 1 = (3, 4). */
    private static NDArray twoClips(NDManager m) {
        return m.create(new float[] {1, 2, 3, 4}, new Shape(2, 2, 1, 1, 1));
    }

    @Test
    void viewsByHand() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = twoClips(m);
            // static frames: frame 1 of clip 1 (4) for clip 0, frame 0 of clip 0 (1) for clip 1
            NDArray s = VideoViews.frames(x, new int[] {1, 0}, new int[] {1, 0});
            assertArrayEquals(new float[] {4, 1}, s.toFloatArray());
            // l = 0.5: clip 0 -> (1/2 + 4/2, 2/2 + 4/2) = (2.5, 3); clip 1 -> (3/2 + 1/2, 4/2 + 1/2) = (2, 2.5)
            assertArrayEquals(new float[] {2.5f, 3, 2, 2.5f}, VideoViews.blend(x, s, new float[] {0.5f, 0.5f}).toFloatArray());
            // l = (0, 1): clip 0 unchanged, clip 1 all static frame
            assertArrayEquals(new float[] {1, 2, 1, 1}, VideoViews.blend(x, s, new float[] {0, 1}).toFloatArray());
            // frames in order (1, 0): every clip reversed
            assertArrayEquals(new float[] {2, 1, 4, 3}, VideoViews.reordered(x, new int[] {1, 0}).toFloatArray());
            for (int k = 0; k < 20; k++) {
                int[] order = VideoViews.shuffledOrder(m, 3);
                assertNotEquals("[0, 1, 2]", java.util.Arrays.toString(order));
                assertEquals(3, java.util.Arrays.stream(order).distinct().count());
            }
        }
    }

    @Test
    void framesAreTakenAlongTimeNotHeight() {
        // two clips of two frames of 2 x 1 pixels: clip 0 = frames (1, 2), (3, 4); clip 1 = frames (5, 6), (7, 8)
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, new Shape(2, 2, 2, 1, 1));
            // frame 1 of clip 0 is (3, 4), frame 0 of clip 1 is (5, 6) (a height axis read as time would give (2, 4) ...)
            NDArray s = VideoViews.frames(x, new int[] {0, 1}, new int[] {1, 0});
            assertArrayEquals(new float[] {3, 4, 5, 6}, s.toFloatArray());
            assertEquals(new Shape(2, 1, 2, 1, 1), s.getShape());
            // l = 0.5 with its own frame: clip 0 -> ((1+3)/2, (2+4)/2), (3, 4) = (2, 3, 3, 4); clip 1 -> (5, 6, 6, 7)
            assertArrayEquals(new float[] {2, 3, 3, 4, 5, 6, 6, 7}, VideoViews.blend(x, s, new float[] {0.5f, 0.5f}).toFloatArray());
        }
    }

    @Test
    void jitterIsTheLoadersBrightnessAndContrastOnNormalisedValues() {
        // mean 0.5, std 0.25: x = 0, 1, 1.6, -2 are pixels 0.5, 0.75, 0.9, 0. Contrast 2 around 1/2: 0.5, 1, 1 (clipped),
        // 0 (clipped) -> x' = 0, 2, 2, -2. Brightness 1.2: 0.6, 0.9, 1 (clipped), 0 -> x' = 0.4, 1.6, 2, -2.
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(new float[] {0, 1, 1.6f, -2, 0, 1, 1.6f, -2}, new Shape(2, 4, 1, 1, 1));
            float[] j = ClipOps.jittered(x, new float[] {1, 1.2f}, new float[] {2, 1}, new float[] {0.5f}, new float[] {0.25f})
                    .toFloatArray();
            assertArrayEquals(new float[] {0, 2, 2, -2, 0.4f, 1.6f, 2, -2}, j, 1e-5f);
            float[] same = ClipOps.jittered(x, new float[] {1, 1}, new float[] {1, 1}, new float[] {0.5f}, new float[] {0.25f})
                    .toFloatArray();
            assertArrayEquals(x.toFloatArray(), same, 1e-5f);
            float[] f = VideoViews.aroundOne(m, 50, 0.2f);
            for (float v : f) {
                assertTrue(v >= 0.8f && v <= 1.2f, String.valueOf(v));
            }
        }
    }

    @Test
    void backgroundErasingPairsEachClipWithItsOwnErasedCopy() {
        // a vanishing erasing (l < 1e-6, no jitter) makes x' = x: the loss must be NT-Xent(z, z) of the main pass's rows
        // for the clips that have video, in order (clip 1 has none): rows out of line would pair different clips
        Config c = tiny("objectives.background_erasing.weight=1", "objectives.background_erasing.lambda_max=0.000001",
                "objectives.background_erasing.own_jitter=false");
        try (NDManager m = NDManager.newBaseManager()) {
            SensoriumModel model = new SensoriumModel(c, m);
            Objective o = ObjectiveKind.enabled(c, model).get(0).objective();
            NDArray video = m.randomUniform(-1f, 1f, new Shape(4, 8, 32, 32, 3));
            boolean[] has = {true, false, true, true};
            Batch batch = new Batch(List.of("a", "b", "c", "d"), List.of("w", "x", "y", "z"), Map.of(Modality.VIDEO, video),
                    Map.of(Modality.VIDEO, has), Map.of());
            ModelOutput out = model.forward(batch.inputs(), batch.valid(), true);
            float loss = o.losses(new Step(batch, out)).get("background_erasing/video").getFloat();
            NDArray z = Contrastive.rows(out.embedding(Modality.VIDEO), has);                 // (3, E)
            assertEquals(TwoView.ntXent(z, z, 0.1f).getFloat(), loss, 1e-4);
            NDArray shifted = z.get("1:").concat(z.get("0:1"), 0);            // each row paired with the next clip
            assertNotEquals(TwoView.ntXent(z, shifted, 0.1f).getFloat(), loss, 1e-2);
        }
    }

    @Test
    void backgroundErasingWithSecondViewErasesTheSecondClip() {
        // second_view: x' is made from the second view's tensor. A second view equal to the clip gives NT-Xent(z, z);
        // a second view of other values does not; no second view, no term
        Config c = tiny("objectives.background_erasing.weight=1", "objectives.background_erasing.lambda_max=0.000001",
                "objectives.background_erasing.own_jitter=false", "objectives.background_erasing.second_view=true");
        try (NDManager m = NDManager.newBaseManager()) {
            SensoriumModel model = new SensoriumModel(c, m);
            Objective o = ObjectiveKind.enabled(c, model).get(0).objective();
            assertTrue(o.needs().secondViews().contains(Modality.VIDEO));
            NDArray video = m.randomUniform(-1f, 1f, new Shape(3, 8, 32, 32, 3));
            Batch batch = batchOf(video);
            ModelOutput out = model.forward(batch.inputs(), batch.valid(), true);
            NDArray z = out.embedding(Modality.VIDEO);                                       // (3, E)
            float same = o.losses(new Step(batch, out, Map.of(Batch.Extra.SECOND_VIEW, new Step.Pass(batch, null))))
                    .get("background_erasing/video").getFloat();
            assertEquals(TwoView.ntXent(z, z, 0.1f).getFloat(), same, 1e-4);
            Batch other = batchOf(video.neg());
            float differs = o.losses(new Step(batch, out, Map.of(Batch.Extra.SECOND_VIEW, new Step.Pass(other, null))))
                    .get("background_erasing/video").getFloat();
            assertNotEquals(same, differs, 1e-3);
            assertTrue(o.losses(new Step(batch, out)).isEmpty());
        }
    }

    private static Batch batchOf(NDArray video) {
        return new Batch(List.of("a", "b", "c"), List.of("x", "y", "z"), Map.of(Modality.VIDEO, video),
                Map.of(Modality.VIDEO, new boolean[] {true, true, true}), Map.of());
    }

    @Test
    void dsmLossByHand() {
        // tau = 1, z = p = (e1, e2). Hard negatives q = (e2, e1): row 0 logits (z0.p0, z0.p1, z0.q0) = (1, 0, 0),
        // -log(e / (e + 1 + 1)) = log(2 + e) - 1 = 0.551445, row 1 alike. A negative equal to the anchor, q = z:
        // (1, 0, 1) -> -log(e / (2e + 1)) = log(2e + 1) - 1 = 0.862032.
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray z = m.create(new float[][] {{1, 0}, {0, 1}});
            NDArray swapped = m.create(new float[][] {{0, 1}, {1, 0}});
            assertEquals(Math.log(2 + Math.E) - 1, DecoupledSceneMotion.loss(z, z, swapped, 1f).getFloat(), 1e-6);
            assertEquals(Math.log(2 * Math.E + 1) - 1, DecoupledSceneMotion.loss(z, z, z, 1f).getFloat(), 1e-6);
            // tau = 0.5 doubles every score: -log(e^2 / (e^2 + 2)) = log(2 + e^2) - 2 = 0.230939
            assertEquals(Math.log(2 + Math.exp(2)) - 2, DecoupledSceneMotion.loss(z, z, swapped, 0.5f).getFloat(), 1e-6);
        }
    }

    @Test
    void dsmGradientMatchesFiniteDifferences() {
        float[] p = {0.8f, 0.6f, -0.6f, 0.8f, 0f, -1f};
        float[] q = {0.6f, 0.8f, -0.8f, -0.6f, 1f, 0f};
        GradCheck.check(z -> DecoupledSceneMotion.loss(z, z.getManager().create(p, new Shape(3, 2)),
                z.getManager().create(q, new Shape(3, 2)), 0.5f), new float[] {0.6f, 0.8f, -1f, 0f, 0.28f, -0.96f}, new Shape(3, 2), 2e-3);
    }

    @Test
    void backgroundErasingBlendsEachClipWithOneOfItsOwnFrames() {
        Config c = tiny("objectives.background_erasing.weight=1", "objectives.background_erasing.own_jitter=false");
        try (NDManager m = NDManager.newBaseManager()) {
            BackgroundErasing be = new BackgroundErasing(c.objectives().backgroundErasing(), c.modalities().video(), new SensoriumModel(c, m));
            Engine.getInstance().setRandomSeed(3);
            for (int k = 0; k < 10; k++) {
                // clip 0 = (1, 2): with frame k_0 = 0, x' = (1, 2 - l); with k_0 = 1, x' = (1 + l, 2); l in [0, 0.3)
                float[] e = be.erased(twoClips(m), m).toFloatArray();
                float l = e[0] == 1f ? 2 - e[1] : e[0] - 1;
                assertTrue(l >= 0 && l < 0.3f, java.util.Arrays.toString(e));
                assertTrue(e[0] == 1f ? true : Math.abs(e[1] - 2) < 1e-6, java.util.Arrays.toString(e));
            }
        }
    }

    @Test
    void backgroundErasingOwnNegativesByHand() {
        try (NDManager m = NDManager.newBaseManager()) {
            // z1 = z2 = extra = (e0, e1), tau 1: row e0 sees 1 (masked self), 0, 1 (its positive), 0, 1 (its static), 0:
            // log softmax at the positive = 1 - ln(2e + 3), the same for every row; without extra 1 - ln(e + 2)
            NDArray id = m.create(new float[] {1, 0, 0, 1}, new Shape(2, 2));
            assertEquals(Math.log(2 * Math.E + 3) - 1, TwoView.ntXent(id, id, id, 1f).getFloat(), 1e-5);
            assertEquals(Math.log(Math.E + 2) - 1, TwoView.ntXent(id, id, 1f).getFloat(), 1e-5);
            Engine.getInstance().setRandomSeed(3);
            for (int k = 0; k < 10; k++) {
                // clip 0 = (1, 2) stands still at (1, 1) or (2, 2); clip 1 = (3, 4) at (3, 3) or (4, 4)
                float[] s = BackgroundErasing.still(twoClips(m), m).toFloatArray();
                assertEquals(4, s.length);
                assertTrue(s[0] == s[1] && (s[0] == 1 || s[0] == 2) && s[2] == s[3] && (s[2] == 3 || s[2] == 4),
                        java.util.Arrays.toString(s));
            }
            // backwards: (1, 2) -> (2, 1), (3, 4) -> (4, 3)
            assertArrayEquals(new float[] {2, 1, 4, 3}, BackgroundErasing.reversed(twoClips(m)).toFloatArray());
        }
    }

    @Test
    void backgroundErasingOwnNegativeGradientMatchesFiniteDifferences() {
        // rows 0-1 the clips, 2-3 their erased copies, 4-5 their own negatives, each row made unit
        GradCheck.check(z -> TwoView.ntXent(unit(z.get("0:2")), unit(z.get("2:4")), unit(z.get("4:6")), 0.5f),
                new float[] {0.6f, 0.8f, -1f, 0f, 0.8f, 0.6f, -0.6f, 0.8f, 0.28f, 0.96f, 0f, -1f}, new Shape(6, 2), 2e-3);
    }

    @Test
    void backgroundErasingGradientThroughTheBlendMatchesFiniteDifferences() {
        // the "encoder" is the flattened clip made unit: the gradient reaches x through both views, the static frame too
        GradCheck.check(x -> {
            NDArray s = VideoViews.frames(x, new int[] {0, 1}, new int[] {1, 0});
            NDArray erased = VideoViews.blend(x, s, new float[] {0.3f, 0.2f});
            return TwoView.ntXent(unit(x.reshape(2, -1)), unit(erased.reshape(2, -1)), 0.5f);
        }, new float[] {0.5f, -1f, 0.2f, 0.9f, -0.3f, 0.4f, 1f, 0.1f, -0.7f, 0.6f, 0.3f, -0.2f}, new Shape(2, 2, 1, 1, 3), 3e-3);
    }

    @Test
    void bothObjectivesGiveFiniteTermsOnAModelsVideo() {
        for (String on : List.of("objectives.dsm.weight=1", "objectives.background_erasing.weight=1",
                "objectives.background_erasing.weight=1,objectives.background_erasing.own_negative=still",
                "objectives.background_erasing.weight=1,objectives.background_erasing.own_negative=reversed")) {
            Config c = tiny(on.split(","));
            try (NDManager m = NDManager.newBaseManager()) {
                SensoriumModel model = new SensoriumModel(c, m);
                Objective o = ObjectiveKind.enabled(c, model).get(0).objective();
                NDArray video = m.randomUniform(-1f, 1f, new Shape(3, 8, 32, 32, 3));
                Batch batch = new Batch(List.of("a", "b", "c"), List.of("x", "y", "z"), Map.of(Modality.VIDEO, video),
                        Map.of(Modality.VIDEO, new boolean[] {true, true, true}), Map.of());
                ModelOutput out = model.forward(batch.inputs(), batch.valid(), true);
                Map<String, NDArray> terms = o.losses(new Step(batch, out));
                assertEquals(1, terms.size(), terms.toString());
                float v = terms.values().iterator().next().getFloat();
                assertTrue(Float.isFinite(v) && v > 0, on + ": " + v);
            }
        }
    }

    @Test
    void labelHitsByHand() {
        // query (1, 0) is nearest candidate 0, query (0, 1) candidate 1: with labels (a, b) both hit; with the
        // candidates swapped each finds the other label: none hits; labels (a, a): both hit whatever they find
        List<float[]> q = List.of(new float[] {1, 0}, new float[] {0, 1});
        List<float[]> c = List.of(new float[] {0.9f, 0.1f}, new float[] {0.1f, 0.9f});
        assertEquals(1.0, BackgroundErasing.labelHits(q, c, List.of("a", "b")));
        assertEquals(0.0, BackgroundErasing.labelHits(q, List.of(c.get(1), c.get(0)), List.of("a", "b")));
        assertEquals(1.0, BackgroundErasing.labelHits(q, List.of(c.get(1), c.get(0)), List.of("a", "a")));
    }

    @Test
    void sceneFreeLabelLeavesTheClipItselfOutByHand() {
        // four unit rows: 0 = (1, 0), 1 = (0.8, 0.6), 2 = (0, 1), 3 = (0.6, 0.8). Without self each row's nearest:
        // 0 -> 1 (dot 0.8; 3 gives 0.6), 1 -> 3 (0.96), 2 -> 3 (0.8), 3 -> 1 (0.96)
        List<float[]> rows = List.of(new float[] {1, 0}, new float[] {0.8f, 0.6f}, new float[] {0, 1}, new float[] {0.6f, 0.8f});
        // labels (a, a, b, b): 0 hits (1 is a), 1 misses (3 is b), 2 hits (3 is b), 3 misses (1 is a): 2 of 4
        assertEquals(0.5, BackgroundErasing.leaveOneOutLabelHits(rows, List.of("a", "a", "b", "b")));
        // labels (a, b, a, b): 0 misses, 1 hits, 2 misses, 3 hits: 2 of 4; (a, b, b, b): 0 misses, 1 hits, 2 hits, 3 hits
        assertEquals(0.5, BackgroundErasing.leaveOneOutLabelHits(rows, List.of("a", "b", "a", "b")));
        assertEquals(0.75, BackgroundErasing.leaveOneOutLabelHits(rows, List.of("a", "b", "b", "b")));
        // every row its own nearest if self counted: identical rows 0 and 1 find each other, not themselves;
        // row 2 = (0, 1) ties between rows 0 and 1 (dot 0) and the first in order (0) is taken
        List<float[]> twins = List.of(new float[] {1, 0}, new float[] {1, 0}, new float[] {0, 1});
        // labels (a, b, b): 0 -> 1 (b) misses, 1 -> 0 (a) misses, 2 -> 0 (a) misses: 0; (a, b, a): 2 -> 0 (a) hits: 1/3
        assertEquals(0.0, BackgroundErasing.leaveOneOutLabelHits(twins, List.of("a", "b", "b")));
        assertEquals(1 / 3.0, BackgroundErasing.leaveOneOutLabelHits(twins, List.of("a", "b", "a")), 1e-12);
        assertTrue(Double.isNaN(BackgroundErasing.leaveOneOutLabelHits(List.of(new float[] {1, 0}), List.of("a"))));
        // the trivial baseline: the share of the most frequent label
        assertEquals(0.75, BackgroundErasing.majority(List.of("a", "b", "b", "b")));
        assertEquals(0.5, BackgroundErasing.majority(List.of("a", "b", "a", "b")));
    }

    private static NDArray unit(NDArray e) {
        return e.div(e.square().sum(new int[] {1}, true).sqrt());
    }

    private static Config tiny(String... on) {
        List<String> sets = new java.util.ArrayList<>(List.of("objectives.contrastive.weight=0", "data.modalities=[video,text]",
                "model.width=16", "model.heads=2", "model.depth=1", "model.embed_dim=8"));
        sets.addAll(List.of(on));
        return ConfigLoader.load(null, sets).config();
    }
}
