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
     * @param boundListener this worker's listener, already bound to spec.self() (a cluster launcher binds it
     *     before exchanging addresses); null: bind spec.self() here. Closed once the group stands.
     * @return body's exit code
     * @throws DistException when a collective fails: a peer vanished, timed out or could not prove the secret
     */
    public static int run(WorkerSpec spec, ServerSocketChannel boundListener, Body body) {
        long t0 = System.nanoTime();
        try (Collective group = Group.join(spec, boundListener)) {
            LOG.info("rank {}/{} on {}: group joined in {} s", spec.rank(), spec.worldSize(), spec.device(),
                    String.format("%.2f", (System.nanoTime() - t0) / 1e9));
            return body.run(group, spec.device());
        }
    }
}
