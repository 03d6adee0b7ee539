package org.sensorium.distributed;

import java.nio.channels.ServerSocketChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One training worker of a group: joins the group, then runs in this JVM, as its rank, the body its caller gives. */
public final class Worker {
    private static final Logger LOG = LoggerFactory.getLogger(Worker.class);

    private Worker() {}

    /** What a worker runs once its group stands: a training job as one rank, on its device. */
    @FunctionalInterface
    public interface Body {
        /** @return the exit code: 0 done, 2 bad config or manifest, 1 other failure */
        int run(Collective group, String device);
    }

    /**
     * Joins spec's group and runs body as spec's rank. One worker per JVM: DJL's gradient collector is global to
     * the JVM.
     *
     * The all-reduce's transport is the launcher's {@link Transport#ENV} (tcp when it set none).
     *
     * @param boundListener this worker's listener, already bound to spec.self() (a cluster launcher binds it
     *     before exchanging addresses); null: bind spec.self() here. Closed once the group stands.
     * @return body's exit code
     * @throws DistException when a collective fails: a peer vanished, timed out or could not prove the secret
     */
    public static int run(WorkerSpec spec, ServerSocketChannel boundListener, Body body) {
        watchLauncher(spec.rank(), System.getenv(LAUNCHER_PID));
        long t0 = System.nanoTime();
        try (Collective group = Group.join(spec, boundListener, Transport.fromEnv(System.getenv()))) {
            LOG.info("rank {}/{} on {}: group joined in {} s, all-reduce over {}", spec.rank(), spec.worldSize(), spec.device(),
                    String.format("%.2f", (System.nanoTime() - t0) / 1e9), group instanceof Group g ? g.transport().key() : "nothing");
            return body.run(group, spec.device());
        }
    }

    /** The environment key a local launcher sets to its process id. */
    public static final String LAUNCHER_PID = "SENSORIUM_LAUNCHER_PID";

    /**
     * A worker started by a local launcher ends when the launcher does, however it ended (kill -9, the OOM killer,
     * a CI timeout): a daemon thread checks once a second that the launcher's process is alive, and halts this JVM
     * (exit code 3; the run folder's lock goes with it) when it is not. Workers of other launchers (Spark) have
     * no such key and are not watched.
     */
    static void watchLauncher(int rank, String pid) {
        if (pid == null || pid.isBlank()) {
            return;
        }
        long launcher = Long.parseLong(pid.strip());
        Thread t = new Thread(() -> {
            while (true) {
                if (ProcessHandle.of(launcher).map(ProcessHandle::isAlive).orElse(false)) {
                    try {
                        Thread.sleep(1000);
                    } catch (InterruptedException e) {
                        return;
                    }
                } else {
                    System.err.println("rank " + rank + ": the launcher (process " + launcher + ") is gone; this worker stops");
                    Runtime.getRuntime().halt(3);
                }
            }
        }, "sensorium-launcher-watch");
        t.setDaemon(true);
        t.start();
    }
}
