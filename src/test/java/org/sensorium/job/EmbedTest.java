package org.sensorium.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDManager;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.config.ConfigLoader;
import org.sensorium.config.Json;
import org.sensorium.config.Modality;
import org.sensorium.data.Batch;
import org.sensorium.data.Loader;
import org.sensorium.data.Manifest;
import org.sensorium.data.ManifestEntry;
import org.sensorium.data.SampleSetGenerator;
import org.sensorium.eval.Retrieval;
import org.sensorium.eval.TemporalSegmentation;
import org.sensorium.modality.Adapters;
import org.sensorium.modality.Clip;
import org.sensorium.modality.ModalityAdapter;
import org.sensorium.modality.SkipLog;
import org.sensorium.modality.Spans;
import org.sensorium.modality.text.TextAdapter;

/**
 * `embed` against the run's own held-out evaluation: on the run's manifest it writes, to the bit, the vectors held-out
 * retrieval computes ({@link HeldOutSamples#evalClips} then {@link Retrieval#embed}, as Pretrain.retrieval does), and
 * those rows give the run's summary.json table again. The NPY file is read by hand, header and all.
 */
class EmbedTest {
    @TempDir
    static Path dir;
    static Path run;
    static Path manifest;

    @BeforeAll
    static void tinyRun() throws Exception {
        // eval.batch_size 3: the 8 held-out samples go through the model in batches of 3, 3 and 2 on both sides
        Pretrain.start(ConfigLoader.load(null, List.of("run.dir=" + dir.resolve("runs"), "run.name=embed",
                "data.cache_dir=" + dir.resolve("cache"), "data.synth_samples=40", "model.width=32", "model.heads=2",
                "model.depth=1", "model.embed_dim=16", "train.steps=3", "train.batch_size=8", "train.accumulate=1",
                "train.warmup_steps=1", "train.progress=false", "eval.batch_size=3", "eval.report=false")));
        run = dir.resolve("runs/embed");
        manifest = Manifest.forRun(TrainedRun.open(run, List.of()).config().data());
    }

    static Embed.Options options(Path out, List<String> texts, Path manifest, String split) {
        return new Embed.Options(run, List.of(), texts, manifest, split, List.of(), null, out, List.of());
    }

    /** The rows of an NPY file written by embed, parsed by hand: (N, E) float32 little-endian after a 1.0 header. */
    static float[][] readNpy(Path npy, int e) throws Exception {
        byte[] b = Files.readAllBytes(npy);
        assertArrayEquals(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}, Arrays.copyOf(b, 8)); // magic, version 1.0
        int headerLength = (b[8] & 0xff) | (b[9] & 0xff) << 8;
        assertEquals(0, (10 + headerLength) % 64, "data starts 64-byte aligned");
        String header = new String(b, 10, headerLength, StandardCharsets.US_ASCII);
        assertEquals('\n', header.charAt(header.length() - 1));
        String shape = header.replaceAll(".*'shape': \\((\\d+), (\\d+)\\).*\\s*", "$1 $2");
        int n = Integer.parseInt(shape.split(" ")[0]);
        assertEquals("{'descr': '<f4', 'fortran_order': False, 'shape': (" + n + ", " + e + "), }", header.strip());
        assertEquals(10 + headerLength + 4L * n * e, b.length);
        ByteBuffer data = ByteBuffer.wrap(b, 10 + headerLength, 4 * n * e).order(ByteOrder.LITTLE_ENDIAN);
        float[][] rows = new float[n][e];
        for (float[] row : rows) {
            data.asFloatBuffer().get(row);
            data.position(data.position() + 4 * e);
        }
        return rows;
    }

    @Test
    void manifestModeWritesTheHeldOutEvaluationsVectorsAndItsTable() throws Exception {
        Path npy = dir.resolve("held-out.npy");
        Embed.Result r = Embed.run(options(npy, List.of(), manifest, "held-out"));
        float[][] rows = readNpy(npy, 16);
        List<String> index = Files.readAllLines(dir.resolve("held-out.ids.jsonl"));
        assertEquals(rows.length, index.size());
        assertEquals(8, r.embedded()); // 40 samples, split 32 / 8
        assertEquals(r.rows().values().stream().mapToInt(Integer::intValue).sum(), rows.length);

        TrainedRun trained = TrainedRun.open(run, List.of());
        Config cfg = trained.config();
        List<ManifestEntry> heldOut = Manifest.read(manifest).stream().filter(e -> !e.split().equals("train")).toList();
        Map<Modality, ModalityAdapter> adapters = new EnumMap<>(Modality.class);
        cfg.activeModalities().forEach(m -> adapters.put(m, Adapters.create(m, cfg.modalities(), cfg.data().clipSeconds())));
        Retrieval.Embeddings eval;
        try (NDManager root = NDManager.newBaseManager(); TrainedRun.Loaded loaded = trained.load(root, false, false)) {
            HeldOutSamples held = new HeldOutSamples(cfg, loaded.model(), root, heldOut, adapters, new SkipLog(false));
            eval = Retrieval.embed(loaded.model(), held.evalClips(0, 1), held.shapes(), cfg.eval().batchSize(), root);
        } finally {
            adapters.values().forEach(ModalityAdapter::close);
        }
        Map<Modality, float[][]> fromFile = new EnumMap<>(Modality.class);
        int present = 0;
        for (Modality m : eval.rows().keySet()) {
            fromFile.put(m, new float[eval.ids().size()][]);
            present += (int) Arrays.stream(eval.rows().get(m)).filter(x -> x != null).count();
        }
        assertEquals(present, rows.length); // one row per (sample, modality) evaluation embeds
        for (int i = 0; i < index.size(); i++) {
            Map<?, ?> line = Json.MAPPER.readValue(index.get(i), Map.class);
            assertEquals(i, line.get("row"));
            assertEquals(0.0, ((Number) line.get("start")).doubleValue()); // 2 s samples: the centred 2 s clip starts at 0
            Modality m = Modality.parse((String) line.get("modality"));
            int at = eval.ids().indexOf((String) line.get("id"));
            assertArrayEquals(eval.rows().get(m)[at], rows[i], 0f, line.toString());
            fromFile.get(m)[at] = rows[i];
        }

        // The run's held-out table, every direction and number, from the file's rows alone.
        Map<?, ?> table = (Map<?, ?>) Json.read(run.resolve("summary.json")).get("retrieval");
        Retrieval.Embeddings written = new Retrieval.Embeddings(eval.ids(), fromFile);
        List<String> directions = new ArrayList<>();
        for (Config.Pair p : cfg.eval().pairs()) {
            for (Retrieval.Result d : Retrieval.pair(written, p)) {
                assertEquals(table.get(d.direction()), Json.MAPPER.readValue(Json.line(d.toMap()), Map.class), d.direction());
                directions.add(d.direction());
            }
        }
        assertEquals(table.keySet().size(), directions.size());
    }

    @Test
    void aLiteralTextIsEmbeddedAsTheSameTextFromASubtitleFile() throws Exception {
        ManifestEntry sample = Manifest.read(manifest).stream().filter(e -> e.split().equals("val") && e.sources().containsKey(Modality.TEXT))
                .findFirst().orElseThrow();
        Config cfg = TrainedRun.open(run, List.of()).config();
        String subtitle;
        try (TextAdapter text = new TextAdapter(cfg.modalities().text())) {
            subtitle = text.text(sample.recording(), Loader.evalClip(sample, 0, 0, 1, cfg.data().clipSeconds()));
        }
        Path out = dir.resolve("text.jsonl");
        Embed.run(new Embed.Options(run, List.of(), List.of(subtitle), manifest, "val", List.of(Modality.TEXT), null, out, List.of()));
        Map<String, float[]> byId = new HashMap<>();
        for (String l : Files.readAllLines(out)) {
            Map<?, ?> line = Json.MAPPER.readValue(l, Map.class);
            assertEquals("text", line.get("modality"));
            byId.put((String) line.get("id"), toFloats((List<?>) line.get("embedding")));
        }
        // the frozen tower's sentence vector is the same; only the batch around the text projection differs
        assertArrayEquals(byId.get(sample.id()), byId.get(subtitle), 1e-6f);
    }

    @Test
    void clipsAllGivesEveryTileOfLongRecordingsAsEachClipEmbeddedAlone() throws Exception {
        Path long3 = SampleSetGenerator.generateLong(dir.resolve("long"), 3, 3, 5); // 3 recordings of 3 motions, about 6 s
        Path out = dir.resolve("tiles.jsonl");
        // batches of 3 clips (eval.batch_size): recordings are cut into pieces that straddle batches
        Embed.run(new Embed.Options(run, List.of(), List.of(), long3, null, List.of(Modality.VIDEO, Modality.IMU), "all", out, List.of()));
        List<String> lines = Files.readAllLines(out);

        TrainedRun trained = TrainedRun.open(run, List.of());
        Config cfg = trained.config();
        double clip = cfg.data().clipSeconds();
        Map<Modality, ModalityAdapter> adapters = new EnumMap<>(Modality.class);
        Map<Modality, long[]> shapes = new EnumMap<>(Modality.class);
        for (Modality m : List.of(Modality.VIDEO, Modality.IMU)) {
            adapters.put(m, Adapters.create(m, cfg.modalities(), clip));
            shapes.put(m, adapters.get(m).inputShape());
        }
        int row = 0;
        try (NDManager root = NDManager.newBaseManager(); TrainedRun.Loaded loaded = trained.load(root, false, false)) {
            for (ManifestEntry e : Manifest.read(long3)) {
                List<Clip> tiles = TemporalSegmentation.tiling(Spans.seconds(e.recording()), clip, 0);
                assertEquals(Math.ceil(Spans.seconds(e.recording()) / clip), tiles.size(), e.id());
                for (Clip c : tiles) { // each clip alone, a batch of one
                    Batch.Decoded d = Loader.decode(e, c, adapters, new SkipLog(true));
                    Retrieval.Embeddings one = Retrieval.embed(loaded.model(), List.of(d), shapes, 1, root);
                    for (Modality m : shapes.keySet()) {
                        Map<?, ?> line = Json.MAPPER.readValue(lines.get(row++), Map.class);
                        assertEquals(List.of(e.id(), m.key(), c.start()), List.of(line.get("id"), line.get("modality"),
                                ((Number) line.get("start")).doubleValue()));
                        float[] v = toFloats((List<?>) line.get("embedding"));
                        assertArrayEquals(one.rows().get(m)[0], v, 1e-6f, line.get("id") + " at " + c.start());
                    }
                }
            }
        } finally {
            adapters.values().forEach(ModalityAdapter::close);
        }
        assertEquals(lines.size(), row);
    }

    static float[] toFloats(List<?> xs) {
        float[] v = new float[xs.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = ((Number) xs.get(i)).floatValue();
        }
        return v;
    }

    @Test
    void averagedClipsHaveNoStart() throws Exception {
        // 2 s samples and 2 s clips: evaluation's 2 evenly spaced clips are the centred clip twice, so the mean is that row
        Path centred = dir.resolve("centred.jsonl"), two = dir.resolve("two.jsonl");
        Embed.run(new Embed.Options(run, List.of(), List.of(), manifest, "val", List.of(Modality.VIDEO), "1", centred, List.of()));
        Embed.run(new Embed.Options(run, List.of(), List.of(), manifest, "val", List.of(Modality.VIDEO), "2", two, List.of()));
        List<String> a = Files.readAllLines(centred), b = Files.readAllLines(two);
        assertEquals(8, b.size());
        for (int i = 0; i < a.size(); i++) {
            Map<?, ?> x = Json.MAPPER.readValue(a.get(i), Map.class), y = Json.MAPPER.readValue(b.get(i), Map.class);
            assertEquals(List.of(x.get("id"), 0.0), List.of(y.get("id"), ((Number) x.get("start")).doubleValue()));
            assertEquals(false, y.containsKey("start"));
            assertArrayEquals(toFloats((List<?>) x.get("embedding")), toFloats((List<?>) y.get("embedding")), 1e-6f);
        }
    }

    @Test
    void clipsAreACountOrAll() {
        assertEquals(new Embed.Clips(1, false), Embed.Clips.parse(null, 1));
        assertEquals(new Embed.Clips(3, false), Embed.Clips.parse(null, 3)); // the run's eval.clips
        assertEquals(new Embed.Clips(0, true), Embed.Clips.parse("all", 1));
        assertEquals(new Embed.Clips(2, false), Embed.Clips.parse("2", 1));
        for (String bad : List.of("0", "-1", "every", "1.5")) {
            ConfigException e = assertThrows(ConfigException.class, () -> Embed.Clips.parse(bad, 1));
            assertEquals("--clips", e.key());
        }
    }

    @Test
    void npyHeaderIsOneHundredTwentyEightBytes() {
        byte[] h = EmbeddingFile.npyHeader(123456789012L, 384);
        assertEquals(128, h.length);
        assertEquals(118, (h[8] & 0xff) | (h[9] & 0xff) << 8);
        assertEquals("{'descr': '<f4', 'fortran_order': False, 'shape': (123456789012, 384), }",
                new String(h, 10, 118, StandardCharsets.US_ASCII).strip());
    }
}
