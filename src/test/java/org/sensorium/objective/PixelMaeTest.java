package org.sensorium.objective;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.config.Modality;
import org.sensorium.data.Batch;
import org.sensorium.model.SensoriumModel;

class PixelMaeTest {

    /** The tiny fixture's video: 2 token time steps of G = 4 patches of P = 2 x 8 x 8 x 3 = 384 values. */
    static Config tiny(String... extra) {
        List<String> sets = new java.util.ArrayList<>(List.of("objectives.pixel_mae.weight=1", "objectives.pixel_mae.decoder_width=8",
                "objectives.pixel_mae.decoder_depth=1", "objectives.pixel_mae.decoder_heads=2"));
        sets.addAll(List.of(extra));
        return MaskedFixtures.tiny(sets.toArray(String[]::new));
    }

    @Test
    void visibleIndicesAndSlotsByHand() {
        // row 0 masks patches 0 and 2 of view 2 (time step 1, tokens 4..7): visible tokens 5 and 7, which sit in
        // rows 0 and 1 of z2; row 1 masks 1 and 3: tokens 4 and 6
        float[] mask = {1, 0, 1, 0, 0, 1, 0, 1};
        assertArrayEquals(new long[] {5, 7, 4, 6}, PixelMae.range(2, 4, 4, mask, 2));
        assertArrayEquals(new long[] {0, 0, 0, 1, 0, 0, 1, 0}, PixelMae.slots(mask, 2, 4));
        assertArrayEquals(new long[] {0, 1, 2, 0, 1, 2}, PixelMae.range(2, 0, 3, null, 3));
    }

    @Test
    void theZeroBaselineOfNormalisedPixelsIsOne() {
        // a patch (1, 2, 3, 4): mean 2.5, variance 1.25, normalised (x - 2.5) / sqrt(1.25 + 1e-5); predicting 0
        // costs mean y^2 = 1.25 / (1.25 + 1e-5)
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray y = Masking.layerNorm(m.create(new float[] {1, 2, 3, 4}, new Shape(1, 1, 4)));
            NDArray mask = m.create(new float[] {1}, new Shape(1, 1));
            assertEquals(1.25 / (1.25 + 1e-5), Masking.mse(y.zerosLike(), y, mask, 1).getFloat(), 1e-6);
        }
    }

    @Test
    void theEncoderSeesOnlyTheTokensItIsGiven() {
        Config c = tiny();
        try (NDManager root = NDManager.newBaseManager(); SensoriumModel model = new SensoriumModel(c, root)) {
            Batch batch = MaskedFixtures.batch(root, c, 2, 1, Map.of());
            NDArray x = batch.input(Modality.VIDEO);                                 // (2, 4, 16, 16, 3)
            NDArray index = root.create(new long[] {4, 7, 5, 6}, new Shape(2, 2));
            float[] before = model.encodeTokens(x, Modality.VIDEO, index, false).toFloatArray();
            x.set(new NDIndex(":, 2:, :8, 8:, :"), 0.5f); // token 5 (time step 1, top right) of both samples
            float[] after = model.encodeTokens(x, Modality.VIDEO, index, false).toFloatArray();
            // sample 0 reads tokens 4 and 7 only: unchanged; sample 1 reads token 5: changed
            assertArrayEquals(Arrays.copyOfRange(before, 0, 16), Arrays.copyOfRange(after, 0, 16), 1e-6f);
            assertFalse(Arrays.equals(Arrays.copyOfRange(before, 16, 32), Arrays.copyOfRange(after, 16, 32)));
            // patches are the stem's tubelets: token 5's 384 values are now all 0.5
            float[] p = model.patches(Modality.VIDEO, x).get(new NDIndex("1, 5, :")).toFloatArray();
            assertEquals(384, p.length);
            for (float v : p) {
                assertEquals(0.5f, v);
            }
        }
    }

    @Test
    void theLossIsTheDecodersErrorOnMaskedPatchesAndReachesTheEncoder() {
        Config c = tiny("objectives.pixel_mae.contrastive_weight=0.5");
        try (NDManager root = NDManager.newBaseManager(); SensoriumModel model = new SensoriumModel(c, root)) {
            PixelMae o = new PixelMae(c, model);
            try (NDManager sm = root.newSubManager()) {
                Batch batch = MaskedFixtures.batch(sm, c, 3, 2, Map.of());
                Engine.getInstance().setRandomSeed(11);
                Map<String, NDArray> held = o.heldOut(batch);
                assertEquals(List.of("pixel_mae/mse", "pixel_mae/contrastive", "pixel_mae/zero_mse", "pixel_mae/copy_mse"),
                        List.copyOf(held.keySet()));
                // 0.95 of 4 patches: 3 masked, 1 visible per sample; the same draw by hand
                Engine.getInstance().setRandomSeed(11);
                Masking.Drawn drawn = Masking.draw(sm, 3, 4, null, new boolean[] {true, true, true}, 0.95);
                assertEquals(9, drawn.count());
                float[] mask = drawn.mask().toFloatArray();
                NDArray x = batch.input(Modality.VIDEO);
                NDArray z1 = model.encodeTokens(x, Modality.VIDEO, sm.create(PixelMae.range(3, 0, 4, null, 4), new Shape(3, 4)), false);
                NDArray z2 = model.encodeTokens(x, Modality.VIDEO, sm.create(PixelMae.range(3, 4, 4, mask, 1), new Shape(3, 1)), false);
                NDArray slot = sm.create(PixelMae.slots(mask, 3, 4), new Shape(3, 4));
                NDArray y = Masking.layerNorm(model.patches(Modality.VIDEO, x).get(new NDIndex(":, 4:8, :")));
                assertEquals(Masking.mse(o.decode(z1, z2, drawn.mask(), slot, false), y, drawn.mask(), 9).getFloat(),
                        held.get("pixel_mae/mse").getFloat(), 1e-5f);
                assertEquals(1f, held.get("pixel_mae/zero_mse").getFloat(), 1e-3f); // per-patch variance / (variance + eps)

                Map<String, NDArray> terms;
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    terms = o.losses(new Step(batch, null));
                    gc.backward(terms.values().stream().reduce(NDArray::add).orElseThrow());
                }
                assertEquals(List.of("pixel_mae/mse", "pixel_mae/contrastive"), List.copyOf(terms.keySet()));
                // unlike the masked-embedding objectives, the pixels train the encoder too
                assertTrue(model.params().all().get("objective.pixel_mae.mask").getGradient().abs().sum().getFloat() > 0);
                assertTrue(model.params().all().get("trunk.0.attn.qkv.weight").getGradient().abs().sum().getFloat() > 0);
            }
        }
    }

    @Test
    void decoderGradientMatchesFiniteDifferences() {
        // d L / d z2 through the input projection, the placement of the visible row, one decoder block and the output
        Config c = tiny();
        try (NDManager root = NDManager.newBaseManager(); SensoriumModel model = new SensoriumModel(c, root)) {
            PixelMae o = new PixelMae(c, model);
            java.util.SplittableRandom r = new java.util.SplittableRandom(5);
            float[] z1 = new float[2 * 4 * 8], z2 = new float[2 * 1 * 8], y = new float[2 * 4 * 384];
            for (float[] a : List.of(z1, z2, y)) {
                for (int i = 0; i < a.length; i++) {
                    a[i] = (float) r.nextGaussian();
                }
            }
            float[] mask = {1, 0, 1, 1, 1, 1, 0, 1};
            NDArray m = root.create(mask, new Shape(2, 4));
            NDArray slot = root.create(PixelMae.slots(mask, 2, 4), new Shape(2, 4));
            NDArray first = root.create(z1, new Shape(2, 4, 8)), target = root.create(y, new Shape(2, 4, 384));
            GradCheck.check(x -> Masking.mse(o.decode(first, x, m, slot, false), target, m, 6), z2, new Shape(2, 1, 8), 5e-4);
        }
    }

    @Test
    void badRatioAndGapNameTheirKeys() {
        Config lowRatio = tiny("objectives.pixel_mae.mask_ratio=0.1"); // round(0.1 * 4) = 0 patches
        try (NDManager root = NDManager.newBaseManager(); SensoriumModel model = new SensoriumModel(lowRatio, root)) {
            ConfigException e = assertThrows(ConfigException.class, () -> new PixelMae(lowRatio, model));
            assertTrue(e.getMessage().contains("objectives.pixel_mae.mask_ratio"), e.getMessage());
        }
        Config farGap = tiny("objectives.pixel_mae.gap=2");
        try (NDManager root = NDManager.newBaseManager(); SensoriumModel model = new SensoriumModel(farGap, root)) {
            ConfigException e = assertThrows(ConfigException.class, () -> new PixelMae(farGap, model));
            assertTrue(e.getMessage().contains("objectives.pixel_mae.gap"), e.getMessage());
        }
    }
}
