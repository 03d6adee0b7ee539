package org.sensorium.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.config.ConfigException;
import org.sensorium.config.ConfigLoader;
import org.sensorium.data.Loader;
import org.sensorium.model.Safetensors;
import org.sensorium.model.SensoriumModel;
import org.sensorium.model.TorchNames;
import org.sensorium.train.AdamW;
import org.sensorium.train.Checkpoint;

class ExportTest {
    /** Width 16, 2 heads, 1 block, CLS pooling; every modality at small sizes; the scratch text tower (L = 6). */
    static final List<String> TINY = List.of("model.width=16", "model.heads=2", "model.depth=1", "model.embed_dim=8", "model.pool=cls",
            "modalities.video.height=16", "modalities.video.width=16", "modalities.video.fps=2.0", "modalities.text.max_length=6",
            "modalities.text.tower=scratch", "modalities.imu.rate_hz=4.0", "modalities.imu.patch=2", "run.name=tiny");

    /**
     * A run folder with one checkpoint of a model of TINY plus sets, its parameters moved off their initial values
     * (gains and biases too, so a swapped name or a transposed matrix shows), as a trained run would have them.
     */
    static Path checkpoint(Path runs, String... sets) throws Exception {
        List<String> all = new ArrayList<>(TINY);
        all.addAll(List.of(sets));
        ConfigLoader.Resolved r = ConfigLoader.load(null, all);
        Path run = runs.resolve("tiny");
        try (NDManager m = NDManager.newBaseManager(); SensoriumModel model = new SensoriumModel(r.config(), m)) {
            SplittableRandom rng = new SplittableRandom(5);
            for (NDArray p : model.params().all().values()) {
                float[] v = p.toFloatArray();
                for (int i = 0; i < v.length; i++) {
                    v[i] += (float) (0.3 * (rng.nextDouble() - 0.5));
                }
                p.set(v);
            }
            AdamW opt = new AdamW(model.params(), 0.9f, 0.98f, 1e-6f, 0.05f);
            return Checkpoint.save(run, new Checkpoint.State(7, new Loader.Cursor(0, 7), 1, "abc"), model.params(), opt, List.of(),
                    r.yaml(), 2);
        }
    }

    private static Export.Result export(Path checkpoint, Path out, boolean force) throws Exception {
        return Export.run(new Export.Options(checkpoint, out, force, null, List.of()));
    }

    @Test
    void theWeightsGoOutUnderPyTorchNamesAndComeBackIdentical(@TempDir Path tmp) throws Exception {
        Path ckpt = checkpoint(tmp);
        Path out = tmp.resolve("export");
        Export.Result r = export(ckpt.getParent().getParent(), out, false); // the run folder: its newest checkpoint
        assertEquals(7, r.step());
        assertEquals(List.of("model.safetensors", "config.json", "sensorium-config.yaml", "tokenizer.json", "README.md"), r.files());
        try (NDManager m = NDManager.newBaseManager(); SensoriumModel saved = new SensoriumModel(
                ConfigLoader.loadResolved(ckpt.resolve("config.yaml"), List.of()).config(), m)) {
            saved.params().load(ckpt.resolve("model.ndlist"));
            Map<String, NDArray> file = Safetensors.read(out.resolve("model.safetensors"), m);
            Map<String, String> names = TorchNames.of(saved.params());
            assertEquals(List.copyOf(names.values()), List.copyOf(file.keySet()), "every parameter, in the model's order");
            names.forEach((name, torch) -> assertTrue(saved.params().all().get(name).contentEquals(file.get(torch)), torch));
            assertTrue(file.containsKey("trunk.blocks.0.attn.qkv.weight") && file.containsKey("cls_token.video"));

            SensoriumModel back = Exported.open(out).model(m, List.of());
            for (Map.Entry<String, NDArray> e : saved.params().all().entrySet()) {
                assertTrue(e.getValue().contentEquals(back.params().all().get(e.getKey())), e.getKey());
            }
        }
        JsonNode cfg = ExportConfig.JSON.readTree(out.resolve("config.json").toFile());
        assertEquals("sensorium-export", cfg.path("format").asText());
        assertEquals(16, cfg.path("trunk").path("width").asInt());
        assertEquals("cls", cfg.path("pool").asText());
        assertEquals("[4,16,16,3]", cfg.path("stems").path("video").path("input_shape").toString());
        assertEquals(8, cfg.path("stems").path("video").path("tokens").asInt()); // 4/2 frames x (16/8)^2
        assertEquals("scratch", cfg.path("text_tower").path("kind").asText());
        assertEquals(64, cfg.path("text_tower").path("tokenizer").path("sha256").asText().length());
        String card = Files.readString(out.resolve("README.md"));
        assertTrue(card.contains("step 7") && card.contains("No summary.json"), card);
        assertFalse(card.contains(tmp.toString()), "the card names no machine path");
        assertFalse(Files.exists(tmp.resolve(".export.export-tmp")), "no temporary folder left");
    }

    @Test
    void aPretrainedTowerIsDescribedByItsFilesNotCopied(@TempDir Path tmp) throws Exception {
        Path ckpt = checkpoint(tmp, "modalities.text.tower=pretrained", "modalities.text.pretrained.pooling=learned",
                "data.modalities=[video, text]", "objectives.contrastive.pairs=[video-text]", "eval.pairs=[video-text]");
        Path out = tmp.resolve("export");
        export(ckpt, out, false);
        JsonNode t = ExportConfig.JSON.readTree(out.resolve("config.json").toFile()).path("text_tower");
        assertEquals("pretrained", t.path("kind").asText());
        assertEquals("token_states", t.path("input").asText());
        assertEquals("all-minilm-l6-v2.onnx", t.path("model").path("name").asText());
        assertFalse(t.path("model").path("copied").asBoolean());
        assertEquals(384, t.path("width").asInt());
        assertFalse(Files.exists(out.resolve("tokenizer.json")));
        try (NDManager m = NDManager.newBaseManager()) {
            assertEquals(List.of(384L, 1L), Arrays.stream(Safetensors.read(out.resolve("model.safetensors"), m)
                    .get("text_pool.query").getShape().getShape()).boxed().toList());
        }
    }

    @Test
    void anExistingFolderIsReplacedOnlyWhenItIsAnEarlierExportAndForced(@TempDir Path tmp) throws Exception {
        Path ckpt = checkpoint(tmp);
        Path out = Files.createDirectories(tmp.resolve("export"));
        export(ckpt, out, false); // empty: fine
        ConfigException e = assertThrows(ConfigException.class, () -> export(ckpt, out, false));
        assertTrue(e.getMessage().contains("is not empty (--force replaces an earlier export)"), e.getMessage());
        export(ckpt, out, true);
        Path other = Files.createDirectories(tmp.resolve("photos"));
        Files.writeString(other.resolve("holiday.jpg"), "x");
        e = assertThrows(ConfigException.class, () -> export(ckpt, other, true));
        assertTrue(e.getMessage().contains("not an earlier export"), e.getMessage());
        assertTrue(Files.exists(other.resolve("holiday.jpg")));
    }

    @Test
    void aMissingOrDamagedCheckpointIsOneLineNamingIt(@TempDir Path tmp) throws Exception {
        ConfigException e = assertThrows(ConfigException.class, () -> export(tmp.resolve("nothing"), tmp.resolve("x"), false));
        assertTrue(e.getMessage().startsWith("--checkpoint: "), e.getMessage());
        Path ckpt = checkpoint(tmp);
        byte[] all = Files.readAllBytes(ckpt.resolve("model.ndlist"));
        Files.write(ckpt.resolve("model.ndlist"), Arrays.copyOf(all, all.length / 2));
        e = assertThrows(ConfigException.class, () -> export(ckpt, tmp.resolve("x"), false));
        assertTrue(e.getMessage().startsWith(ckpt.resolve("model.ndlist") + ": cannot read"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("x")), "nothing written");
    }

    @Test
    void aDamagedExportIsOneLineNamingTheFile(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("export");
        export(checkpoint(tmp), out, false);
        Path weights = out.resolve("model.safetensors");
        byte[] good = Files.readAllBytes(weights);
        try (NDManager m = NDManager.newBaseManager()) {
            Files.write(weights, Arrays.copyOf(good, 6));
            String msg = assertThrows(ConfigException.class, () -> Exported.open(out).model(m, List.of())).getMessage();
            assertTrue(msg.startsWith(weights + ": truncated header"), msg);

            Map<String, NDArray> tensors = new LinkedHashMap<>(Safetensors.read(tmpCopy(tmp, good), m));
            tensors.put("heads.video.bias", m.create(new double[8], new Shape(8)));           // float64, not float32
            Safetensors.write(weights, tensors);
            msg = assertThrows(ConfigException.class, () -> Exported.open(out).model(m, List.of())).getMessage();
            assertTrue(msg.startsWith(weights + ": tensor heads.video.bias: float64 (8) does not match"), msg);

            Files.delete(out.resolve("config.json"));
            msg = assertThrows(ConfigException.class, () -> Exported.open(out)).getMessage();
            assertEquals(out.resolve("config.json") + ": no such file (not a Sensorium export?)", msg);
        }
    }

    private static Path tmpCopy(Path tmp, byte[] bytes) throws Exception {
        return Files.write(tmp.resolve("copy.safetensors"), bytes);
    }
}
