package org.sensorium.eval;

import static org.sensorium.eval.HtmlPage.fmt;
import static org.sensorium.eval.HtmlPage.oneLine;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The report's section on evaluation during pretraining (eval.every_steps): the eval/&lt;task&gt;/&lt;metric&gt; keys
 * of RUN/metrics.jsonl as curves over steps, one figure per task (measures in [0, 1] together; ranks, which are
 * larger, in a figure of their own), a table of each metric's first, last and best value, and the checkpoint
 * train.keep_best kept (RUN/checkpoints/best/state.json).
 */
final class EvalCurves {
    static final String PREFIX = "eval/";

    private EvalCurves() {}

    /** task -> metric -> (step, value) points, in the order the file first names them. */
    static Map<String, Map<String, List<double[]>>> read(Path metrics) throws IOException {
        Map<String, Map<String, List<double[]>>> tasks = new LinkedHashMap<>();
        for (String line : Files.readAllLines(metrics)) {
            JsonNode o = RunFiles.lenient(line);
            if (o == null || !o.isObject() || !o.path("step").isNumber()) {
                continue; // the loss section notes unreadable lines
            }
            double step = o.get("step").asDouble();
            for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                String key = f.getKey();
                int slash = key.indexOf('/', PREFIX.length());
                if (!key.startsWith(PREFIX) || slash < 0 || !f.getValue().isNumber() && !f.getValue().isTextual()) {
                    continue;
                }
                double v = RunFiles.number(f.getValue());
                if (Double.isFinite(v)) {
                    tasks.computeIfAbsent(key.substring(PREFIX.length(), slash), k -> new LinkedHashMap<>())
                            .computeIfAbsent(key.substring(slash + 1), k -> new ArrayList<>()).add(new double[] {step, v});
                }
            }
        }
        return tasks;
    }

    static void section(HtmlPage page, Path runDir) throws IOException {
        Path file = runDir.resolve("metrics.jsonl");
        Map<String, Map<String, List<double[]>>> tasks = Files.isRegularFile(file) ? read(file) : Map.of();
        if (tasks.isEmpty()) {
            return; // a run without eval.every_steps: no section
        }
        page.heading(2, "Evaluation during training");
        page.para("eval.every_steps: the suite eval.during_suite on the held-out samples, from " + file.getFileName() + ".");
        kept(page, runDir.resolve("checkpoints").resolve("best").resolve("state.json"));
        List<List<String>> rows = new ArrayList<>();
        for (Map.Entry<String, Map<String, List<double[]>>> t : tasks.entrySet()) {
            List<Plots.Series> measures = new ArrayList<>(), ranks = new ArrayList<>();
            t.getValue().forEach((metric, pts) -> {
                Plots.Series s = new Plots.Series(metric, pts.stream().mapToDouble(p -> p[0]).toArray(),
                        pts.stream().mapToDouble(p -> p[1]).toArray());
                (pts.stream().allMatch(p -> p[1] >= 0 && p[1] <= 1) ? measures : ranks).add(s);
                rows.add(row(t.getKey(), metric, pts));
            });
            String task = t.getKey();
            if (!measures.isEmpty()) {
                page.figure("Task " + task + " over training steps" + legend(measures.size()),
                        () -> Plots.lines("evaluation: " + task, "step", "value", measures, false));
            }
            if (!ranks.isEmpty()) {
                page.figure("Task " + task + ": ranks over training steps (lower is better)" + legend(ranks.size()),
                        () -> Plots.lines("evaluation: " + task + " (ranks)", "step", "rank", ranks, false));
            }
        }
        page.table(List.of("task", "metric", "first", "last", "max (step)", "min (step)"), rows);
    }

    private static List<String> row(String task, String metric, List<double[]> pts) {
        double[] max = pts.get(0), min = pts.get(0);
        for (double[] p : pts) {
            max = p[1] > max[1] ? p : max;
            min = p[1] < min[1] ? p : min;
        }
        return List.of(task, metric, fmt(pts.get(0)[1]), fmt(pts.get(pts.size() - 1)[1]),
                fmt(max[1]) + " (" + (long) max[0] + ")", fmt(min[1]) + " (" + (long) min[0] + ")");
    }

    /** The train.keep_best line: metric, value and step of the kept checkpoint. */
    private static void kept(HtmlPage page, Path state) {
        if (!Files.isRegularFile(state)) {
            return;
        }
        try {
            JsonNode best = RunFiles.JSON.readTree(state.toFile()).path("best");
            if (best.isObject()) {
                page.para("Kept best (train.keep_best): " + best.path("metric").asText() + " (" + best.path("mode").asText() + ") = "
                        + fmt(best.path("value").asDouble()) + " at step " + best.path("step").asInt() + ", in checkpoints/best.");
            }
        } catch (IOException e) {
            page.note(state + ": unreadable, left out: " + oneLine(e));
        }
    }

    private static String legend(int series) {
        return series > Plots.MAX_LEGEND ? " (" + series + " series: legend left out)" : "";
    }
}
