package org.sensorium.eval;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * One self-contained HTML page about a pretraining run and its evaluations: no scripts, no network, every
 * picture an XChart PNG embedded as a base64 data URI, every piece of text escaped.
 * <ul>
 *   <li>training: the total loss and every named loss term ({@code contrastive/video-text}, one '/' in the
 *       key) over steps, from RUN/metrics.jsonl;</li>
 *   <li>the run's RUN/summary.json: held-out retrieval table and recall bars, held-out k-means NMI, temporal
 *       segmentation, held-out measures start -&gt; end, skipped samples;</li>
 *   <li>each evaluation folder's results.json (the eval command's file): per task its split, protocol and
 *       metrics, recall table and bars per retrieval direction, per-class accuracy, the confusion matrix as a
 *       heat map with counts, and a 2-D PCA of the task's embeddings CSV coloured by label.</li>
 * </ul>
 * A missing piece (no metrics.jsonl, a task without embeddings, an unreadable CSV row) is left out with a
 * note on the page; only a results.json that is not the eval command's format stops the report, with
 * {@link MalformedResults} naming the file.
 */
public final class Report {
    private static final JsonMapper JSON = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();
    private static final List<String> RECALL_KS = List.of("R@1", "R@5", "R@10");

    private Report() {}

    /** A results.json that cannot be read as the eval command's format; the message is one line naming the file. */
    public static final class MalformedResults extends RuntimeException {
        public MalformedResults(Path file, String reason) {
            super(file + ": " + reason);
        }
    }

    /** What was written: the page, how many pictures it holds and the notes about what was left out. */
    public record Written(Path html, int figures, List<String> notes) {}

    /** {@link #write(Path, List, Path, boolean)} with a linear loss axis. */
    public static Written write(Path runDir, List<Path> evalDirs, Path html) throws IOException {
        return write(runDir, evalDirs, html, false);
    }

    /**
     * Writes the report (atomically: a temporary file, then a rename).
     *
     * @param runDir a pretraining run folder (metrics.jsonl, summary.json); either may be missing
     * @param evalDirs folders holding a results.json (or the results.json files themselves)
     * @param logLoss draw the loss axis logarithmic (non-positive values are then left out, with a note)
     * @throws MalformedResults when a results.json is not valid JSON or not of the eval command's format;
     *     nothing is written then
     */
    public static Written write(Path runDir, List<Path> evalDirs, Path html, boolean logLoss) throws IOException {
        List<Evaluation> evaluations = new ArrayList<>();
        for (Path d : evalDirs) {
            Path file = Files.isRegularFile(d) ? d : d.resolve("results.json");
            evaluations.add(new Evaluation(file, Files.isRegularFile(file) ? readResults(file) : null));
        }
        Page page = new Page();
        page.title("Sensorium report: " + runDir.getFileName());
        page.para("Run folder: " + runDir.toAbsolutePath().normalize());
        page.heading(2, "Training");
        training(page, runDir.resolve("metrics.jsonl"), logLoss);
        page.heading(2, "Run summary");
        summary(page, runDir.resolve("summary.json"));
        for (Evaluation e : evaluations) {
            evaluation(page, e);
        }
        if (evalDirs.isEmpty()) {
            page.heading(2, "Evaluations");
            page.note("no evaluation results (run `sensorium eval --checkpoint " + runDir + " --suite ...` first)");
        }
        Path parent = html.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempFile(parent, ".report", ".html.tmp");
        Files.writeString(tmp, page.html(), StandardCharsets.UTF_8);
        Files.move(tmp, html, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return new Written(html, page.figures, List.copyOf(page.notes));
    }

    /** The evaluation folders of a run: every RUN/eval/NAME/ that holds a results.json, by name. */
    public static List<Path> evalDirs(Path runDir) throws IOException {
        Path eval = runDir.resolve("eval");
        if (!Files.isDirectory(eval)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(eval)) {
            return s.filter(d -> Files.isRegularFile(d.resolve("results.json"))).sorted().toList();
        }
    }

    // ---------------------------------------------------------------- training

    private static void training(Page page, Path file, boolean logY) throws IOException {
        if (!Files.isRegularFile(file)) {
            page.note("no " + file + ": no loss curves");
            return;
        }
        Map<String, List<double[]>> curves = new LinkedHashMap<>(); // name -> (step, value) points, total loss first
        curves.put("loss", new ArrayList<>());
        int bad = 0, firstBad = 0, lineNo = 0, dropped = 0, steps = 0;
        for (String line : Files.readAllLines(file)) {
            lineNo++;
            if (line.isBlank()) {
                continue;
            }
            JsonNode o;
            try {
                o = JSON.readTree(line);
            } catch (JsonProcessingException e) {
                o = null;
            }
            if (o == null || !o.isObject() || !o.path("step").isNumber()) {
                bad++;
                firstBad = firstBad == 0 ? lineNo : firstBad;
                continue;
            }
            double step = o.get("step").asDouble();
            steps++;
            for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                boolean term = f.getKey().equals("loss") || f.getKey().chars().filter(c -> c == '/').count() == 1;
                if (!term || !f.getValue().isNumber() && !f.getValue().isTextual()) {
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
        if (bad > 0) {
            page.note(file + ": " + bad + " unreadable line(s) left out, the first at line " + firstBad);
        }
        if (dropped > 0) {
            page.note(dropped + " loss value(s) left out of the plot (" + (logY ? "not finite or not > 0 on the log axis" : "not finite") + ")");
        }
        List<Plots.Series> series = new ArrayList<>();
        curves.forEach((name, pts) -> {
            if (!pts.isEmpty()) {
                series.add(new Plots.Series(name, pts.stream().mapToDouble(p -> p[0]).toArray(), pts.stream().mapToDouble(p -> p[1]).toArray()));
            }
        });
        if (series.isEmpty()) {
            page.note(file + ": no loss values to plot");
            return;
        }
        page.figure("Loss and its named terms over " + steps + " logged steps" + (logY ? " (log scale)" : "")
                        + legendNote(series.size()), () -> Plots.lines("training loss", "step", "loss", series, logY));
        page.para("Terms: " + String.join(", ", series.stream().map(Plots.Series::name).toList()) + ".");
    }

    // ---------------------------------------------------------------- summary.json

    private static void summary(Page page, Path file) {
        if (!Files.isRegularFile(file)) {
            page.note("no " + file + " (the run has not finished?): no summary tables");
            return;
        }
        JsonNode s;
        try {
            s = JSON.readTree(file.toFile());
        } catch (IOException e) {
            page.note(file + ": unreadable, left out: " + oneLine(e));
            return;
        }
        Map<String, Object> facts = new LinkedHashMap<>();
        for (String k : List.of("steps", "wall_seconds", "steps_per_second", "peak_rss_mib", "final_loss", "checkpoint")) {
            if (s.has(k)) {
                facts.put(k, s.get(k));
            }
        }
        page.keyValues(facts);
        JsonNode retrieval = s.path("retrieval");
        if (retrieval.isObject() && retrieval.size() > 0) {
            page.heading(3, "Held-out retrieval");
            page.tableOfObjects("direction", retrieval);
            recallBars(page, "held-out retrieval", retrieval);
        } else {
            page.note("no held-out retrieval in summary.json");
        }
        JsonNode clusters = s.path("held_out_clusters");
        if (clusters.isObject() && clusters.size() > 0) {
            page.heading(3, "Held-out k-means (k = number of classes) against the labels");
            page.tableOfObjects("modality", clusters);
        }
        JsonNode seg = s.path("segmentation");
        if (seg.isObject()) {
            page.heading(3, "Held-out temporal segmentation (" + text(seg.path("modality")) + ", " + text(seg.path("recordings")) + " recordings)");
            Map<String, JsonNode> rows = new LinkedHashMap<>();
            seg.fields().forEachRemaining(f -> {
                if (f.getValue().isObject()) {
                    rows.put(f.getKey(), f.getValue());
                }
            });
            page.tableOfObjects("decoding", JSON.valueToTree(rows));
        }
        JsonNode held = s.path("held_out");
        if (held.isObject() && held.size() > 0) {
            page.heading(3, "Held-out objective measures, start -> end of the run");
            List<List<String>> rows = new ArrayList<>();
            held.fields().forEachRemaining(f -> {
                double a = number(f.getValue().path("start")), b = number(f.getValue().path("end"));
                rows.add(List.of(f.getKey(), fmt(a), fmt(b), fmt(b - a)));
            });
            page.table(List.of("measure", "start", "end", "change"), rows);
        }
        int skipped = s.path("skipped_samples").asInt(0);
        page.heading(3, "Skipped samples: " + skipped);
        JsonNode reasons = s.path("skipped");
        if (reasons.isObject() && reasons.size() > 0) {
            List<String> items = new ArrayList<>();
            reasons.fields().forEachRemaining(f -> items.add(text(f.getValue())));
            page.list(items);
        }
    }

    // ---------------------------------------------------------------- results.json

    private record Evaluation(Path file, JsonNode results) {}

    /** Reads and checks the eval command's results.json; the types the report relies on are checked here, once. */
    static JsonNode readResults(Path file) throws IOException {
        JsonNode r;
        try {
            r = JSON.readTree(file.toFile());
        } catch (JsonParseException e) {
            throw new MalformedResults(file, "not valid JSON at line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr() + ": " + e.getOriginalMessage().lines().findFirst().orElse(""));
        } catch (JsonProcessingException e) {
            throw new MalformedResults(file, "not valid JSON: " + e.getOriginalMessage().lines().findFirst().orElse(""));
        }
        if (r == null || !r.isObject()) {
            throw new MalformedResults(file, "expected a JSON object with \"tasks\"");
        }
        JsonNode tasks = r.path("tasks");
        if (!tasks.isArray()) {
            throw new MalformedResults(file, "\"tasks\" must be an array of tasks");
        }
        for (int i = 0; i < tasks.size(); i++) {
            JsonNode t = tasks.get(i);
            String at = "tasks[" + i + "]";
            if (!t.isObject() || !t.path("name").isTextual()) {
                throw new MalformedResults(file, at + " must be an object with a \"name\"");
            }
            for (String k : List.of("protocol", "metrics", "recall", "per_class", "confusion")) {
                if (t.has(k) && !t.get(k).isObject()) {
                    throw new MalformedResults(file, at + "." + k + " must be an object");
                }
            }
            if (t.has("embeddings") && !t.get("embeddings").isTextual()) {
                throw new MalformedResults(file, at + ".embeddings must be a path relative to results.json");
            }
            if (t.has("confusion")) {
                checkConfusion(file, at + ".confusion", t.get("confusion"));
            }
        }
        return r;
    }

    private static void checkConfusion(Path file, String at, JsonNode c) {
        JsonNode labels = c.path("labels"), matrix = c.path("matrix");
        if (!labels.isArray() || !matrix.isArray() || matrix.size() != labels.size()) {
            throw new MalformedResults(file, at + " needs \"labels\" (C) and \"matrix\" (C rows), got "
                    + labels.size() + " labels and " + matrix.size() + " rows");
        }
        for (int i = 0; i < matrix.size(); i++) {
            JsonNode row = matrix.get(i);
            if (!row.isArray() || row.size() != labels.size()) {
                throw new MalformedResults(file, at + ".matrix[" + i + "] must hold " + labels.size() + " numbers");
            }
            for (JsonNode v : row) {
                if (!v.isNumber()) {
                    throw new MalformedResults(file, at + ".matrix[" + i + "] holds " + v + ", not a number");
                }
            }
        }
    }

    private static void evaluation(Page page, Evaluation e) {
        Path dir = e.file().getParent();
        if (e.results() == null) {
            page.heading(2, "Evaluation: " + dir.getFileName());
            page.note("no " + e.file() + ": left out");
            return;
        }
        JsonNode r = e.results();
        page.heading(2, "Evaluation: " + (r.path("suite").isTextual() ? r.get("suite").asText() : dir.getFileName().toString()));
        Map<String, Object> facts = new LinkedHashMap<>();
        facts.put("results", e.file());
        for (String k : List.of("checkpoint", "step", "weights", "wall_seconds")) {
            if (r.has(k)) {
                facts.put(k, r.get(k));
            }
        }
        page.keyValues(facts);
        if (r.path("manifests").isObject() && r.get("manifests").size() > 0) {
            List<List<String>> rows = new ArrayList<>();
            r.get("manifests").fields().forEachRemaining(f -> rows.add(List.of(f.getKey(), text(f.getValue()))));
            page.table(List.of("manifest", "sha256"), rows);
        }
        if (r.get("tasks").isEmpty()) {
            page.note(e.file() + ": no tasks");
        }
        for (JsonNode t : r.get("tasks")) {
            task(page, dir, t);
        }
        if (r.path("tasks_not_run").isObject() && r.get("tasks_not_run").size() > 0) {
            List<List<String>> rows = new ArrayList<>();
            r.get("tasks_not_run").fields().forEachRemaining(f -> rows.add(List.of(f.getKey(), text(f.getValue()))));
            page.heading(3, "Tasks not run");
            page.table(List.of("task", "why"), rows);
        }
    }

    private static void task(Page page, Path dir, JsonNode t) {
        String name = t.get("name").asText();
        page.heading(3, "Task " + name + " (" + text(t.path("kind")) + ", " + text(t.path("modality")) + ")");
        Map<String, Object> head = new LinkedHashMap<>();
        head.put("split", t.path("split").isMissingNode() ? "(not stated)" : t.get("split"));
        if (t.has("protocol")) {
            t.get("protocol").fields().forEachRemaining(f -> head.put("protocol: " + f.getKey(), f.getValue()));
        }
        page.keyValues(head);
        if (t.has("metrics") && t.get("metrics").size() > 0) {
            List<List<String>> rows = new ArrayList<>();
            t.get("metrics").fields().forEachRemaining(f -> rows.add(List.of(f.getKey(), text(f.getValue()))));
            page.table(List.of("metric", "value"), rows);
        } else {
            page.note("task " + name + ": no metrics");
        }
        if (t.has("recall") && t.get("recall").size() > 0) {
            page.tableOfObjects("direction", t.get("recall"));
            recallBars(page, "task " + name, t.get("recall"));
        }
        if (t.has("per_class") && t.get("per_class").size() > 0) {
            List<List<String>> rows = new ArrayList<>();
            t.get("per_class").fields().forEachRemaining(f -> rows.add(List.of(f.getKey(), text(f.getValue()))));
            page.table(List.of("class", "accuracy"), rows);
        }
        if (t.has("confusion")) {
            confusion(page, name, t.get("confusion"));
        }
        if (t.has("embeddings")) {
            pcaFigure(page, name, dir.resolve(t.get("embeddings").asText()));
        }
    }

    /** Bars of R@1, R@5, R@10, one colour per retrieval direction. */
    private static void recallBars(Page page, String what, JsonNode byDirection) {
        Map<String, List<Double>> series = new LinkedHashMap<>();
        byDirection.fields().forEachRemaining(f -> {
            List<Double> v = RECALL_KS.stream().map(k -> number(f.getValue().path(k))).toList();
            if (v.stream().allMatch(Double::isFinite)) {
                series.put(f.getKey(), v);
            }
        });
        if (series.isEmpty()) {
            page.note(what + ": no R@1/R@5/R@10 to draw");
            return;
        }
        page.figure("Recall@k of " + what + " per direction" + legendNote(series.size()),
                () -> Plots.bars("recall@k: " + what, "recall", RECALL_KS, series,
                        Math.max(1.0, series.values().stream().flatMap(List::stream).mapToDouble(Double::doubleValue).max().orElse(1))));
    }

    private static void confusion(Page page, String name, JsonNode c) {
        List<String> labels = new ArrayList<>();
        c.get("labels").forEach(l -> labels.add(l.asText()));
        if (labels.isEmpty()) {
            page.note("task " + name + ": empty confusion matrix");
            return;
        }
        if (new LinkedHashSet<>(labels).size() != labels.size()) {
            page.note("task " + name + ": confusion labels repeat, matrix not drawn");
            return;
        }
        double[][] m = new double[labels.size()][labels.size()];            // (C, C) rows = true label
        for (int i = 0; i < m.length; i++) {
            for (int j = 0; j < m.length; j++) {
                m[i][j] = c.get("matrix").get(i).get(j).asDouble();
            }
        }
        page.figure("Confusion matrix of " + name + ": rows are the true label, columns the predicted one; counts in the cells",
                () -> Plots.heatMap("confusion: " + name, labels, m));
    }

    /** The embeddings CSV (header label,e0,e1,...) projected on its first two principal axes, one colour per label. */
    private static void pcaFigure(Page page, String name, Path csv) {
        if (!Files.isRegularFile(csv)) {
            page.note("task " + name + ": no embeddings file " + csv + ", no PCA");
            return;
        }
        Embeddings e;
        try {
            e = Embeddings.read(csv);
        } catch (IOException | IllegalArgumentException x) {
            page.note("task " + name + ": " + csv + ": " + oneLine(x) + ", no PCA");
            return;
        }
        if (e.bad() > 0) {
            page.note(csv + ": " + e.bad() + " unreadable row(s) left out, the first at line " + e.firstBad());
        }
        if (e.rows().size() < 2) {
            page.note("task " + name + ": " + e.rows().size() + " embedding(s) in " + csv + ", no PCA");
            return;
        }
        Pca.Result p = Pca.fit(e.rows().toArray(double[][]::new), 2);
        Map<String, List<double[]>> byLabel = new LinkedHashMap<>();
        for (int i = 0; i < e.labels().size(); i++) {
            double[] xy = p.projected()[i];
            byLabel.computeIfAbsent(e.labels().get(i).isEmpty() ? "(no label)" : e.labels().get(i), k -> new ArrayList<>())
                    .add(new double[] {xy[0], xy.length > 1 ? xy[1] : 0});
        }
        List<Plots.Series> series = new ArrayList<>();
        byLabel.forEach((label, pts) -> series.add(new Plots.Series(label, pts.stream().mapToDouble(q -> q[0]).toArray(),
                pts.stream().mapToDouble(q -> q[1]).toArray())));
        double share1 = p.totalVariance() > 0 ? p.variance()[0] / p.totalVariance() : 0;
        double share2 = p.variance().length > 1 && p.totalVariance() > 0 ? p.variance()[1] / p.totalVariance() : 0;
        page.figure(String.format("PCA of %d embeddings of %s (dimension %d, %d labels); PC1 explains %.1f%% of the variance, PC2 %.1f%%%s",
                        e.rows().size(), name, e.rows().get(0).length, byLabel.size(), 100 * share1, 100 * share2, legendNote(series.size())),
                () -> Plots.scatter("PCA: " + name, String.format("PC1 (%.1f%%)", 100 * share1), String.format("PC2 (%.1f%%)", 100 * share2), series));
    }

    /** Rows of an embeddings CSV; rows that cannot be read are counted, not kept. */
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
                    String rest = firstField(lines.get(i), label);
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
                    labels.add(label[0]);
                    rows.add(v);
                } catch (NumberFormatException x) {
                    bad++;
                    firstBad = firstBad == 0 ? i + 1 : firstBad;
                }
            }
            return new Embeddings(labels, rows, bad, firstBad);
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

    // ---------------------------------------------------------------- values

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

    /** A real number with 4 decimals (scientific notation outside [1e-3, 1e6), and for 0 exactly "0"). */
    static String fmt(double x) {
        if (!Double.isFinite(x)) {
            return Double.toString(x);
        }
        double a = Math.abs(x);
        return a == 0 ? "0" : a >= 1e-3 && a < 1e6 ? String.format("%.4f", x) : String.format("%.3e", x);
    }

    /** A cell's text: numbers formatted, strings as they are, anything else as compact JSON. */
    static String text(Object o) {
        if (o instanceof JsonNode n) {
            if (n.isMissingNode() || n.isNull()) {
                return "-";
            }
            if (n.isIntegralNumber()) {
                return n.asText();
            }
            if (n.isNumber()) {
                return fmt(n.asDouble());
            }
            if (n.isValueNode()) {
                return n.asText();
            }
            return n.toString();
        }
        return String.valueOf(o);
    }

    private static String legendNote(int series) {
        return series > Plots.MAX_LEGEND ? " (" + series + " series: legend left out)" : "";
    }

    private static String oneLine(Exception e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.lines().findFirst().orElse(m);
    }

    /** HTML-escapes text for element content and attribute values. */
    public static String escape(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> sb.append("&amp;");
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }

    // ---------------------------------------------------------------- the page

    /** A picture to draw: PNG bytes. */
    private interface Drawing {
        byte[] png() throws IOException;
    }

    /** The HTML being built; every string that enters it goes through {@link #escape}. */
    private static final class Page {
        private final StringBuilder body = new StringBuilder();
        private final List<String> notes = new ArrayList<>();
        private String title = "Sensorium report";
        private int figures;

        void title(String t) {
            title = t;
            body.append("<h1>").append(escape(t)).append("</h1>\n");
        }

        void heading(int level, String text) {
            body.append("<h").append(level).append('>').append(escape(text)).append("</h").append(level).append(">\n");
        }

        void para(String text) {
            body.append("<p>").append(escape(text)).append("</p>\n");
        }

        void note(String text) {
            notes.add(text);
            body.append("<p class=\"note\">note: ").append(escape(text)).append("</p>\n");
        }

        void list(List<String> items) {
            body.append("<ul>\n");
            items.forEach(i -> body.append("<li>").append(escape(i)).append("</li>\n"));
            body.append("</ul>\n");
        }

        void keyValues(Map<String, Object> kv) {
            List<List<String>> rows = new ArrayList<>();
            kv.forEach((k, v) -> rows.add(List.of(k, text(v))));
            table(null, rows);
        }

        /** Rows = the object's fields, columns = the scalar keys of their values (in first-seen order). */
        void tableOfObjects(String first, JsonNode byRow) {
            Set<String> cols = new LinkedHashSet<>();
            byRow.fields().forEachRemaining(f -> f.getValue().fields().forEachRemaining(c -> {
                if (c.getValue().isValueNode()) {
                    cols.add(c.getKey());
                }
            }));
            List<String> head = new ArrayList<>();
            head.add(first);
            head.addAll(cols);
            List<List<String>> rows = new ArrayList<>();
            byRow.fields().forEachRemaining(f -> {
                List<String> row = new ArrayList<>();
                row.add(f.getKey());
                cols.forEach(c -> row.add(text(f.getValue().path(c))));
                rows.add(row);
            });
            table(head, rows);
        }

        void table(List<String> head, List<List<String>> rows) {
            body.append("<table>\n");
            if (head != null) {
                body.append("<tr>");
                head.forEach(h -> body.append("<th>").append(escape(h)).append("</th>"));
                body.append("</tr>\n");
            }
            for (List<String> r : rows) {
                body.append("<tr>");
                for (int i = 0; i < r.size(); i++) {
                    String tag = head == null && i == 0 ? "th" : "td";
                    body.append('<').append(tag).append('>').append(escape(r.get(i))).append("</").append(tag).append('>');
                }
                body.append("</tr>\n");
            }
            body.append("</table>\n");
        }

        /** Draws the picture and embeds it; a picture XChart cannot draw becomes a note. */
        void figure(String caption, Drawing d) {
            byte[] png;
            try {
                png = d.png();
            } catch (IOException | RuntimeException e) {
                note("could not draw \"" + caption + "\": " + oneLine(e));
                return;
            }
            figures++;
            body.append("<figure><img alt=\"").append(escape(caption)).append("\" src=\"data:image/png;base64,")
                    .append(Base64.getEncoder().encodeToString(png)).append("\"><figcaption>").append(escape(caption))
                    .append("</figcaption></figure>\n");
        }

        String html() {
            return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" + escape(title) + "</title>\n"
                    + "<style>\n"
                    + "body{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}\n"
                    + "table{border-collapse:collapse;margin:.6em 0}\n"
                    + "th,td{border:1px solid #ccc;padding:.2em .6em;text-align:left;font-variant-numeric:tabular-nums}\n"
                    + "th{background:#f3f3f3}\n"
                    + "figure{margin:1em 0}img{max-width:100%;height:auto;border:1px solid #eee}\n"
                    + "figcaption{font-size:.9em;color:#555}\n"
                    + ".note{color:#8a5a00}\n"
                    + "</style>\n</head>\n<body>\n" + body + "</body>\n</html>\n";
        }
    }
}
