package org.sensorium.data.importers;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.sensorium.config.ConfigException;
import org.sensorium.data.Manifest;

/**
 * {@code sensorium data import NAME}: a manifest (data-manifests/README.md) of a standard dataset whose media are
 * already in a folder, with the dataset's official splits or folds, and its class names as an eval/labels file.
 * Each format is read by one class of this package ({@link Dataset} lists them); this class runs one and writes
 * what it found.
 */
public final class Importer {
    private Importer() {}

    /**
     * @param root the folder holding the media (searched by relative path, then by file name)
     * @param annotations the dataset's annotation file or folder
     * @param fold the official split or fold (UCF101, HMDB51: split 1-3; Breakfast: 1-4; ESC-50: the test fold 1-5),
     *     null for the dataset's default; an error for a dataset without folds
     * @param split the split of datasets that have none (WebVid files not named by split, HowTo100M, Ego4D)
     * @param fps frames per second of frame-numbered segment files (Breakfast: 15); 0 = the numbers are seconds
     * @param withAudio every video file is also the sample's audio
     * @param dropMissing leave out samples with a file that is not there (default: keep and list them)
     */
    public record Options(Path root, Path annotations, Integer fold, String split, double fps, boolean withAudio,
            boolean dropMissing) {
        public Options {
            if (Sink.split(split) == null) {
                throw new ConfigException("--split", "'" + split + "' is not train, val or test");
            }
            split = Sink.split(split);
            if (!(fps >= 0)) {
                throw new ConfigException("--fps", fps + " must be >= 0 (0: segment times are seconds)");
            }
            if (!Files.exists(annotations)) {
                throw new ConfigException("--annotations", annotations + ": no such file or folder");
            }
        }
    }

    /**
     * @param lines the manifest lines, in annotation order
     * @param withMedia samples with at least one media file found
     * @param missing one line per media file not found: "annotation:LINE (id=X): video URI: no such file"
     * @param skipped annotation lines that make no sample, with the reason
     * @param notes what else the reader wants said once (lines a split leaves out, IMU rows dropped, overlaps resolved)
     * @param classes class label -> phrase, in the dataset's order
     */
    public record Result(Dataset dataset, List<String> lines, int withMedia, List<String> missing, List<String> skipped,
            List<String> notes, Map<String, Integer> splits, Map<String, String> classes) {}

    /** Reads the annotations; uris are written relative to the manifest's folder, converted files go beside it. */
    public static Result run(Dataset dataset, Options options, Path manifest) throws IOException {
        Sink sink = new Sink(options, dataset.fold(options.fold()), manifest);
        dataset.read(sink);
        return sink.result(dataset);
    }

    /** Writes the manifest (under a temporary name, then renamed) and reads it back: what we wrote must load. */
    public static void writeManifest(Result r, Path out) throws IOException {
        write(out, r.lines());
        Manifest.read(out);
    }

    /** The class names as an eval/labels file: "label | phrase" a line (just "label" when they are the same). */
    public static void writeLabels(Result r, Path out, String source) throws IOException {
        List<String> lines = new ArrayList<>();
        lines.add("# " + r.classes().size() + " " + r.dataset().key() + " classes in the dataset's order ("
                + "sensorium data import " + r.dataset().key() + " from " + source + "): label | phrase");
        r.classes().forEach((label, phrase) -> lines.add(phrase.equals(label) ? label : label + " | " + phrase));
        write(out, lines);
    }

    private static void write(Path file, List<String> lines) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = parent.resolve("." + file.getFileName() + ".tmp");
        try {
            Files.write(tmp, lines, StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** The summary: samples per split, classes, then every missing file and every skipped line, one a line. */
    public static String render(Result r) {
        StringBuilder sb = new StringBuilder();
        sb.append(r.dataset().key()).append(": ").append(r.lines().size()).append(" samples ").append(r.splits())
                .append(", ").append(r.classes().size()).append(" classes, ").append(r.withMedia()).append(" with media found\n");
        sb.append(r.missing().size()).append(r.missing().size() == 1 ? " media file missing" : " media files missing")
                .append(r.missing().isEmpty() ? "\n" : ":\n");
        r.missing().forEach(m -> sb.append("  ").append(m).append('\n'));
        sb.append(r.skipped().size()).append(r.skipped().size() == 1 ? " annotation line skipped" : " annotation lines skipped")
                .append(r.skipped().isEmpty() ? "\n" : ":\n");
        r.skipped().forEach(m -> sb.append("  ").append(m).append('\n'));
        r.notes().forEach(m -> sb.append("note: ").append(m).append('\n'));
        return sb.toString().stripTrailing();
    }
}
