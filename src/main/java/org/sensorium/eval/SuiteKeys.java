package org.sensorium.eval;


import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.config.Modality;

/** The keys of one mapping: unknown keys are refused, values are read with the key in the error. */
record SuiteKeys(String where, String at, JsonNode node) {
    SuiteKeys(String where, String at, JsonNode node, String... allowed) {
        this(where, at, node);
        List<String> known = List.of(allowed);
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!known.contains(key)) {
                throw new ConfigException(where + at + key, "unknown key; this task kind knows " + known);
            }
        }
    }

    private ConfigException bad(String key, String message) {
        return new ConfigException(where + at + key, message);
    }

    String string(String key, String fallback) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isValueNode()) {
            throw bad(key, "must be a string");
        }
        return v.asText();
    }

    int integer(String key, int fallback, int min) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isIntegralNumber() || v.asInt() < min) {
            throw bad(key, v + " must be an integer >= " + min);
        }
        return v.asInt();
    }

    double positive(String key, double fallback) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            return fallback;
        }
        double d = number(v);
        if (!(d > 0)) {
            throw bad(key, v + " must be a number > 0");
        }
        return d;
    }

    double nonNegative(String key, double fallback) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            return fallback;
        }
        double d = number(v);
        if (!(d >= 0)) {
            throw bad(key, v + " must be a number >= 0");
        }
        return d;
    }

    boolean bool(String key, boolean fallback) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isBoolean()) {
            throw bad(key, v + " must be true or false");
        }
        return v.asBoolean();
    }

    /** A non-empty list of distinct integer seeds; default [1, 2, 3]. */
    List<Long> seeds(String key) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            return List.of(1L, 2L, 3L);
        }
        if (!v.isArray() || v.isEmpty()) {
            throw bad(key, "must be a non-empty list of integer seeds, e.g. [1, 2, 3]");
        }
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            if (!v.get(i).isIntegralNumber() || out.contains(v.get(i).asLong())) {
                throw bad(key + "[" + i + "]", v.get(i) + " must be an integer not given before");
            }
            out.add(v.get(i).asLong());
        }
        return List.copyOf(out);
    }

    double fraction(String key, double fallback) {
        double f = positive(key, fallback);
        if (f >= 1) {
            throw bad(key, f + " must be in (0, 1)");
        }
        return f;
    }

    /** A number, also when YAML 1.1 reads "1e-6" as a string; NaN when it is none. */
    private static double number(JsonNode v) {
        if (v.isNumber()) {
            return v.asDouble();
        }
        try {
            return v.isTextual() ? Double.parseDouble(v.asText()) : Double.NaN;
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    Modality modality(String key) {
        String s = string(key, null);
        if (s == null) {
            throw bad(key, "is required (video, audio, text, imu, ...)");
        }
        try {
            return Modality.parse(s);
        } catch (IllegalArgumentException e) {
            throw bad(key, e.getMessage());
        }
    }

    Path file(String key) {
        String s = string(key, null);
        if (s == null) {
            throw bad(key, "is required (a file path)");
        }
        Path p = Path.of(s);
        if (!Files.isRegularFile(p)) {
            throw bad(key, s + ": no such file");
        }
        return p;
    }

    List<Config.Pair> pairs(String key) {
        JsonNode v = node.get(key);
        if (v == null || !v.isArray() || v.isEmpty()) {
            throw bad(key, "must be a non-empty list of pairs like [video-text, imu-text]");
        }
        List<Config.Pair> out = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            try {
                out.add(Config.Pair.parse(v.get(i).asText()));
            } catch (IllegalArgumentException | ConfigException e) {
                throw bad(key + "[" + i + "]", e.getMessage());
            }
        }
        return List.copyOf(out);
    }

    List<Double> l2(String key) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            return List.of(1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1);
        }
        if (!v.isArray() || v.isEmpty()) {
            throw bad(key, "must be a non-empty list of L2 strengths, e.g. [1e-6, 1e-4, 1e-2]");
        }
        List<Double> out = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            double d = number(v.get(i));
            if (!(d >= 0)) {
                throw bad(key + "[" + i + "]", v.get(i) + " must be a number >= 0");
            }
            out.add(d);
        }
        return List.copyOf(out);
    }
}
