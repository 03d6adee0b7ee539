package org.sensorium.dist;

import java.nio.channels.ServerSocketChannel;
import java.util.Arrays;
import org.sensorium.cli.Main;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One training worker of a group: joins the group, then runs `pretrain` in this JVM as its rank. */
public final class Worker {
    private static final Logger LOG = LoggerFactory.getLogger(Worker.class);

    private Worker() {}

    /**
     * Runs `sensorium pretrain` with the given arguments in this JVM as spec's rank. One worker per JVM: DJL's
     * gradient collector is global to the JVM.
     *
     * @param boundListener this worker's listener, already bound to spec.self() (a cluster launcher binds it
     *     before exchanging addresses); null: bind spec.self() here. Closed once the group stands.
     * @param pretrainArgs the pretrain command's arguments (a leading "pretrain" is allowed)
     * @return the exit code: 0 done, 2 bad config or manifest, 1 other failure
     * @throws DistException when a collective fails: a peer vanished, timed out or could not prove the secret
     */
    public static int run(WorkerSpec spec, ServerSocketChannel boundListener, String[] pretrainArgs) {
        String[] args = pretrainArgs.length > 0 && pretrainArgs[0].equals("pretrain")
                ? Arrays.copyOfRange(pretrainArgs, 1, pretrainArgs.length) : pretrainArgs.clone();
        long t0 = System.nanoTime();
        try (Group group = Group.join(spec, boundListener)) {
            LOG.info("rank {}/{} on {}: group joined in {} s", spec.rank(), spec.worldSize(), spec.device(),
                    String.format("%.2f", (System.nanoTime() - t0) / 1e9));
            return Main.pretrain(args, group, spec.device());
        }
    }
}
