package org.sensorium.cli;

import org.sensorium.distributed.Collective;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.distributed.AllReduceBench;
import org.sensorium.distributed.Devices;
import org.sensorium.distributed.DistException;
import org.sensorium.distributed.Group;
import org.sensorium.distributed.LocalLauncher;
import org.sensorium.distributed.Transport;
import org.sensorium.distributed.Worker;
import org.sensorium.distributed.WorkerSpec;
import org.sensorium.config.Json;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** `sensorium launch` (local data-parallel groups, like torchrun), the worker entry point, `bench allreduce`. */
final class DistCommands {
    private DistCommands() {}

    @Command(name = "launch", mixinStandardHelpOptions = true,
            description = "Data-parallel pretraining on this machine, like torchrun: starts N worker JVMs (one per device), streams"
                    + " their logs with a rank prefix, stops them all when one fails. Example: sensorium launch --workers 2 -- pretrain"
                    + " --set train.steps=100")
    static final class LaunchCmd implements Callable<Integer> {
        @Option(names = "--workers", required = true, description = "number of worker JVMs (the world size)")
        int workers;

        @Option(names = "--devices", defaultValue = "cpu", description = "cpu (every worker), or one per worker: cuda:0,cuda:1,... (default ${DEFAULT-VALUE})")
        String devices;

        @Option(names = "--max-restarts", defaultValue = "0", description = "restart a failed group this many times, from the run's last checkpoint (default ${DEFAULT-VALUE})")
        int maxRestarts;

        @Option(names = "--timeout", description = "seconds any collective waits for a peer (default: dist.timeout_seconds)")
        Double timeout;

        @Option(names = "--interface", description = "address the workers listen on (default: dist.interface, loopback)")
        String iface;

        @Option(names = "--transport", description = "auto, tcp or shm: what carries the all-reduce (default: dist.transport)")
        String transport;

        @Option(names = "--debug", description = "print stack traces")
        boolean debug;

        @Parameters(paramLabel = "COMMAND", description = "after --: pretrain and its options")
        List<String> command = new ArrayList<>();

        @Override
        public Integer call() throws Exception {
            // resolved here: config errors stop the launch before any JVM starts, and a restart resumes the run's folder
            GroupRun run = GroupRun.of(command);
            Config cfg = run.config();
            Transport t = transport(transport != null ? "--transport" : "dist.transport", transport != null ? transport : cfg.dist().transport());
            LocalLauncher.Options o = options(workers, devices, iface != null ? iface : cfg.dist().iface(),
                    timeout != null ? timeout : cfg.dist().timeoutSeconds(), maxRestarts, t, attempt -> {
                        List<String> a = new ArrayList<>(List.of("worker", "--"));
                        try {
                            a.addAll(run.args());
                        } catch (java.io.IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                        return a;
                    });
            LocalLauncher.Outcome r = new LocalLauncher(o, System.out, System.err).run();
            if (r.exitCode() != 0) {
                System.err.printf("error: launch failed: %s (after %d attempt(s)); the other workers were stopped%n", r.message(), r.attempts());
                return r.exitCode();
            }
            return 0;
        }
    }

    /**
     * The launcher's options, with the workers' JVM flags: this JVM's, except that libtorch's threads are split
     * between the workers (torchrun sets OMP_NUM_THREADS=1 per worker for the same reason: oversubscribed,
     * spinning OpenMP threads make every worker many times slower).
     */
    static LocalLauncher.Options options(int workers, String devices, String host, double timeoutSeconds, int maxRestarts,
            Transport transport, java.util.function.IntFunction<List<String>> childArgs) {
        if (!(timeoutSeconds > 0)) {
            throw new ConfigException("--timeout", timeoutSeconds + " must be > 0 seconds");
        }
        if (workers < 1) {
            throw new ConfigException("--workers", workers + " must be >= 1");
        }
        List<String> devs;
        try {
            devs = Devices.assign(devices, workers);
        } catch (DistException e) {
            throw new ConfigException("--devices", e.getMessage().substring("--devices: ".length()));
        }
        List<String> jvm = new ArrayList<>();
        int threads = -1;
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("-Dai.djl.pytorch.num_threads=")) {
                try {
                    threads = Integer.parseInt(a.substring(a.indexOf('=') + 1));
                } catch (NumberFormatException e) {
                    threads = -1;
                }
                continue;
            }
            if (a.startsWith("-agentlib:jdwp")) {
                continue; // a debugger's port cannot be shared
            }
            jvm.add(a);
        }
        int per = threads > 0 ? Math.max(1, threads / workers) : 1;
        jvm.add("-Dai.djl.pytorch.num_threads=" + per);
        return new LocalLauncher.Options(workers, devs, host, Duration.ofMillis(Math.round(timeoutSeconds * 1000)), maxRestarts,
                childArgs, jvm, Main.class.getName(), Map.of(Transport.ENV, transport.key()));
    }

    /** A transport's name checked, the error naming key. */
    static Transport transport(String key, String value) {
        try {
            return Transport.parse(key, value);
        } catch (DistException e) {
            throw new ConfigException(key, e.getMessage().substring(key.length() + 2));
        }
    }

    @Command(name = "worker", hidden = true,
            description = "One worker of a group, started by `launch` or a cluster launcher; reads SENSORIUM_RANK, SENSORIUM_WORLD_SIZE,"
                    + " SENSORIUM_PEERS, SENSORIUM_DEVICE, SENSORIUM_SECRET, SENSORIUM_TIMEOUT_S from the environment.")
    static final class WorkerCmd implements Callable<Integer> {
        @Parameters(paramLabel = "COMMAND", description = "pretrain [options] | bench-allreduce [options]")
        List<String> command = new ArrayList<>();

        @Override
        public Integer call() throws Exception {
            WorkerSpec spec = WorkerSpec.fromEnv(System.getenv());
            if (!command.isEmpty() && command.get(0).equals("bench-allreduce")) {
                return benchWorker(spec, command.subList(1, command.size()));
            }
            return Worker.run(spec, null, (group, device) -> Main.pretrain(command.toArray(String[]::new), group, device));
        }
    }

    /** A worker of `bench allreduce`: args --sizes MB,MB,... --reps R --out FILE (rank 0 writes its rows there). */
    static int benchWorker(WorkerSpec spec, List<String> args) throws Exception {
        Map<String, String> a = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.size(); i += 2) {
            a.put(args.get(i), args.get(i + 1));
        }
        long[] bytes = java.util.Arrays.stream(a.get("--sizes").split(",")).mapToLong(s -> Long.parseLong(s.strip()) << 20).toArray();
        try (Collective g = Group.join(spec, null, Transport.fromEnv(System.getenv()))) {
            List<AllReduceBench.Row> rows = AllReduceBench.measure(g, bytes, Integer.parseInt(a.get("--reps")));
            if (g.rank() == 0) {
                String used = g instanceof Group group ? group.transport().key() : "none";
                Json.write(Path.of(a.get("--out")), Map.of("world", g.worldSize(), "transport", used, "rows", AllReduceBench.toMaps(rows)));
            }
            g.barrier();
        }
        return 0;
    }

    @Command(name = "allreduce", mixinStandardHelpOptions = true,
            description = "All-reduce of direct buffers between worker JVMs on loopback (the TCP ring or shared memory, --transport): time, algorithm and bus bandwidth per"
                    + " size, next to a memcpy, a loopback socket copy and two socket copies at once in opposite directions of the same"
                    + " bytes in this process (direct buffers, the ring's socket options; ratios measured in one run).")
    static final class BenchAllReduceCmd implements Callable<Integer> {
        @Option(names = "--workers", defaultValue = "2", description = "worker JVMs (default ${DEFAULT-VALUE})")
        int workers;

        @Option(names = "--sizes", defaultValue = "4,64,256", split = ",", description = "megabytes per all-reduce (default ${DEFAULT-VALUE})")
        List<Integer> sizes;

        @Option(names = "--reps", defaultValue = "5", description = "timed repetitions per size (default ${DEFAULT-VALUE})")
        int reps;

        @Option(names = "--timeout", defaultValue = "120", description = "seconds any collective waits (default ${DEFAULT-VALUE})")
        double timeout;

        @Option(names = "--transport", defaultValue = "tcp,shm", split = ",", description = "auto, tcp, shm, or several (tcp,shm): one group of"
                + " workers measured per transport, each against the same copies (default ${DEFAULT-VALUE})")
        List<String> transports;

        @Option(names = "--out", description = "also write the table as JSON to this file")
        Path out;

        @Option(names = "--debug", description = "print stack traces")
        boolean debug;

        @Override
        public Integer call() throws Exception {
            if (reps < 1) {
                throw new ConfigException("--reps", reps + " must be >= 1");
            }
            for (int s : sizes) {
                if (s < 1 || s > 1024) {
                    throw new ConfigException("--sizes", s + " MB is not in [1, 1024]");
                }
            }
            List<Transport> ts = new ArrayList<>();
            for (String t : transports) {
                ts.add(transport("--transport", t));
            }
            // copies first, while the workers do not run yet
            Map<Long, AllReduceBench.Copies> copies = new LinkedHashMap<>();
            for (int s : sizes) {
                long b = (long) s << 20;
                copies.put(b, new AllReduceBench.Copies(AllReduceBench.memcpy(b, reps), AllReduceBench.socketCopy(b, reps, 1),
                        AllReduceBench.socketCopy(b, reps, 2)));
            }
            Map<String, Object> all = new LinkedHashMap<>();
            for (Transport t : ts) {
                Map<String, Object> json = runGroup(t);
                if (json == null) {
                    return 1;
                }
                List<AllReduceBench.Row> rows = new ArrayList<>();
                for (Object o : (List<?>) json.get("rows")) {
                    Map<?, ?> m = (Map<?, ?>) o;
                    rows.add(new AllReduceBench.Row(((Number) m.get("bytes")).longValue(), ((Number) m.get("median_s")).doubleValue(),
                            ((Number) m.get("best_s")).doubleValue(), ((Number) m.get("algbw")).doubleValue(),
                            ((Number) m.get("busbw")).doubleValue(), ((Number) m.get("cpu_s")).doubleValue()));
                }
                System.out.print(AllReduceBench.table(workers, String.valueOf(json.get("transport")), rows, copies, reps));
                all.put(t.key(), json);
            }
            if (out != null) {
                Map<String, Object> c = new LinkedHashMap<>();
                copies.forEach((k, v) -> c.put(String.valueOf(k), Map.of("memcpy", v.memcpy(), "socket", v.socket().bytesPerSecond(),
                        "socket_duplex", v.duplex().bytesPerSecond(), "socket_cpu_s", v.socket().cpuSeconds(),
                        "socket_duplex_cpu_s", v.duplex().cpuSeconds())));
                all.put("copies_bytes_per_s", c);
                Json.write(out, all);
            }
            return 0;
        }

        /** One group of workers measuring with transport t: rank 0's JSON (world, transport used, rows), or null when it failed. */
        private Map<String, Object> runGroup(Transport t) throws Exception {
            Path tmp = Files.createTempFile("sensorium-allreduce", ".json");
            try {
                List<String> child = new ArrayList<>(List.of("worker", "--", "bench-allreduce", "--sizes",
                        String.join(",", sizes.stream().map(String::valueOf).toList()), "--reps", String.valueOf(reps), "--out", tmp.toString()));
                LocalLauncher.Outcome r = new LocalLauncher(options(workers, "cpu", "127.0.0.1", timeout, 0, t, attempt -> child),
                        System.out, System.err).run();
                if (r.exitCode() != 0) {
                    System.err.println("error: bench allreduce (--transport " + t.key() + ") failed: " + r.message());
                    return null;
                }
                return Json.read(tmp);
            } finally {
                Files.deleteIfExists(tmp);
            }
        }
    }
}
