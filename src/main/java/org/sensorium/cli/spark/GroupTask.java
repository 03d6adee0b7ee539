package org.sensorium.cli.spark;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.resource.ResourceInformation;
import org.sensorium.cli.GroupRun;
import org.sensorium.cli.Main;
import org.sensorium.distributed.DistException;
import org.sensorium.distributed.Worker;
import org.sensorium.distributed.WorkerSpec;
import org.sensorium.train.Checkpoint;
import scala.Function1;
import scala.collection.Iterator;

/**
 * One barrier task = one worker of the group (runs on an executor). It binds its listener, exchanges
 * addresses with the other tasks in one {@link BarrierTaskContext#allGather} (about a second, so once, never
 * per step), then runs {@link Worker#run}; from there the workers talk to each other directly.
 *
 * <p>Every attempt of the stage looks at the run folder first: when it holds a checkpoint, the group resumes
 * from it (`pretrain --resume`), else it starts the run. So a stage that Spark retries after a worker failed
 * continues from the last checkpoint. Every rank reports the checkpoint step it sees in the same allGather and
 * they must agree: the run folder has to be one folder that every executor reads.
 */
final class GroupTask implements Function1<Iterator<Integer>, Iterator<GroupTask.Exit>>, Serializable {
    private static final long serialVersionUID = 1L;
    /** Spark's name for GPUs in task resources (spark.task.resource.gpu.amount). */
    static final String GPU = "gpu";

    /**
     * What every task of one job shares, built on the driver and shipped in the task closure.
     *
     * @param iface where workers listen: null = the executor's host as Spark knows it, else an interface name (eth0,
     *     ib0: the same on every node) or an address
     * @param secret the job's random secret (it travels in the closure: see README, Spark's own authentication and
     *     encryption keep it off an untrusted network)
     * @param runDir the absolute run folder, the same for every executor
     * @param start the pretrain arguments that start the run, resume those that resume it ({@link GroupRun})
     */
    record Job(int workers, String iface, Duration timeout, byte[] secret, String runDir, List<String> start, List<String> resume)
            implements Serializable {
        Job {
            start = List.copyOf(start);
            resume = List.copyOf(resume);
        }

        static Job of(int workers, String iface, Duration timeout, byte[] secret, GroupRun run) {
            return new Job(workers, iface, timeout, secret, run.runDir().toString(), run.start(), run.resume());
        }

        @Override
        public String toString() { // never the secret
            return "Job[workers=" + workers + ", iface=" + iface + ", timeout=" + timeout + ", runDir=" + runDir + ", start=" + start + "]";
        }
    }

    /**
     * A worker's exit code (0 done, 2 bad config or manifest), reported to the driver with where it ran, the
     * stage attempt (0 = first) and the checkpoint step it resumed from (-1: it started the run).
     */
    record Exit(int rank, String address, String device, long pid, int attempt, int resumedFrom, int code) implements Serializable {
        @Override
        public String toString() {
            return "rank " + rank + " " + address + " " + device + " pid " + pid + " attempt " + attempt
                    + (resumedFrom < 0 ? " started the run" : " resumed from step " + resumedFrom) + ": exit " + code;
        }
    }

    private final Job job;

    GroupTask(Job job) {
        this.job = job;
    }

    @Override
    public Iterator<Exit> apply(Iterator<Integer> partition) {
        BarrierTaskContext ctx = BarrierTaskContext.get();
        int rank = ctx.partitionId();
        String device = device(ctx.resourcesJMap());
        try (ServerSocketChannel listener = ServerSocketChannel.open()) {
            listener.bind(new InetSocketAddress(bindAddress(job.iface(), executorHost(ctx.getTaskInfos()[rank].address())), 0));
            InetSocketAddress self = (InetSocketAddress) listener.getLocalAddress();
            int step = checkpointStep(Path.of(job.runDir()));
            String[] all = ctx.allGather(self.getAddress().getHostAddress() + " " + self.getPort() + " " + step);
            List<InetSocketAddress> peers = new ArrayList<>();
            for (int r = 0; r < all.length; r++) {
                String[] f = all[r].split(" "); // host port checkpoint-step
                peers.add(InetSocketAddress.createUnresolved(f[0], Integer.parseInt(f[1])));
                if (Integer.parseInt(f[2]) != step) {
                    throw new DistException("run folder " + job.runDir() + ": rank " + rank + " sees " + describe(step) + ", rank " + r
                            + " (" + f[0] + ") sees " + describe(Integer.parseInt(f[2])) + "; it must be one folder every executor shares");
                }
            }
            WorkerSpec spec = new WorkerSpec(rank, all.length, peers, device, job.secret(), job.timeout());
            List<String> args = step >= 0 ? job.resume() : job.start();
            int code = Worker.run(spec, listener, (group, dev) -> Main.pretrain(args.toArray(String[]::new), group, dev));
            if (code != 0 && code != 2) { // 2 is a bad config or manifest: a retry would fail the same way
                throw new DistException("rank " + rank + " on " + WorkerSpec.format(self) + ": pretrain exited with code " + code
                        + " (its log is the executor's stderr)");
            }
            return scala.collection.Iterator$.MODULE$.single(new Exit(rank, WorkerSpec.format(self), device, ProcessHandle.current().pid(),
                    ctx.stageAttemptNumber(), step, code));
        } catch (IOException e) {
            throw new UncheckedIOException("rank " + rank + ": " + e.getMessage(), e);
        }
    }

    /**
     * The task's device: cuda:&lt;address&gt; of the one GPU Spark assigned to it (spark.task.resource.gpu.amount=1),
     * cpu when it has none.
     *
     * @throws DistException naming spark.task.resource.gpu.amount when the task holds more than one GPU
     */
    static String device(Map<String, ResourceInformation> resources) {
        ResourceInformation gpu = resources.get(GPU);
        if (gpu == null || gpu.addresses().length == 0) {
            return "cpu";
        }
        String[] addresses = gpu.addresses();
        if (addresses.length > 1) {
            throw new DistException("spark.task.resource.gpu.amount: this task holds GPUs " + Arrays.toString(addresses)
                    + "; a worker drives one device, so give each task one GPU");
        }
        if (!addresses[0].matches("\\d+")) {
            throw new DistException("spark.executor.resource.gpu.discoveryScript: GPU address '" + addresses[0]
                    + "' is not a CUDA device index (0, 1, ...)");
        }
        return "cuda:" + addresses[0];
    }

    /** The host of a barrier task's address, host:port as Spark writes it. */
    static String executorHost(String address) {
        return address.substring(0, address.lastIndexOf(':'));
    }

    /**
     * Where a worker listens: the executor's host when iface is null (loopback when the cluster is local), the
     * first address of the interface named iface (IPv4 first), or the address or host name iface.
     *
     * @throws DistException naming --interface when the interface has no address or the name does not resolve
     */
    static InetAddress bindAddress(String iface, String executorHost) throws SocketException {
        String name = iface == null ? executorHost : iface;
        NetworkInterface nif = iface == null ? null : NetworkInterface.getByName(iface);
        if (nif != null) {
            List<InetAddress> addresses = Collections.list(nif.getInetAddresses());
            addresses.sort((a, b) -> Boolean.compare(a.getAddress().length != 4, b.getAddress().length != 4));
            if (addresses.isEmpty()) {
                throw new DistException("--interface: " + iface + " has no address on " + executorHost);
            }
            return addresses.get(0);
        }
        try {
            return InetAddress.getByName(name);
        } catch (UnknownHostException e) {
            throw new DistException((iface == null ? "executor host " : "--interface: ") + name + " does not resolve on " + executorHost);
        }
    }

    /** The step of the run's newest complete checkpoint, -1 when it has none. */
    static int checkpointStep(Path runDir) throws IOException {
        Path latest = Checkpoint.latest(runDir);
        return latest == null ? -1 : Checkpoint.readState(latest).step();
    }

    private static String describe(int step) {
        return step < 0 ? "no checkpoint" : "a checkpoint of step " + step;
    }
}
