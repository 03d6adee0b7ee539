package org.sensorium.cli.spark;

import java.io.IOException;
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
import org.sensorium.cli.GroupRun;
import org.sensorium.cli.Main;
import org.sensorium.config.ConfigException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
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
@Command(name = "spark-submit --class org.sensorium.cli.spark.SparkGroup sensorium.jar", mixinStandardHelpOptions = true,
        description = "Pretrain with a worker group of Spark barrier tasks (one per executor and device). Example: ... sensorium.jar"
                + " --workers 8 -- pretrain --set run.dir=/shared/runs --set data.manifest=/shared/data/train.jsonl")
public final class SparkGroup implements Callable<Integer> {
    /** Bytes of the per-job secret: the size of an HMAC-SHA256 key's hash. */
    static final int SECRET_BYTES = 32;

    @Option(names = "--workers", required = true, description = "workers in the group: barrier tasks, one per executor and device")
    int workers;

    @Option(names = "--interface", description = "where workers listen: an interface name (the same on every node, e.g. ib0) or"
            + " an address; default: the executor's host as Spark knows it (not dist.interface, which is one machine's)")
    String iface;

    @Option(names = "--timeout", description = "seconds a worker waits for a peer before failing (default: dist.timeout_seconds)")
    Double timeout;

    @Parameters(paramLabel = "COMMAND", description = "after --: pretrain and its options (paths as every executor sees them)")
    List<String> command = new ArrayList<>();

    public static void main(String[] args) {
        System.exit(Main.execute(new SparkGroup(), args));
    }

    @Override
    public Integer call() throws IOException {
        GroupTask.Job job = job();
        SparkConf conf = new SparkConf().setIfMissing("spark.app.name", "sensorium " + Path.of(job.runDir()).getFileName());
        List<GroupTask.Exit> exits;
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            exits = new ArrayList<>(run(sc, job));
        }
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
     * The job, checked here before Spark starts ({@link GroupRun}: the config resolves, the run folder is absolute
     * and named once), with a fresh secret.
     *
     * @throws ConfigException naming the option or key
     */
    GroupTask.Job job() throws IOException {
        if (workers < 1) {
            throw new ConfigException("--workers", workers + " must be >= 1");
        }
        GroupRun run = GroupRun.of(command);
        double seconds = timeout != null ? timeout : run.config().dist().timeoutSeconds();
        if (!(seconds > 0) || Double.isInfinite(seconds)) {
            throw new ConfigException("--timeout", seconds + " must be > 0 seconds");
        }
        byte[] secret = new byte[SECRET_BYTES];
        new SecureRandom().nextBytes(secret);
        return GroupTask.Job.of(workers, iface, Duration.ofMillis(Math.round(seconds * 1000)), secret, run);
    }
}
