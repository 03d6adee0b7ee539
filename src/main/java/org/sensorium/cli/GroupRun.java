package org.sensorium.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.config.ConfigLoader;
import org.sensorium.train.Checkpoint;
import org.sensorium.job.Pretrain;
import picocli.CommandLine;

/**
 * The pretrain run of a worker group, as a launcher (`sensorium launch`, the Spark launcher) needs it before any
 * worker starts: the resolved config (its errors stop the launch), the run folder (absolute, with the one name
 * every rank uses) and the pretrain arguments that start the run or, once it has a checkpoint, resume it. A
 * launcher that restarts a failed group calls {@link #args()} again.
 *
 * @param start "pretrain" and the arguments of the first start (run.dir and run.name set explicitly)
 * @param resume "pretrain --resume runDir" and the same overrides
 */
public record GroupRun(Config config, Path runDir, List<String> start, List<String> resume) {
    public GroupRun {
        start = List.copyOf(start);
        resume = List.copyOf(resume);
    }

    /**
     * @param command "pretrain" and its options, as after `sensorium launch ... --`
     * @throws ConfigException naming the option or key: not a pretrain command, a bad option or config, a run
     *     folder to resume that is none, or a new run whose folder already has checkpoints
     */
    public static GroupRun of(List<String> command) throws IOException {
        if (command.isEmpty() || !command.get(0).equals("pretrain")) {
            throw new ConfigException("COMMAND", "a worker group runs `-- pretrain [options]`, got " + command);
        }
        Main.PretrainCmd parsed = new Main.PretrainCmd();
        try {
            new CommandLine(parsed).parseArgs(command.subList(1, command.size()).toArray(String[]::new));
        } catch (CommandLine.ParameterException e) {
            throw new ConfigException("pretrain", e.getMessage());
        }
        List<String> sets = new ArrayList<>(parsed.common.allSets());
        List<String> start = new ArrayList<>(List.of("pretrain"));
        Config cfg;
        Path runDir;
        if (parsed.resume != null) {
            if (parsed.common.config != null) {
                throw new ConfigException("--config", "cannot be combined with --resume (the run's config.yaml is used)");
            }
            runDir = parsed.resume.toAbsolutePath().normalize();
            Path yaml = runDir.resolve("config.yaml");
            if (!Files.isRegularFile(yaml)) {
                throw new ConfigException("--resume", runDir + " has no config.yaml: not a run folder");
            }
            cfg = ConfigLoader.loadResolved(yaml, sets).config();
            start.addAll(List.of("--resume", runDir.toString()));
        } else {
            cfg = ConfigLoader.load(parsed.common.config, sets).config();
            // absolute, since workers may run elsewhere (Spark executors start in their own folders); named once
            runDir = Pretrain.runDir(cfg.run()).toAbsolutePath().normalize();
            if (Checkpoint.latest(runDir) != null) {
                throw new ConfigException("run.name", runDir + " already has checkpoints: use --resume " + runDir + " or another name");
            }
            if (parsed.common.config != null) {
                start.addAll(List.of("--config", parsed.common.config.toAbsolutePath().toString()));
            }
            sets.addAll(List.of("run.dir=" + runDir.getParent(), "run.name=" + runDir.getFileName()));
        }
        List<String> resume = new ArrayList<>(List.of("pretrain", "--resume", runDir.toString()));
        for (String s : sets) {
            start.addAll(List.of("--set", s));
            resume.addAll(List.of("--set", s));
        }
        if (parsed.common.debug) {
            start.add("--debug");
            resume.add("--debug");
        }
        return new GroupRun(cfg, runDir, start, resume);
    }

    /** The arguments of the group's next start: resume when the run folder holds a checkpoint, else start. */
    public List<String> args() throws IOException {
        return Checkpoint.latest(runDir) != null ? resume : start;
    }
}
