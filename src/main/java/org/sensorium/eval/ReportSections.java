package org.sensorium.eval;

import static org.sensorium.eval.HtmlPage.fmt;
import static org.sensorium.eval.HtmlPage.oneLine;
import static org.sensorium.eval.HtmlPage.text;
import static org.sensorium.eval.RunFiles.number;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * The sections of a {@link Report}: training curves, the run's summary.json, and one section per evaluation.
 * Each section turns a missing or damaged piece into a note on the page rather than an error, because a
 * report is most wanted for runs that went wrong.
 */
final class ReportSections {
    private static final List<String> RECALL_KS = List.of("R@1", "R@5", "R@10");

    private ReportSections() {}

    /** An evaluation folder's results.json, or null results when the folder has none. */
    record Evaluation(Path file, JsonNode results) {}

    // ---------------------------------------------------------------- training

    static void training(HtmlPage page, Path file, boolean logY) throws IOException {
        if (!Files.isRegularFile(file)) {
            page.note("no " + file + ": no loss curves");
            return;
        }
        RunFiles.LossCurves c = RunFiles.lossCurves(file, logY);
        if (c.bad() > 0) {
            page.note(file + ": " + c.bad() + " unreadable line(s) left out, the first at line " + c.firstBad());
        }
        if (c.dropped() > 0) {
            page.note(c.dropped() + " loss value(s) left out of the plot (" + (logY ? "not finite or not > 0 on the log axis" : "not finite") + ")");
        }
        List<Plots.Series> series = new ArrayList<>();
        c.curves().forEach((name, pts) -> {
            if (!pts.isEmpty()) {
                series.add(series(name, pts));
            }
        });
        if (series.isEmpty()) {
            page.note(file + ": no loss values to plot");
            return;
        }
        page.figure("Loss and its named terms over " + c.steps() + " logged steps" + (logY ? " (log scale)" : "")
                        + legendNote(series.size()), () -> Plots.lines("training loss", "step", "loss", series, logY));
        page.para("Terms: " + String.join(", ", series.stream().map(Plots.Series::name).toList()) + ".");
    }

    // ---------------------------------------------------------------- summary.json

    static void summary(HtmlPage page, Path file) {
        if (!Files.isRegularFile(file)) {
            page.note("no " + file + " (the run has not finished?): no summary tables");
            return;
        }
        JsonNode s;
        try {
            s = RunFiles.JSON.readTree(file.toFile());
        } catch (IOException e) {
            page.note(file + ": unreadable, left out: " + oneLine(e));
            return;
        }
        page.keyValues(facts(s, List.of("steps", "wall_seconds", "steps_per_second", "peak_rss_mib", "final_loss", "checkpoint")));
        JsonNode retrieval = s.path("retrieval");
        if (nonEmpty(retrieval)) {
            page.heading(3, "Held-out retrieval");
            page.tableOfObjects("direction", retrieval);
            recallBars(page, "held-out retrieval", retrieval);
        } else {
            page.note("no held-out retrieval in summary.json");
        }
        JsonNode clusters = s.path("held_out_clusters");
        if (nonEmpty(clusters)) {
            page.heading(3, "Held-out k-means (k = number of classes) against the labels");
            page.tableOfObjects("modality", clusters);
        }
        segmentation(page, s.path("segmentation"));
        heldOut(page, s.path("held_out"));
        page.heading(3, "Skipped samples: " + s.path("skipped_samples").asInt(0));
        JsonNode reasons = s.path("skipped");
        if (nonEmpty(reasons)) {
            List<String> items = new ArrayList<>();
            reasons.fields().forEachRemaining(f -> items.add(text(f.getValue())));
            page.list(items);
        }
    }

    private static void segmentation(HtmlPage page, JsonNode seg) {
        if (!seg.isObject()) {
            return;
        }
        page.heading(3, "Held-out temporal segmentation (" + text(seg.path("modality")) + ", " + text(seg.path("recordings")) + " recordings)");
        Map<String, JsonNode> rows = new LinkedHashMap<>();
        seg.fields().forEachRemaining(f -> {
            if (f.getValue().isObject()) {
                rows.put(f.getKey(), f.getValue());
            }
        });
        page.tableOfObjects("decoding", RunFiles.JSON.valueToTree(rows));
    }

    private static void heldOut(HtmlPage page, JsonNode held) {
        if (!nonEmpty(held)) {
            return;
        }
        page.heading(3, "Held-out objective measures, start -> end of the run");
        List<List<String>> rows = new ArrayList<>();
        held.fields().forEachRemaining(f -> {
            double a = number(f.getValue().path("start")), b = number(f.getValue().path("end"));
            rows.add(List.of(f.getKey(), fmt(a), fmt(b), fmt(b - a)));
        });
        page.table(List.of("measure", "start", "end", "change"), rows);
    }

    // ---------------------------------------------------------------- results.json

    static void evaluation(HtmlPage page, Evaluation e) {
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
        facts.putAll(facts(r, List.of("checkpoint", "step", "weights", "wall_seconds")));
        page.keyValues(facts);
        if (nonEmpty(r.path("manifests"))) {
            page.fieldTable("manifest", "sha256", r.get("manifests"));
        }
        if (r.get("tasks").isEmpty()) {
            page.note(e.file() + ": no tasks");
        }
        for (JsonNode t : r.get("tasks")) {
            task(page, dir, t);
        }
        if (nonEmpty(r.path("tasks_not_run"))) {
            page.heading(3, "Tasks not run");
            page.fieldTable("task", "why", r.get("tasks_not_run"));
        }
    }

    private static void task(HtmlPage page, Path dir, JsonNode t) {
        String name = t.get("name").asText();
        page.heading(3, "Task " + name + " (" + text(t.path("kind")) + ", " + text(t.path("modality")) + ")");
        Map<String, Object> head = new LinkedHashMap<>();
        head.put("split", t.path("split").isMissingNode() ? "(not stated)" : t.get("split"));
        if (t.has("protocol")) {
            t.get("protocol").fields().forEachRemaining(f -> head.put("protocol: " + f.getKey(), f.getValue()));
        }
        page.keyValues(head);
        if (nonEmpty(t.path("metrics"))) {
            page.fieldTable("metric", "value", t.get("metrics"));
        } else {
            page.note("task " + name + ": no metrics");
        }
        if (nonEmpty(t.path("recall"))) {
            page.tableOfObjects("direction", t.get("recall"));
            recallBars(page, "task " + name, t.get("recall"));
        }
        if (nonEmpty(t.path("per_class"))) {
            page.fieldTable("class", "accuracy", t.get("per_class"));
        }
        if (t.has("confusion")) {
            confusion(page, name, t.get("confusion"));
        }
        if (t.has("embeddings")) {
            pcaFigure(page, name, dir.resolve(t.get("embeddings").asText()));
        }
    }

    /** Bars of R@1, R@5, R@10, one colour per retrieval direction. */
    private static void recallBars(HtmlPage page, String what, JsonNode byDirection) {
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

    private static void confusion(HtmlPage page, String name, JsonNode c) {
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

    /** The embeddings CSV projected on its first two principal axes, one colour per label. */
    private static void pcaFigure(HtmlPage page, String name, Path csv) {
        if (!Files.isRegularFile(csv)) {
            page.note("task " + name + ": no embeddings file " + csv + ", no PCA");
            return;
        }
        RunFiles.Embeddings e;
        try {
            e = RunFiles.Embeddings.read(csv);
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
        byLabel.forEach((label, pts) -> series.add(series(label, pts)));
        double share1 = p.totalVariance() > 0 ? p.variance()[0] / p.totalVariance() : 0;
        double share2 = p.variance().length > 1 && p.totalVariance() > 0 ? p.variance()[1] / p.totalVariance() : 0;
        page.figure(String.format("PCA of %d embeddings of %s (dimension %d, %d labels); PC1 explains %.1f%% of the variance, PC2 %.1f%%%s",
                        e.rows().size(), name, e.rows().get(0).length, byLabel.size(), 100 * share1, 100 * share2, legendNote(series.size())),
                () -> Plots.scatter("PCA: " + name, String.format("PC1 (%.1f%%)", 100 * share1), String.format("PC2 (%.1f%%)", 100 * share2), series));
    }

    // ---------------------------------------------------------------- helpers

    /** The given keys of a JSON object that it has, in the given order. */
    private static Map<String, Object> facts(JsonNode o, List<String> keys) {
        Map<String, Object> facts = new LinkedHashMap<>();
        for (String k : keys) {
            if (o.has(k)) {
                facts.put(k, o.get(k));
            }
        }
        return facts;
    }

    private static boolean nonEmpty(JsonNode o) {
        return o.isObject() && o.size() > 0;
    }

    /** A plot series of (x, y) points. */
    private static Plots.Series series(String name, List<double[]> points) {
        return new Plots.Series(name, points.stream().mapToDouble(p -> p[0]).toArray(), points.stream().mapToDouble(p -> p[1]).toArray());
    }

    private static String legendNote(int series) {
        return series > Plots.MAX_LEGEND ? " (" + series + " series: legend left out)" : "";
    }
}
