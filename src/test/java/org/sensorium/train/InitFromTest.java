package org.sensorium.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.config.ConfigException;
import org.sensorium.model.Params;

class InitFromTest {

    /** A source model: a one-block trunk, a video stem and head, a logit scale, one objective tensor; every value v. */
    private static Path source(NDManager m, Path dir, float v) throws Exception {
        try (Params p = new Params(m, 1)) {
            p.constant("stem.video.proj.weight", v, 4, 6);
            p.constant("trunk.0.norm1.gain", v, 4);
            p.constant("head.video.weight", v, 2, 4);
            p.constant("logit_scale", v);
            p.constant("objective.clustering.prototypes", v, 3, 2);
            Path file = dir.resolve("model.ndlist");
            p.save(file);
            return file;
        }
    }

    @Test
    void copiesWhatMatchesByNameAndShapeAndListsTheRestWithTheReason(@TempDir Path dir) throws Exception {
        try (NDManager m = NDManager.newBaseManager(); Params target = new Params(m, 2)) {
            Path file = source(m, dir, 7f);
            target.constant("stem.video.proj.weight", 0f, 4, 6);
            target.constant("trunk.0.norm1.gain", 0f, 4);
            target.constant("trunk.1.norm1.gain", 0f, 4);      // a deeper model: its second block is new
            target.constant("head.video.weight", 0f, 3, 4);    // another embedding size
            target.constant("logit_scale", 0f);
            InitFrom.Report r = InitFrom.apply(target, file, List.of());
            assertEquals(List.of("stem.video.proj.weight", "trunk.0.norm1.gain", "logit_scale"), r.loaded());
            assertEquals(Map.of(
                    "trunk.1.norm1.gain", "absent from the source (keeps its initial value)",
                    "head.video.weight", "shape (2, 4) in the source, (3, 4) in this model",
                    "objective.clustering.prototypes", "not in this model"), r.skipped());
            assertArrayEquals(new float[] {7f, 7f, 7f, 7f}, target.all().get("trunk.0.norm1.gain").toFloatArray());
            assertArrayEquals(new float[] {0f, 0f, 0f, 0f}, target.all().get("trunk.1.norm1.gain").toFloatArray());
            assertArrayEquals(new float[12], target.all().get("head.video.weight").toFloatArray());
        }
    }

    @Test
    void anObjectivesBuffersComeWithItsParameters(@TempDir Path dir) throws Exception {
        // A pseudo-label head's running statistics are buffers, not parameters: init_from copies them with the head.
        try (NDManager m = NDManager.newBaseManager(); Params source = new Params(m, 1); Params target = new Params(m, 2)) {
            source.constant("trunk.0.norm1.gain", 7f, 4);
            source.constant("objective.pseudo_labels.abc.weight", 7f, 2, 4);
            source.buffer("objective.pseudo_labels.abc.running_var", 1f, 4).set(new float[] {2f, 3f, 4f, 5f});
            source.save(dir.resolve("model.ndlist"));
            target.constant("trunk.0.norm1.gain", 0f, 4);
            target.constant("objective.pseudo_labels.abc.weight", 0f, 2, 4);
            NDArray var = target.buffer("objective.pseudo_labels.abc.running_var", 1f, 4);
            InitFrom.Report r = InitFrom.apply(target, dir.resolve("model.ndlist"), List.of("objectives"));
            assertEquals(List.of("objective.pseudo_labels.abc.weight", "objective.pseudo_labels.abc.running_var"), r.loaded());
            assertArrayEquals(new float[] {2f, 3f, 4f, 5f}, var.toFloatArray());
            assertArrayEquals(new float[] {0f, 0f, 0f, 0f}, target.all().get("trunk.0.norm1.gain").toFloatArray()); // part not asked
        }
    }

    @Test
    void partsLimitWhatLoadsAndAPartAskedForMustFit(@TempDir Path dir) throws Exception {
        try (NDManager m = NDManager.newBaseManager(); Params target = new Params(m, 2)) {
            Path file = source(m, dir, 7f);
            target.constant("stem.video.proj.weight", 0f, 4, 6);
            target.constant("trunk.0.norm1.gain", 0f, 4);
            target.constant("head.video.weight", 0f, 3, 4);
            InitFrom.Report r = InitFrom.apply(target, file, List.of("trunk"));
            assertEquals(List.of("trunk.0.norm1.gain"), r.loaded());
            assertEquals("part video not in model.init_parts", r.skipped().get("stem.video.proj.weight"));
            assertArrayEquals(new float[24], target.all().get("stem.video.proj.weight").toFloatArray());

            ConfigException e = assertThrows(ConfigException.class, () -> InitFrom.apply(target, file, List.of("video")));
            assertEquals("model.init_from", e.key());
            assertEquals("model.init_from: " + file + ": tensor head.video.weight has shape (2, 4) there but (3, 4) in this model"
                    + " (part video was asked for)", e.getMessage());
        }
    }

    @Test
    void aSourceThatIsNotWeightsOrMatchesNothingIsAOneLineError(@TempDir Path dir) throws Exception {
        try (NDManager m = NDManager.newBaseManager(); Params target = new Params(m, 2)) {
            target.constant("trunk.0.norm1.gain", 0f, 4);
            Path text = Files.writeString(dir.resolve("notes.txt"), "not weights");
            ConfigException bad = assertThrows(ConfigException.class, () -> InitFrom.apply(target, text, List.of()));
            assertEquals("model.init_from", bad.key());
            assertEquals(true, bad.getMessage().startsWith("model.init_from: " + text + ": not a readable weights file"), bad.getMessage());
            Path empty = Files.createDirectories(dir.resolve("empty"));
            ConfigException none = assertThrows(ConfigException.class, () -> InitFrom.apply(target, empty, List.of()));
            assertEquals("model.init_from: " + empty + " is neither a checkpoint folder nor a run folder with a complete checkpoint",
                    none.getMessage());
            try (Params other = new Params(m, 3)) {
                other.constant("stem.audio.proj.weight", 1f, 2);
                other.save(dir.resolve("other.ndlist"));
            }
            ConfigException nothing = assertThrows(ConfigException.class,
                    () -> InitFrom.apply(target, dir.resolve("other.ndlist"), List.of()));
            assertEquals("model.init_from: " + dir.resolve("other.ndlist") + ": no tensor matched this model by name and shape"
                    + " (2 skipped)", nothing.getMessage());
        }
    }

    @Test
    void anExportsSafetensorsLoadsUnderSensoriumsNamesAndAnIntegerTensorIsRefused(@TempDir Path dir) throws Exception {
        try (NDManager m = NDManager.newBaseManager(); Params target = new Params(m, 2)) {
            target.constant("trunk.0.norm1.gain", 0f, 2);
            target.constant("head.video.weight", 0f, 1, 2);
            Path export = Files.createDirectories(dir.resolve("export"));
            Files.writeString(export.resolve("config.json"), "{}");
            org.sensorium.model.Safetensors.write(export.resolve("model.safetensors"), new java.util.LinkedHashMap<>(Map.of(
                    "trunk.blocks.0.norm1.weight", m.create(new double[] {1.5, 2.5}),      // F64: converted
                    "heads.video.weight", m.create(new float[] {3f, 4f}, new ai.djl.ndarray.types.Shape(1, 2)),
                    "trunk.blocks.1.norm1.weight", m.create(new float[] {9f, 9f}))));
            InitFrom.Report r = InitFrom.apply(target, export, List.of());
            assertEquals(List.of("trunk.0.norm1.gain", "head.video.weight"), r.loaded());
            assertEquals(Map.of("trunk.blocks.1.norm1.weight", "not in this model"), r.skipped());
            assertArrayEquals(new float[] {1.5f, 2.5f}, target.all().get("trunk.0.norm1.gain").toFloatArray());
            assertArrayEquals(new float[] {3f, 4f}, target.all().get("head.video.weight").toFloatArray());

            org.sensorium.model.Safetensors.write(export.resolve("model.safetensors"),
                    Map.of("trunk.blocks.0.norm1.weight", m.create(new long[] {1, 2})));
            ConfigException e = assertThrows(ConfigException.class, () -> InitFrom.apply(target, export, List.of()));
            assertEquals("model.init_from: " + export.resolve("model.safetensors") + ": tensor trunk.0.norm1.gain is int64,"
                    + " not floating point", e.getMessage());
            Files.delete(export.resolve("config.json"));
            ConfigException noConfig = assertThrows(ConfigException.class, () -> InitFrom.apply(target, export, List.of()));
            assertEquals("model.init_from: " + export + ": has model.safetensors but no config.json (not an export)",
                    noConfig.getMessage());
        }
    }

    @Test
    void aPositionTableOfAnotherClipLengthLoadsTheTimeStepsBothHave(@TempDir Path dir) throws Exception {
        try (NDManager m = NDManager.newBaseManager(); Params source = new Params(m, 1); Params longer = new Params(m, 2);
                Params odd = new Params(m, 3)) {
            // 2 tokens per time step, D = 2: the source has 2 steps (rows 1..4), the longer model 4 steps
            source.constant("pos.video", 0f, 1, 4, 2).set(new float[] {1, 2, 3, 4, 5, 6, 7, 8});
            source.constant("trunk.0.norm1.gain", 7f, 2);
            source.save(dir.resolve("model.ndlist"));
            longer.constant("pos.video", 0f, 1, 8, 2);
            longer.constant("trunk.0.norm1.gain", 0f, 2);
            InitFrom.Report r = InitFrom.apply(longer, dir.resolve("model.ndlist"), List.of("video"), Map.of("pos.video", 2));
            assertEquals(List.of("pos.video"), r.loaded());
            assertEquals(Map.of("pos.video", "first 2 time steps copied (source 2, this model 4)"), r.partly());
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0},
                    longer.all().get("pos.video").toFloatArray());
            // 3 tokens per step do not divide the source's 4 rows: another layout, not another length
            odd.constant("pos.video", 0f, 1, 6, 2);
            odd.constant("trunk.0.norm1.gain", 0f, 2);
            InitFrom.Report no = InitFrom.apply(odd, dir.resolve("model.ndlist"), List.of(), Map.of("pos.video", 3));
            assertEquals("shape (1, 4, 2) in the source, (1, 6, 2) in this model", no.skipped().get("pos.video"));
            // without the table's tokens per step (the plain apply), another shape is skipped as before
            assertEquals(true, InitFrom.apply(odd, dir.resolve("model.ndlist"), List.of()).skipped().containsKey("pos.video"));
        }
    }
}
