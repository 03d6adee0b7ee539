package org.sensorium.data;

import static org.sensorium.modality.BadInputException.excerpt;

import org.sensorium.modality.Recording;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.config.Modality;

/**
 * Reads a JSONL manifest (schema: data-manifests/README.md). Every error is a {@link ManifestException}
 * with one line {@code manifest.jsonl:LINE: key 'X': reason}, so a broken manifest stops the run
 * before training starts.
 */
public final class Manifest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> TOP_KEYS =
            Set.of("id", "split", "label", "subject", "video", "audio", "text", "imu", "captions", "segments", "attributes");
    private static final Set<String> SOURCE_KEYS = Set.of("uri", "start", "end");
    private static final Set<String> SPLITS = Set.of("train", "val", "test");

    private Manifest() {}

    /** The lines of a JSONL file; one ManifestException naming the file when it cannot be read. */
    static List<String> lines(Path jsonl) {
        try {
            return Files.readAllLines(jsonl, StandardCharsets.UTF_8);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new ManifestException(jsonl + ": cannot read: no such file");
        } catch (IOException e) {
            throw new ManifestException(jsonl + ": cannot read: " + e.getMessage());
        }
    }

    /**
     * The manifest a run trains on: data.manifest, or the built-in sample set (generated once into the cache,
     * {@link #cacheRoot}): data.synth_long long recordings when above 0, else data.synth_samples short samples (over
     * data.synth_scenes static scenes when above 0).
     *
     * @throws ConfigException naming data.manifest when that file does not exist
     */
    public static Path forRun(Config.Data d) throws IOException {
        if (!d.manifest().isBlank()) {
            Path p = Path.of(d.manifest());
            if (!Files.isRegularFile(p)) {
                throw new ConfigException("data.manifest", p + ": no such file");
            }
            return p;
        }
        return d.synthLong() > 0 ? SampleSetGenerator.ensureLong(cacheRoot(d), d.synthLong(), d.synthSegments(), d.synthSeed())
                : d.synthScenes() > 0 ? SampleSetGenerator.ensureScenes(cacheRoot(d), d.synthSamples(), d.synthScenes(), d.synthSeed())
                : SampleSetGenerator.ensure(cacheRoot(d), d.synthSamples(), d.synthSeed());
    }

    /** Where sample sets are generated: data.cache_dir, else $SENSORIUM_CACHE, else ~/.cache/sensorium. */
    public static Path cacheRoot(Config.Data d) {
        if (!d.cacheDir().isBlank()) {
            return Path.of(d.cacheDir());
        }
        String env = System.getenv("SENSORIUM_CACHE");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        return Path.of(System.getProperty("user.home"), ".cache", "sensorium");
    }

    /** All entries of the manifest, in file order; relative uris resolve against the manifest's folder. */
    public static List<ManifestEntry> read(Path jsonl) {
        if (Shards.isIndex(jsonl)) {
            throw new ManifestException(jsonl + ": a shard index (`data shard`): only pretrain streams shards; give this command "
                    + "the JSONL manifest the shards were made from (the index names it under \"source\")");
        }
        List<String> lines = lines(jsonl);
        List<ManifestEntry> entries = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            Line line = new Line(jsonl, i + 1);
            ManifestEntry e = parse(line, lines.get(i));
            Integer first = seen.putIfAbsent(e.id(), line.number);
            if (first != null) {
                throw line.error("id", "duplicate id '" + excerpt(e.id(), 40) + "' (first on line " + first + ")");
            }
            entries.add(e);
        }
        return entries;
    }

    /**
     * One manifest line given apart from a file (a shard's sample JSON): uris resolve against file's folder, errors
     * name file and line.
     */
    static ManifestEntry parseLine(Path file, int line, String json) {
        return parse(new Line(file, line), json);
    }

    /** Hex SHA-256 of the manifest's bytes, recorded in checkpoints and results. */
    public static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new ManifestException(file + ": cannot read: " + e.getMessage());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ManifestEntry parse(Line line, String text) {
        JsonNode node;
        try {
            node = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw line.error(null, "not valid JSON: " + excerpt(e.getOriginalMessage(), 160));
        }
        if (node == null || !node.isObject()) {
            throw line.error(null, "not a JSON object");
        }
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!TOP_KEYS.contains(key)) {
                throw line.error(key, "unknown key (expected one of " + new java.util.TreeSet<>(TOP_KEYS) + ")");
            }
        }
        String id = requiredText(line, node, "id");
        String split = requiredText(line, node, "split");
        if (!SPLITS.contains(split)) {
            throw line.error("split", "'" + excerpt(split, 24) + "' is not train, val or test");
        }
        String label = optionalText(line, node, "label");
        String subject = optionalText(line, node, "subject");
        if (subject != null && subject.isBlank()) {
            throw line.error("subject", "must be a non-empty string when present");
        }
        Map<Modality, Recording.Source> sources = new EnumMap<>(Modality.class);
        for (Modality m : Modality.values()) {
            if (node.has(m.key())) {
                sources.put(m, source(line, m.key(), node.get(m.key())));
            }
        }
        if (sources.containsKey(Modality.VIDEO) && !sources.containsKey(Modality.MOTION)) {
            sources.put(Modality.MOTION, sources.get(Modality.VIDEO)); // the motion vectors live in the video file
        }
        List<String> captions = captions(line, node.get("captions"));
        List<ManifestEntry.Segment> segments = segments(line, node.get("segments"));
        if (node.has("attributes") && !node.get("attributes").isObject()) {
            throw line.error("attributes", "must be an object");
        }
        Map<String, String> attributes = new java.util.LinkedHashMap<>();
        if (node.has("attributes")) {
            node.get("attributes").fields().forEachRemaining(f -> {
                if (f.getValue().isValueNode()) {
                    attributes.put(f.getKey(), f.getValue().asText());
                }
            });
        }
        if (sources.isEmpty() && captions.isEmpty()) {
            throw line.error("id", "sample '" + excerpt(id, 40) + "' has no modality (video, audio, text, imu or captions)");
        }
        return new ManifestEntry(id, split, label, subject, Map.copyOf(sources), captions, segments, attributes, line.file,
                line.number);
    }

    private static Recording.Source source(Line line, String key, JsonNode node) {
        if (!node.isObject()) {
            throw line.error(key, "must be an object {\"uri\": ..., \"start\": s, \"end\": s}");
        }
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String sub = it.next();
            if (!SOURCE_KEYS.contains(sub)) {
                throw line.error(key + "." + sub, "unknown key (expected uri, start, end)");
            }
        }
        String uri = requiredText(line, node, "uri", key + ".uri");
        double start = number(line, node, "start", key + ".start", 0.0);
        double end = number(line, node, "end", key + ".end", Double.NaN);
        if (start < 0) {
            throw line.error(key + ".start", start + " must be >= 0");
        }
        if (!Double.isNaN(end) && end <= start) {
            throw line.error(key + ".end", end + " must be > start " + start);
        }
        return new Recording.Source(resolve(line, key + ".uri", uri), start, end);
    }

    /**
     * A uri as a path: "file:" URIs must be absolute, on this host (file:///x or file:/x) and well escaped; other
     * strings are paths, relative to the manifest's folder. Anything else is the line's one-line error.
     */
    private static Path resolve(Line line, String key, String uri) {
        Path p;
        try {
            if (uri.startsWith("file:")) {
                java.net.URI u = new java.net.URI(uri);
                if (u.getAuthority() != null && !u.getAuthority().isEmpty() && !u.getAuthority().equals("localhost")) {
                    throw line.error(key, "'" + excerpt(uri, 80) + "' names host '" + excerpt(u.getAuthority(), 40)
                            + "': only local files (file:///path)");
                }
                if (u.isOpaque() || u.getPath() == null || !u.getPath().startsWith("/")) {
                    throw line.error(key, "'" + excerpt(uri, 80)
                            + "' is a relative file: URI; write file:///absolute/path or a plain relative path");
                }
                p = Path.of(u.getPath());
            } else {
                p = Path.of(uri);
            }
        } catch (java.net.URISyntaxException e) {
            throw line.error(key, "'" + excerpt(uri, 80) + "' is not a valid URI: " + e.getReason() + " at index " + e.getIndex());
        } catch (java.nio.file.InvalidPathException e) {
            throw line.error(key, "'" + excerpt(uri, 80) + "' is not a valid path: " + e.getReason());
        }
        Path dir = line.file.toAbsolutePath().getParent();
        return p.isAbsolute() ? p : dir.resolve(p).normalize();
    }

    private static List<String> captions(Line line, JsonNode node) {
        if (node == null) {
            return List.of();
        }
        if (!node.isArray()) {
            throw line.error("captions", "must be an array of strings");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode c : node) {
            if (!c.isTextual()) {
                throw line.error("captions", "must be an array of strings, found " + c.getNodeType());
            }
            out.add(c.asText());
        }
        return List.copyOf(out);
    }

    /** "segments": [{"start": s, "end": s, "label": "..."}, ...] in time order, not overlapping. */
    private static List<ManifestEntry.Segment> segments(Line line, JsonNode node) {
        if (node == null) {
            return List.of();
        }
        if (!node.isArray() || node.isEmpty()) {
            throw line.error("segments", "must be a non-empty array of {\"start\": s, \"end\": s, \"label\": \"...\"}");
        }
        List<ManifestEntry.Segment> out = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            String key = "segments[" + i + "]";
            JsonNode s = node.get(i);
            if (!s.isObject()) {
                throw line.error(key, "must be an object {\"start\": s, \"end\": s, \"label\": \"...\"}");
            }
            for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
                String sub = it.next();
                if (!Set.of("start", "end", "label").contains(sub)) {
                    throw line.error(key + "." + sub, "unknown key (expected start, end, label)");
                }
            }
            double start = number(line, s, "start", key + ".start", Double.NaN);
            double end = number(line, s, "end", key + ".end", Double.NaN);
            String label = requiredText(line, s, "label", key + ".label");
            if (Double.isNaN(start) || Double.isNaN(end)) {
                throw line.error(Double.isNaN(start) ? key + ".start" : key + ".end", "missing");
            }
            if (start < 0 || end <= start) {
                throw line.error(key + ".end", "needs 0 <= start < end, got start " + start + ", end " + end);
            }
            if (!out.isEmpty() && start < out.get(out.size() - 1).end()) {
                throw line.error(key + ".start", start + " is before the end " + out.get(out.size() - 1).end()
                        + " of the segment before (segments are in time order and do not overlap)");
            }
            out.add(new ManifestEntry.Segment(start, end, label));
        }
        return List.copyOf(out);
    }

    private static String requiredText(Line line, JsonNode node, String key) {
        return requiredText(line, node, key, key);
    }

    private static String requiredText(Line line, JsonNode node, String key, String name) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            throw line.error(name, "missing");
        }
        if (!v.isTextual() || v.asText().isBlank()) {
            throw line.error(name, "must be a non-empty string");
        }
        return v.asText();
    }

    private static String optionalText(Line line, JsonNode node, String key) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw line.error(key, "must be a string");
        }
        return v.asText();
    }

    private static double number(Line line, JsonNode node, String key, String name, double absent) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            return absent;
        }
        if (!v.isNumber() || !Double.isFinite(v.asDouble())) {
            throw line.error(name, "must be a finite number of seconds");
        }
        return v.asDouble();
    }

    private record Line(Path file, int number) {
        ManifestException error(String key, String reason) {
            String where = file.getFileName() + ":" + number + ": ";
            return new ManifestException(where + (key == null ? "" : "key '" + excerpt(key, 40) + "': ") + reason);
        }
    }
}
