package org.sensorium.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigLoader;
import org.sensorium.data.Batch;
import org.sensorium.modality.Item;
import org.sensorium.data.ManifestEntry;
import org.sensorium.config.Modality;
import org.sensorium.objective.Contrastive;
import org.sensorium.train.AdamW;

class SensoriumModelTest {
    /** A tiny model: width 16, 2 heads, 1 block; 4-frame 16x16 video, 8 IMU samples; the scratch text tower (ids, L = 6). */
    static Config tiny(String... extra) {
        List<String> sets = new ArrayList<>(List.of("model.width=16", "model.heads=2", "model.depth=1", "model.embed_dim=8",
                "modalities.video.height=16", "modalities.video.width=16", "modalities.video.fps=2.0",
                "modalities.text.max_length=6", "modalities.text.tower=scratch", "modalities.imu.rate_hz=4.0", "modalities.imu.patch=2"));
        sets.addAll(List.of(extra));
        return ConfigLoader.load(null, sets).config();
    }

    /** Random inputs in each modality's shape; sample i lacks text when i is odd and lacks imu when i == 2. */
    static Batch batch(NDManager m, Config c, int b, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Map<Modality, long[]> shapes = new EnumMap<>(Modality.class);
        for (Modality mod : c.activeModalities()) {
            shapes.put(mod, c.modalities().inputShape(mod, c.data().clipSeconds()));
        }
        List<Batch.Decoded> samples = new ArrayList<>();
        for (int i = 0; i < b; i++) {
            Map<Modality, Item> items = new EnumMap<>(Modality.class);
            for (Map.Entry<Modality, long[]> e : shapes.entrySet()) {
                if ((e.getKey() == Modality.TEXT && i % 2 == 1) || (e.getKey() == Modality.IMU && i == 2)) {
                    continue;
                }
                int n = (int) new Shape(e.getValue()).size();
                float[] v = new float[n];
                boolean[] valid = null;
                if (e.getKey() == Modality.TEXT) {
                    valid = new boolean[n];
                    for (int j = 0; j < n; j++) {
                        valid[j] = j < 3;
                        v[j] = valid[j] ? 100 + r.nextInt(1000) : 0;
                    }
                } else {
                    for (int j = 0; j < n; j++) {
                        v[j] = (float) r.nextGaussian();
                    }
                }
                items.put(e.getKey(), new Item(v, e.getValue(), valid));
            }
            ManifestEntry entry = new ManifestEntry("s" + i, "train", "c" + (i % 2), Map.of(), List.of(),
                    java.nio.file.Path.of("m.jsonl"), i + 1);
            samples.add(new Batch.Decoded(entry, items));
        }
        return Batch.collate(m, samples, shapes);
    }

    @Test
    void pretrainedTextTowerOnlyProjectsTheFrozenVectors() {
        // W = 384 sentence vectors; text has no stem, positions or trunk tokens, only head.text (weight (E, W) = (8, 384))
        Config c = tiny("modalities.text.tower=pretrained");
        try (NDManager root = NDManager.newBaseManager(); SensoriumModel model = new SensoriumModel(c, root);
                NDManager sm = root.newSubManager()) {
            Map<String, NDArray> p = model.params().all();
            assertArrayEquals(new long[] {8, 384}, p.get("head.text.weight").getShape().getShape());
            assertTrue(p.keySet().stream().noneMatch(k -> k.startsWith("stem.text") || k.equals("pos.text") || k.equals("modality.text")),
                    p.keySet().toString());
            NDArray x = sm.randomNormal(new Shape(3, 384));                                   // (B, W)
            ModelOutput out = model.forward(Map.of(Modality.TEXT, x), Map.of(), false);
            NDArray e = out.embedding(Modality.TEXT);                                        // (B, E)
            assertArrayEquals(new long[] {3, 8}, e.getShape().getShape());
            // the head by hand: x W + b, then L2-normalised
            NDArray expect = x.matMul(p.get("head.text.weight").transpose()).add(p.get("head.text.bias"));
            expect = expect.div(expect.norm(new int[] {1}, true));
            assertTrue(e.sub(expect).abs().max().getFloat() < 1e-5f);
            assertTrue(!out.tokens().containsKey(Modality.TEXT), "a frozen tower has no trunk tokens");
        }
        // projection none: the vector itself, which needs E = W
        Config none = tiny("modalities.text.tower=pretrained", "modalities.text.pretrained.projection=none", "model.embed_dim=384");
        try (NDManager root = NDManager.newBaseManager(); SensoriumModel model = new SensoriumModel(none, root);
                NDManager sm = root.newSubManager()) {
            assertTrue(model.params().all().keySet().stream().noneMatch(k -> k.contains("text")));
            NDArray x = sm.create(new float[] {3, 4}).concat(sm.zeros(new Shape(382))).reshape(1, 384); // (3, 4, 0...) -> (0.6, 0.8, 0...)
            float[] e = model.forward(Map.of(Modality.TEXT, x), Map.of(), false).embedding(Modality.TEXT).toFloatArray();
            assertEquals(0.6f, e[0], 1e-6f);
            assertEquals(0.8f, e[1], 1e-6f);
        }
        org.sensorium.config.ConfigException wrong = org.junit.jupiter.api.Assertions.assertThrows(
                org.sensorium.config.ConfigException.class, () -> {
                    try (NDManager root = NDManager.newBaseManager()) {
                        new SensoriumModel(tiny("modalities.text.tower=pretrained", "modalities.text.pretrained.projection=none"), root);
                    }
                });
        assertTrue(wrong.getMessage().contains("modalities.text.pretrained.projection"), wrong.getMessage());
    }

    @Test
    void learnedPoolingStartsAsTheEncodersMeanPooling() {
        // (B, L, W) = (1, 3, 384) token states, the third padding; the query starts at zero, so the softmax weights the
        // two valid tokens 1/2 each: pooled = unit(mean of rows 0 and 1), then head.text and unit again
        Config c = tiny("modalities.text.tower=pretrained", "modalities.text.pretrained.pooling=learned", "modalities.text.max_length=3");
        try (NDManager root = NDManager.newBaseManager(); SensoriumModel model = new SensoriumModel(c, root);
                NDManager sm = root.newSubManager()) {
            Map<String, NDArray> p = model.params().all();
            assertArrayEquals(new long[] {384, 1}, p.get("pool.text.query").getShape().getShape());
            NDArray x = sm.randomNormal(new Shape(1, 3, 384));
            NDArray valid = sm.create(new boolean[] {true, true, false}, new Shape(1, 3));
            NDArray e = model.forward(Map.of(Modality.TEXT, x), Map.of(Modality.TEXT, valid), false).embedding(Modality.TEXT);
            NDArray mean = x.get(":, 0:2, :").mean(new int[] {1});                          // (1, W)
            mean = mean.div(mean.norm(new int[] {1}, true));
            NDArray expect = mean.matMul(p.get("head.text.weight").transpose()).add(p.get("head.text.bias"));
            expect = expect.div(expect.norm(new int[] {1}, true));
            assertTrue(e.sub(expect).abs().max().getFloat() < 1e-5f);
        }
    }

    @Test
    void pretrainedTextBagAveragesItsPresentRows() {
        // bag K = 2 of (W) vectors, valid (B, K): sample 0 has both rows, sample 1 only row 0
        Config c = tiny("modalities.text.tower=pretrained", "modalities.text.bag=2", "modalities.text.pretrained.projection=none",
                "model.embed_dim=384");
        try (NDManager root = NDManager.newBaseManager(); SensoriumModel model = new SensoriumModel(c, root);
                NDManager sm = root.newSubManager()) {
            float[] v = new float[2 * 2 * 384];
            v[0] = 1;                 // sample 0, row 0 = e0
            v[384 + 1] = 1;           // sample 0, row 1 = e1 -> mean direction (0.7071, 0.7071)
            v[2 * 384] = 1;           // sample 1, row 0 = e0
            v[3 * 384 + 2] = 1;       // sample 1, row 1 = e2 but invalid -> e0
            NDArray x = sm.create(v, new Shape(2, 2, 384));
            NDArray valid = sm.create(new boolean[] {true, true, true, false}, new Shape(2, 2));
            ModelOutput out = model.forward(Map.of(Modality.TEXT, x), Map.of(Modality.TEXT, valid), false);
            float[] e = out.embedding(Modality.TEXT).toFloatArray();
            assertEquals(0.70710677f, e[0], 1e-6f);
            assertEquals(0.70710677f, e[1], 1e-6f);
            assertEquals(1f, e[384], 1e-6f);
            assertEquals(0f, e[384 + 2], 1e-6f);
        }
    }

    @Test
    void withClsPoolingAnAbsentTextOfABagStaysOutOfItsMean() {
        // scratch tower, bag K = 2 of L = 6 ids, pool = cls: sample 0 has one text, its second row all padding. The
        // CLS token makes every row of the trunk valid, but the bag must still count only the texts that are there.
        Config c = tiny("modalities.text.bag=2", "model.pool=cls");
        try (NDManager root = NDManager.newBaseManager(); SensoriumModel model = new SensoriumModel(c, root);
                NDManager sm = root.newSubManager()) {
            float[] ids = {101, 2000, 102, 0, 0, 0, 101, 3000, 102, 0, 0, 0};
            boolean[] valid = {true, true, true, false, false, false, false, false, false, false, false, false};
            ModelOutput bag = model.forward(Map.of(Modality.TEXT, sm.create(ids, new Shape(1, 2, 6))),
                    Map.of(Modality.TEXT, sm.create(valid, new Shape(1, 12))), false);
            assertArrayEquals(new boolean[] {true, false}, bag.bagValid().get(Modality.TEXT).toBooleanArray());
            NDArray alone = bag.bags().get(Modality.TEXT).get(":, 0, :");                    // (1, E) the one text's embedding
            assertTrue(bag.embedding(Modality.TEXT).sub(alone).abs().max().getFloat() < 1e-6f);
        }
    }

    @Test
    void embeddingsAreUnitNormForEveryModality() {
        Config c = tiny();
        try (NDManager root = NDManager.newBaseManager(); SensoriumModel model = new SensoriumModel(c, root);
                NDManager sm = root.newSubManager()) {
            Batch b = batch(sm, c, 4, 1);
            ModelOutput out = model.forward(b.inputs(), b.valid(), false);
            for (Modality m : c.activeModalities()) {
                NDArray e = out.embedding(m);
                assertEquals(new Shape(4, 8), e.getShape());
                float[] norms = e.square().sum(new int[] {1}).sqrt().toFloatArray();
                for (int i = 0; i < 4; i++) {
                    if (b.present(m)[i]) {
                        assertEquals(1f, norms[i], 1e-5f, m + " sample " + i);
                    }
                }
            }
            // 4 frames / 2 * (16/8)^2 = 8 video tokens of width 16
            assertEquals(new Shape(4, 8, 16), out.tokens().get(Modality.VIDEO).getShape());
            assertEquals(14.2857f, out.logitScale().getFloat(), 1e-3f);
        }
    }

    @Test
    void rawWaveformAudioBecomesOneTokenPerPatch() {
        // 2 s at 16 kHz = 32000 samples = 250 patches of 128
        Config c = tiny("modalities.audio.input=waveform");
        try (NDManager root = NDManager.newBaseManager(); SensoriumModel model = new SensoriumModel(c, root);
                NDManager sm = root.newSubManager()) {
            var b = batch(sm, c, 2, 5);
            ModelOutput out = model.forward(b.inputs(), b.valid(), false);
            assertEquals(new Shape(2, 250, 16), out.tokens().get(Modality.AUDIO).getShape());
            assertEquals(new Shape(2, 8), out.embedding(Modality.AUDIO).getShape());
        }
    }

    @Test
    void paddedTextTokensDoNotChangeTheEmbedding() {
        Config c = tiny();
        try (NDManager root = NDManager.newBaseManager(); SensoriumModel model = new SensoriumModel(c, root);
                NDManager sm = root.newSubManager()) {
            Batch b = batch(sm, c, 2, 3);
            float[] before = model.forward(b.inputs(), b.valid(), false).embedding(Modality.TEXT).toFloatArray();
            NDArray ids = b.input(Modality.TEXT);        // (2, 6); tokens 3..5 are padding
            ids.set(new ai.djl.ndarray.index.NDIndex(":, 3:"), 777f);
            float[] after = model.forward(b.inputs(), b.valid(), false).embedding(Modality.TEXT).toFloatArray();
            assertArrayEquals(before, after, 1e-5f);
        }
    }

    @Test
    void trainingStepsLeaveNoArraysBehindInTheModelsManager() {
        Config c = tiny();
        try (NDManager root = NDManager.newBaseManager(); SensoriumModel model = new SensoriumModel(c, root)) {
            AdamW opt = new AdamW(model.params(), 0.9f, 0.98f, 1e-6f, 0.05f);
            Contrastive loss = new Contrastive(c.objectives().contrastive().pairs());
            int before = -1;
            for (int step = 0; step < 4; step++) {
                try (NDManager sm = root.newSubManager()) {
                    Batch b = batch(sm, c, 4, step);
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        ModelOutput out = model.forward(b.inputs(), b.valid(), true);
                        NDArray total = null;
                        for (NDArray t : loss.losses(out, b).values()) {
                            total = total == null ? t : total.add(t);
                        }
                        gc.backward(total);
                    }
                    AdamW.GradNorms n = opt.norms(sm);
                    assertTrue(n.global() > 0);
                    opt.step(sm, n, 1e-3f, 1f);
                    opt.zeroGradients(sm);
                }
                int now = model.params().manager().getManagedArrays().size();
                if (step == 0) {
                    before = now;
                }
                assertEquals(before, now, "arrays owned by the model's manager after step " + step);
            }
        }
    }
}
