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
import org.sensorium.data.SkipLog;
import org.sensorium.eval.Retrieval;
import org.sensorium.train.Pretrain;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The sensorium command line. Exit codes: 0 done, 1 unexpected failure, 2 bad config, manifest or
 * arguments (one line naming the file, line or key; the stack trace only with --debug).
 */
@Command(name = "sensorium", mixinStandardHelpOptions = true, version = "sensorium 0.1.0",
        description = "Multimodal foundation-model pretraining on the JVM.",
        subcommands = {Main.PretrainCmd.class, Main.DataCmd.class, DataCommands.BenchCmd.class,
                TokenizerCommands.TokenizerCmd.class})
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
        boolean debug = List.of(args).contains("--debug");
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof ConfigException || e instanceof ManifestException || e instanceof SkipLog.StrictSkipException) {
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

    /** Options every job shares. */
    static class Common {
        @Option(names = "--config", description = "experiment file overriding configs/defaults.yaml")
        Path config;

        @Option(names = "--set", description = "override one key, e.g. --set train.steps=100 (repeatable)")
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

        @Override
        public Integer call() throws Exception {
            Pretrain.Summary s;
            if (resume != null) {
                if (common.config != null) {
                    throw new ConfigException("--config", "cannot be combined with --resume (the run's config.yaml is used)");
                }
                s = Pretrain.resume(resume, common.allSets());
            } else {
                s = Pretrain.start(ConfigLoader.load(common.config, common.allSets()));
            }
            System.out.println(render(s));
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
        if (!s.skipped().isEmpty()) {
            sb.append(s.skipped().size()).append(" broken samples skipped:\n");
            for (Map.Entry<String, String> e : s.skipped().entrySet()) {
                sb.append("  ").append(e.getValue()).append('\n');
            }
        }
        sb.append("checkpoint: ").append(s.checkpoint()).append('\n');
        sb.append("metrics:    ").append(s.runDir().resolve("metrics.jsonl")).append('\n');
        sb.append("summary:    ").append(s.runDir().resolve("summary.json"));
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

        @Option(names = "--debug", description = "print stack traces")
        boolean debug;

        @Override
        public Integer call() throws Exception {
            if (samples <= 0) {
                throw new ConfigException("--samples", samples + " must be > 0");
            }
            long t0 = System.nanoTime();
            Path manifest = SampleSetGenerator.generate(out, samples, seed);
            System.out.printf("wrote %d samples in %.1f s: %s%n", samples, (System.nanoTime() - t0) / 1e9, manifest);
            return 0;
        }
    }
}
