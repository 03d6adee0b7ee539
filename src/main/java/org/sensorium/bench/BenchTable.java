package org.sensorium.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Benchmark results as ratios (each measured against a peer or a reference in the same run) and their table. */
public final class BenchTable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private BenchTable() {}

    /**
     * One result.
     *
     * @param name what was measured
     * @param ratio the ratio reported (e.g. ours/ffmpeg frames per second, audio seconds per compute second)
     * @param percent print the ratio as a percentage (fractions) instead of "x" (speed ratios)
     * @param target the ratio the benchmark must reach, NaN when there is none
     * @param atMost true when the ratio must stay under the target (a fraction of time lost), false when above
     * @param detail the measurements the ratio comes from, one line
     */
    public record Row(String name, double ratio, boolean percent, double target, boolean atMost, String detail) {
        public boolean meets() {
            return Double.isNaN(target) || (atMost ? ratio < target : ratio >= target);
        }

        String show(double v) {
            if (percent) {
                return String.format("%.1f%%", 100 * v);
            }
            return v >= 100 ? String.format("%.0fx", v) : String.format("%.2fx", v);
        }

        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", name);
            m.put("ratio", ratio);
            m.put("target", Double.isNaN(target) ? null : target);
            m.put("target_is_max", atMost);
            m.put("meets_target", meets());
            m.put("detail", detail);
            return m;
        }
    }

    /** Fixed-width table: name, ratio, target, whether it is met, then the measurements. */
    public static String format(List<Row> rows) {
        StringBuilder sb = new StringBuilder();
        String fmt = "%-36s %9s %10s %4s  %s%n";
        sb.append(String.format(fmt, "benchmark", "ratio", "target", "met", "measured in the same run"));
        for (Row r : rows) {
            boolean none = Double.isNaN(r.target());
            String target = none ? "-" : (r.atMost() ? "< " : ">= ") + r.show(r.target());
            String met = none ? "-" : r.meets() ? "yes" : "NO";
            sb.append(String.format(fmt, r.name(), r.show(r.ratio()), target, met, r.detail()));
        }
        return sb.toString().stripTrailing();
    }

    /** The rows as a JSON document {"rows": [...]}. */
    public static String json(List<Row> rows) {
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(Map.of("rows", rows.stream().map(Row::json).toList()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * sum(data_wait_s) / sum(step_s) over the metrics.jsonl lines after the first {@code skip} (warm-up).
     *
     * @throws IllegalArgumentException naming the line when one lacks either key, or when no line is left
     */
    public static double waitFraction(List<String> metricsLines, int skip) {
        double wait = 0;
        double step = 0;
        int used = 0;
        for (int i = skip; i < metricsLines.size(); i++) {
            if (metricsLines.get(i).isBlank()) {
                continue;
            }
            JsonNode n = parse(metricsLines.get(i), i + 1);
            if (!n.path("data_wait_s").isNumber() || !n.path("step_s").isNumber()) {
                throw new IllegalArgumentException("metrics.jsonl:" + (i + 1) + ": no data_wait_s or step_s");
            }
            wait += n.get("data_wait_s").asDouble();
            step += n.get("step_s").asDouble();
            used++;
        }
        if (used == 0 || !(step > 0)) {
            throw new IllegalArgumentException("metrics.jsonl: no steps after the first " + skip);
        }
        return wait / step;
    }

    private static JsonNode parse(String line, int number) {
        try {
            return JSON.readTree(line);
        } catch (IOException e) {
            throw new IllegalArgumentException("metrics.jsonl:" + number + ": not valid JSON");
        }
    }
}
