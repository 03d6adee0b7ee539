package org.sensorium.cli.spark;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.spark.launcher.JavaModuleOptions;

/**
 * spark-submit of {@link SparkGroup} to a real Spark local-cluster: a driver JVM (started here, like spark-submit
 * starts it) whose in-process master and workers launch one executor JVM per worker.
 *
 * <p>What local-cluster mode needs outside a Spark build (Spark 4.0.1, read in its launcher and deploy code):
 * <ul>
 * <li>SPARK_TESTING=1 in the driver's environment: the executor command builder (AbstractCommandBuilder) then no
 *     longer requires $SPARK_HOME/jars, and each worker gets a temporary work folder (under java.io.tmpdir).
 * <li>SPARK_SCALA_VERSION=2.13: else the command builder looks for launcher/target/scala-2.13 under Spark's home
 *     (the driver's working folder here: no SPARK_HOME, and spark.test.home is read only when spark.testing is a
 *     system property, which is not needed).
 * <li>spark.executor.extraClassPath = the test class path, absolute (executors start in their own work folders):
 *     with neither SPARK_HOME nor spark.testing, it is all the executors get. Surefire's java.class.path (its
 *     manifest-only booter jar, which names every entry by absolute URL) serves.
 * <li>SPARK_LOCAL_IP=127.0.0.1: master, workers and executors on loopback (so the workers listen there too).
 * <li>Spark's Java 17 module flags on the driver (JavaModuleOptions, what spark-submit adds); SparkContext adds
 *     them to the executors' options itself.
 * <li>no SPARK_HOME or SPARK_CONF_DIR inherited from the environment.
 * </ul>
 * A misconfigured local cluster waits for executors forever rather than failing, hence the timeout: the driver is
 * killed, and with it its executors (they exit when their worker goes).
 */
final class LocalCluster {
    /** What one submission printed and returned. */
    record Submitted(int code, String log) {}

    /** Executors: the DJL flags with one libtorch thread (the cores are shared), quiet logs. */
    static final String EXECUTOR_OPTIONS = "-Dai.djl.offline=true -Dai.djl.default_engine=PyTorch -Dai.djl.pytorch.num_threads=1"
            + " -Dai.djl.pytorch.num_interop_threads=1 -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -Djava.awt.headless=true";

    private LocalCluster() {}

    /**
     * Runs spark-submit --master local-cluster[executors, 1 core, memoryMb] --class SparkGroup with these launcher
     * arguments, the executors' JVMs getting {@link #EXECUTOR_OPTIONS} and executorOptions; returns its exit code and
     * everything it printed.
     *
     * @throws AssertionError when it has not finished within the timeout (then it is killed)
     */
    static Submitted submit(Path dir, int executors, int memoryMb, String executorOptions, List<String> args, Duration timeout)
            throws IOException, InterruptedException {
        Path tmp = Files.createDirectories(dir.resolve("spark-tmp")); // the workers' folders (executor logs) go here
        Path log = dir.resolve("spark-submit.log");
        String classPath = absoluteClassPath();
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(List.of(JavaModuleOptions.defaultModuleOptionArray()));
        cmd.addAll(List.of("-Xmx1g", "-Djava.io.tmpdir=" + tmp,
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp", classPath, "org.apache.spark.deploy.SparkSubmit",
                "--master", "local-cluster[" + executors + ",1," + memoryMb + "]",
                "--conf", "spark.executor.memory=" + memoryMb + "m",
                "--conf", "spark.executor.extraClassPath=" + classPath,
                "--conf", "spark.executor.extraJavaOptions=" + EXECUTOR_OPTIONS + " " + executorOptions,
                "--conf", "spark.ui.enabled=false",
                // executors register a few seconds after the driver starts: check for the barrier's slots every second, not 15
                "--conf", "spark.scheduler.barrier.maxConcurrentTasksCheck.interval=1s"));
        cmd.addAll(List.of("--class", SparkGroup.class.getName(), "spark-internal")); // no application jar: the class path has it
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        Map<String, String> env = pb.environment();
        env.remove("SPARK_HOME");
        env.remove("SPARK_CONF_DIR");
        env.put("SPARK_TESTING", "1");
        env.put("SPARK_SCALA_VERSION", "2.13");
        env.put("SPARK_LOCAL_IP", "127.0.0.1");
        Process p = pb.start();
        if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
            p.destroy();
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
            }
            throw new AssertionError("spark-submit did not finish within " + timeout + "; its output:\n" + Files.readString(log));
        }
        return new Submitted(p.exitValue(), Files.readString(log));
    }

    private static String absoluteClassPath() {
        List<String> entries = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            entries.add(Path.of(e).toAbsolutePath().toString());
        }
        return String.join(File.pathSeparator, entries);
    }
}
