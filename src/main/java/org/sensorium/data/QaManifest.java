package org.sensorium.data;

import static org.sensorium.modality.BadInputException.excerpt;

import org.sensorium.modality.Recording;
import org.sensorium.modality.Item;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a multiple-choice video QA manifest (TVQA-style; schema in data-manifests/README.md): one JSON
 * object a line with a question, K answers, the index of the correct one, a moment of a video and the
 * video's subtitle file. A bad line is reported once as {@code qa.jsonl:LINE: key 'X': reason}, skipped
 * and counted; it never stops the evaluation. Every item of a file has the same K (that of the first good
 * line), so items batch together.
 */
public final class QaManifest {
    private static final Logger LOG = LoggerFactory.getLogger(QaManifest.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> KEYS = Set.of("id", "split", "question", "answers", "correct", "video", "subtitles");
    private static final Set<String> VIDEO_KEYS = Set.of("uri", "start", "end");
    private static final Set<String> SPLITS = Set.of("train", "val", "test");

    private QaManifest() {}

    /**
     * One question.
     *
     * @param split train, val or test (default train)
     * @param answers the K candidate answers
     * @param correct index of the right answer in answers
     * @param video the video file and the moment asked about, seconds (end is NaN: to the end of the file)
     * @param subtitles the video's subtitle file (SRT/VTT, times in the video's clock), or null
     */
    public record Item(String id, String split, String question, List<String> answers, int correct,
            Recording.Source video, Path subtitles, Path manifest, int line) {
        /** "qa.jsonl:12 (id=abc)" for messages. */
        public String where() {
            return manifest.getFileName() + ":" + line + " (id=" + id + ")";
        }
    }

    /** The good items in file order, and each bad line's one-line error by line number. */
    public record Read(List<Item> items, Map<Integer, String> errors) {
        public int skipped() {
            return errors.size();
        }
    }

    /** @throws ManifestException only when the file itself cannot be read */
    public static Read read(Path jsonl) {
        List<String> lines = Manifest.lines(jsonl);
        List<Item> items = new ArrayList<>();
        Map<Integer, String> errors = new LinkedHashMap<>();
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            int number = i + 1;
            try {
                Item item = parse(jsonl, number, lines.get(i));
                if (!items.isEmpty() && item.answers().size() != items.get(0).answers().size()) {
                    throw error(jsonl, number, "answers", item.answers().size() + " answers, but the file's first item (line "
                            + items.get(0).line() + ") has " + items.get(0).answers().size());
                }
                Integer first = seen.putIfAbsent(item.id(), number);
                if (first != null) {
                    throw error(jsonl, number, "id", "duplicate id '" + excerpt(item.id(), 40) + "' (first on line " + first + ")");
                }
                items.add(item);
            } catch (ManifestException e) {
                errors.put(number, e.getMessage());
                LOG.warn("skipped QA item: {}", e.getMessage());
            }
        }
        return new Read(List.copyOf(items), errors);
    }

    private static Item parse(Path file, int line, String text) {
        JsonNode node;
        try {
            node = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw error(file, line, null, "not valid JSON: " + excerpt(e.getOriginalMessage(), 160));
        }
        if (node == null || !node.isObject()) {
            throw error(file, line, null, "not a JSON object");
        }
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!KEYS.contains(key)) {
                throw error(file, line, key, "unknown key (expected one of " + new TreeSet<>(KEYS) + ")");
            }
        }
        String id = text(file, line, node, "id", true);
        String split = text(file, line, node, "split", false);
        if (split == null) {
            split = "train";
        } else if (!SPLITS.contains(split)) {
            throw error(file, line, "split", "'" + excerpt(split, 24) + "' is not train, val or test");
        }
        String question = text(file, line, node, "question", true);
        JsonNode a = node.get("answers");
        if (a == null || !a.isArray() || a.size() < 2) {
            throw error(file, line, "answers", "must be an array of at least 2 non-empty strings");
        }
        List<String> answers = new ArrayList<>();
        for (JsonNode x : a) {
            if (!x.isTextual() || x.asText().isBlank()) {
                throw error(file, line, "answers", "must be an array of at least 2 non-empty strings, found "
                        + excerpt(x.toString(), 40));
            }
            answers.add(x.asText());
        }
        JsonNode c = node.get("correct");
        if (c == null || !c.isIntegralNumber()) {
            throw error(file, line, "correct", c == null ? "missing" : "must be an integer index into answers, found "
                    + excerpt(c.toString(), 40));
        }
        if (c.asInt() < 0 || c.asInt() >= answers.size()) {
            throw error(file, line, "correct", c.asInt() + " is not an index into the " + answers.size() + " answers");
        }
        Recording.Source video = video(file, line, node.get("video"));
        String subs = text(file, line, node, "subtitles", false);
        return new Item(id, split, question, List.copyOf(answers), c.asInt(), video,
                subs == null ? null : resolve(file, subs), file, line);
    }

    private static Recording.Source video(Path file, int line, JsonNode v) {
        if (v == null || !v.isObject()) {
            throw error(file, line, "video", v == null ? "missing" : "must be an object {\"uri\": ..., \"start\": s, \"end\": s}");
        }
        for (Iterator<String> it = v.fieldNames(); it.hasNext(); ) {
            String sub = it.next();
            if (!VIDEO_KEYS.contains(sub)) {
                throw error(file, line, "video." + sub, "unknown key (expected uri, start, end)");
            }
        }
        JsonNode uri = v.get("uri");
        if (uri == null || !uri.isTextual() || uri.asText().isBlank()) {
            throw error(file, line, "video.uri", uri == null ? "missing" : "must be a non-empty string");
        }
        double start = seconds(file, line, v, "start", 0.0);
        double end = seconds(file, line, v, "end", Double.NaN);
        if (start < 0) {
            throw error(file, line, "video.start", start + " must be >= 0");
        }
        if (!Double.isNaN(end) && end <= start) {
            throw error(file, line, "video.end", end + " must be > start " + start);
        }
        return new Recording.Source(resolve(file, uri.asText()), start, end);
    }

    private static double seconds(Path file, int line, JsonNode v, String key, double absent) {
        JsonNode x = v.get(key);
        if (x == null || x.isNull()) {
            return absent;
        }
        if (!x.isNumber() || !Double.isFinite(x.asDouble())) {
            throw error(file, line, "video." + key, "must be a finite number of seconds");
        }
        return x.asDouble();
    }

    private static String text(Path file, int line, JsonNode node, String key, boolean required) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            if (required) {
                throw error(file, line, key, "missing");
            }
            return null;
        }
        if (!v.isTextual() || v.asText().isBlank()) {
            throw error(file, line, key, "must be a non-empty string");
        }
        return v.asText();
    }

    private static Path resolve(Path manifest, String uri) {
        Path p = uri.startsWith("file:") ? Path.of(java.net.URI.create(uri)) : Path.of(uri);
        return p.isAbsolute() ? p : manifest.toAbsolutePath().getParent().resolve(p).normalize();
    }

    private static ManifestException error(Path file, int line, String key, String reason) {
        return new ManifestException(file.getFileName() + ":" + line + ": " + (key == null ? "" : "key '" + excerpt(key, 40) + "': ")
                + reason);
    }
}
