package org.sensorium.distributed;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Starts N worker JVMs on this machine and supervises them, as torchrun does: each gets its rank, the peers'
 * addresses (free ports on the given interface), its device and a fresh job secret in its environment
 * ({@link WorkerSpec#toEnv}); their output is streamed with a "[rank r]" prefix. When one exits non-zero the
 * others are stopped; the group is then restarted up to maxRestarts times (each time with the arguments the
 * caller gives then, e.g. a resume from the last checkpoint), else the launch fails naming the rank.
 */
public final class LocalLauncher {
    /**
     * @param childArgs the CLI arguments of every worker JVM for each attempt (0 = first start, then restarts)
     * @param jvmArgs JVM flags of the workers (heap, DJL's properties); null: this JVM's own
     * @param mainClass the class every worker JVM runs, with childArgs as its arguments (the caller's command line)
     * @param env added to every worker's environment (e.g. {@link Transport#ENV})
     */
    public record Options(int workers, List<String> devices, String host, Duration timeout, int maxRestarts,
            java.util.function.IntFunction<List<String>> childArgs, List<String> jvmArgs, String mainClass, java.util.Map<String, String> env) {
        public Options(int workers, List<String> devices, String host, Duration timeout, int maxRestarts,
                java.util.function.IntFunction<List<String>> childArgs, List<String> jvmArgs, String mainClass) {
            this(workers, devices, host, timeout, maxRestarts, childArgs, jvmArgs, mainClass, java.util.Map.of());
        }

        public Options {
            env = java.util.Map.copyOf(env);
            if (workers < 1) {
                throw new DistException("--workers: " + workers + " must be >= 1");
            }
            if (maxRestarts < 0) {
                throw new DistException("--max-restarts: " + maxRestarts + " must be >= 0");
            }
            if (devices.size() != workers) {
                throw new DistException("--devices: " + devices.size() + " devices for " + workers + " workers");
            }
        }
    }

    /** How the launch ended: exit code 0, or the first rank that failed and its exit code. */
    public record Outcome(int exitCode, int failedRank, int attempts, String message) {}

    private final Options o;
    private final PrintStream out, err;
    private final List<Process> running = new ArrayList<>();

    public LocalLauncher(Options o, PrintStream out, PrintStream err) {
        this.o = o;
        this.out = out;
        this.err = err;
    }

    public Outcome run() throws IOException, InterruptedException {
        Thread hook = new Thread(this::stopAll, "sensorium-launch-stop");
        Runtime.getRuntime().addShutdownHook(hook); // Ctrl-C on the launcher stops its workers
        try {
            for (int attempt = 0; ; attempt++) {
                Outcome r = once(attempt);
                if (r.exitCode() == 0 || attempt >= o.maxRestarts()) {
                    return r;
                }
                err.printf("launch: %s; restarting the group (%d of %d restarts)%n", r.message(), attempt + 1, o.maxRestarts());
            }
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // already shutting down: the hook runs
            }
        }
    }

    private Outcome once(int attempt) throws IOException, InterruptedException {
        List<InetSocketAddress> peers = freeAddresses(o.host(), o.workers());
        byte[] secret = Handshake.newSecret();
        List<String> args = o.childArgs().apply(attempt);
        List<Thread> pumps = new ArrayList<>();
        running.clear();
        for (int r = 0; r < o.workers(); r++) {
            WorkerSpec spec = new WorkerSpec(r, o.workers(), peers, o.devices().get(r), secret, o.timeout());
            ProcessBuilder pb = new ProcessBuilder(command(args));
            pb.environment().putAll(spec.toEnv());
            pb.environment().putAll(o.env());
            pb.environment().put(Worker.LAUNCHER_PID, Long.toString(ProcessHandle.current().pid())); // workers die with us
            Process p = pb.start();
            running.add(p);
            pumps.add(pump(p.getInputStream(), out, r));
            pumps.add(pump(p.getErrorStream(), err, r));
        }
        err.printf("launch: %d workers (attempt %d) on %s: %s%n", o.workers(), attempt + 1,
                String.join(",", peers.stream().map(WorkerSpec::format).toList()), String.join(" ", args));
        Outcome outcome = supervise(attempt);
        for (Thread t : pumps) {
            t.join(5000);
        }
        return outcome;
    }

    /** Waits for every worker; at the first non-zero exit, stops the rest (within the timeout) and says who failed. */
    private Outcome supervise(int attempt) throws InterruptedException {
        boolean[] done = new boolean[running.size()];
        int left = running.size();
        while (left > 0) {
            for (int r = 0; r < running.size(); r++) {
                Process p = running.get(r);
                if (done[r] || p.isAlive()) {
                    continue;
                }
                done[r] = true;
                left--;
                int code = p.exitValue();
                if (code != 0) {
                    String msg = String.format("rank %d exited with code %d", r, code);
                    err.printf("launch: %s; stopping the other workers%n", msg);
                    stopAll();
                    return new Outcome(code == 2 ? 2 : 1, r, attempt + 1, msg);
                }
            }
            Thread.sleep(100);
        }
        return new Outcome(0, -1, attempt + 1, "all workers finished");
    }

    /** Asks every live worker to stop (SIGTERM), then kills those still alive after the timeout (at most 30 s). */
    private void stopAll() {
        running.forEach(Process::destroy);
        long deadline = System.nanoTime() + Math.min(o.timeout().toNanos(), Duration.ofSeconds(30).toNanos());
        for (Process p : running) {
            try {
                long left = deadline - System.nanoTime();
                if (left <= 0 || !p.waitFor(left, java.util.concurrent.TimeUnit.NANOSECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    private List<String> command(List<String> args) {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.addAll(o.jvmArgs() != null ? o.jvmArgs() : ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(o.mainClass());
        cmd.addAll(args);
        return cmd;
    }

    private static Thread pump(InputStream in, PrintStream to, int rank) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    synchronized (to) {
                        to.println("[rank " + rank + "] " + line);
                    }
                }
            } catch (IOException e) {
                // the worker's stream closed: it ended
            }
        }, "sensorium-launch-log-" + rank);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** N addresses on host whose ports were free a moment ago (the workers bind them right away). */
    static List<InetSocketAddress> freeAddresses(String host, int n) throws IOException {
        InetAddress addr = InetAddress.getByName(host);
        List<ServerSocket> held = new ArrayList<>();
        try {
            List<InetSocketAddress> out = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket(0, 1, addr);
                held.add(s);
                out.add(new InetSocketAddress(addr.getHostAddress(), s.getLocalPort()));
            }
            return out;
        } finally {
            for (ServerSocket s : held) {
                s.close();
            }
        }
    }
}
