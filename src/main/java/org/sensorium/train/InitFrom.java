package org.sensorium.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.config.Json;
import org.sensorium.model.Params;
import org.sensorium.model.Safetensors;
import org.sensorium.model.TorchNames;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * model.init_from: a new run starts from saved weights (open_clip's --pretrained, timm's checkpoint_path). Every
 * tensor of the source whose name and shape match a parameter of the new model is copied; the rest is listed with
 * the reason. model.init_parts limits it to parts of the model; a tensor of a part that was asked for but does not
 * fit (another shape, or absent from the source) is a one-line error naming the tensor and both shapes.
 *
 * <p>Sources: a run folder (its newest checkpoint), a checkpoint folder, a model.ndlist, an export folder of
 * {@code sensorium export} or its model.safetensors (PyTorch module paths mapped back through {@link TorchNames}).
 *
 * <p>Another clip length: a position table pos.&lt;m&gt; of (1, N, D) whose source is (1, M, D) with the same D, where
 * both N and M are whole multiples of this model's tokens per time step (tokens are time-major), takes the source's
 * first min(N, M) rows: the first min of the two clips' time steps. The rows past the source's keep their initial
 * values. It assumes the same layout per time step (the same modality spec, another data.clip_seconds): a video
 * encoder trained on 2 s clips then embeds the first 2 s of an 8 s clip, and each 2 s segment of LV-MAE, as it did.
 *
 * <p>Parts: a modality key (video, audio, text, imu, motion: its stem, positions, modality embedding, CLS token,
 * head and text pooling), {@code trunk} (the shared blocks and final norm), {@code logit_scale}, {@code objectives}
 * (objective parameters: prototypes, predictor heads). An empty list means every part, with nothing required.
 */
public final class InitFrom {
    private static final Logger LOG = LoggerFactory.getLogger(InitFrom.class);

    private InitFrom() {}

    /**
     * What was copied and what was not.
     *
     * @param loaded names copied from the source
     * @param skipped name -> why it was not copied (a parameter of another part, another shape, absent on one side)
     * @param partly name -> what of a loaded position table was copied (another clip length); also in loaded
     */
    public record Report(Path source, List<String> loaded, Map<String, String> skipped, Map<String, String> partly) {
        /** One line for the log: the counts. */
        public String summary() {
            return "initialised from " + source + ": " + loaded.size() + " tensor(s) loaded, " + skipped.size() + " skipped";
        }
    }

    /**
     * A new run's model.init_from, when set: copies the tensors, logs what happened and writes the full list to
     * RUN/init_from.json (runDir null: not written, e.g. on ranks other than 0).
     */
    public static void start(Params params, Config.Model model, Map<String, Integer> perStep, Path runDir) throws IOException {
        if (model.initFrom().isEmpty()) {
            return;
        }
        Report r = apply(params, Path.of(model.initFrom()), model.initParts(), perStep);
        r.partly().forEach((name, what) -> LOG.info("{}: {}", name, what));
        Map<String, Long> reasons = new TreeMap<>();
        r.skipped().values().forEach(why -> reasons.merge(why.replaceAll("shape .*", "another shape"), 1L, Long::sum));
        LOG.info("{} {}", r.summary(), reasons.isEmpty() ? "" : reasons.toString());
        if (runDir != null) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("source", r.source().toString());
            json.put("parts", model.initParts().isEmpty() ? "all" : model.initParts());
            json.put("loaded", r.loaded());
            json.put("skipped", r.skipped());
            json.put("partly", r.partly());
            Json.write(runDir.resolve("init_from.json"), json);
            LOG.info("every loaded and skipped tensor: {}", runDir.resolve("init_from.json"));
        }
    }

    /** The part a parameter name belongs to: "trunk", "logit_scale", "objectives" or a modality key. */
    public static String partOf(String name) {
        if (name.startsWith("trunk.")) {
            return "trunk";
        }
        if (name.equals("logit_scale")) {
            return "logit_scale";
        }
        if (Params.ofObjective(name)) {
            return "objectives";
        }
        String[] p = name.split("\\.");
        return p.length > 1 ? p[1] : name; // stem.video.proj.weight, pos.video, head.text.weight, pool.text.query
    }

    /**
     * Copies the matching tensors of the source into params.
     *
     * @param source a run folder (its newest checkpoint), a checkpoint folder, a model.ndlist, an export folder or its
     *     model.safetensors
     * @param parts the parts to load; empty = all, none required
     * @throws ConfigException (model.init_from) when the source cannot be read, or a part asked for does not fit
     */
    public static Report apply(Params params, Path source, List<String> parts) throws IOException {
        return apply(params, source, parts, Map.of());
    }

    /**
     * As {@link #apply(Params, Path, List)}, and a position table of another clip length loads its common time steps.
     *
     * @param perStep position table name (pos.video) -> this model's tokens per time step; absent = no partial copy
     */
    public static Report apply(Params params, Path source, List<String> parts, Map<String, Integer> perStep) throws IOException {
        Path file = modelFile(source);
        Map<String, NDArray> own = new LinkedHashMap<>(params.all());
        own.putAll(params.buffers()); // running statistics come with the head they normalise for
        List<String> loaded = new ArrayList<>();
        Map<String, String> skipped = new LinkedHashMap<>(), partly = new LinkedHashMap<>();
        try (NDManager tmp = NDManager.newBaseManager()) {
            Map<String, NDArray> byName = read(file, params, tmp);
            for (Map.Entry<String, NDArray> e : own.entrySet()) {
                String name = e.getKey(), part = partOf(name);
                boolean asked = parts.contains(part);
                NDArray s = byName.get(name);
                Shape mine = e.getValue().getShape();
                if (!parts.isEmpty() && !asked) {
                    skipped.put(name, "part " + part + " not in model.init_parts");
                } else if (s == null) {
                    if (asked && !Params.ofObjective(name)) {
                        throw new ConfigException("model.init_from", file + ": has no tensor " + name + " (part " + part
                                + " was asked for)");
                    }
                    skipped.put(name, "absent from the source (keeps its initial value)");
                } else if (!s.getShape().equals(mine) && s.getDataType().isFloating()
                        && timePrefix(s.getShape(), mine, perStep.getOrDefault(name, 0)) > 0) {
                    int per = perStep.get(name), rows = (int) timePrefix(s.getShape(), mine, per), d = (int) mine.get(2);
                    float[] values = e.getValue().toFloatArray();                       // (1, N, D) row-major
                    float[] from = s.toType(DataType.FLOAT32, false).toFloatArray();    // (1, M, D)
                    System.arraycopy(from, 0, values, 0, rows * d);
                    e.getValue().set(values);
                    loaded.add(name);
                    partly.put(name, "first " + rows / per + " time steps copied (source " + s.getShape().get(1) / per
                            + ", this model " + mine.get(1) / per + ")");
                } else if (!s.getShape().equals(mine)) {
                    if (asked) {
                        throw new ConfigException("model.init_from", file + ": tensor " + name + " has shape " + s.getShape()
                                + " there but " + mine + " in this model (part " + part + " was asked for)");
                    }
                    skipped.put(name, "shape " + s.getShape() + " in the source, " + mine + " in this model");
                } else if (!s.getDataType().isFloating()) {
                    throw new ConfigException("model.init_from", file + ": tensor " + name + " is " + s.getDataType()
                            + ", not floating point");
                } else {
                    e.getValue().set(s.toType(DataType.FLOAT32, false).toFloatArray()); // an fp16 or fp64 export too
                    loaded.add(name);
                }
            }
            for (String name : byName.keySet()) {
                if (!own.containsKey(name)) {
                    skipped.put(name, "not in this model");
                }
            }
        }
        if (loaded.isEmpty()) {
            throw new ConfigException("model.init_from", file + ": no tensor matched this model by name and shape ("
                    + skipped.size() + " skipped)");
        }
        return new Report(file, loaded, skipped, partly);
    }

    /**
     * The rows two position tables of another clip length share: min(M, N) when source (1, M, D) and own (1, N, D) have
     * the same D and both M and N are whole multiples of per (tokens per time step, &gt; 0); 0 otherwise.
     */
    static long timePrefix(Shape source, Shape own, int per) {
        if (per <= 0 || source.dimension() != 3 || own.dimension() != 3 || source.get(0) != 1 || own.get(0) != 1
                || source.get(2) != own.get(2) || source.get(1) % per != 0 || own.get(1) % per != 0) {
            return 0;
        }
        return Math.min(source.get(1), own.get(1));
    }

    /**
     * The weights file: the file itself (model.ndlist or .safetensors), an export folder's model.safetensors (next to
     * its config.json), or a run's (newest) or a checkpoint folder's model.ndlist.
     */
    static Path modelFile(Path source) throws IOException {
        if (Files.isRegularFile(source)) {
            return source;
        }
        if (Files.isRegularFile(source.resolve("model.safetensors"))) {
            if (!Files.isRegularFile(source.resolve("config.json"))) {
                throw new ConfigException("model.init_from", source + ": has model.safetensors but no config.json (not an export)");
            }
            return source.resolve("model.safetensors");
        }
        return Checkpoint.resolve(source, "model.init_from").resolve("model.ndlist");
    }

    /**
     * The source's tensors under Sensorium's names: a Sensorium weights file as it is; a safetensors file (an export)
     * with its PyTorch module paths mapped back through {@link TorchNames} for this model's parameters (a tensor
     * whose path names no parameter of this model keeps its path, and is listed as not in this model).
     */
    private static Map<String, NDArray> read(Path file, Params params, NDManager manager) throws IOException {
        Map<String, NDArray> byName = new LinkedHashMap<>();
        if (file.getFileName().toString().endsWith(".safetensors")) {
            Map<String, String> ours = new LinkedHashMap<>();
            TorchNames.of(params).forEach((sensorium, torch) -> ours.put(torch, sensorium));
            Map<String, NDArray> tensors;
            try {
                tensors = Safetensors.read(file, manager);
            } catch (IOException e) {
                throw new ConfigException("model.init_from", e.getMessage());
            }
            tensors.forEach((torch, a) -> byName.put(ours.getOrDefault(torch, torch), a));
            return byName;
        }
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
            NDList saved = NDList.decode(manager, in);
            saved.forEach(a -> byName.put(a.getName(), a));
        } catch (RuntimeException e) {
            throw new ConfigException("model.init_from", file + ": not a readable weights file (" + e.getMessage() + ")");
        }
        return byName;
    }
}
