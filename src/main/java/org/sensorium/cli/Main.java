package org.sensorium.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
import org.sensorium.config.Modality;
import org.sensorium.job.Ablate;
import org.sensorium.job.Evolve;
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
                TaskCommands.FinetuneCmd.class, TaskCommands.QaCmd.class, EmbedCommand.class, Main.DataCmd.class, DataCommands.BenchCmd.class,
                TokenizerCommands.TokenizerCmd.class, DistCommands.LaunchCmd.class, DistCommands.WorkerCmd.class, ExportCommand.class})
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
            if (e instanceof DistException d && distFailure != null) {
                distFailure[0] = d;
                return 1;
            }
            if (e instanceof DistException) {
                return failed("error: " + e.getMessage(), e, debug, 1);
            }
            if (e instanceof ConfigException || e instanceof ManifestException || e instanceof SkipLog.StrictSkipException
                    || e instanceof Report.MalformedResults) {
                return failed("error: " + e.getMessage(), e, debug, 2);
            }
            int code = failed("error: " + e, e, debug, 1);
            if (!debug) {
                System.err.println("(run with --debug for the stack trace)");
            }
            return code;
        });
        return cli.execute(args);
    }

    /** Prints the one-line error (and the stack trace with --debug) and gives the exit code. */
    private static int failed(String line, Exception e, boolean debug, int code) {
        System.err.println(line);
        if (debug) {
            e.printStackTrace();
        }
        return code;
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

        @Option(names = "--resume", description = "continue the run in this folder from its newest readable checkpoint (an older one"
                + " when the newest is damaged), or from the checkpoint folder given; model, modality and data keys cannot change")
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
                System.out.println(Tables.render(s));
            }
            return 0;
        }
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

        @Option(names = "--out", description = "folder of the ablation's runs and table (default: runs/ablate-<timestamp>, runs/search-<timestamp>)")
        Path out;

        @Option(names = "--search", description = "instead: ELo's evolutionary search over the weights of the enabled objectives,"
                + " each trial a --steps run scored without labels (Zipf-ness of its clusters)")
        boolean search;

        @Option(names = "--population", defaultValue = "4", description = "--search: trials per generation (default ${DEFAULT-VALUE})")
        int population;

        @Option(names = "--generations", defaultValue = "3", description = "--search: generations (default ${DEFAULT-VALUE})")
        int generations;

        @Option(names = "--fitness", defaultValue = "zipf", description = "--search: zipf (KL of the cluster sizes from Zipf, lower is"
                + " better), mean_r1 (held-out retrieval), or an objective's held-out measure, e.g. two_view/video/R@1 (default ${DEFAULT-VALUE})")
        String fitness;

        @Option(names = "--minimise", description = "--search: a named held-out measure is better when lower (an error)")
        boolean minimise;

        @Option(names = "--zipf-modality", defaultValue = "video", description = "--search: whose embeddings are clustered (default ${DEFAULT-VALUE})")
        String zipfModality;

        @Option(names = "--zipf-k", defaultValue = "8", description = "--search: clusters (default ${DEFAULT-VALUE})")
        int zipfK;

        @Option(names = "--zipf-exponent", defaultValue = "1.0", description = "--search: s of the Zipf law 1 / rank^s (default ${DEFAULT-VALUE})")
        double zipfExponent;

        @Option(names = "--seed", defaultValue = "1", description = "--search: seed of the weights drawn and mutated (default ${DEFAULT-VALUE})")
        long seed;

        @Override
        public Integer call() throws Exception {
            if (search) {
                Modality m;
                try {
                    m = Modality.parse(zipfModality);
                } catch (IllegalArgumentException e) {
                    throw new ConfigException("--zipf-modality", e.getMessage());
                }
                Evolve.Options o = new Evolve.Options(common.config, common.allSets(), steps, population, generations, fitness, minimise,
                        m, zipfK, zipfExponent, seed, out);
                Evolve.Result r = Evolve.run(o);
                System.out.println();
                System.out.print(Evolve.table(r, o));
                System.out.println("runs and table: " + r.dir());
                return 0;
            }
            List<Ablate.Variant> variants = new ArrayList<>();
            for (String v : only == null ? List.<String>of() : only) {
                try {
                    variants.add(Ablate.Variant.parse(v));
                } catch (IllegalArgumentException e) {
                    throw new ConfigException("--only", e.getMessage());
                }
            }
            if (variants.isEmpty()) {
                variants.addAll(Ablate.Variant.all());
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
            System.out.println(Tables.render(ClusterJob.run(new ClusterJob.Options(checkpoint, m, k, seed, iterations, out, overrides.allSets()))));
            return 0;
        }
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
                    System.out.println(Tables.renderAgainst(trained.get(trained.size() - 1), random.get(random.size() - 1)));
                }
            }
            if (checkpoints.size() > 1) {
                System.out.println(Tables.renderOverRuns(trained, random));
            }
            return 0;
        }

        private EvalJob.Result evaluate(Path checkpoint, boolean random) throws Exception {
            EvalJob.Result r = EvalJob.run(new EvalJob.Options(checkpoint, suite, out, overrides.allSets(), random));
            System.out.println(Tables.render(r));
            Report.Written w = Report.write(EvalJob.runDir(r.checkpoint()), List.of(r.out()), r.out().resolve("report.html"));
            w.notes().forEach(n -> System.out.println("note: " + n));
            System.out.println("report: " + w.html());
            return r;
        }
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
            if (!Files.isDirectory(run)) {
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

    @Command(name = "data", mixinStandardHelpOptions = true, description = "Data tools.",
            subcommands = {SynthCmd.class, DataCommands.ValidateCmd.class, DataCommands.FromFolderCmd.class, DataCommands.InspectCmd.class,
                ImportCommand.class, ShardCommand.class})
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

        @Option(names = "--scenes", paramLabel = "S", defaultValue = "0",
                description = "draw every sample over one of S static textured scenes (1..64) instead of the grey field")
        int scenes;

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
            if (scenes < 0 || scenes > 64 || scenes > 0 && longRecordings > 0) {
                throw new ConfigException("--scenes", scenes + " must be in [0, 64], and 0 with --long");
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
            Path manifest = scenes > 0 ? SampleSetGenerator.generateScenes(out, samples, scenes, seed)
                    : SampleSetGenerator.generate(out, samples, seed);
            System.out.printf("wrote %d samples%s in %.1f s: %s%n", samples, scenes > 0 ? " over " + scenes + " scenes" : "",
                    (System.nanoTime() - t0) / 1e9, manifest);
            return 0;
        }
    }
}
