package org.sensorium.data;

import static org.sensorium.modality.BadInputException.excerpt;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;

/**
 * Captions made from class labels (data.label_captions): a labelled collection without text (HMP's
 * activities, Scratch's sound categories) is trained against text the way CLIP trains on "a photo of
 * a {label}". Each sample whose label the label file lists gets one caption per template with the
 * label's phrase in it; a training sample whose label is not listed is left out of training, so the
 * label file is also the choice of which classes a zero-shot split has seen.
 *
 * <p>The two file forms are the evaluation suite's: a label file is one class a line, "label" or
 * "label | phrase"; a templates file one template a line with one "{}". Blank lines and lines
 * starting with # are skipped.
 */
public record LabelCaptions(Path file, Map<String, String> phrases, List<String> templates) {

    /** Labels in file order and the phrase each puts into the templates. */
    public record Classes(List<String> labels, List<String> phrases) {}

    /** The entries with captions, and the training samples left out, by label. */
    public record Applied(List<ManifestEntry> entries, Map<String, Integer> leftOut) {}

    /** @param templates the templates file, or null for the phrase itself */
    public static LabelCaptions read(Path labels, Path templates) {
        Classes c = classes(labels, "data.label_captions");
        Map<String, String> phrases = new LinkedHashMap<>();
        for (int i = 0; i < c.labels().size(); i++) {
            phrases.put(c.labels().get(i), c.phrases().get(i));
        }
        return new LabelCaptions(labels, Map.copyOf(phrases), templates == null ? List.of("{}") : templates(templates, "data.label_templates"));
    }

    /** A run's entries with data.label_captions applied (unchanged when it is empty). */
    public static Applied forRun(Config.Data d, List<ManifestEntry> all) {
        if (d.labelCaptions().isBlank()) {
            return new Applied(all, Map.of());
        }
        return read(Path.of(d.labelCaptions()), d.labelTemplates().isBlank() ? null : Path.of(d.labelTemplates())).apply(all);
    }

    /** Captions for every entry with a listed label; training entries with another label (or none) dropped. */
    public Applied apply(List<ManifestEntry> all) {
        List<ManifestEntry> out = new ArrayList<>();
        Map<String, Integer> leftOut = new LinkedHashMap<>();
        for (ManifestEntry e : all) {
            String phrase = e.label() == null ? null : phrases.get(e.label());
            if (phrase == null) {
                if (e.split().equals("train")) {
                    leftOut.merge(e.label() == null ? "(no label)" : e.label(), 1, Integer::sum);
                } else {
                    out.add(e);
                }
                continue;
            }
            List<String> captions = new ArrayList<>(e.captions());
            templates.forEach(t -> captions.add(t.replace("{}", phrase)));
            out.add(e.withCaptions(captions));
        }
        if (out.stream().noneMatch(e -> e.split().equals("train"))) {
            throw new ConfigException("data.label_captions", file + " lists none of the training samples' labels " + new TreeSet<>(leftOut.keySet()));
        }
        return new Applied(out, leftOut);
    }

    /**
     * A label file: one class a line, "label" (the label is the phrase) or "label | phrase".
     *
     * @param key the config key or suite task naming the file, for errors
     * @throws ConfigException naming the file (and line) of a missing file or a bad line
     */
    public static Classes classes(Path file, String key) {
        List<String> labels = new ArrayList<>(), phrases = new ArrayList<>();
        List<String> lines = lines(file, key);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] parts = line.split("\\|", -1);
            String label = parts[0].strip(), phrase = parts.length > 1 ? parts[1].strip() : label;
            if (parts.length > 2 || label.isEmpty() || phrase.isEmpty() || labels.contains(label)) {
                throw new ConfigException(file + ":" + (i + 1),
                        "'" + excerpt(line, 80) + "' is not 'label' or 'label | phrase' with a new label");
            }
            labels.add(label);
            phrases.add(phrase);
        }
        if (labels.size() < 2) {
            throw new ConfigException(file.toString(), "needs at least 2 classes, one a line");
        }
        return new Classes(List.copyOf(labels), List.copyOf(phrases));
    }

    /** A templates file: one template a line, each with exactly one "{}" where the phrase goes. */
    public static List<String> templates(Path file, String key) {
        List<String> out = new ArrayList<>();
        List<String> lines = lines(file, key);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            if (line.indexOf("{}") < 0 || line.indexOf("{}") != line.lastIndexOf("{}")) {
                throw new ConfigException(file + ":" + (i + 1), "'" + excerpt(line, 80) + "' needs exactly one {}");
            }
            out.add(line);
        }
        if (out.isEmpty()) {
            throw new ConfigException(file.toString(), "no templates (one a line, like 'a video of {}.')");
        }
        return out;
    }

    private static List<String> lines(Path file, String key) {
        try {
            return Files.readAllLines(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(key, file + ": no such file");
        } catch (IOException e) {
            throw new ConfigException(key, file + ": " + e.getMessage());
        }
    }
}
