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
import org.sensorium.config.ConfigLoader;
import org.sensorium.data.Batch;
import org.sensorium.model.SensoriumModel;
import org.sensorium.config.Modality;

class MaskedSegmentsTest {

    @Test
    void visibleMeanBaselineByHand() {
        // visible segments 0 and 1: mean (2, 3), predicted for every segment; against segment 2 = (10, 10):
        // ((2-10)^2 + (3-10)^2) / 2 = 56.5 on the one masked segment
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray y = m.create(new float[] {1, 2, 3, 4, 10, 10}, new Shape(1, 3, 2));
            NDArray mask = m.create(new float[] {0, 0, 1}, new Shape(1, 3));
            NDArray mean = MaskedSegments.visibleMean(y, mask);
            assertArrayEquals(new float[] {2, 3, 2, 3, 2, 3}, mean.toFloatArray(), 1e-6f);
            assertEquals(56.5f, Masking.mse(mean, y, mask, 1).getFloat(), 1e-5f);
        }
    }

    @Test
    void eachSegmentIsEncodedOnItsOwn() {
        // 4 frames in tubelets of 2: two segments of one tubelet slice (4 tokens) each
        Config c = MaskedFixtures.tiny();
        try (NDManager root = NDManager.newBaseManager(); SensoriumModel model = new SensoriumModel(c, root)) {
            Batch batch = MaskedFixtures.batch(root, c, 2, 1, Map.of());
            NDArray before = model.segmentEmbeddings(batch.input(Modality.VIDEO), batch.valid(Modality.VIDEO), Modality.VIDEO, 2, false);        // (B, S, E)
            assertEquals(new Shape(2, 2, 4), before.getShape());
            float[] norms = before.square().sum(new int[] {2}).sqrt().toFloatArray();
            for (float n : norms) {
                assertEquals(1f, n, 1e-5f);
            }
            float[] b = before.toFloatArray();
            batch.input(Modality.VIDEO).set(new NDIndex(":, 2:, ..."), 0.5f);                  // change the second segment's frames
            float[] after = model.segmentEmbeddings(batch.input(Modality.VIDEO), batch.valid(Modality.VIDEO), Modality.VIDEO, 2, false).toFloatArray();
            for (int i = 0; i < 2; i++) {
                assertArrayEquals(Arrays.copyOfRange(b, i * 8, i * 8 + 4), Arrays.copyOfRange(after, i * 8, i * 8 + 4), 1e-6f);
                assertFalse(Arrays.equals(Arrays.copyOfRange(b, i * 8 + 4, i * 8 + 8), Arrays.copyOfRange(after, i * 8 + 4, i * 8 + 8)));
            }
            // the same content in either segment gives the same embedding: a segment does not know where it sits
            batch.input(Modality.VIDEO).set(new NDIndex(":, :2, ..."), 0.5f);
            float[] same = model.segmentEmbeddings(batch.input(Modality.VIDEO), batch.valid(Modality.VIDEO), Modality.VIDEO, 2, false).toFloatArray();
            assertArrayEquals(Arrays.copyOfRange(same, 0, 4), Arrays.copyOfRange(same, 4, 8), 1e-6f);
        }
    }

    @Test
    void theLossIsTheDecodersErrorOnMaskedNormalisedTargets() {
        Config c = MaskedFixtures.tiny("objectives.masked_segments.weight=1");
        try (NDManager root = NDManager.newBaseManager(); SensoriumModel model = new SensoriumModel(c, root)) {
            MaskedSegments o = new MaskedSegments(c, model);
            try (NDManager sm = root.newSubManager()) {
                // sample 2 has no video: none of its segments is masked
                Batch batch = MaskedFixtures.batch(sm, c, 3, 2, Map.of(Modality.VIDEO, new boolean[] {true, true, false}));
                Engine.getInstance().setRandomSeed(11);
                float loss = o.heldOut(batch).get("masked_segments/video").getFloat();
                Engine.getInstance().setRandomSeed(11);
                Masking.Drawn drawn = Masking.draw(sm, 3, 2, null, batch.present(Modality.VIDEO), 0.5);
                assertEquals(2, drawn.count()); // one of two segments for each of the two samples with video
                NDArray y = Masking.layerNorm(model.segmentEmbeddings(batch.input(Modality.VIDEO), batch.valid(Modality.VIDEO), Modality.VIDEO, 2, false)); // the teacher is still the student
                assertEquals(Masking.mse(o.reconstruct(y, drawn.mask(), false), y, drawn.mask(), 2).getFloat(), loss, 1e-6f);

                Map<String, NDArray> terms;
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    terms = o.losses(null, batch);
                    gc.backward(terms.get("masked_segments/video"));
                }
                assertEquals(List.of("masked_segments/video"), List.copyOf(terms.keySet()));
                for (NDArray p : o.teacher().model().params().all().values()) {
                    assertFalse(p.hasGradient());
                }
                // the decoder learns; the encoder gets nothing from this objective
                assertTrue(model.params().all().get("objective.masked_segments.mask").getGradient().abs().sum().getFloat() > 0);
                assertEquals(0f, model.params().all().get("trunk.0.attn.qkv.weight").getGradient().abs().sum().getFloat());
            }
        }
    }

    @Test
    void decoderGradientMatchesFiniteDifferences() {
        // d L / d y through the input projection, mask embedding, one decoder block and the output projection
        Config c = MaskedFixtures.tiny("objectives.masked_segments.weight=1");
        try (NDManager root = NDManager.newBaseManager(); SensoriumModel model = new SensoriumModel(c, root)) {
            MaskedSegments o = new MaskedSegments(c, model);
            java.util.SplittableRandom r = new java.util.SplittableRandom(5);
            float[] y = new float[2 * 2 * 4];
            float[] target = new float[y.length];
            for (int i = 0; i < y.length; i++) {
                y[i] = (float) r.nextGaussian();
                target[i] = (float) r.nextGaussian();
            }
            NDArray t = root.create(target, new Shape(2, 2, 4));
            NDArray mask = root.create(new float[] {1, 0, 0, 1}, new Shape(2, 2));
            GradCheck.check(x -> Masking.mse(o.reconstruct(x, mask, false), t, mask, 2), y, new Shape(2, 2, 4), 5e-4);
        }
    }

    @Test
    void aFrozenEncoderStaysWhileTheStudentMoves() {
        Config c = MaskedFixtures.tiny("objectives.masked_segments.weight=1", "objectives.masked_segments.encoder=frozen");
        try (NDManager root = NDManager.newBaseManager(); SensoriumModel model = new SensoriumModel(c, root)) {
            MaskedSegments o = new MaskedSegments(c, model);
            float[] start = o.teacher().model().params().all().get("trunk.0.attn.qkv.weight").toFloatArray();
            model.params().all().get("trunk.0.attn.qkv.weight").addi(1f);
            o.afterStep(0);
            assertArrayEquals(start, o.teacher().model().params().all().get("trunk.0.attn.qkv.weight").toFloatArray(), 0f);
        }
    }

    @Test
    void configErrorsNameTheKey() {
        Config c = MaskedFixtures.tiny("objectives.masked_segments.weight=1", "objectives.masked_segments.segments=4");
        try (NDManager root = NDManager.newBaseManager(); SensoriumModel model = new SensoriumModel(c, root)) {
            ConfigException s = assertThrows(ConfigException.class, () -> new MaskedSegments(c, model)); // 2 time steps
            assertEquals("objectives.masked_segments.segments", s.key());
        }
        Config few = MaskedFixtures.tiny("objectives.masked_segments.weight=1", "objectives.masked_segments.mask_ratio=0.2");
        try (NDManager root = NDManager.newBaseManager(); SensoriumModel model = new SensoriumModel(few, root)) {
            ConfigException r = assertThrows(ConfigException.class, () -> new MaskedSegments(few, model)); // round(0.4) = 0
            assertEquals("objectives.masked_segments.mask_ratio", r.key());
        }
        Map<String, List<String>> cases = Map.of(
                "objectives.masked_segments.mask_ratio", List.of("objectives.masked_segments.mask_ratio=1.5"),
                "objectives.masked_segments.modality", List.of("objectives.masked_segments.weight=1",
                        "objectives.masked_segments.modality=audio", "data.modalities=[video, text]",
                        "objectives.contrastive.pairs=[video-text]"),
                "objectives.masked_segments.encoder", List.of("objectives.masked_segments.encoder=pretrained"),
                "objectives.masked_segments.segments", List.of("objectives.masked_segments.segments=1"),
                "objectives.masked_segments.decoder_width", List.of("objectives.masked_segments.decoder_width=10",
                        "objectives.masked_segments.decoder_heads=4"));
        for (Map.Entry<String, List<String>> e : cases.entrySet()) {
            ConfigException x = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, e.getValue()), e.getKey());
            assertEquals(e.getKey(), x.key(), x.getMessage());
        }
        ConfigException text = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of(
                "objectives.masked_segments.weight=1", "objectives.masked_segments.modality=text")));
        assertTrue(text.getMessage().contains("no time axis"), text.getMessage());
        assertEquals(0f, ConfigLoader.load(null, List.of()).config().objectives().maskedSegments().weight()); // off by default
    }
}
