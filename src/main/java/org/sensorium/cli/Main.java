package org.sensorium.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.sensorium.config.ConfigException;
import org.sensorium.config.ConfigLoader;
import org.sensorium.data.ManifestException;
import org.sensorium.data.SampleSetGenerator;
import org.sensorium.modality.SkipLog;
import org.sensorium.distributed.DistException;
import org.sensorium.distributed.Collective;
import org.sensorium.eval.Report;
import org.sensorium.job.EvalJob;
import org.sensorium.eval.TemporalSegmentation;
import org.sensorium.eval.Retrieval;
import org.sensorium.config.Modality;
import org.sensorium.job.Ablate;
import org.sensorium.job.ClusterJob;
import org.sensorium.job.Pretrain;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The sensorium command line. Exit codes: 0 done, 1 unexpected failure, 2 bad config, manifest or
 * arguments (one line naming the file, line or key; the stack trace only with --debug).
 */
@Command(name = "sensorium", mixinStandardHelpOptions = true, version = "sensorium 0.1.0",
        description = "Multimodal foundation-model pretraining on the JVM.",
        subcommands = {Main.PretrainCmd.class, Main.AblateCmd.class, Main.ClusterCmd.class, Main.EvalCmd.class, Main.ReportCmd.class,
                TaskCommands.FinetuneCmd.class, TaskCommands.QaCmd.class, Main.DataCmd.class, DataCommands.BenchCmd.class,
                TokenizerCommands.TokenizerCmd.class, DistCommands.LaunchCmd.class, DistCommands.WorkerCmd.class})
public final class Main implements Callable<Integer> {

    @Override
    public Integer call() {
        CommandLine.usage(this, System.out);
        return 0;
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns its exit code (tests call this instead of main). */
    public static int run(String... args) {
        return execute(new Main(), args);
    }

    /** Runs a picocli command with the CLI's exit codes and one-line errors (also the Spark launcher's main). */
    public static int execute(Object command, String... args) {
        return execute(new CommandLine(command), args, null);
    }

    /**
     * Runs `pretrain` with these arguments (a leading "pretrain" is allowed) as one rank of a worker group ({@link org.sensorium.distributed.Worker#run}).
     *
     * @throws DistException when a collective failed (the caller decides: a launcher stops the group)
     */
    public static int pretrain(String[] args, Collective group, String device) {
        if (args.length > 0 && args[0].equals("pretrain")) { // a launcher may pass the command's name first
            args = java.util.Arrays.copyOfRange(args, 1, args.length);
        }
        PretrainCmd cmd = new PretrainCmd();
        cmd.group = group;
        cmd.device = device;
        DistException[] failed = new DistException[1];
        int code = execute(new CommandLine(cmd), args, failed);
        if (failed[0] != null) {
            throw failed[0];
        }
        return code;
    }

    /** @param distFailure when not null, a collective failure is put here instead of being printed */
    private static int execute(CommandLine cli, String[] args, DistException[] distFailure) {
        boolean debug = List.of(args).contains("--debug");
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof DistException d) {
                if (distFailure != null) {
                    distFailure[0] = d;
                    return 1;
                }
                System.err.println("error: " + e.getMessage());
                if (debug) {
                    e.printStackTrace();
                }
                return 1;
            }
            if (e instanceof ConfigException || e instanceof ManifestException || e instanceof SkipLog.StrictSkipException
                    || e instanceof Report.MalformedResults) {
                System.err.println("error: " + e.getMessage());
                if (debug) {
                    e.printStackTrace();
                }
                return 2;
            }
            System.err.println("error: " + e);
            if (debug) {
                e.printStackTrace();
            } else {
                System.err.println("(run with --debug for the stack trace)");
            }
            return 1;
        });
        return cli.execute(args);
    }

    /** Options every job shares: an experiment file next to the overrides. */
    static class Common extends Overrides {
        @Option(names = "--config", description = "experiment file overriding configs/defaults.yaml")
        Path config;
    }

    /** Config overrides, the bad-sample policy and stack traces: for jobs on a config of their own or a run's. */
    static class Overrides {
        @Option(names = "--set", description = "override one config key, e.g. --set train.steps=100 (repeatable)")
        List<String> sets = new ArrayList<>();

        @Option(names = "--strict", description = "stop at the first broken sample instead of skipping it")
        boolean strict;

        @Option(names = "--debug", description = "print stack traces")
        boolean debug;

        List<String> allSets() {
            List<String> all = new ArrayList<>(sets);
            if (strict) {
                all.add("run.strict=true");
            }
            return all;
        }
    }

    @Command(name = "pretrain", mixinStandardHelpOptions = true,
            description = "Pretrain on a manifest (default: the built-in sample set), then report held-out retrieval.")
    static final class PretrainCmd implements Callable<Integer> {
        @CommandLine.Mixin
        Common common = new Common();

        @Option(names = "--resume", description = "continue the run in this folder from its newest checkpoint")
        Path resume;

        Collective group = Collective.local(); // a worker of a group: set by Worker.run
        String device;                 // null: libtorch's default device

        @Override
        public Integer call() throws Exception {
            Pretrain.Summary s;
            if (resume != null) {
                if (common.config != null) {
                    throw new ConfigException("--config", "cannot be combined with --resume (the run's config.yaml is used)");
                }
                s = Pretrain.resume(resume, common.allSets(), group, device);
            } else {
                s = Pretrain.start(ConfigLoader.load(common.config, common.allSets()), group, device);
            }
            if (group.rank() == 0) {
                System.out.println(render(s));
            }
            return 0;
        }
    }

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
            TemporalSegmentation.Report g = s.segmentation();
            sb.append(String.format("held-out temporal segmentation (%s, %d recordings, %d frames, %d activities, %d prototypes used):%n",
                    g.modality(), g.recordings(), g.argmax().n(), g.argmax().classes(), g.argmax().clusters()));
            sb.append(String.format("  %-34s %7s %7s%n", "decoding", "MoF", "NMI"));
            sb.append(String.format("  %-34s %7.3f %7.3f%n", "argmax of prototype scores", g.argmax().mof(), g.argmax().nmi()));
            sb.append(String.format("  %-34s %7.3f %7.3f%n", "transport with the temporal prior", g.transport().mof(), g.transport().nmi()));
            sb.append(String.format("  %-34s %7.3f%n", "equal split in order (baseline)", g.argmax().equalSplitMof()));
        }
        if (!s.heldOut().isEmpty()) {
            sb.append("held-out objective measures (start -> end of this run):\n");
            s.heldOut().forEach((k, v) -> sb.append(String.format("  %-36s %8.4f -> %8.4f%n", k, v.start(), v.end())));
        }
        if (!s.skipped().isEmpty()) {
            sb.append(s.skipped().size()).append(" broken samples skipped:\n");
            for (Map.Entry<String, String> e : s.skipped().entrySet()) {
                sb.append("  ").append(e.getValue()).append('\n');
            }
        }
        sb.append("checkpoint: ").append(s.checkpoint()).append('\n');
        sb.append("metrics:    ").append(s.runDir().resolve("metrics.jsonl")).append('\n');
        sb.append("summary:    ").append(s.runDir().resolve("summary.json"));
        if (java.nio.file.Files.isRegularFile(s.runDir().resolve("report.html"))) {
            sb.append('\n').append("report:     ").append(s.runDir().resolve("report.html"));
        }
        return sb.toString();
    }

    @Command(name = "ablate", mixinStandardHelpOptions = true,
            description = "Each objective alone, the default combination and the untrained model, trained on the same data for"
                    + " the same steps: held-out R@1, NMI of held-out k-means against the labels, seconds per step, in one table.")
    static final class AblateCmd implements Callable<Integer> {
        @CommandLine.Mixin
        Common common = new Common();

        @Option(names = "--steps", defaultValue = "200", description = "optimizer steps of each trained row (default ${DEFAULT-VALUE})")
        int steps;

        @Option(names = "--only", split = ",", description = "rows to run, comma-separated (default: all), e.g. untrained,contrastive,two_view")
        List<String> only;

        @Option(names = "--out", description = "folder of the ablation's runs and table (default: runs/ablate-<timestamp>)")
        Path out;

        @Override
        public Integer call() throws Exception {
            List<Ablate.Variant> variants = new ArrayList<>();
            for (String v : only == null ? List.<String>of() : only) {
                try {
                    variants.add(Ablate.Variant.parse(v));
                } catch (IllegalArgumentException e) {
                    throw new ConfigException("--only", e.getMessage());
                }
            }
            if (variants.isEmpty()) {
                variants.addAll(List.of(Ablate.Variant.values()));
            }
            Ablate.Result r = Ablate.run(new Ablate.Options(common.config, common.allSets(), steps, variants, out));
            System.out.println();
            System.out.print(Ablate.table(r));
            System.out.println("runs and table: " + r.dir());
            return 0;
        }
    }

    @Command(name = "cluster", mixinStandardHelpOptions = true,
            description = "Offline cross-modal clustering (XDC): k-means++ on one modality's embeddings of every manifest sample,"
                    + " written as pseudo-labels for objectives.pseudo_labels; NMI and purity against the manifest's labels.")
    static final class ClusterCmd implements Callable<Integer> {
        @Option(names = "--checkpoint", required = true, description = "a run folder (its newest checkpoint) or a checkpoint folder")
        Path checkpoint;

        @Option(names = "--modality", required = true, description = "the modality whose embeddings are clustered: video, audio, text or imu")
        String modality;

        @Option(names = "--k", defaultValue = "32", description = "number of clusters (default ${DEFAULT-VALUE})")
        int k;

        @Option(names = "--seed", description = "seed of the k-means++ seeding (default: the run's run.seed)")
        Long seed;

        @Option(names = "--iterations", defaultValue = "300", description = "most Lloyd iterations (default ${DEFAULT-VALUE})")
        int iterations;

        @Option(names = "--out", description = "pseudo-label file (default: RUN/clusters/<modality>-k<K>-step<N>.jsonl)")
        Path out;

        @CommandLine.Mixin
        Overrides overrides = new Overrides(); // --set applies to the run's config

        @Override
        public Integer call() throws Exception {
            Modality m;
            try {
                m = Modality.parse(modality);
            } catch (IllegalArgumentException e) {
                throw new ConfigException("--modality", e.getMessage());
            }
            System.out.println(render(ClusterJob.run(new ClusterJob.Options(checkpoint, m, k, seed, iterations, out, overrides.allSets()))));
            return 0;
        }
    }

    static String render(ClusterJob.Result r) {
        StringBuilder sb = new StringBuilder();
        int[] sorted = r.sizes().clone();
        java.util.Arrays.sort(sorted);
        sb.append(String.format("%nclustered %d %s embeddings of %s (step %d) into k = %d clusters; inertia %.3f;"
                        + " cluster sizes min %d, median %d, max %d%n", r.samples(), r.modality().key(), r.checkpoint(), r.step(),
                r.k(), r.inertia(), sorted[0], sorted[sorted.length / 2], sorted[sorted.length - 1]));
        if (!r.scores().isEmpty()) {
            sb.append("agreement with the manifest's labels (chance NMI: the same cluster sizes dealt at random):\n");
            sb.append(String.format("  %-9s %5s %8s %8s %8s %11s%n", "split", "n", "classes", "NMI", "purity", "chance NMI"));
            r.scores().forEach((group, s) -> sb.append(String.format("  %-9s %5d %8d %8.3f %8.3f %11.3f%n",
                    group, s.n(), s.classes(), s.nmi(), s.purity(), s.chanceNmi())));
        }
        if (!r.skipped().isEmpty()) {
            sb.append(r.skipped().size()).append(" broken samples skipped:\n");
            r.skipped().values().forEach(v -> sb.append("  ").append(v).append('\n'));
        }
        sb.append("pseudo-labels: ").append(r.out());
        return sb.toString();
    }

    @Command(name = "eval", mixinStandardHelpOptions = true,
            description = "Run an evaluation suite (eval/<suite>.yaml: zero-shot, retrieval, linear probe, kNN, segmentation) on a"
                    + " checkpoint's frozen embeddings; writes results.json and embeddings/<task>.csv, prints a table.")
    static final class EvalCmd implements Callable<Integer> {
        @Option(names = "--checkpoint", required = true, description = "a run folder (its newest checkpoint) or a checkpoint folder;"
                + " repeat it for runs that differ only in their seed: each is evaluated, then every headline number is given as"
                + " mean ± std over the runs")
        List<Path> checkpoints = new ArrayList<>();

        @Option(names = "--suite", required = true, description = "the suite file, e.g. eval/sample.yaml")
        Path suite;

        @Option(names = "--out", description = "results folder (default: RUN/eval/<suite name>)")
        Path out;

        @Option(names = "--random-weights", description = "evaluate the run's architecture at its initial weights (what a train.steps=0 run saves)"
                + " instead of the checkpoint's; results go to RUN/eval/<suite>-random")
        boolean randomWeights;

        @Option(names = "--against-random", description = "run the suite on the checkpoint, then on random weights (as --random-weights),"
                + " and print both side by side with each one's wall time")
        boolean againstRandom;

        @CommandLine.Mixin
        Overrides overrides = new Overrides(); // --set applies to the run's config

        @Override
        public Integer call() throws Exception {
            if (againstRandom && (randomWeights || out != null)) {
                throw new ConfigException("--against-random", "writes RUN/eval/<suite> and RUN/eval/<suite>-random; leave out --random-weights and --out");
            }
            if (checkpoints.size() > 1 && out != null) {
                throw new ConfigException("--out", "each of several --checkpoint runs writes RUN/eval/<suite>; leave out --out");
            }
            List<EvalJob.Result> trained = new ArrayList<>(), random = new ArrayList<>();
            for (Path checkpoint : checkpoints) {
                trained.add(evaluate(checkpoint, randomWeights));
                if (againstRandom) {
                    random.add(evaluate(checkpoint, true));
                    System.out.println(renderAgainst(trained.get(trained.size() - 1), random.get(random.size() - 1)));
                }
            }
            if (checkpoints.size() > 1) {
                System.out.println(renderOverRuns(trained, random));
            }
            return 0;
        }

        private EvalJob.Result evaluate(Path checkpoint, boolean random) throws Exception {
            EvalJob.Result r = EvalJob.run(new EvalJob.Options(checkpoint, suite, out, overrides.allSets(), random));
            System.out.println(render(r));
            Report.Written w = Report.write(EvalJob.runDir(r.checkpoint()), List.of(r.out()), r.out().resolve("report.html"));
            w.notes().forEach(n -> System.out.println("note: " + n));
            System.out.println("report: " + w.html());
            return r;
        }
    }

    /** The headline numbers of each task of a suite, checkpoint against random weights, one row per number. */
    static String renderAgainst(EvalJob.Result trained, EvalJob.Result random) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%nsuite %s on %s: checkpoint (step %d, %.1f s) against random weights (%.1f s)%n", trained.suite(),
                trained.checkpoint(), trained.step(), trained.seconds(), random.seconds()));
        sb.append(String.format("  %-22s %-30s %14s %14s%n", "task", "metric", "checkpoint", "random"));
        Map<String, EvalJob.TaskResult> byName = new java.util.HashMap<>();
        random.tasks().forEach(t -> byName.put(t.name(), t));
        for (EvalJob.TaskResult t : trained.tasks()) {
            Map<String, String> a = headline(t), b = byName.containsKey(t.name()) ? headline(byName.get(t.name())) : Map.of();
            String name = t.name();
            for (Map.Entry<String, String> e : a.entrySet()) {
                sb.append(String.format("  %-22s %-30s %14s %14s%n", name, e.getKey(), e.getValue(), b.getOrDefault(e.getKey(), "-")));
                name = "";
            }
        }
        trained.notRun().forEach((task, why) -> sb.append(String.format("  %-22s not run: %s%n", task, why)));
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
                        .collect(java.util.stream.Collectors.joining(", "))));
        sb.append(String.format("  %-22s %-30s %18s %18s%n", "task", "metric", "checkpoints", random.isEmpty() ? "" : "random"));
        Map<String, Map<String, List<Double>>> a = headlineValues(trained), b = headlineValues(random);
        a.forEach((task, metrics) -> {
            String name = task;
            for (Map.Entry<String, List<Double>> e : metrics.entrySet()) {
                List<Double> other = b.getOrDefault(task, Map.of()).get(e.getKey());
                sb.append(String.format("  %-22s %-30s %18s %18s%n", name, e.getKey(), meanStd(e.getValue()),
                        other == null ? "" : meanStd(other)));
                name = "";
            }
        });
        return sb.toString().stripTrailing();
    }

    /** Task -> headline metric -> its value in each run (finetune and qa: each run's mean over its seeds). */
    static Map<String, Map<String, List<Double>>> headlineValues(List<EvalJob.Result> runs) {
        Map<String, Map<String, List<Double>>> out = new java.util.LinkedHashMap<>();
        for (EvalJob.Result r : runs) {
            for (EvalJob.TaskResult t : r.tasks()) {
                List<String> keys = switch (t.kind()) {
                    case "zero_shot", "linear_probe", "knn" -> List.of("top1", "mean_per_class_top1");
                    case "retrieval" -> t.recall().keySet().stream()
                            .flatMap(d -> java.util.stream.Stream.of(d + "/R@1", d + "/R@10", d + "/median_rank")).toList();
                    case "segmentation" -> List.of("mof", "F1@50");
                    case "finetune" -> List.of("accuracy", "balanced_accuracy", "macro_f1");
                    case "qa" -> List.of("accuracy");
                    default -> List.copyOf(t.metrics().keySet());
                };
                for (String k : keys) {
                    Double v = t.metrics().get(k);
                    if (v != null && !v.isNaN()) {
                        out.computeIfAbsent(t.name(), x -> new java.util.LinkedHashMap<>())
                                .computeIfAbsent(k, x -> new ArrayList<>()).add(v);
                    }
                }
            }
        }
        return out;
    }

    /** "mean ± std (n)" with the population standard deviation. */
    static String meanStd(List<Double> v) {
        double mean = v.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        double var = v.stream().mapToDouble(x -> (x - mean) * (x - mean)).sum() / v.size();
        return String.format("%.3f ± %.3f (%d)", mean, Math.sqrt(var), v.size());
    }

    /** A task's numbers worth a row: top-1 for classifiers, R@1 / R@10 / median rank per direction, MoF and F1@50, mean ± std over seeds. */
    static Map<String, String> headline(EvalJob.TaskResult t) {
        Map<String, String> out = new java.util.LinkedHashMap<>();
        Map<String, Double> m = t.metrics();
        java.util.function.Function<String, String> f = k -> m.containsKey(k) ? String.format("%.3f", m.get(k)) : "-";
        java.util.function.Function<String, String> pm = k -> String.format("%.3f ± %.3f", m.get(k), m.get(k + "_std"));
        switch (t.kind()) {
            case "zero_shot", "linear_probe", "knn" -> {
                out.put("top-1 (chance " + f.apply("chance_top1") + ")", f.apply("top1"));
                out.put("mean per-class top-1", f.apply("mean_per_class_top1"));
            }
            case "retrieval" -> t.recall().keySet().forEach(dir -> {
                out.put(dir + " R@1", f.apply(dir + "/R@1"));
                out.put(dir + " R@10", f.apply(dir + "/R@10"));
                out.put(dir + " median rank", String.format("%.1f", m.get(dir + "/median_rank")));
            });
            case "segmentation" -> {
                out.put("MoF", f.apply("mof"));
                out.put("F1@50", f.apply("F1@50"));
            }
            case "finetune" -> {
                out.put("accuracy (chance " + f.apply("chance") + ")", pm.apply("accuracy"));
                out.put("macro-F1", pm.apply("macro_f1"));
            }
            case "qa" -> out.put("accuracy (chance " + f.apply("chance") + ")", pm.apply("accuracy"));
            default -> m.forEach((k, v) -> out.put(k, String.format("%.3f", v)));
        }
        return out;
    }

    @Command(name = "report", mixinStandardHelpOptions = true,
            description = "Write RUN/report.html: one self-contained HTML page (no scripts) with the loss curves of RUN/metrics.jsonl,"
                    + " the tables of RUN/summary.json and, for every RUN/eval/*/results.json (or each --eval folder), the tasks'"
                    + " tables, recall@k bars, confusion matrices and a 2-D PCA of their embeddings.")
    static final class ReportCmd implements Callable<Integer> {
        @CommandLine.Parameters(index = "0", paramLabel = "RUN", description = "a pretraining run folder")
        Path run;

        @Option(names = "--eval", paramLabel = "DIR", description = "an evaluation folder holding results.json (repeatable; default: every RUN/eval/*/)")
        List<Path> evals = new ArrayList<>();

        @Option(names = "--out", paramLabel = "FILE", description = "the HTML file (default: RUN/report.html)")
        Path out;

        @Option(names = "--log-y", description = "draw the loss axis logarithmic")
        boolean logY;

        @Option(names = "--debug", description = "print stack traces")
        boolean debug;

        @Override
        public Integer call() throws Exception {
            if (!java.nio.file.Files.isDirectory(run)) {
                throw new ConfigException("RUN", run + ": no such folder");
            }
            long t0 = System.nanoTime();
            Report.Written w = Report.write(run, evals.isEmpty() ? Report.evalDirs(run) : evals,
                    out == null ? run.resolve("report.html") : out, logY);
            w.notes().forEach(n -> System.out.println("note: " + n));
            System.out.printf("report: %s (%d figures, %.2f s)%n", w.html(), w.figures(), (System.nanoTime() - t0) / 1e9);
            return 0;
        }
    }

    static String render(EvalJob.Result r) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%nsuite %s on %s (%s): %d tasks in %.1f s%n", r.suite(), r.checkpoint(),
                r.randomWeights() ? "random weights" : "step " + r.step(), r.tasks().size(), r.seconds()));
        sb.append(String.format("  %-22s %-13s %-20s %8s  %s%n", "task", "kind", "modality", "seconds", "metrics"));
        for (EvalJob.TaskResult t : r.tasks()) {
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
            sb.append(String.format("  %-22s %-13s %-20s %8.1f  %s%n", t.name(), t.kind(), t.modality(),
                    ((Number) t.protocol().get("seconds")).doubleValue(), t.recall() != null ? m.toString() : m.toString().strip()));
        }
        r.notRun().forEach((task, why) -> sb.append(String.format("  %-22s not run: %s%n", task, why)));
        if (!r.skipped().isEmpty()) {
            sb.append(r.skipped().size()).append(" broken samples skipped:\n");
            r.skipped().values().forEach(v -> sb.append("  ").append(v).append('\n'));
        }
        sb.append("results: ").append(r.out().resolve("results.json"));
        return sb.toString();
    }

    @Command(name = "data", mixinStandardHelpOptions = true, description = "Data tools.",
            subcommands = {SynthCmd.class, DataCommands.ValidateCmd.class, DataCommands.FromFolderCmd.class, DataCommands.InspectCmd.class})
    static final class DataCmd implements Callable<Integer> {
        @Override
        public Integer call() {
            CommandLine.usage(this, System.out);
            return 0;
        }
    }

    @Command(name = "synth", mixinStandardHelpOptions = true,
            description = "Generate the built-in multimodal sample set (MP4 + AAC, SRT, IMU CSV, JSONL manifest).")
    static final class SynthCmd implements Callable<Integer> {
        @Option(names = "--out", required = true, description = "output folder")
        Path out;

        @Option(names = "--samples", defaultValue = "640", description = "number of samples (default ${DEFAULT-VALUE})")
        int samples;

        @Option(names = "--seed", defaultValue = "7", description = "generator seed (default ${DEFAULT-VALUE})")
        long seed;

        @Option(names = "--long", paramLabel = "N", defaultValue = "0",
                description = "write N long recordings instead (several motions in one fixed order, with their segments in the manifest)")
        int longRecordings;

        @Option(names = "--segments", paramLabel = "K", defaultValue = "4",
                description = "motions per long recording, 2..8, about 2 s each (default ${DEFAULT-VALUE})")
        int segments;

        @Option(names = "--debug", description = "print stack traces")
        boolean debug;

        @Override
        public Integer call() throws Exception {
            if (samples <= 0) {
                throw new ConfigException("--samples", samples + " must be > 0");
            }
            long t0 = System.nanoTime();
            if (longRecordings < 0) {
                throw new ConfigException("--long", longRecordings + " must be >= 0");
            }
            if (longRecordings > 0) {
                if (segments < 2 || segments > 8) {
                    throw new ConfigException("--segments", segments + " must be in [2, 8]");
                }
                Path manifest = SampleSetGenerator.generateLong(out, longRecordings, segments, seed);
                System.out.printf("wrote %d long recordings of %d segments in %.1f s: %s%n", longRecordings, segments,
                        (System.nanoTime() - t0) / 1e9, manifest);
                return 0;
            }
            Path manifest = SampleSetGenerator.generate(out, samples, seed);
            System.out.printf("wrote %d samples in %.1f s: %s%n", samples, (System.nanoTime() - t0) / 1e9, manifest);
            return 0;
        }
    }
}
