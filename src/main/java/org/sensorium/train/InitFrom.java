package org.sensorium.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * model.init_from: a new run starts from saved weights (open_clip's --pretrained, timm's checkpoint_path). Every
 * tensor of the source whose name and shape match a parameter of the new model is copied; the rest is listed with
 * the reason. model.init_parts limits it to parts of the model; a tensor of a part that was asked for but does not
 * fit (another shape, or absent from the source) is a one-line error naming the tensor and both shapes.
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
     */
    public record Report(Path source, List<String> loaded, Map<String, String> skipped) {
        /** One line for the log: counts and the first reasons. */
        public String summary() {
            return "initialised from " + source + ": " + loaded.size() + " tensor(s) loaded, " + skipped.size() + " skipped";
        }
    }

    /**
     * A new run's model.init_from, when set: copies the tensors, logs what happened and writes the full list to
     * RUN/init_from.json (runDir null: not written, e.g. on ranks other than 0).
     */
    public static void start(Params params, Config.Model model, Path runDir) throws IOException {
        if (model.initFrom().isEmpty()) {
            return;
        }
        Report r = apply(params, Path.of(model.initFrom()), model.initParts());
        Map<String, Long> reasons = new TreeMap<>();
        r.skipped().values().forEach(why -> reasons.merge(why.replaceAll("shape .*", "another shape"), 1L, Long::sum));
        LOG.info("{} {}", r.summary(), reasons.isEmpty() ? "" : reasons.toString());
        if (runDir != null) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("source", r.source().toString());
            json.put("parts", model.initParts().isEmpty() ? "all" : model.initParts());
            json.put("loaded", r.loaded());
            json.put("skipped", r.skipped());
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
     * @param source a run folder (its newest checkpoint), a checkpoint folder, or a model.ndlist file
     * @param parts the parts to load; empty = all, none required
     * @throws ConfigException (model.init_from) when the source cannot be read, or a part asked for does not fit
     */
    public static Report apply(Params params, Path source, List<String> parts) throws IOException {
        Path file = modelFile(source);
        Map<String, NDArray> own = params.all();
        List<String> loaded = new ArrayList<>();
        Map<String, String> skipped = new LinkedHashMap<>();
        try (NDManager tmp = NDManager.newBaseManager(); InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
            NDList saved;
            try {
                saved = NDList.decode(tmp, in);
            } catch (RuntimeException e) {
                throw new ConfigException("model.init_from", file + ": not a readable weights file (" + e.getMessage() + ")");
            }
            Map<String, NDArray> byName = new LinkedHashMap<>();
            saved.forEach(a -> byName.put(a.getName(), a));
            JniUtils.setGradMode(false); // in-place copies into parameters (see AdamW.step)
            for (Map.Entry<String, NDArray> e : own.entrySet()) {
                String name = e.getKey();
                boolean asked = parts.contains(partOf(name));
                NDArray s = byName.get(name);
                String why = null;
                if (!parts.isEmpty() && !asked) {
                    why = "part " + partOf(name) + " not in model.init_parts";
                } else if (s == null) {
                    why = "absent from the source (keeps its initial value)";
                } else if (!s.getShape().equals(e.getValue().getShape())) {
                    why = "shape " + s.getShape() + " in the source, " + e.getValue().getShape() + " in this model";
                }
                if (why != null && asked && s != null && !s.getShape().equals(e.getValue().getShape())) {
                    throw new ConfigException("model.init_from", file + ": tensor " + name + " has shape " + s.getShape()
                            + " there but " + e.getValue().getShape() + " in this model (part " + partOf(name) + " was asked for)");
                }
                if (why != null && asked && s == null && !Params.ofObjective(name)) {
                    throw new ConfigException("model.init_from", file + ": has no tensor " + name + " (part " + partOf(name)
                            + " was asked for)");
                }
                if (why != null) {
                    skipped.put(name, why);
                } else {
                    e.getValue().set(s.toFloatArray());
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
        return new Report(file, loaded, skipped);
    }

    /** The weights file of a run folder (newest checkpoint), a checkpoint folder, or the file itself. */
    static Path modelFile(Path source) throws IOException {
        return Files.isRegularFile(source) ? source : Checkpoint.resolve(source, "model.init_from").resolve("model.ndlist");
    }
}
