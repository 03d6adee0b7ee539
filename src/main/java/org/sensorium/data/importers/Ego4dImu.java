package org.sensorium.data.importers;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.sensorium.config.Modality;

/**
 * Ego4D IMU and video pairs (Grauman et al. 2022). Format, from the Ego4D documentation of its imu/ folder: one CSV
 * per video, {@code VIDEO_UID.csv}, with the header
 * {@code component_idx,component_timestamp_ms,canonical_timestamp_ms,gyro_x,gyro_y,gyro_z,accl_x,accl_y,accl_z},
 * canonical_timestamp_ms on the clock of the canonical video {@code VIDEO_UID.mp4} (full_scale/). Columns are read by
 * name; the gyroscope is optional. The values are copied unchanged: the adapter reads them as m/s^2 and rad/s, which
 * is what these files are taken to hold (gravity reads about 9.8); a file in other units needs converting first.
 *
 * <p>The IMU adapter reads CSVs with a column {@code t} in seconds, strictly increasing, and channels ax..gz
 * (data-manifests/README.md), so each file is converted to "STEM.imu/VIDEO_UID.csv" beside the manifest:
 * t = canonical_timestamp_ms / 1000 (the video's clock, so a clip's span means the same in both), values unchanged.
 * Rows whose time does not increase or with a value that is not a finite number are dropped and counted in a note.
 * Ego4D publishes no split of the raw IMU/video pairs: every sample gets --split (default train).
 */
final class Ego4dImu {
    private Ego4dImu() {}

    private static final List<String> ACCEL = List.of("accl_x", "accl_y", "accl_z"), GYRO = List.of("gyro_x", "gyro_y", "gyro_z");

    static void read(Sink sink) throws IOException {
        for (Path f : sink.annotations(Set.of("csv"), false)) {
            String name = f.getFileName().toString(), uid = name.substring(0, name.lastIndexOf('.'));
            Path out = sink.beside("imu", name);
            String why = convert(f, out, sink);
            if (why != null) {
                Files.deleteIfExists(out);
                sink.skip(name, why);
                continue;
            }
            Sink.Sample s = sink.add(uid, sink.options.split(), name);
            if (s != null) {
                s.media(Modality.VIDEO, sink.find(uid, Sink.video(), "mp4"));
                s.media(Modality.IMU, out);
            }
        }
    }

    /** Writes t,ax,ay,az[,gx,gy,gz]; returns null, or why the file gives no usable recording. */
    private static String convert(Path in, Path out, Sink sink) throws IOException {
        try (BufferedReader r = Files.newBufferedReader(in, StandardCharsets.UTF_8);
                BufferedWriter w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
            String header = r.readLine();
            List<String> names = header == null ? List.of() : Arrays.stream(header.replace("\uFEFF", "").split(",")).map(String::strip).toList();
            int time = names.indexOf("canonical_timestamp_ms");
            boolean gyro = names.containsAll(GYRO);
            if (time < 0 || !names.containsAll(ACCEL)) {
                return "the header has no canonical_timestamp_ms and accl_x, accl_y, accl_z (it has " + String.join(",", names) + ")";
            }
            List<String> wanted = gyro ? List.of("accl_x", "accl_y", "accl_z", "gyro_x", "gyro_y", "gyro_z") : ACCEL;
            int[] cols = wanted.stream().mapToInt(names::indexOf).toArray();
            w.write(gyro ? "t,ax,ay,az,gx,gy,gz\n" : "t,ax,ay,az\n");
            double last = Double.NEGATIVE_INFINITY;
            int rows = 0, dropped = 0;
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (line.isBlank()) {
                    continue;
                }
                double[] v = values(line.split(",", -1), time, cols);
                if (v == null || !(v[0] > last)) {
                    dropped++;
                    continue;
                }
                last = v[0];
                StringBuilder sb = new StringBuilder();
                for (double x : v) {
                    sb.append(sb.length() == 0 ? "" : ",").append(x);
                }
                w.write(sb.append('\n').toString());
                rows++;
            }
            if (dropped > 0) {
                sink.notes.add(in.getFileName() + ": " + dropped + " rows dropped (time not increasing, or a value not a number)");
            }
            return rows < 2 ? "fewer than 2 usable rows" : null;
        }
    }

    /** t in seconds, then the channels; null if a value is missing or not finite. */
    private static double[] values(String[] fields, int time, int[] cols) {
        double[] v = new double[cols.length + 1];
        try {
            for (int i = 0; i <= cols.length; i++) {
                int c = i == 0 ? time : cols[i - 1];
                v[i] = Double.parseDouble(fields[c].strip()) / (i == 0 ? 1000.0 : 1.0);
                if (!Double.isFinite(v[i])) {
                    return null;
                }
            }
        } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
            return null;
        }
        return v;
    }
}
