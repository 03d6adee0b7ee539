package org.sensorium.eval;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reading the files of a run and its evaluations for {@link Report}. Everything here tolerates damage by
 * counting what it could not read, so the report can say so, except results.json: a file that is not the
 * eval command's format would make every later section guess, so it stops the report instead.
 */
final class RunFiles {
    /** Jackson writes NaN and Infinity as bare words; a run's own files must still read back. */
    static final JsonMapper JSON = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

    private RunFiles() {}

    /** The loss curves of metrics.jsonl: name -> (step, value) points, the total loss first, and what was left out. */
    record LossCurves(Map<String, List<double[]>> curves, int steps, int bad, int firstBad, int dropped) {}

    /**
     * Reads metrics.jsonl: the total loss and every named term (a key with exactly one '/', such as
     * {@code contrastive/video-text}); other keys (lr, grad_norm, ...) are not losses.
     *
     * @param logY leave out values that a log axis cannot show, counted in {@link LossCurves#dropped}
     */
    static LossCurves lossCurves(Path file, boolean logY) throws IOException {
        Map<String, List<double[]>> curves = new LinkedHashMap<>();
        curves.put("loss", new ArrayList<>());
        int bad = 0, firstBad = 0, lineNo = 0, dropped = 0, steps = 0;
        for (String line : Files.readAllLines(file)) {
            lineNo++;
            if (line.isBlank()) {
                continue;
            }
            JsonNode o = lenient(line);
            if (o == null || !o.isObject() || !o.path("step").isNumber()) {
                bad++;
                firstBad = firstBad == 0 ? lineNo : firstBad;
                continue;
            }
            double step = o.get("step").asDouble();
            steps++;
            for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                if (!isLossTerm(f.getKey()) || !f.getValue().isNumber() && !f.getValue().isTextual()) {
                    continue;
                }
                double v = number(f.getValue());
                if (!Double.isFinite(v) || logY && v <= 0) {
                    dropped++;
                    continue;
                }
                curves.computeIfAbsent(f.getKey(), k -> new ArrayList<>()).add(new double[] {step, v});
            }
        }
        return new LossCurves(curves, steps, bad, firstBad, dropped);
    }

    private static boolean isLossTerm(String key) {
        return key.equals("loss") || key.chars().filter(c -> c == '/').count() == 1;
    }

    /** One line of JSON, or null when it is not JSON (a torn last line of a killed run). */
    static JsonNode lenient(String line) {
        try {
            return JSON.readTree(line);
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    /** Reads and checks the eval command's results.json; the types the report relies on are checked here, once. */
    static JsonNode readResults(Path file) throws IOException {
        JsonNode r = strictTree(file);
        if (r == null || !r.isObject()) {
            throw new Report.MalformedResults(file, "expected a JSON object with \"tasks\"");
        }
        JsonNode tasks = r.path("tasks");
        if (!tasks.isArray()) {
            throw new Report.MalformedResults(file, "\"tasks\" must be an array of tasks");
        }
        for (int i = 0; i < tasks.size(); i++) {
            checkTask(file, "tasks[" + i + "]", tasks.get(i));
        }
        return r;
    }

    private static JsonNode strictTree(Path file) throws IOException {
        try {
            return JSON.readTree(file.toFile());
        } catch (JsonParseException e) {
            throw new Report.MalformedResults(file, "not valid JSON at line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr() + ": " + firstLine(e.getOriginalMessage()));
        } catch (JsonProcessingException e) {
            throw new Report.MalformedResults(file, "not valid JSON: " + firstLine(e.getOriginalMessage()));
        }
    }

    private static String firstLine(String s) {
        return s.lines().findFirst().orElse("");
    }

    private static void checkTask(Path file, String at, JsonNode t) {
        if (!t.isObject() || !t.path("name").isTextual()) {
            throw new Report.MalformedResults(file, at + " must be an object with a \"name\"");
        }
        for (String k : List.of("protocol", "metrics", "recall", "per_class", "confusion")) {
            if (t.has(k) && !t.get(k).isObject()) {
                throw new Report.MalformedResults(file, at + "." + k + " must be an object");
            }
        }
        if (t.has("embeddings") && !t.get("embeddings").isTextual()) {
            throw new Report.MalformedResults(file, at + ".embeddings must be a path relative to results.json");
        }
        if (t.has("confusion")) {
            checkConfusion(file, at + ".confusion", t.get("confusion"));
        }
    }

    private static void checkConfusion(Path file, String at, JsonNode c) {
        JsonNode labels = c.path("labels"), matrix = c.path("matrix");
        if (!labels.isArray() || !matrix.isArray() || matrix.size() != labels.size()) {
            throw new Report.MalformedResults(file, at + " needs \"labels\" (C) and \"matrix\" (C rows), got "
                    + labels.size() + " labels and " + matrix.size() + " rows");
        }
        for (int i = 0; i < matrix.size(); i++) {
            JsonNode row = matrix.get(i);
            if (!row.isArray() || row.size() != labels.size()) {
                throw new Report.MalformedResults(file, at + ".matrix[" + i + "] must hold " + labels.size() + " numbers");
            }
            for (JsonNode v : row) {
                if (!v.isNumber()) {
                    throw new Report.MalformedResults(file, at + ".matrix[" + i + "] holds " + v + ", not a number");
                }
            }
        }
    }

    /** A JSON number, or a string holding one ("NaN", "Infinity" as Jackson writes them); NaN otherwise. */
    static double number(JsonNode v) {
        if (v.isNumber()) {
            return v.asDouble();
        }
        if (v.isTextual()) {
            try {
                return Double.parseDouble(v.asText());
            } catch (NumberFormatException e) {
                return Double.NaN;
            }
        }
        return Double.NaN;
    }

    /** Rows of an embeddings CSV (header label,e0,e1,...); rows that cannot be read are counted, not kept. */
    record Embeddings(List<String> labels, List<double[]> rows, int bad, int firstBad) {
        static Embeddings read(Path csv) throws IOException {
            List<String> lines = Files.readAllLines(csv);
            if (lines.isEmpty() || !lines.get(0).startsWith("label,")) {
                throw new IllegalArgumentException("line 1: expected the header label,e0,e1,...");
            }
            int d = lines.get(0).split(",", -1).length - 1;
            List<String> labels = new ArrayList<>();
            List<double[]> rows = new ArrayList<>();
            int bad = 0, firstBad = 0;
            for (int i = 1; i < lines.size(); i++) {
                if (lines.get(i).isBlank()) {
                    continue;
                }
                try {
                    String[] label = new String[1];
                    rows.add(numbers(firstField(lines.get(i), label), d));
                    labels.add(label[0]);
                } catch (NumberFormatException x) {
                    bad++;
                    firstBad = firstBad == 0 ? i + 1 : firstBad;
                }
            }
            return new Embeddings(labels, rows, bad, firstBad);
        }

        /** The d finite numbers of a row after its label. */
        private static double[] numbers(String rest, int d) {
            String[] cells = rest.split(",", -1);
            if (cells.length != d) {
                throw new NumberFormatException(cells.length + " numbers, expected " + d);
            }
            double[] v = new double[d];
            for (int j = 0; j < d; j++) {
                v[j] = Double.parseDouble(cells[j].strip());
                if (!Double.isFinite(v[j])) {
                    throw new NumberFormatException("not finite");
                }
            }
            return v;
        }

        /** Splits off the first CSV field (quoted with "" escapes, or plain); returns the rest after its comma. */
        private static String firstField(String line, String[] field) {
            if (!line.startsWith("\"")) {
                int comma = line.indexOf(',');
                if (comma < 0) {
                    throw new NumberFormatException("no numbers");
                }
                field[0] = line.substring(0, comma);
                return line.substring(comma + 1);
            }
            StringBuilder sb = new StringBuilder();
            int i = 1;
            while (i < line.length()) {
                char ch = line.charAt(i);
                if (ch == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    sb.append('"');
                    i += 2;
                } else if (ch == '"') {
                    break;
                } else {
                    sb.append(ch);
                    i++;
                }
            }
            if (i + 1 >= line.length() || line.charAt(i + 1) != ',') {
                throw new NumberFormatException("unterminated quoted label");
            }
            field[0] = sb.toString();
            return line.substring(i + 2);
        }
    }
}
