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
    /** A tiny model: width 16, 2 heads, 1 block; 4-frame 16x16 video, 8 IMU samples. */
    static Config tiny(String... extra) {
        List<String> sets = new ArrayList<>(List.of("model.width=16", "model.heads=2", "model.depth=1", "model.embed_dim=8",
                "modalities.video.height=16", "modalities.video.width=16", "modalities.video.fps=2.0",
                "modalities.text.max_length=6", "modalities.imu.rate_hz=4.0", "modalities.imu.patch=2"));
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
