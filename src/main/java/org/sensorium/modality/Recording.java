package org.sensorium.modality;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.sensorium.config.Modality;

/**
 * What an adapter reads: one recording's files per modality, each with the span of it that belongs to the
 * sample, and the captions given for it. It knows nothing of manifests; {@code where} is how messages name it
 * (a manifest line, a file).
 *
 * @param id the sample's id
 * @param sources per present modality: the file and the time span in it
 * @param captions captions given with the recording (text without a subtitle file), may be empty
 * @param where "manifest.jsonl:12 (id=abc)" or similar, for error messages
 */
public record Recording(String id, Map<Modality, Source> sources, List<String> captions, String where) {

    /** A recording file and the span of it that belongs to the sample, in seconds; end is NaN for "to the end". */
    public record Source(Path path, double start, double end) {
        public double duration() {
            return end - start;
        }
    }

    /** True when the recording carries this modality (a file, or captions for text). */
    public boolean has(Modality m) {
        return sources.containsKey(m) || (m == Modality.TEXT && !captions.isEmpty());
    }

    /**
     * Why a file cannot be opened as a recording, or null when it can: missing, or not a regular file (a FIFO, a
     * device or a folder, which FFmpeg or a plain read would block on or misread).
     */
    public static String unopenable(java.nio.file.Path file) {
        if (java.nio.file.Files.isRegularFile(file)) {
            return null;
        }
        return java.nio.file.Files.exists(file) ? "not a regular file (a FIFO, a device or a folder)" : "no such file";
    }
}
