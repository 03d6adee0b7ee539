package org.sensorium.cli;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.sensorium.eval.Retrieval;
import org.sensorium.eval.TemporalSegmentation;
import org.sensorium.job.ClusterJob;
import org.sensorium.job.EvalJob;
import org.sensorium.job.Pretrain;

/**
 * The plain-text tables the commands print. They live apart from {@link Main} so that the command classes
 * only parse, run a job and print; the tests compare this text character for character, and people paste it
 * into notes and READMEs, so a column that moves is a visible change.
 */
final class Tables {
    private Tables() {}

    /** What pretrain prints at the end: timing, the held-out measures, and where the run's files are. */
    static String render(Pretrain.Summary s) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%nfinished %d steps; wall time %.1f s (data, training, evaluation); training %.2f steps/s; peak RSS %.0f MiB; final loss %.4f%n",
                s.steps(), s.seconds(), s.stepsPerSecond(), s.peakRssMiB(),
                s.losses().isEmpty() ? Double.NaN : s.losses().get(s.losses().size() - 1)));
        if (!s.retrieval().isEmpty()) {
            sb.append("held-out retrieval:\n");
            sb.append(String.format("  %-14s %5s %7s %7s %7s %8s %9s%n", "direction", "n", "R@1", "R@5", "R@10", "chance", "R@1/chance"));
            for (Retrieval.Result r : s.retrieval().values()) {
                sb.append(String.format("  %-14s %5d %7.3f %7.3f %7.3f %8.4f %8.1fx%n", r.direction(), r.n(), r.r1(), r.r5(),
                        r.r10(), r.chance(), r.r1() / r.chance()));
            }
        }
        if (!s.clusters().isEmpty()) {
            sb.append("held-out k-means (k = number of classes) against the labels:\n");
            sb.append(String.format("  %-14s %5s %7s %7s %8s %11s%n", "modality", "n", "k", "NMI", "purity", "chance NMI"));
            s.clusters().forEach((m, c) -> sb.append(String.format("  %-14s %5d %7d %7.3f %8.3f %11.3f%n",
                    m, c.n(), c.clusters(), c.nmi(), c.purity(), c.chanceNmi())));
        }
        if (s.segmentation() != null) {
            segmentation(sb, s.segmentation());
        }
        if (!s.heldOut().isEmpty()) {
            sb.append("held-out objective measures (start -> end of this run):\n");
            s.heldOut().forEach((k, v) -> sb.append(String.format("  %-36s %8.4f -> %8.4f%n", k, v.start(), v.end())));
        }
        skipped(sb, s.skipped());
        sb.append("checkpoint: ").append(s.checkpoint()).append('\n');
        sb.append("metrics:    ").append(s.runDir().resolve("metrics.jsonl")).append('\n');
        sb.append("summary:    ").append(s.runDir().resolve("summary.json"));
        if (Files.isRegularFile(s.runDir().resolve("report.html"))) {
            sb.append('\n').append("report:     ").append(s.runDir().resolve("report.html"));
        }
        return sb.toString();
    }

    private static void segmentation(StringBuilder sb, TemporalSegmentation.Report g) {
        sb.append(String.format("held-out temporal segmentation (%s, %d recordings, %d frames, %d activities, %d prototypes used):%n",
                g.modality(), g.recordings(), g.argmax().n(), g.argmax().classes(), g.argmax().clusters()));
        sb.append(String.format("  %-34s %7s %7s%n", "decoding", "MoF", "NMI"));
        sb.append(String.format("  %-34s %7.3f %7.3f%n", "argmax of prototype scores", g.argmax().mof(), g.argmax().nmi()));
        sb.append(String.format("  %-34s %7.3f %7.3f%n", "transport with the temporal prior", g.transport().mof(), g.transport().nmi()));
        sb.append(String.format("  %-34s %7.3f%n", "equal split in order (baseline)", g.argmax().equalSplitMof()));
    }

    /** What cluster prints: the clustering, its agreement with the labels per split, and the pseudo-label file. */
    static String render(ClusterJob.Result r) {
        StringBuilder sb = new StringBuilder();
        int[] sorted = r.sizes().clone();
        Arrays.sort(sorted);
        sb.append(String.format("%nclustered %d %s embeddings of %s (step %d) into k = %d clusters; inertia %.3f;"
                        + " cluster sizes min %d, median %d, max %d%n", r.samples(), r.modality().key(), r.checkpoint(), r.step(),
                r.k(), r.inertia(), sorted[0], sorted[sorted.length / 2], sorted[sorted.length - 1]));
        if (!r.scores().isEmpty()) {
            sb.append("agreement with the manifest's labels (chance NMI: the same cluster sizes dealt at random):\n");
            sb.append(String.format("  %-9s %5s %8s %8s %8s %11s%n", "split", "n", "classes", "NMI", "purity", "chance NMI"));
            r.scores().forEach((group, s) -> sb.append(String.format("  %-9s %5d %8d %8.3f %8.3f %11.3f%n",
                    group, s.n(), s.classes(), s.nmi(), s.purity(), s.chanceNmi())));
        }
        skipped(sb, r.skipped());
        sb.append("pseudo-labels: ").append(r.out());
        return sb.toString();
    }

    /** What eval prints for one suite run: every task with all its numbers, the tasks not run, the results file. */
    static String render(EvalJob.Result r) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%nsuite %s on %s (%s): %d tasks in %.1f s%n", r.suite(), r.checkpoint(),
                r.randomWeights() ? "random weights" : "step " + r.step(), r.tasks().size(), r.seconds()));
        sb.append(String.format("  %-22s %-13s %-20s %8s  %s%n", "task", "kind", "modality", "seconds", "metrics"));
        for (EvalJob.TaskResult t : r.tasks()) {
            sb.append(String.format("  %-22s %-13s %-20s %8.1f  %s%n", t.name(), t.kind(), t.modality(),
                    ((Number) t.protocol().get("seconds")).doubleValue(), metrics(t)));
        }
        notRun(sb, r.notRun());
        skipped(sb, r.skipped());
        sb.append("results: ").append(r.out().resolve("results.json"));
        return sb.toString();
    }

    /** A task's numbers on its row: recall as one line per direction below it, anything else inline. */
    private static String metrics(EvalJob.TaskResult t) {
        StringBuilder m = new StringBuilder();
        if (t.recall() != null) {
            t.recall().forEach((dir, v) -> m.append(String.format("%n      %-16s R@1 %.3f  R@5 %.3f  R@10 %.3f  median rank %.1f  mean rank %.1f  (n %s)",
                    dir, v.get("R@1"), v.get("R@5"), v.get("R@10"), v.get("median_rank"), v.get("mean_rank"), v.get("n"))));
        } else {
            t.metrics().forEach((k, v) -> m.append(k).append(' ').append(v == Math.rint(v) && Math.abs(v) > 1
                    ? String.valueOf(v.longValue()) : String.format("%.3f", v)).append("  "));
        }
        Object picked = t.protocol().get("l2_picked");
        if (picked != null) {
            m.append("(l2 ").append(picked).append(')');
        }
        return t.recall() != null ? m.toString() : m.toString().strip();
    }

    /** The headline numbers of each task of a suite, checkpoint against random weights, one row per number. */
    static String renderAgainst(EvalJob.Result trained, EvalJob.Result random) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%nsuite %s on %s: checkpoint (step %d, %.1f s) against random weights (%.1f s)%n", trained.suite(),
                trained.checkpoint(), trained.step(), trained.seconds(), random.seconds()));
        String row = "  %-22s %-30s %14s %14s%n";
        sb.append(String.format(row, "task", "metric", "checkpoint", "random"));
        Map<String, EvalJob.TaskResult> byName = new HashMap<>();
        random.tasks().forEach(t -> byName.put(t.name(), t));
        for (EvalJob.TaskResult t : trained.tasks()) {
            Map<String, String> b = byName.containsKey(t.name()) ? headline(byName.get(t.name())) : Map.of();
            taskRows(sb, row, t.name(), headline(t), (metric, value) -> new Object[] {value, b.getOrDefault(metric, "-")});
        }
        notRun(sb, trained.notRun());
        return sb.toString().stripTrailing();
    }

    /**
     * The headline numbers of a suite run on several checkpoints (e.g. pretraining seeds), each as mean ± std (population)
     * over the runs, with the same over their random-weight twins when there are any; a task some run could not serve
     * counts only the runs that did.
     */
    static String renderOverRuns(List<EvalJob.Result> trained, List<EvalJob.Result> random) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%nsuite %s over %d runs (%s): mean ± std of each run's number%n", trained.get(0).suite(),
                trained.size(), trained.stream().map(r -> EvalJob.runDir(r.checkpoint()).getFileName().toString())
                        .collect(Collectors.joining(", "))));
        String row = "  %-22s %-30s %18s %18s%n";
        sb.append(String.format(row, "task", "metric", "checkpoints", random.isEmpty() ? "" : "random"));
        Map<String, Map<String, List<Double>>> a = headlineValues(trained), b = headlineValues(random);
        a.forEach((task, metrics) -> taskRows(sb, row, task, metrics, (metric, values) -> {
            List<Double> other = b.getOrDefault(task, Map.of()).get(metric);
            return new Object[] {meanStd(values), other == null ? "" : meanStd(other)};
        }));
        return sb.toString().stripTrailing();
    }

    /** The two value columns of a task's row for one metric. */
    private interface Cells<V> {
        Object[] of(String metric, V value);
    }

    /** One row per metric of a task, the task's name on its first row only. */
    private static <V> void taskRows(StringBuilder sb, String row, String task, Map<String, V> metrics, Cells<V> cells) {
        String name = task;
        for (Map.Entry<String, V> e : metrics.entrySet()) {
            Object[] c = cells.of(e.getKey(), e.getValue());
            sb.append(String.format(row, name, e.getKey(), c[0], c[1]));
            name = "";
        }
    }

    /** "mean ± std (n)" with the population standard deviation. */
    static String meanStd(List<Double> v) {
        double mean = v.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        double var = v.stream().mapToDouble(x -> (x - mean) * (x - mean)).sum() / v.size();
        return String.format("%.3f ± %.3f (%d)", mean, Math.sqrt(var), v.size());
    }

    /** Task -> headline metric -> its value in each run (finetune and qa: each run's mean over its seeds). */
    static Map<String, Map<String, List<Double>>> headlineValues(List<EvalJob.Result> runs) {
        Map<String, Map<String, List<Double>>> out = new LinkedHashMap<>();
        for (EvalJob.Result r : runs) {
            for (EvalJob.TaskResult t : r.tasks()) {
                for (Headline h : headlines(t)) {
                    Double v = t.metrics().get(h.key());
                    if (v != null && !v.isNaN()) {
                        out.computeIfAbsent(t.name(), x -> new LinkedHashMap<>())
                                .computeIfAbsent(h.key(), x -> new ArrayList<>()).add(v);
                    }
                }
            }
        }
        return out;
    }

    /** A task's numbers worth a row: top-1 for classifiers, R@1 / R@10 / median rank per direction, MoF and F1@50, mean ± std over seeds. */
    static Map<String, String> headline(EvalJob.TaskResult t) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Headline h : headlines(t)) {
            if (h.label() != null) {
                out.put(h.label(), h.shown().of(t.metrics(), h.key()));
            }
        }
        return out;
    }

    /**
     * A headline number of a task: its metric key, its label in the checkpoint-against-random table (null when it is
     * only given over several runs) and how that table shows it.
     */
    private record Headline(String key, String label, Shown shown) {}

    /** How a headline number is shown next to its random-weights twin. */
    private enum Shown {
        THREE, ONE_DECIMAL, PLUS_MINUS_STD;

        String of(Map<String, Double> m, String key) {
            return switch (this) {
                case THREE -> m.containsKey(key) ? String.format("%.3f", m.get(key)) : "-";
                case ONE_DECIMAL -> String.format("%.1f", m.get(key));
                case PLUS_MINUS_STD -> String.format("%.3f ± %.3f", m.get(key), m.get(key + "_std"));
            };
        }
    }

    /** The headline numbers of each kind of task, in the order they are printed; the one place that knows them. */
    private static List<Headline> headlines(EvalJob.TaskResult t) {
        Map<String, Double> m = t.metrics();
        return switch (t.kind()) {
            case "zero_shot", "linear_probe", "knn" -> List.of(
                    new Headline("top1", "top-1 (chance " + Shown.THREE.of(m, "chance_top1") + ")", Shown.THREE),
                    new Headline("mean_per_class_top1", "mean per-class top-1", Shown.THREE));
            case "retrieval" -> t.recall().keySet().stream().flatMap(d -> Stream.of(
                    new Headline(d + "/R@1", d + " R@1", Shown.THREE),
                    new Headline(d + "/R@10", d + " R@10", Shown.THREE),
                    new Headline(d + "/median_rank", d + " median rank", Shown.ONE_DECIMAL))).toList();
            case "segmentation" -> List.of(new Headline("mof", "MoF", Shown.THREE), new Headline("F1@50", "F1@50", Shown.THREE));
            case "finetune" -> List.of(
                    new Headline("accuracy", "accuracy (chance " + Shown.THREE.of(m, "chance") + ")", Shown.PLUS_MINUS_STD),
                    new Headline("balanced_accuracy", null, Shown.PLUS_MINUS_STD),
                    new Headline("macro_f1", "macro-F1", Shown.PLUS_MINUS_STD));
            case "qa" -> List.of(new Headline("accuracy", "accuracy (chance " + Shown.THREE.of(m, "chance") + ")", Shown.PLUS_MINUS_STD));
            default -> m.keySet().stream().map(k -> new Headline(k, k, Shown.THREE)).toList();
        };
    }

    private static void notRun(StringBuilder sb, Map<String, String> notRun) {
        notRun.forEach((task, why) -> sb.append(String.format("  %-22s not run: %s%n", task, why)));
    }

    private static void skipped(StringBuilder sb, Map<String, String> skipped) {
        if (!skipped.isEmpty()) {
            sb.append(skipped.size()).append(" broken samples skipped:\n");
            skipped.values().forEach(v -> sb.append("  ").append(v).append('\n'));
        }
    }
}
