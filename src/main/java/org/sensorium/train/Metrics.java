package org.sensorium.train;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sensorium.config.Json;

/** runs/&lt;name&gt;/metrics.jsonl: one JSON object per step, flushed as written. */
public final class Metrics implements AutoCloseable {
    private final BufferedWriter out;

    /**
     * @param keepUpTo on resume, lines of steps after this one (written by the interrupted run after
     *     its last checkpoint) are dropped, so every step appears once; -1 starts a new file
     */
    public Metrics(Path file, int keepUpTo) throws IOException {
        if (keepUpTo >= 0 && Files.exists(file)) {
            List<String> kept = Files.readAllLines(file).stream()
                    .filter(l -> !l.isBlank() && stepOf(l) <= keepUpTo).toList();
            Files.write(file, kept, StandardCharsets.UTF_8);
            out = Files.newBufferedWriter(file, StandardOpenOption.APPEND);
        } else {
            out = Files.newBufferedWriter(file);
        }
    }

    public void write(Map<String, Object> line) throws IOException {
        out.write(Json.line(line));
        out.newLine();
        out.flush();
    }

    /**
     * The line of one step: loss, every logged term, learning rate, gradient norm, logit scale, throughput, data
     * wait, collectives (in a group), memory, and whether the step was skipped.
     *
     * @param step 1-based, the steps done
     */
    public static Map<String, Object> line(int step, Trainer.StepResult r, float lr, double seconds, int worldSize) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("step", step);
        line.put("loss", r.loss());
        r.terms().forEach(line::put);
        line.put("lr", lr);
        line.put("grad_norm", r.gradNorm());
        line.put("logit_scale", r.logitScale());
        line.put("samples", r.samples());
        line.put("samples_per_s", r.samples() / seconds);
        line.put("step_s", seconds);
        line.put("data_wait_s", r.waitSeconds());
        if (worldSize > 1) {
            line.put("world_size", worldSize);
            line.put("dist_s", r.distSeconds());
        }
        line.put("rss_mib", rssMiB());
        Runtime rt = Runtime.getRuntime();
        line.put("heap_used_mib", (rt.totalMemory() - rt.freeMemory()) / 1048576.0);
        line.put("heap_committed_mib", rt.totalMemory() / 1048576.0);
        if (!r.applied()) {
            line.put("skipped_step", true);
        }
        return line;
    }

    private static int stepOf(String line) {
        try {
            return ((Number) Json.MAPPER.readValue(line, Map.class).get("step")).intValue();
        } catch (IOException e) {
            return Integer.MAX_VALUE;
        }
    }

    /** Resident set size of this process in MiB (VmRSS), or -1 where /proc is absent. */
    public static double rssMiB() {
        return procStatus("VmRSS:");
    }

    /** Peak resident set size of this process in MiB (VmHWM), or -1. */
    public static double peakRssMiB() {
        return procStatus("VmHWM:");
    }

    private static double procStatus(String key) {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (l.startsWith(key)) {
                    return Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
