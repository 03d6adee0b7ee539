package org.sensorium.job;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.config.ConfigLoader;
import org.sensorium.model.Safetensors;
import org.sensorium.model.SensoriumModel;
import org.sensorium.model.TorchNames;

/**
 * An export folder ({@link Export}) read back by Sensorium: config.json checked, the weights by PyTorch name, and
 * the model rebuilt from sensorium-config.yaml with those weights. Every problem is a {@link ConfigException} of
 * one line naming the file (exit code 2 on the command line): no config.json, a config.json of another format or
 * version, a damaged model.safetensors, a tensor missing, extra, of another shape or not float32.
 *
 * @param dir the export folder
 * @param config its config.json
 */
public record Exported(Path dir, JsonNode config) {

    /** Opens an export folder: it must hold a config.json of this format and version, and model.safetensors. */
    public static Exported open(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new ConfigException("export", dir.toString(), "no such folder");
        }
        Path file = dir.resolve("config.json");
        if (!Files.isRegularFile(file)) {
            throw new ConfigException("export", file.toString(), "no such file (not a Sensorium export?)");
        }
        JsonNode cfg;
        try {
            cfg = ExportConfig.JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new ConfigException("export", file.toString(), "not JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (cfg == null || !ExportConfig.FORMAT.equals(cfg.path("format").asText())) {
            throw new ConfigException("export", file.toString(), "format is not " + ExportConfig.FORMAT);
        }
        if (cfg.path("format_version").asInt() != ExportConfig.VERSION) {
            throw new ConfigException("export", file.toString(), "format_version " + cfg.path("format_version")
                    + " is not the one this Sensorium reads (" + ExportConfig.VERSION + ")");
        }
        return new Exported(dir, cfg);
    }

    /** The weights file named by config.json. */
    public Path weightsFile() {
        return dir.resolve(config.path("weights").asText("model.safetensors"));
    }

    /**
     * The weights by PyTorch name, in file order, owned by manager.
     *
     * @throws ConfigException naming the file when it is missing or damaged (truncated header, bad dtype, offsets)
     */
    public Map<String, NDArray> weights(NDManager manager) {
        try {
            return Safetensors.read(weightsFile(), manager);
        } catch (IOException e) { // Safetensors' message is "FILE: reason" already
            String why = e.getMessage().lines().findFirst().orElse("");
            String file = weightsFile().toString();
            throw new ConfigException("export", file, why.startsWith(file + ": ") ? why.substring(file.length() + 2) : why);
        }
    }

    /** The run's config as exported (sensorium-config.yaml), with --set overrides. */
    public Config sensoriumConfig(List<String> sets) {
        Path yaml = dir.resolve("sensorium-config.yaml");
        if (!Files.isRegularFile(yaml)) {
            throw new ConfigException("export", yaml.toString(), "no such file (exported by another tool?)");
        }
        return ConfigLoader.loadResolved(yaml, sets).config();
    }

    /**
     * The exported model, rebuilt from sensorium-config.yaml, with every encoder parameter set from model.safetensors.
     * Strict: the file must hold exactly the model's tensors, each float32 of the same shape.
     */
    public SensoriumModel model(NDManager manager, List<String> sets) {
        SensoriumModel model = new SensoriumModel(sensoriumConfig(sets), manager);
        try (NDManager tmp = manager.newSubManager()) {
            Map<String, NDArray> saved = weights(tmp);
            Set<String> unused = new LinkedHashSet<>(saved.keySet());
            for (Map.Entry<String, String> e : TorchNames.of(model.params()).entrySet()) {
                NDArray p = model.params().all().get(e.getKey()), s = saved.get(e.getValue());
                String where = weightsFile() + ": tensor " + e.getValue();
                if (s == null) {
                    throw new ConfigException("export", where, "missing (the model has " + e.getKey() + " " + p.getShape() + ")");
                }
                if (s.getDataType() != DataType.FLOAT32 || !s.getShape().equals(p.getShape())) {
                    throw new ConfigException("export", where, s.getDataType() + " " + s.getShape() + " does not match the model's "
                            + e.getKey() + " float32 " + p.getShape());
                }
                p.set(s.toFloatArray());
                unused.remove(e.getValue());
            }
            if (!unused.isEmpty()) {
                throw new ConfigException("export", weightsFile().toString(), "tensors the model does not have: " + unused);
            }
            return model;
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }
}
