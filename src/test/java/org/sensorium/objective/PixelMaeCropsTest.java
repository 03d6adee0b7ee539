package org.sensorium.objective;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.config.ConfigLoader;
import org.sensorium.config.Modality;
import org.sensorium.data.Batch;
import org.sensorium.model.ClipOps;
import org.sensorium.model.SensoriumModel;

/** CropMAE's views of pixel_mae (objectives.pixel_mae.views=crops): two resized crops of one tubelet slice. */
class PixelMaeCropsTest {

    /** Pixel (r, c) of a 4 x 4 frame: channel 0 = 4r + c (linear), channel 1 = r^2 (not), plus 100 per frame. */
    private static float pixel(int t, int r, int c, int ch) {
        return (ch == 0 ? 4 * r + c : r * r) + 100 * t;
    }

    @Test
    void cropAndResizeByHand() {
        // clip 0: box rows 0..1, columns 0..1 of the 4 x 4 frame; clip 1: rows 1..3, columns 2..3. Output i of 4
        // reads source from + (i + 1/2) size / 4 - 1/2, kept within [0, 3]:
        //   clip 0 rows and columns: -0.25 -> 0, 0.25, 0.75, 1.25
        //   clip 1 rows: 0.875, 1.625, 2.375, 3.125 -> 3; columns: 1.75, 2.25, 2.75, 3.25 -> 3
        // channel 0 is linear, so its interpolation is 4 row + column at those coordinates; channel 1 = r^2
        // interpolates between squares: clip 0 rows 0, 0.25, 0.75, 1 + 0.25 * 3 = 1.75; clip 1 rows 0.875,
        // 1 + 0.625 * 3 = 2.875, 4 + 0.375 * 5 = 5.875, 9
        float[][] rows = {{0, 0.25f, 0.75f, 1.25f}, {0.875f, 1.625f, 2.375f, 3}};
        float[][] cols = {{0, 0.25f, 0.75f, 1.25f}, {1.75f, 2.25f, 2.75f, 3}};
        float[][] squares = {{0, 0.25f, 0.75f, 1.75f}, {0.875f, 2.875f, 5.875f, 9}};
        float[] in = new float[2 * 2 * 4 * 4 * 2], expected = new float[in.length];
        for (int b = 0; b < 2; b++) {
            for (int t = 0; t < 2; t++) {
                for (int r = 0; r < 4; r++) {
                    for (int c = 0; c < 4; c++) {
                        for (int ch = 0; ch < 2; ch++) {
                            int at = (((b * 2 + t) * 4 + r) * 4 + c) * 2 + ch;
                            in[at] = pixel(t, r, c, ch);
                            expected[at] = (ch == 0 ? 4 * rows[b][r] + cols[b][c] : squares[b][r]) + 100 * t;
                        }
                    }
                }
            }
        }
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(in, new Shape(2, 2, 4, 4, 2));                     // (B, T, H, W, C)
            ClipOps.Box[] boxes = {new ClipOps.Box(0, 0, 2, 2), new ClipOps.Box(1, 2, 3, 2)};
            NDArray out = ClipOps.cropped(x, boxes);
            assertEquals(new Shape(2, 2, 4, 4, 2), out.getShape());
            assertArrayEquals(expected, out.toFloatArray(), 1e-5f);
            // the whole frame is the identity
            ClipOps.Box[] whole = {new ClipOps.Box(0, 0, 4, 4), new ClipOps.Box(0, 0, 4, 4)};
            assertArrayEquals(in, ClipOps.cropped(x, whole).toFloatArray(), 1e-6f);
        }
    }

    @Test
    void boxesByHand() {
        // u0 = 0: 0.3 of 32 x 32 = 307.2 pixels; u1 = 1/2: aspect 1, sides round(sqrt(307.2)) = round(17.53) = 18;
        // room 32 - 18 = 14: top (int) (0 * 15) = 0, left (int) (0.999 * 15) = 14
        assertEquals(new ClipOps.Box(0, 14, 18, 18), VideoViews.box(0f, 0.5f, 0f, 0.999f, 32, 32));
        // u0 -> 1, u1 = 1: the whole area at aspect 4/3: height round(sqrt(1024 * 3/4)) = round(27.71) = 28, width
        // round(sqrt(1024 * 4/3)) = 37, kept to 32; top (int) (0.5 * 5) = 2
        assertEquals(new ClipOps.Box(2, 0, 28, 32), VideoViews.box(0.99999f, 1f, 0.5f, 0.5f, 32, 32));
        // a 4 x 4 frame at the smallest area: 4.8 pixels, round(2.19) = 2 a side
        assertEquals(new ClipOps.Box(0, 0, 2, 2), VideoViews.box(0f, 0.5f, 0f, 0f, 4, 4));
    }

    @Test
    void cropGradientMatchesFiniteDifferences() {
        // d/dx of mean (cropped(x) - target)^2: the two resampling products and their transposes, backwards
        java.util.SplittableRandom r = new java.util.SplittableRandom(3);
        float[] x = new float[2 * 1 * 4 * 4 * 2], target = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
            target[i] = (float) r.nextGaussian();
        }
        ClipOps.Box[] boxes = {new ClipOps.Box(1, 0, 3, 2), new ClipOps.Box(0, 1, 2, 3)};
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray y = m.create(target, new Shape(2, 1, 4, 4, 2));
            GradCheck.check(a -> ClipOps.cropped(a, boxes).sub(y).square().mean(), x, new Shape(2, 1, 4, 4, 2), 1e-3);
        }
    }

    @Test
    void theLossReconstructsTheSecondCropFromTheFirst() {
        Config c = PixelMaeTest.tiny("objectives.pixel_mae.views=crops", "objectives.pixel_mae.mask_ratio=0.985",
                "objectives.pixel_mae.contrastive_weight=0.5");
        try (NDManager root = NDManager.newBaseManager(); SensoriumModel model = new SensoriumModel(c, root)) {
            PixelMae o = new PixelMae(c, model);
            try (NDManager sm = root.newSubManager()) {
                Batch batch = MaskedFixtures.batch(sm, c, 3, 2, Map.of());
                Engine.getInstance().setRandomSeed(11);
                Map<String, NDArray> held = o.heldOut(batch);
                // no copy baseline: two crops of one frame share no pixel positions
                assertEquals(List.of("pixel_mae/mse", "pixel_mae/contrastive", "pixel_mae/zero_mse"), List.copyOf(held.keySet()));

                // independently: the held-out crops of each id, slice 0 (frames 0..1 of 4) replaced by each crop
                ClipOps.Box[][] boxes = o.heldOutBoxes(List.of("s0", "s1", "s2"));
                assertEquals(boxes[1][2], o.heldOutBoxes(List.of("s2"))[1][0]);           // per clip, not per position
                assertNotEquals(boxes[0][0], boxes[1][0]);
                NDArray x = batch.input(Modality.VIDEO);                                   // (3, 4, 16, 16, 3)
                NDArray rest = x.get(new NDIndex(":, 2:"));
                NDArray x1 = NDArrays.concat(new NDList(ClipOps.cropped(x.get(new NDIndex(":, :2")), boxes[0]), rest), 1);
                NDArray x2 = NDArrays.concat(new NDList(ClipOps.cropped(x.get(new NDIndex(":, :2")), boxes[1]), rest), 1);
                // 0.985 of 4 patches rounds to 4, kept to 3: one visible per sample, the same draw by hand
                Engine.getInstance().setRandomSeed(11);
                Masking.Drawn drawn = Masking.draw(sm, 3, 4, null, new boolean[] {true, true, true}, 0.985);
                assertEquals(9, drawn.count());
                float[] mask = drawn.mask().toFloatArray();
                NDArray z1 = model.encodeTokens(x1, Modality.VIDEO, sm.create(PixelMae.range(3, 0, 4, null, 4), new Shape(3, 4)), false);
                NDArray z2 = model.encodeTokens(x2, Modality.VIDEO, sm.create(PixelMae.range(3, 0, 4, mask, 1), new Shape(3, 1)), false);
                NDArray slot = sm.create(PixelMae.slots(mask, 3, 4), new Shape(3, 4));
                NDArray y = Masking.layerNorm(model.patches(Modality.VIDEO, x2).get(new NDIndex(":, 0:4, :")));
                assertEquals(Masking.mse(o.decode(z1, z2, drawn.mask(), slot, false), y, drawn.mask(), 9).getFloat(),
                        held.get("pixel_mae/mse").getFloat(), 1e-5f);
                assertEquals(1f, held.get("pixel_mae/zero_mse").getFloat(), 1e-3f);
                // the target is the second crop, not the clip's own slice
                NDArray own = Masking.layerNorm(model.patches(Modality.VIDEO, x).get(new NDIndex(":, 0:4, :")));
                assertFalse(y.allClose(own, 1e-3, 1e-3, false));

                // training crops come from the step's seed: the same seed repeats, another differs
                float[] a = trainingLoss(o, batch, 5), b = trainingLoss(o, batch, 5), d = trainingLoss(o, batch, 6);
                assertArrayEquals(a, b);
                assertNotEquals(a[0], d[0]);
                assertTrue(model.params().all().get("trunk.0.attn.qkv.weight").getGradient().abs().sum().getFloat() > 0);
                assertTrue(model.params().all().get("objective.pixel_mae.out.weight").getGradient().abs().sum().getFloat() > 0);
            }
        }
    }

    /** The training terms (mse, contrastive) at libtorch seed s, after a backward pass. */
    private static float[] trainingLoss(PixelMae o, Batch batch, int s) {
        Engine.getInstance().setRandomSeed(s);
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            Map<String, NDArray> terms = o.losses(new Step(batch, null));
            assertEquals(List.of("pixel_mae/mse", "pixel_mae/contrastive"), List.copyOf(terms.keySet()));
            gc.backward(terms.values().stream().reduce(NDArray::add).orElseThrow());
            return new float[] {terms.get("pixel_mae/mse").getFloat(), terms.get("pixel_mae/contrastive").getFloat()};
        }
    }

    /**
     * Clips of linear ramps a r + b c (every frame and channel), the angle of (a, b) drawn per clip: a crop of a ramp
     * is a ramp, so each normalised patch of crop 2 is nearly the pattern its visible patch shows (and crop 1 tells the
     * angle). Predicting 0 costs about 1; a decoder that learns gets far below it.
     */
    private static Batch ramps(NDManager m, int b, long seed) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        float[] v = new float[b * 4 * 16 * 16 * 3];
        List<String> ids = new java.util.ArrayList<>();
        for (int i = 0; i < b; i++) {
            double angle = r.nextDouble(2 * Math.PI);
            float a = (float) (Math.cos(angle) / 8), c = (float) (Math.sin(angle) / 8);
            for (int k = 0; k < 4 * 16 * 16 * 3; k++) {
                int row = k / (16 * 3) % 16, col = k / 3 % 16;
                v[i * 4 * 16 * 16 * 3 + k] = a * (row - 7.5f) + c * (col - 7.5f);
            }
            ids.add("ramp" + seed + "-" + i);
        }
        boolean[] all = new boolean[b];
        java.util.Arrays.fill(all, true);
        return new Batch(ids, java.util.Collections.nCopies(b, null), Map.of(Modality.VIDEO, m.create(v, new Shape(b, 4, 16, 16, 3))),
                Map.of(Modality.VIDEO, all), Map.of());
    }

    @Test
    void theDecoderLearnsToReconstructCropsOfRamps() {
        Config c = PixelMaeTest.tiny("objectives.pixel_mae.views=crops", "objectives.pixel_mae.mask_ratio=0.985",
                "data.modalities=[video]", "objectives.contrastive.weight=0", "eval.pairs=[]");
        try (NDManager root = NDManager.newBaseManager(); SensoriumModel model = new SensoriumModel(c, root)) {
            PixelMae o = new PixelMae(c, model);
            org.sensorium.train.AdamW opt = new org.sensorium.train.AdamW(model.params(), 0.9f, 0.98f, 1e-6f, 0f);
            double start = heldOutMse(o, root), zero;
            try (NDManager sm = root.newSubManager()) {
                Engine.getInstance().setRandomSeed(11);
                zero = o.heldOut(ramps(sm, 16, 99)).get("pixel_mae/zero_mse").getFloat();
            }
            for (int step = 0; step < STEPS; step++) {
                try (NDManager sm = root.newSubManager()) {
                    Batch batch = ramps(sm, 8, step);
                    Engine.getInstance().setRandomSeed(1000 + step);
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        gc.backward(o.losses(new Step(batch, null)).get("pixel_mae/mse"));
                    }
                    opt.step(sm, opt.norms(sm), 3e-3f, 1f);
                    opt.zeroGradients(sm);
                }
            }
            double end = heldOutMse(o, root);
            System.out.printf("ramps: held-out mse %.4f -> %.4f, predicting 0 %.4f%n", start, end, zero);
            assertTrue(zero > 0.9, "zero baseline " + zero);
            assertTrue(end < 0.5 * zero, "held-out mse " + start + " -> " + end + " against predicting 0 " + zero);
        }
    }

    private static final int STEPS = 60;

    /** The held-out mse on 16 ramps of their own (fixed crops, masks at libtorch seed 11). */
    private static double heldOutMse(PixelMae o, NDManager root) {
        try (NDManager sm = root.newSubManager()) {
            Engine.getInstance().setRandomSeed(11);
            return o.heldOut(ramps(sm, 16, 99)).get("pixel_mae/mse").getFloat();
        }
    }

    @Test
    void aBadViewsValueNamesItsKeyOnOneLine() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.load(null, List.of("objectives.pixel_mae.views=sideways")));
        assertTrue(e.getMessage().contains("objectives.pixel_mae.views"), e.getMessage());
        assertTrue(e.getMessage().contains("sideways") && !e.getMessage().contains("\n"), e.getMessage());
        assertEquals("frames", ConfigLoader.load(null, List.of()).config().objectives().pixelMae().views());
        assertTrue(ConfigLoader.load(null, List.of("objectives.pixel_mae.views=crops")).config().objectives().pixelMae().crops());
    }
}
