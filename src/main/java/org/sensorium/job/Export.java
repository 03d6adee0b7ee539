package org.sensorium.job;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.config.ConfigLoader;
import org.sensorium.config.Modality;
import org.sensorium.config.ModalitySpec;
import org.sensorium.model.Safetensors;
import org.sensorium.model.SensoriumModel;
import org.sensorium.model.TorchNames;
import org.sensorium.train.Checkpoint;

/**
 * `sensorium export`: a checkpoint's encoder as a folder another framework can load.
 * <pre>
 *   model.safetensors      the weights, float32, named as PyTorch module paths ({@link TorchNames})
 *   config.json            what rebuilds the forward pass ({@link ExportConfig}); interop/sensorium_torch.py reads it
 *   sensorium-config.yaml  the run's resolved config, so Sensorium itself can rebuild the model ({@link Exported})
 *   tokenizer.json         the scratch text tower's tokenizer (a pretrained tower's files are named, with sha256)
 *   README.md              the model card ({@link ExportCard})
 *   samples.safetensors    with --samples: inputs and Sensorium's embeddings of a manifest's samples ({@link ExportSamples})
 * </pre>
 * The folder is written under a temporary name beside DIR and renamed when complete, so a failed export never
 * leaves a folder that looks whole. The weights are read back and compared before the rename.
 */
public final class Export {
    private Export() {}

    /**
     * @param checkpoint a run folder (its newest checkpoint) or a checkpoint folder
     * @param out the export folder: must not exist or be empty, unless force and it holds an earlier export
     * @param samples a manifest whose samples go into samples.safetensors, or null
     * @param sets --set overrides of the run's config (only keys that leave the model alone make sense)
     */
    public record Options(Path checkpoint, Path out, boolean force, Path samples, List<String> sets) {}

    /** What was written: the folder, the checkpoint and step it comes from, tensors, parameters, files, sample rows. */
    public record Result(Path dir, Path checkpoint, int step, int tensors, long parameters, List<String> files,
            Map<Modality, Integer> samples, Map<String, String> skipped) {}

    /**
     * @throws ConfigException (exit code 2) naming the option or the file: no checkpoint, a damaged checkpoint, an
     *     out folder that is not empty (without force) or not an earlier export (with force)
     */
    public static Result run(Options o) throws IOException, InterruptedException {
        checkOut(o.out(), o.force());
        if (o.samples() != null && !Files.isRegularFile(o.samples())) {
            throw new ConfigException("--samples", o.samples() + ": no such file");
        }
        Path ckpt = Checkpoint.resolve(o.checkpoint(), "--checkpoint");
        Checkpoint.State state = read(ckpt.resolve("state.json"), () -> Checkpoint.readState(ckpt));
        if (!Files.isRegularFile(ckpt.resolve("config.yaml"))) {
            throw new ConfigException("--checkpoint", ckpt.resolve("config.yaml").toString(), "no such file (damaged checkpoint)");
        }
        ConfigLoader.Resolved resolved = ConfigLoader.loadResolved(ckpt.resolve("config.yaml"), o.sets());
        Path tmp = o.out().toAbsolutePath().resolveSibling("." + o.out().getFileName() + ".export-tmp");
        try (NDManager root = NDManager.newBaseManager(); SensoriumModel model = new SensoriumModel(resolved.config(), root)) {
            read(ckpt.resolve("model.ndlist"), () -> model.params().load(ckpt.resolve("model.ndlist")));
            Checkpoint.deleteTree(tmp);
            Files.createDirectories(tmp);
            Result r = write(tmp, ckpt, state, resolved, model, o.samples(), root);
            replace(tmp, o.out());
            return new Result(o.out(), r.checkpoint(), r.step(), r.tensors(), r.parameters(), r.files(), r.samples(), r.skipped());
        } finally {
            Checkpoint.deleteTree(tmp);
        }
    }

    /** Writes every file of the export into dir, the weights read back and compared last. */
    private static Result write(Path dir, Path ckpt, Checkpoint.State state, ConfigLoader.Resolved resolved, SensoriumModel model,
            Path samplesManifest, NDManager root) throws IOException, InterruptedException {
        Config cfg = resolved.config();
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        TorchNames.of(model.params()).forEach((name, torch) -> tensors.put(torch, model.params().all().get(name)));
        Safetensors.write(dir.resolve("model.safetensors"), tensors, Map.of("format", "pt", "config", "config.json"));
        List<String> files = new ArrayList<>(List.of("model.safetensors", "config.json", "sensorium-config.yaml"));
        TextFiles text = textFiles(cfg, dir, files);
        String runName = TrainedRun.runDir(ckpt).getFileName().toString();
        ExportConfig.Origin origin = new ExportConfig.Origin(runName, ckpt.getFileName().toString(), state.step(), cfg.run().seed());
        double scale = Math.min(Math.exp(model.params().all().get("logit_scale").getFloat()), cfg.model().logitScaleMax());
        ExportConfig exported = ExportConfig.of(cfg, resolved.tree(), model, origin, scale, text.tokenizer(), text.model());
        ExportConfig.JSON.writeValue(dir.resolve("config.json").toFile(), exported);
        Files.writeString(dir.resolve("sensorium-config.yaml"), resolved.yaml());
        ExportSamples.Written samples = null;
        if (samplesManifest != null) {
            samples = ExportSamples.write(dir.resolve("samples.safetensors"), samplesManifest, cfg, model, root);
            files.add("samples.safetensors");
        }
        files.add("README.md");
        long parameters = tensors.values().stream().mapToLong(a -> a.getShape().size()).sum();
        Files.writeString(dir.resolve("README.md"), ExportCard.render(new ExportCard.Facts(cfg, exported, state, ckpt,
                tensors.size(), parameters, files, samples)));
        verify(dir.resolve("model.safetensors"), tensors, root);
        return new Result(dir, ckpt, state.step(), tensors.size(), parameters, files,
                samples == null ? Map.of() : samples.rows(), samples == null ? Map.of() : samples.skipped());
    }

    /** The text tower's tokenizer and, for a pretrained tower, its ONNX model; null where there is none. */
    private record TextFiles(ExportConfig.File tokenizer, ExportConfig.File model) {}

    /**
     * The scratch tower's tokenizer is copied into dir (and added to files); a pretrained tower's tokenizer and ONNX
     * model are named with their sha256, not copied.
     */
    private static TextFiles textFiles(Config cfg, Path dir, List<String> files) throws IOException {
        if (!cfg.activeModalities().contains(Modality.TEXT)) {
            return new TextFiles(null, null);
        }
        ModalitySpec.Text t = cfg.modalities().text();
        if (t.isPretrained()) {
            return new TextFiles(described("modalities.text.pretrained.tokenizer", t.pretrained().tokenizer()),
                    described("modalities.text.pretrained.model", t.pretrained().model()));
        }
        files.add("tokenizer.json");
        return new TextFiles(copied("modalities.text.tokenizer", t.tokenizer(), dir.resolve("tokenizer.json")), null);
    }

    /** The export folder may not exist, be empty, or (with force) hold an earlier export; nothing else is replaced. */
    private static void checkOut(Path out, boolean force) throws IOException {
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new ConfigException("--out", out + " is a file, not a folder");
        }
        if (!Files.isDirectory(out) || isEmpty(out)) {
            return;
        }
        if (!force) {
            throw new ConfigException("--out", out + " is not empty (--force replaces an earlier export)");
        }
        if (!Files.isRegularFile(out.resolve("config.json")) || !Files.isRegularFile(out.resolve("model.safetensors"))) {
            throw new ConfigException("--out", out + " is not empty and not an earlier export (no config.json and"
                    + " model.safetensors): not replaced, even with --force");
        }
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        }
    }

    private static void replace(Path tmp, Path out) throws IOException {
        Checkpoint.deleteTree(out);
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Reads model.safetensors back: the same names, in order, shapes and values as the model's parameters. */
    private static void verify(Path file, Map<String, NDArray> written, NDManager root) throws IOException {
        try (NDManager sm = root.newSubManager()) {
            Map<String, NDArray> back = Safetensors.read(file, sm);
            if (!new ArrayList<>(back.keySet()).equals(new ArrayList<>(written.keySet()))) {
                throw new IOException(file + ": read back with other names than written");
            }
            for (Map.Entry<String, NDArray> e : written.entrySet()) {
                if (!e.getValue().contentEquals(back.get(e.getKey()))) {
                    throw new IOException(file + ": tensor " + e.getKey() + " reads back with other values than written");
                }
            }
        }
    }

    /** A step that reads one file of the checkpoint. */
    private interface Reading<T> {
        T run() throws IOException;
    }

    /** Runs a read; any failure (DJL's decoder throws unchecked exceptions on a damaged file) names the file, on one line. */
    private static <T> T read(Path file, Reading<T> r) {
        try {
            return r.run();
        } catch (NoSuchFileException e) {
            throw new ConfigException("--checkpoint", file.toString(), "no such file (damaged checkpoint)");
        } catch (IOException | RuntimeException e) {
            if (e instanceof ConfigException c) {
                throw c;
            }
            String why = e instanceof NullPointerException || e instanceof ClassCastException
                    ? "a field is missing or of the wrong type"
                    : e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().lines().findFirst().orElse("");
            throw new ConfigException("--checkpoint", file.toString(), "cannot read (damaged checkpoint?): " + why.replace(file + ": ", ""));
        }
    }

    /** A file the run read ("classpath:NAME" or a path), copied into the export. */
    private static ExportConfig.File copied(String key, String location, Path to) throws IOException {
        try (InputStream in = open(key, location)) {
            Files.copy(in, to);
        }
        return new ExportConfig.File(to.getFileName().toString(), sha256(key, location), location, true);
    }

    /** A file the run read, named with its sha256 but not copied (a pretrained tower's 90 MB ONNX). */
    private static ExportConfig.File described(String key, String location) throws IOException {
        String name = location.startsWith("classpath:") ? location.substring("classpath:".length()) : Path.of(location).getFileName().toString();
        return new ExportConfig.File(name, sha256(key, location), location, false);
    }

    private static String sha256(String key, String location) throws IOException {
        try (DigestInputStream in = new DigestInputStream(open(key, location), MessageDigest.getInstance("SHA-256"))) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
            return HexFormat.of().formatHex(in.getMessageDigest().digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static InputStream open(String key, String location) throws IOException {
        if (location.startsWith("classpath:")) {
            String name = location.substring("classpath:".length());
            InputStream in = Export.class.getClassLoader().getResourceAsStream(name);
            if (in == null) {
                throw new ConfigException(key, "no classpath resource '" + name + "'");
            }
            return in;
        }
        try {
            return Files.newInputStream(Path.of(location));
        } catch (NoSuchFileException e) {
            throw new ConfigException(key, location + ": no such file");
        }
    }
}
