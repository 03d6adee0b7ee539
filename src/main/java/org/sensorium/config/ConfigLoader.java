package org.sensorium.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * Builds a {@link Config}: defaults (configs/defaults.yaml and modalities/*.yaml, packaged on the
 * classpath) &lt;- model preset configs/models/&lt;model.size&gt;.yaml &lt;- experiment file &lt;- --set key=value.
 * A key that is not in the defaults, a value of the wrong type and a value a record rejects all fail
 * here, before anything runs, with a {@link ConfigException} naming the key and where it came from.
 */
public final class ConfigLoader {
    private static final ObjectMapper YAML = JsonMapper.builder(new YAMLFactory()
                    .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                    .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES))
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)   // a key twice in one mapping is an error, not "last wins"
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_NULL_CREATOR_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .addModule(new SimpleModule()
                    .addDeserializer(Modality.class, new StringDeserializer<>(Modality::parse))
                    .addDeserializer(Config.Pair.class, new StringDeserializer<>(Config.Pair::parse))
                    .addDeserializer(Objectives.ClusterTargets.class, new StringDeserializer<>(Objectives.ClusterTargets::parse))
                    .addDeserializer(Pretexts.OwnNegative.class, new StringDeserializer<>(Pretexts.OwnNegative::parse)))
            .build();

    private ConfigLoader() {}

    /** The resolved tree and the validated record built from it. */
    public record Resolved(ObjectNode tree, Config config) {
        /** The resolved configuration as YAML, written into every run folder. */
        public String yaml() {
            try {
                return YAML.writeValueAsString(tree);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /**
     * @param experiment an experiment file overriding a few keys, or null
     * @param sets "key=value" overrides, applied last, in order
     */
    public static Resolved load(Path experiment, List<String> sets) {
        ObjectNode defaults = defaults();
        ObjectNode user = YAML.createObjectNode();
        if (experiment != null) {
            merge(defaults, user, readFile(experiment), "", experiment.toString());
        }
        for (String s : sets) {
            applySet(defaults, user, s);
        }
        // The preset sits between the defaults and the user's keys, so it needs the user's model.size first.
        ObjectNode tree = defaults.deepCopy();
        JsonNode size = user.at("/model/size");
        String preset = size.isMissingNode() ? tree.at("/model/size").asText() : size.asText();
        ObjectNode presetTree = readResource("configs/models/" + preset + ".yaml", "",
                "model.size", "no preset '" + preset + "' (see configs/models/)");
        merge(defaults, tree, presetTree, "", "configs/models/" + preset + ".yaml");
        merge(defaults, tree, user, "", "overrides");
        return new Resolved(tree, bind(tree, "resolved config"));
    }

    /** Re-reads a resolved config written into a run folder (for --resume); keys are checked as usual. */
    public static Resolved loadResolved(Path resolvedYaml, List<String> sets) {
        ObjectNode defaults = defaults();
        ObjectNode tree = defaults.deepCopy();
        merge(defaults, tree, readFile(resolvedYaml), "", resolvedYaml.toString());
        for (String s : sets) {
            applySet(defaults, tree, s);
        }
        return new Resolved(tree, bind(tree, resolvedYaml.toString()));
    }

    /** A run's saved config with --resume's sets, and the keys those sets changed ("key: old -> new"). */
    public record Resumed(Resolved resolved, List<String> changed) {}

    /**
     * The config a run resumes with: its saved config.yaml plus sets. Model, modality and data keys cannot change
     * (the weights and the data cursor belong to them); others (steps, learning rate, objectives) may.
     *
     * @throws ConfigException (--resume) listing every changed model, modality or data key
     */
    public static Resumed loadForResume(Path savedYaml, List<String> sets) {
        Resolved resolved = loadResolved(savedYaml, sets);
        List<String> changed = changed(loadResolved(savedYaml, List.of()), resolved);
        List<String> refused = changed.stream()
                .filter(c -> c.startsWith("model.") || c.startsWith("modalities.") || c.startsWith("data.")).toList();
        if (!refused.isEmpty()) {
            throw new ConfigException("--resume", "the model and its data cannot change when a run resumes; changed: "
                    + String.join("; ", refused) + " (start a new run, e.g. from these weights, instead)");
        }
        return new Resumed(resolved, changed);
    }

    /** The keys whose values differ between two resolved configs, as "key: old -> new", in key order. */
    public static List<String> changed(Resolved before, Resolved after) {
        java.util.TreeMap<String, String> a = new java.util.TreeMap<>(), b = new java.util.TreeMap<>();
        flatten("", before.tree(), a);
        flatten("", after.tree(), b);
        java.util.TreeSet<String> keys = new java.util.TreeSet<>(a.keySet());
        keys.addAll(b.keySet());
        List<String> out = new java.util.ArrayList<>();
        for (String k : keys) {
            String x = a.getOrDefault(k, "(absent)"), y = b.getOrDefault(k, "(absent)");
            if (!x.equals(y)) {
                out.add(k + ": " + x + " -> " + y);
            }
        }
        return out;
    }

    private static void flatten(String prefix, JsonNode node, Map<String, String> out) {
        if (node.isObject()) {
            Iterator<Map.Entry<String, JsonNode>> it = node.fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                flatten(prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(), e.getValue(), out);
            }
        } else {
            out.put(prefix, node.isTextual() ? node.asText() : node.toString());
        }
    }

    private static ObjectNode defaults() {
        ObjectNode tree = readResource("configs/defaults.yaml", "", "defaults", "missing from the classpath");
        ObjectNode specs = tree.putObject("modalities");
        for (Modality m : Modality.values()) {
            String key = "modalities." + m.key();
            specs.set(m.key(), readResource("modalities/" + m.key() + ".yaml", key, key, "missing"));
        }
        return tree;
    }

    private static void applySet(ObjectNode defaults, ObjectNode target, String set) {
        int eq = set.indexOf('=');
        if (eq <= 0) {
            throw new ConfigException(set, "--set needs key=value");
        }
        String key = set.substring(0, eq).trim();
        JsonNode value;
        try {
            value = YAML.readTree(set.substring(eq + 1));
        } catch (IOException e) {
            throw new ConfigException(key, "--set value does not parse: " + firstLine(e.getMessage()));
        }
        ObjectNode patch = YAML.createObjectNode();
        ObjectNode at = patch;
        String[] parts = key.split("\\.");
        for (int i = 0; i < parts.length - 1; i++) {
            at = at.putObject(parts[i]);
        }
        at.set(parts[parts.length - 1], value == null || value.isMissingNode() ? YAML.nullNode() : value);
        merge(defaults, target, patch, "", "--set " + set);
    }

    /** Deep-merges patch into target; every key of patch must exist in defaults at the same path. */
    private static void merge(JsonNode defaults, ObjectNode target, JsonNode patch, String prefix, String source) {
        if (!patch.isObject()) {
            throw new ConfigException(prefix.isEmpty() ? "(top)" : prefix, source + ": expected a mapping of keys");
        }
        Iterator<Map.Entry<String, JsonNode>> it = patch.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
            JsonNode def = defaults.get(e.getKey());
            if (def == null) {
                throw new ConfigException(key, source + ": unknown key (every key is listed in configs/defaults.yaml)");
            }
            if (def.isObject()) {
                ObjectNode child = target.has(e.getKey()) && target.get(e.getKey()).isObject()
                        ? (ObjectNode) target.get(e.getKey()) : target.putObject(e.getKey());
                merge(def, child, e.getValue(), key, source);
            } else {
                if (!sameKind(def, e.getValue())) {
                    throw new ConfigException(key, source + ": expected " + kind(def) + ", got " + kind(e.getValue())
                            + " '" + e.getValue().asText(e.getValue().toString()) + "'");
                }
                target.set(e.getKey(), e.getValue());
            }
        }
    }

    private static boolean sameKind(JsonNode def, JsonNode v) {
        return switch (kind(def)) {
            case "a number" -> v.isNumber() && (!def.isIntegralNumber() || v.isIntegralNumber());
            case "an integer" -> v.isIntegralNumber();
            default -> kind(def).equals(kind(v));
        };
    }

    private static String kind(JsonNode n) {
        if (n.isIntegralNumber()) {
            return "an integer";
        }
        if (n.isNumber()) {
            return "a number";
        }
        if (n.isBoolean()) {
            return "true or false";
        }
        if (n.isArray()) {
            return "a list";
        }
        if (n.isObject()) {
            return "a mapping";
        }
        if (n.isNull()) {
            return "null";
        }
        return "a string";
    }

    private static Config bind(ObjectNode tree, String source) {
        try {
            return YAML.treeToValue(tree, Config.class);
        } catch (JsonMappingException e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof ConfigException ce) {
                    throw ce;
                }
                if (t instanceof IllegalArgumentException iae && t != e) {
                    throw new ConfigException(path(e), iae.getMessage());
                }
            }
            throw new ConfigException(path(e), source + ": " + firstLine(e.getOriginalMessage()));
        } catch (IOException e) {
            throw new ConfigException("(config)", source + ": " + firstLine(e.getMessage()));
        }
    }

    private static String path(JsonMappingException e) {
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference r : e.getPath()) {
            if (r.getFieldName() != null) {
                sb.append(sb.length() == 0 ? "" : ".").append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                sb.append('[').append(r.getIndex()).append(']');
            }
        }
        return sb.length() == 0 ? "(config)" : sb.toString();
    }

    private static ObjectNode readFile(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ConfigException("--config", file + ": no such file");
        }
        try (InputStream in = Files.newInputStream(file)) {
            return readYaml(in, file.toString(), "");
        } catch (IOException e) {
            throw new ConfigException("(yaml)", file + ": " + firstLine(e.getMessage()));
        }
    }

    /**
     * @param prefix where the packaged file's keys sit in the tree ("" for defaults and presets, "modalities.imu" for
     *     modalities/imu.yaml)
     * @param key the key named when the file is missing
     */
    private static ObjectNode readResource(String name, String prefix, String key, String missing) {
        try (InputStream in = ConfigLoader.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new ConfigException(key, missing);
            }
            return readResource(in, name, prefix);
        } catch (IOException e) {
            throw new ConfigException(key, name + ": " + firstLine(e.getMessage()));
        }
    }

    /** Parses a packaged file (name as on the classpath; prefix: where its keys sit in the tree, for messages). */
    static ObjectNode readResource(InputStream in, String name, String prefix) {
        return readYaml(in, name, prefix);
    }

    /**
     * Parses one YAML file into a mapping. A syntax error is reported as "FILE:LINE:COLUMN: problem"; an empty file
     * is an empty mapping.
     *
     * @param source the file as named in messages
     * @param prefix where the file's keys sit in the resolved tree ("" = at the top)
     */
    private static ObjectNode readYaml(InputStream in, String source, String prefix) {
        String key = prefix.isEmpty() ? "(yaml)" : prefix;
        JsonNode n;
        try {
            n = YAML.readTree(in);
        } catch (JsonProcessingException e) {
            throw syntaxError(e, source, prefix);
        } catch (IOException e) {
            throw new ConfigException(key, source + ": " + firstLine(e.getMessage()));
        }
        if (n == null || n.isMissingNode() || n.isNull()) {
            return YAML.createObjectNode();
        }
        if (!n.isObject()) {
            throw new ConfigException(prefix.isEmpty() ? "(top)" : prefix, source + ": expected a mapping of keys");
        }
        return (ObjectNode) n;
    }

    /** "FILE:LINE:COLUMN: problem", lines and columns counted from 1; a duplicate key: "FILE:LINE: duplicate key KEY". */
    private static ConfigException syntaxError(JsonProcessingException e, String source, String prefix) {
        // STRICT_DUPLICATE_DETECTION stops the parser at the second occurrence of a key, with the parser's context
        // (the mappings it is in) already naming it.
        if (e instanceof JsonParseException && e.getOriginalMessage().startsWith("Duplicate field ")
                && e.getProcessor() instanceof JsonParser p && e.getLocation() != null) {
            String dup = dotted(p.getParsingContext(), prefix);
            return new ConfigException(dup, source + ":" + e.getLocation().getLineNr(), "duplicate key " + dup);
        }
        String key = prefix.isEmpty() ? "(yaml)" : prefix;
        // SnakeYAML's own exception holds the problem and the place it was found; Jackson's location is at times the
        // last token read before it instead.
        if (e.getCause() instanceof MarkedYAMLException m && m.getProblemMark() != null && m.getProblem() != null) {
            Mark at = m.getProblemMark();
            return new ConfigException(key, source + ":" + (at.getLine() + 1) + ":" + (at.getColumn() + 1), m.getProblem());
        }
        JsonLocation at = e.getLocation();
        String where = at == null || at.getLineNr() < 1 ? source : source + ":" + at.getLineNr() + ":" + at.getColumnNr();
        return new ConfigException(key, where, firstLine(e.getOriginalMessage()));
    }

    /** The parser's place as a config key: "train.steps", "a[0].x", after prefix. */
    private static String dotted(JsonStreamContext ctx, String prefix) {
        java.util.ArrayDeque<String> parts = new java.util.ArrayDeque<>();
        for (JsonStreamContext c = ctx; c != null && !c.inRoot(); c = c.getParent()) {
            if (c.inObject()) {
                parts.addFirst("." + c.getCurrentName());
            } else {
                parts.addFirst("[" + c.getCurrentIndex() + "]");
            }
        }
        String path = prefix + String.join("", parts);
        return path.startsWith(".") ? path.substring(1) : path;
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** Reads a scalar string into a value with the given parser; the parser's IllegalArgumentException becomes a mapping error. */
    private static final class StringDeserializer<T> extends JsonDeserializer<T> {
        private final java.util.function.Function<String, T> parse;

        StringDeserializer(java.util.function.Function<String, T> parse) {
            this.parse = parse;
        }

        @Override
        public T deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            String s = p.getValueAsString();
            if (s == null) {
                return (T) ctxt.handleUnexpectedToken(Object.class, p);
            }
            try {
                return parse.apply(s);
            } catch (IllegalArgumentException e) {
                throw JsonMappingException.from(p, e.getMessage(), e);
            }
        }
    }
}
