package org.sensorium.train;

import java.io.BufferedWriter;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sensorium.config.Json;

/**
 * runs/&lt;name&gt;/metrics.jsonl: one JSON object per step, flushed as written and forced to disk before each
 * checkpoint ({@link #sync}), so a checkpoint of step N never outlives the metrics lines of steps 1..N.
 */
public final class Metrics implements AutoCloseable {
    private final FileOutputStream stream;
    private final BufferedWriter out;
    private final TensorBoard tensorboard; // null: log.tensorboard off

    /**
     * @param keepUpTo on resume, lines of steps after this one (written by the interrupted run after its last
     *     checkpoint) and a line torn by a kill are dropped, so every step appears once; the kept lines go to a
     *     new file that replaces the old one by an atomic rename (never rewritten in place: a crash during the
     *     resume leaves either the old file or the new one). -1 starts a new file.
     */
    public Metrics(Path file, int keepUpTo) throws IOException {
        this(file, keepUpTo, null);
    }

    /**
     * @param tensorboard a folder that also gets every number of every line as a TensorBoard scalar (a new event
     *     file per open; on resume it tells TensorBoard to drop the old files' points after keepUpTo), or null
     */
    public Metrics(Path file, int keepUpTo, Path tensorboard) throws IOException {
        if (keepUpTo >= 0 && Files.exists(file)) {
            List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
            List<String> kept = all.stream().filter(l -> !l.isBlank() && stepOf(l) <= keepUpTo).toList();
            if (kept.size() != all.size() || !endsWithNewline(file)) {
                Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
                try (FileOutputStream f = new FileOutputStream(tmp.toFile())) {
                    f.write((kept.isEmpty() ? "" : String.join("\n", kept) + "\n").getBytes(StandardCharsets.UTF_8));
                    f.getFD().sync();
                }
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                Checkpoint.force(file.toAbsolutePath().getParent());
            }
            stream = new FileOutputStream(file.toFile(), true);
        } else {
            stream = new FileOutputStream(file.toFile());
        }
        out = new BufferedWriter(new OutputStreamWriter(stream, StandardCharsets.UTF_8));
        this.tensorboard = tensorboard == null ? null : TensorBoard.open(tensorboard, keepUpTo);
    }

    private static boolean endsWithNewline(Path file) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            if (f.length() == 0) {
                return true;
            }
            f.seek(f.length() - 1);
            return f.read() == '\n';
        }
    }

    /** Forces every line written so far to disk (before a checkpoint is renamed into place). */
    public void sync() throws IOException {
        out.flush();
        stream.getFD().sync();
        if (tensorboard != null) {
            tensorboard.sync();
        }
    }

    /** Appends the line; with TensorBoard on, its numbers (but "step") become scalars at its "step". */
    public void write(Map<String, Object> line) throws IOException {
        out.write(Json.line(line));
        out.newLine();
        out.flush();
        if (tensorboard != null && line.get("step") instanceof Number step) {
            Map<String, Object> values = new LinkedHashMap<>(line);
            values.remove("step");
            tensorboard.scalars(step.longValue(), values);
        }
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
        try {
            out.close();
        } finally {
            if (tensorboard != null) {
                tensorboard.close();
            }
        }
    }
}
