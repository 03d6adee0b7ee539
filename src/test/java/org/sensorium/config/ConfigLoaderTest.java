package org.sensorium.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.config.Modality;

class ConfigLoaderTest {

    @Test
    void defaultsLoadWithTheTinyPreset() {
        Config c = ConfigLoader.load(null, List.of()).config();
        assertEquals("tiny", c.model().size());
        assertEquals(128, c.model().width());
        assertEquals(List.of(Modality.VIDEO, Modality.AUDIO, Modality.TEXT, Modality.IMU), c.data().modalities());
        assertEquals(16000, c.modalities().audio().sampleRate());
        assertEquals(Config.Pair.parse("video-text"), c.objectives().contrastive().pairs().get(0));
    }

    @Test
    void presetThenFileThenSetInThatOrder(@TempDir Path dir) throws Exception {
        Path exp = dir.resolve("exp.yaml");
        Files.writeString(exp, "model:\n  size: small\n  depth: 2\ntrain:\n  steps: 7\n");
        Config c = ConfigLoader.load(exp, List.of("train.steps=9", "modalities.video.fps=2.0")).config();
        assertEquals(384, c.model().width());   // from the small preset
        assertEquals(2, c.model().depth());     // the file beats the preset
        assertEquals(9, c.train().steps());     // --set beats the file
        assertEquals(2.0, c.modalities().video().fps());
    }

    @Test
    void unknownKeyIsNamed(@TempDir Path dir) throws Exception {
        Path exp = dir.resolve("exp.yaml");
        Files.writeString(exp, "train:\n  stepz: 7\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(exp, List.of()));
        assertEquals("train.stepz", e.key());
        assertTrue(e.getMessage().contains("exp.yaml"), e.getMessage());
        ConfigException s = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of("model.widht=3")));
        assertEquals("model.widht", s.key());
    }

    @Test
    void wrongTypeIsNamed() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of("train.steps=many")));
        assertEquals("train.steps", e.key());
        ConfigException f = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of("train.steps=1.5")));
        assertEquals("train.steps", f.key());
        ConfigException m = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of("data.modalities=[video, smell]")));
        assertTrue(m.getMessage().contains("smell"), m.getMessage());
    }

    @Test
    void recordValidationNamesTheKey() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of("model.heads=3")));
        assertEquals("model.width", e.key());
        ConfigException p = assertThrows(ConfigException.class,
                () -> ConfigLoader.load(null, List.of("data.modalities=[video, text]")));
        assertEquals("objectives.contrastive.pairs", p.key());
        ConfigException z = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of("model.size=huge")));
        assertEquals("model.size", z.key());
        ConfigException seg = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of("data.synth_segments=9")));
        assertEquals("data.synth_segments", seg.key());
        ConfigException scenes = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of("data.synth_scenes=65")));
        assertEquals("data.synth_scenes", scenes.key());
        ConfigException both = assertThrows(ConfigException.class,
                () -> ConfigLoader.load(null, List.of("data.synth_scenes=8", "data.synth_long=20")));
        assertEquals("data.synth_scenes", both.key());
        assertEquals(8, ConfigLoader.load(null, List.of("data.synth_scenes=8")).config().data().synthScenes());
        ConfigException transport = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of("dist.transport=nccl")));
        assertEquals("dist.transport", transport.key());
        assertTrue(transport.getMessage().contains("'nccl' is not auto, tcp or shm"), transport.getMessage());
        ConfigException sigma = assertThrows(ConfigException.class,
                () -> ConfigLoader.load(null, List.of("objectives.temporal_ot.sigma=0.0")));
        assertEquals("objectives.temporal_ot.sigma", sigma.key());
        ConfigException own = assertThrows(ConfigException.class,
                () -> ConfigLoader.load(null, List.of("objectives.background_erasing.own_negative=shuffled")));
        assertEquals("objectives.background_erasing.own_negative", own.key());
        Config tot = ConfigLoader.load(Path.of("configs/temporal-ot-imu.yaml"), List.of()).config();
        assertEquals(8, tot.objectives().temporalOt().windows());
        assertEquals(60, tot.data().synthLong());
    }

    @Test
    void everyExperimentFileInConfigsLoads() throws Exception {
        try (var files = Files.list(Path.of("configs"))) {
            List<Path> experiments = files.filter(p -> p.toString().endsWith(".yaml"))
                    .filter(p -> !p.getFileName().toString().equals("defaults.yaml")).toList();
            assertTrue(experiments.size() >= 3, "experiment files: " + experiments);
            for (Path p : experiments) {
                assertTrue(ConfigLoader.load(p, List.of()).config() != null, p.toString());
            }
        }
        assertEquals(List.of(Modality.VIDEO, Modality.TEXT),
                ConfigLoader.load(Path.of("configs/video-text.yaml"), List.of()).config().data().modalities());
    }

    @Test
    void imuFilterAndNormalisationKeys() {
        Config c = ConfigLoader.load(null, List.of("modalities.imu.lowpass_hz=5.0", "modalities.imu.normalize=zscore",
                "modalities.imu.channels=[ax, ay, az]")).config();
        assertEquals(5.0, c.modalities().imu().lowpassHz());
        assertEquals("zscore", c.modalities().imu().normalize());
        assertEquals(0.0, ConfigLoader.load(null, List.of()).config().modalities().imu().lowpassHz());
        ConfigException n = assertThrows(ConfigException.class,
                () -> ConfigLoader.load(null, List.of("modalities.imu.normalize=minmax")));
        assertEquals("modalities.imu.normalize", n.key());
    }

    @Test
    void resolvedYamlRoundTrips(@TempDir Path dir) throws Exception {
        ConfigLoader.Resolved r = ConfigLoader.load(null, List.of("train.steps=11", "model.size=small"));
        Path f = dir.resolve("config.yaml");
        Files.writeString(f, r.yaml());
        Config back = ConfigLoader.loadResolved(f, List.of()).config();
        assertEquals(r.config(), back);
    }

    @Test
    void yamlSyntaxErrorNamesFileLineAndColumn(@TempDir Path dir) throws Exception {
        Path exp = dir.resolve("exp.yaml");
        Files.writeString(exp, "train:\n  steps: 7\n  lr: 1e-3: 2\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(exp, List.of()));
        assertEquals(exp + ":3:11: mapping values are not allowed here", e.getMessage());
        Path open = dir.resolve("open.yaml");
        Files.writeString(open, "model:\n  depth: 2\ndata:\n  modalities: [video,\n");
        ConfigException o = assertThrows(ConfigException.class, () -> ConfigLoader.load(open, List.of()));
        assertEquals(open + ":5:1: expected the node content, but found '<stream end>'", o.getMessage());
    }

    @Test
    void duplicateKeysAreErrorsNamingFileLineAndKey(@TempDir Path dir) throws Exception {
        Path exp = dir.resolve("exp.yaml");
        Files.writeString(exp, "train:\n  steps: 7\n  steps: 9\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(exp, List.of()));
        assertEquals("train.steps", e.key());
        assertEquals(exp + ":3: duplicate key train.steps", e.getMessage());

        Path sections = dir.resolve("sections.yaml");
        Files.writeString(sections, "train:\n  steps: 7\nmodel:\n  depth: 2\ntrain:\n  lr: 0.1\n");
        ConfigException s = assertThrows(ConfigException.class, () -> ConfigLoader.load(sections, List.of()));
        assertEquals("train", s.key());
        assertEquals(sections + ":5: duplicate key train", s.getMessage());

        // The config.yaml of a run folder, read by --resume.
        String yaml = ConfigLoader.load(null, List.of()).yaml();
        Path saved = dir.resolve("config.yaml");
        Files.writeString(saved, yaml + "run:\n  seed: 3\n");
        ConfigException r = assertThrows(ConfigException.class, () -> ConfigLoader.loadResolved(saved, List.of()));
        assertEquals("run", r.key());
        assertEquals(saved + ":" + (yaml.lines().count() + 1) + ": duplicate key run", r.getMessage());

        // A packaged file (defaults, modalities, presets).
        ConfigException p = assertThrows(ConfigException.class, () -> ConfigLoader.readResource(
                new ByteArrayInputStream("rate_hz: 50\npatch: 10\nrate_hz: 60\n".getBytes(StandardCharsets.UTF_8)),
                "modalities/imu.yaml", "modalities.imu"));
        assertEquals("modalities.imu.rate_hz", p.key());
        assertEquals("modalities/imu.yaml:3: duplicate key modalities.imu.rate_hz", p.getMessage());
    }

    @Test
    void eachLearningRateIsCheckedBeforeTheirRelation(@TempDir Path dir) throws Exception {
        ConfigException set = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of("train.lr=-1")));
        assertEquals("train.lr", set.key(), set.getMessage());
        assertEquals("train.lr: -1.0 must be > 0", set.getMessage());
        Path exp = dir.resolve("exp.yaml");
        Files.writeString(exp, "train:\n  lr: -1\n");
        ConfigException file = assertThrows(ConfigException.class, () -> ConfigLoader.load(exp, List.of()));
        assertEquals("train.lr", file.key(), file.getMessage());
        ConfigException min = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of("train.min_lr=-0.1")));
        assertEquals("train.min_lr: -0.1 must be >= 0", min.getMessage());
        ConfigException both = assertThrows(ConfigException.class,
                () -> ConfigLoader.load(null, List.of("train.lr=0.01", "train.min_lr=0.1")));
        assertEquals("train.min_lr", both.key());
        assertEquals("train.min_lr: 0.1 must be <= train.lr 0.01", both.getMessage());
    }

    @Test
    void eachBoundIsReportedUnderItsOwnKey() {
        String[][] cases = {
                {"model.logit_scale_max=-1", "model.logit_scale_max: -1.0 must be > 0"},
                {"model.logit_scale_init=200", "model.logit_scale_init: 200.0 must be in (0, model.logit_scale_max 100.0]"},
                {"modalities.audio.fmin=-5", "modalities.audio.fmin: -5.0 must be in [0, sample_rate/2 8000.0)"},
                {"modalities.audio.fmin=9000", "modalities.audio.fmin: 9000.0 must be in [0, sample_rate/2 8000.0)"},
                {"modalities.audio.fmax=9000", "modalities.audio.fmax: 9000.0 must be in (modalities.audio.fmin 0.0, sample_rate/2 8000.0]"}};
        for (String[] c : cases) {
            ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of(c[0])), c[0]);
            assertEquals(c[1], e.getMessage(), c[0]);
        }
    }

    @Test
    void integerKeysAreShownAsIntegers() {
        String[][] cases = {
            {"train.batch_size=0", "train.batch_size: 0 must be > 0"},
            {"model.heads=-2", "model.heads: -2 must be > 0"},
            {"eval.clips=0", "eval.clips: 0 must be > 0"},
            {"modalities.audio.sample_rate=-16000", "modalities.audio.sample_rate: -16000 must be > 0"},
            {"objectives.clustering.iterations=0", "objectives.clustering.iterations: 0 must be > 0"},
            // a float key shows the value as written, not its widening to double (-0.10000000149011612)
            {"objectives.two_view.temperature=-0.1", "objectives.two_view.temperature: -0.1 must be > 0"},
        };
        for (String[] c : cases) {
            ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of(c[0])), c[0]);
            assertEquals(c[1], e.getMessage());
        }
    }
}
