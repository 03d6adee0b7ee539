package org.sensorium.data;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.sensorium.config.Modality;
import org.sensorium.modality.Recording;
import org.sensorium.modality.Recording.Source;

/**
 * One line of a JSONL manifest (schema: data-manifests/README.md).
 *
 * @param id unique sample id
 * @param split "train", "val" or "test"
 * @param label class label kept for evaluation, or null
 * @param subject who or what was recorded (a person, a session, a device), for subject-wise splits, or null
 * @param sources per present modality: the file and the time span in it
 * @param captions captions given in the manifest (text modality without a subtitle file), may be empty
 * @param segments the activities of a long recording in time order (label and span, seconds from the
 *     start of the sample's span), for temporal segmentation; empty for a sample with one label
 * @param manifest the manifest file, for error messages
 * @param attributes the manifest's free "attributes" object, text values only (e.g. the sample set's color and shape)
 * @param line 1-based line number in the manifest, for error messages
 */
public record ManifestEntry(String id, String split, String label, String subject, Map<Modality, Source> sources,
        List<String> captions, List<Segment> segments, Map<String, String> attributes, Path manifest, int line) {

    public ManifestEntry {
        segments = List.copyOf(segments);
        attributes = Map.copyOf(attributes);
    }

    /** An entry without attributes. */
    public ManifestEntry(String id, String split, String label, String subject, Map<Modality, Source> sources,
            List<String> captions, List<Segment> segments, Path manifest, int line) {
        this(id, split, label, subject, sources, captions, segments, Map.of(), manifest, line);
    }

    /** An entry without segments. */
    public ManifestEntry(String id, String split, String label, String subject, Map<Modality, Source> sources,
            List<String> captions, Path manifest, int line) {
        this(id, split, label, subject, sources, captions, List.of(), manifest, line);
    }

    /** An entry without a subject or segments. */
    public ManifestEntry(String id, String split, String label, Map<Modality, Source> sources, List<String> captions,
            Path manifest, int line) {
        this(id, split, label, null, sources, captions, List.of(), manifest, line);
    }

    /** The same entry with other captions. */
    public ManifestEntry withCaptions(List<String> newCaptions) {
        return new ManifestEntry(id, split, label, subject, sources, List.copyOf(newCaptions), segments, attributes, manifest, line);
    }

    /** One activity of a long recording: [start, end) seconds from the start of the sample's span. */
    public record Segment(double start, double end, String label) {}

    /** True when the sample carries this modality (a file, or captions for text). */
    public boolean has(Modality m) {
        return sources.containsKey(m) || (m == Modality.TEXT && !captions.isEmpty());
    }

    /** What the adapters read of this line: its files, spans and captions, named by {@link #where}. */
    public Recording recording() {
        return new Recording(id, sources, captions, where());
    }

    /** "manifest.jsonl:12 (id=abc)" for messages. */
    public String where() {
        return manifest.getFileName() + ":" + line + " (id=" + id + ")";
    }
}
