package org.sensorium.dist.spark;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.rdd.RDD;
import org.sensorium.cli.Main;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.config.ConfigLoader;
import org.sensorium.train.Checkpoint;
import org.sensorium.train.Pretrain;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

/**
 * The cluster launcher, a spark-submit main class: `pretrain` on a group of --workers workers, each a task of
 * one Spark barrier stage (gang-scheduled: all start together or none does). See {@link GroupTask} for what a
 * task does. Spark is a provided dependency: nothing else in Sensorium loads this class.
 *
 * <p>A worker that throws fails the stage; Spark then kills the other tasks and runs the whole stage again
 * (spark.stage.maxConsecutiveAttempts times, 4 by default), and the new group resumes from the run's last
 * checkpoint. Spark retries only a barrier stage whose output feeds a shuffle, so the exit codes go through one
 * (repartition) to the driver; a barrier result stage would be aborted at its first failure.
 */
@Command(name = "spark-submit --class org.sensorium.dist.spark.SparkGroup sensorium.jar", mixinStandardHelpOptions = true,
        description = "Pretrain with a worker group of Spark barrier tasks (one per executor and device).")
public final class SparkGroup implements Callable<Integer> {
    /** Bytes of the per-job secret: the size of an HMAC-SHA256 key's hash. */
    static final int SECRET_BYTES = 32;

    @Mixin
    Main.Common common = new Main.Common();

    @Option(names = "--resume", description = "continue the run in this folder from its newest checkpoint")
    Path resume;

    @Option(names = "--workers", required = true, description = "workers in the group: barrier tasks, one per executor and device")
    int workers;

    @Option(names = "--bind", description = "where workers listen: an interface name (the same on every node, e.g. ib0) or an"
            + " address; default: the executor's host as Spark knows it")
    String bind;

    @Option(names = "--timeout", defaultValue = "300", description = "seconds a worker waits for a peer before failing (default: ${DEFAULT-VALUE})")
    double timeoutSeconds;

    public static void main(String[] args) {
        System.exit(Main.execute(new SparkGroup(), args));
    }

    @Override
    public Integer call() throws IOException {
        GroupTask.Job job = job();
        SparkConf conf = new SparkConf().setIfMissing("spark.app.name", "sensorium " + Path.of(job.runDir()).getFileName());
        List<GroupTask.Exit> exits;
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            exits = run(sc, job);
        }
        exits = new ArrayList<>(exits);
        exits.sort(Comparator.comparingInt(GroupTask.Exit::rank));
        exits.forEach(e -> System.out.println("worker " + e));
        return exits.stream().mapToInt(GroupTask.Exit::code).max().orElse(1);
    }

    /** Runs the job's workers as one barrier stage and returns their exit codes. */
    static List<GroupTask.Exit> run(JavaSparkContext sc, GroupTask.Job job) {
        ClassTag<GroupTask.Exit> exitTag = ClassTag$.MODULE$.apply(GroupTask.Exit.class);
        RDD<Integer> ranks = sc.parallelize(IntStream.range(0, job.workers()).boxed().toList(), job.workers()).rdd();
        RDD<GroupTask.Exit> exits = ranks.barrier().mapPartitions(new GroupTask(job), false, exitTag);
        return new JavaRDD<>(exits, exitTag).repartition(1).collect();
    }

    /**
     * The job from the options, checked here before Spark starts: the config resolves, run.dir becomes absolute
     * (executors run elsewhere) and an empty run.name becomes the name every worker uses.
     *
     * @throws ConfigException naming the option or key
     */
    GroupTask.Job job() throws IOException {
        if (workers < 1) {
            throw new ConfigException("--workers", workers + " must be >= 1");
        }
        if (!(timeoutSeconds > 0) || Double.isInfinite(timeoutSeconds)) {
            throw new ConfigException("--timeout", timeoutSeconds + " must be > 0 seconds");
        }
        List<String> sets = new ArrayList<>(common.allSets());
        Path runDir;
        String config = null;
        if (resume != null) {
            if (common.config() != null) {
                throw new ConfigException("--config", "cannot be combined with --resume (the run's config.yaml is used)");
            }
            runDir = resume.toAbsolutePath().normalize();
            if (!Files.isRegularFile(runDir.resolve("config.yaml")) || Checkpoint.latest(runDir) == null) {
                throw new ConfigException("--resume", runDir + " is not a run folder with a complete checkpoint");
            }
            ConfigLoader.loadResolved(runDir.resolve("config.yaml"), sets);
        } else {
            Config cfg = ConfigLoader.load(common.config(), sets).config();
            runDir = Pretrain.runDir(cfg.run()).toAbsolutePath().normalize();
            if (Checkpoint.latest(runDir) != null) {
                throw new ConfigException("run.name", runDir + " already has checkpoints: use --resume " + runDir + " or another name");
            }
            sets.add("run.dir=" + runDir.getParent());
            sets.add("run.name=" + runDir.getFileName());
            config = common.config() == null ? null : common.config().toAbsolutePath().toString();
        }
        byte[] secret = new byte[SECRET_BYTES];
        new SecureRandom().nextBytes(secret);
        return new GroupTask.Job(workers, bind, Duration.ofMillis(Math.round(timeoutSeconds * 1000)), secret, runDir.toString(),
                config, sets, common.debug());
    }
}
