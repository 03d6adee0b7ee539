package org.sensorium.train;

import org.sensorium.config.Json;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;

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
