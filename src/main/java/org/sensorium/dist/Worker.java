package org.sensorium.dist;

import java.nio.channels.ServerSocketChannel;

/** One training worker of a group: joins the group, then runs `pretrain` in this JVM as its rank. */
public final class Worker {
    private Worker() {}

    /**
     * Runs `sensorium pretrain` with the given arguments in this JVM as spec's rank.
     *
     * @param boundListener this worker's listener, already bound to spec.self() (a cluster launcher binds it
     *     before exchanging addresses); null: bind spec.self() here
     * @param pretrainArgs the pretrain command's arguments (a leading "pretrain" is allowed)
     * @return the exit code: 0 done, 2 bad config or manifest, 1 other failure
     * @throws DistException when a collective fails: a peer vanished, timed out or could not prove the secret
     */
    public static int run(WorkerSpec spec, ServerSocketChannel boundListener, String[] pretrainArgs) {
        throw new UnsupportedOperationException("not implemented yet: the contract is fixed, the body follows");
    }
}
