package org.sensorium.data;

import java.util.TreeMap;
import java.util.TreeSet;
import org.sensorium.config.Modality;
import org.sensorium.data.FolderManifest.Result;

/** What {@code sensorium data from-folder} prints after a scan ({@link FolderManifest#render}). */
final class FolderReport {
    private FolderReport() {}

    /** The summary table: files seen, used and skipped (each with its reason), samples per modality and split. */
    static String render(Result r) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%-22s %6d%n", "files seen", r.filesSeen()));
        sb.append(String.format("%-22s %6d%n", "files used", r.filesUsed()));
        sb.append(String.format("%-22s %6d%n", "files skipped", r.skipped().size()));
        sb.append(String.format("%-22s %6d%n", "samples", r.lines().size()));
        for (Modality m : Modality.values()) {
            sb.append(String.format("  %-20s %6d%n", "with " + m.key(), r.modalities().get(m.key())));
        }
        new TreeMap<>(r.splits()).forEach((s, n) -> sb.append(String.format("  %-20s %6d%n", "split " + s, n)));
        if (!r.labels().isEmpty()) {
            sb.append(String.format("%-22s %6d  %s%n", "labels", r.labels().size(), String.join(", ", new TreeSet<>(r.labels()))));
        }
        if (!r.subjects().isEmpty()) {
            sb.append(String.format("%-22s %6d  %s%n", "subjects", r.subjects().size(), String.join(", ", new TreeSet<>(r.subjects()))));
        }
        new TreeMap<>(r.imuChannels()).forEach((c, n) -> sb.append(String.format("%-22s %6d  %s%n", "imu files, channels", n, c)));
        if (!r.skipped().isEmpty()) {
            sb.append("skipped:\n");
            r.skipped().forEach(s -> sb.append("  ").append(s).append('\n'));
        }
        return sb.toString().stripTrailing();
    }
}
