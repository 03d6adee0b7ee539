package org.sensorium.data.importers;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.sensorium.config.ConfigException;
import org.sensorium.config.Modality;
import org.sensorium.data.FolderManifest;
import org.sensorium.data.ManifestEntry.Segment;

/**
 * What an importer hands its samples to: finds media under the root, keeps the class names in the dataset's
 * order, lists annotation lines it could not use, and turns the samples into manifest lines. Importers only read
 * their annotation format and call {@link #add}; a media file that is not there is not an error here (the sample
 * is kept, its file listed as missing, so {@code data validate} names it too).
 */
final class Sink {
    private static final ObjectMapper JSON = new ObjectMapper();

    final Importer.Options options;
    final int fold;
    private final Path root;
    private final Path manifest;
    private final Path manifestDir;
    private Map<String, List<Path>> byBase; // base name -> files under the root, built at the first lookup
    private final Map<String, String> ids = new HashMap<>(); // id -> where it was first seen
    private Sample pending; // the last sample added: its importer may still be filling it in
    private final List<String> lines = new ArrayList<>(), missing = new ArrayList<>();
    private final Map<String, Integer> splits = new TreeMap<>();
    private int withMedia;
    private final Map<String, String> classes = new LinkedHashMap<>();
    final List<String> skipped = new ArrayList<>();
    final List<String> notes = new ArrayList<>();

    /** @param manifest the manifest to be written: uris are relative to its folder, converted files go beside it */
    Sink(Importer.Options options, int fold, Path manifest) {
        this.options = options;
        this.fold = fold;
        this.root = options.root().toAbsolutePath().normalize();
        this.manifest = manifest.toAbsolutePath().normalize();
        this.manifestDir = this.manifest.getParent();
        if (!Files.isDirectory(root)) {
            throw new ConfigException("--root", options.root() + ": no such folder");
        }
    }

    /** One manifest line in the making; {@code where} (annotation file and line) names it in messages. */
    final class Sample {
        final String id, split, where;
        String label, subject;
        final Map<Modality, double[]> spans = new EnumMap<>(Modality.class);
        final Map<Modality, Path> files = new EnumMap<>(Modality.class);
        final List<String> captions = new ArrayList<>();
        final List<Segment> segments = new ArrayList<>();
        final Map<String, String> attributes = new TreeMap<>();

        private Sample(String id, String split, String where) {
            this.id = id;
            this.split = split;
            this.where = where;
        }

        /** A recording: the file, and its span in seconds (NaN: from the start / to the end of the file). */
        Sample media(Modality m, Path file, double start, double end) {
            files.put(m, file);
            spans.put(m, new double[] {start, end});
            if (m == Modality.VIDEO && options.withAudio()) {
                media(Modality.AUDIO, file, start, end);
            }
            return this;
        }

        Sample media(Modality m, Path file) {
            return media(m, file, Double.NaN, Double.NaN);
        }
    }

    /**
     * A new sample, or null (listed as skipped) when an earlier line took its id. The importer fills it in before it
     * adds the next one: then it becomes a manifest line, so an import holds lines, not samples.
     */
    Sample add(String id, String split, String where) {
        String first = ids.putIfAbsent(id, where);
        if (first != null) {
            skip(where, "id '" + id + "' again (first at " + first + "); kept the first");
            return null;
        }
        flush();
        pending = new Sample(id, split, where);
        return pending;
    }

    /** The pending sample as a manifest line; each of its files that is not there listed as missing. */
    private void flush() {
        Sample s = pending;
        pending = null;
        if (s == null) {
            return;
        }
        Map<Path, String> gone = new LinkedHashMap<>(); // a file once, with every modality read from it ("video+audio")
        s.files.forEach((m, f) -> {
            if (!Files.isRegularFile(f)) {
                gone.merge(f, m.key(), (a, b) -> a + "+" + b);
            }
        });
        gone.forEach((f, ms) -> missing.add(s.where + " (id=" + s.id + "): " + ms + " " + uri(f) + ": no such file"));
        withMedia += gone.size() < new java.util.HashSet<>(s.files.values()).size() ? 1 : 0;
        if (!gone.isEmpty() && options.dropMissing() || s.files.isEmpty() && s.captions.isEmpty()) {
            return;
        }
        lines.add(line(s));
        splits.merge(s.split, 1, Integer::sum);
    }

    /** An annotation line that makes no sample, with the reason. */
    void skip(String where, String reason) {
        skipped.add(where + ": " + reason);
    }

    /**
     * The annotation files: --annotations itself when it is a file, else the files in that folder (and below it
     * when recursive) whose extension is one of exts (any, when exts is empty), sorted, hidden ones left out.
     *
     * @throws ConfigException naming --annotations when there is none
     */
    List<Path> annotations(Set<String> exts, boolean recursive) throws IOException {
        Path a = options.annotations();
        if (!Files.isDirectory(a)) {
            return List.of(a);
        }
        List<Path> out;
        try (Stream<Path> all = recursive ? Files.walk(a, FileVisitOption.FOLLOW_LINKS) : Files.list(a)) {
            out = all.filter(Files::isRegularFile).filter(p -> !a.relativize(p).toString().startsWith(".")
                            && !p.getFileName().toString().startsWith("."))
                    .filter(p -> exts.isEmpty() || exts.contains(extension(p))).sorted().toList();
        }
        if (out.isEmpty()) {
            throw new ConfigException("--annotations", a + ": no " + (exts.isEmpty() ? "" : String.join(" or ", exts) + " ")
                    + "file in this folder");
        }
        return out;
    }

    /** The split a file's name says (Charades_v1_test.csv, results_2M_val.csv, validate.csv), else --split. */
    String splitOf(Path file) {
        String[] words = file.getFileName().toString().toLowerCase(Locale.ROOT).split("[^a-z]+");
        for (int i = words.length - 1; i >= 0; i--) {
            String s = split(words[i]);
            if (s != null) {
                return s;
            }
        }
        return options.split();
    }

    /** A class in the dataset's order, with the phrase zero-shot prompts put it in (first call wins). */
    void addClass(String label, String phrase) {
        classes.putIfAbsent(label, phrase);
    }

    Map<String, String> classes() {
        return classes;
    }

    /**
     * The media file for a path relative to the root given without extension ("ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01"):
     * that path with any extension of exts if it exists, else the only file under the root with that base name and one
     * of exts (downloaders lay folders out differently), else root/rel.ext, which does not exist and is listed as missing.
     * The root is walked once; lookups then touch no disk.
     */
    Path find(String rel, Set<String> exts, String ext) throws IOException {
        Path at = root.resolve(rel).normalize();
        List<Path> hits = index().getOrDefault(at.getFileName().toString(), List.of()).stream()
                .filter(p -> exts.contains(extension(p))).toList();
        for (Path h : hits) {
            if (h.resolveSibling(at.getFileName()).equals(at)) {
                return h;
            }
        }
        return hits.size() == 1 ? hits.get(0) : root.resolve(rel + "." + ext);
    }

    /** Like {@link #find}, but null when the file is not there (for a second choice of name). */
    Path findExisting(String rel, Set<String> exts) throws IOException {
        Path p = find(rel, exts, "-");
        return Files.isRegularFile(p) ? p : null;
    }

    /** Base name (the file name without its last extension) -> the files under the root, sorted; hidden ones left out. */
    private Map<String, List<Path>> index() throws IOException {
        if (byBase == null) {
            byBase = new HashMap<>();
            try (Stream<Path> all = Files.walk(root, FileVisitOption.FOLLOW_LINKS)) {
                all.filter(p -> !root.relativize(p).toString().startsWith(".") && !p.getFileName().toString().startsWith("."))
                        .filter(Files::isRegularFile).sorted().forEach(p -> {
                            String name = p.getFileName().toString();
                            int dot = name.lastIndexOf('.');
                            byBase.computeIfAbsent(dot <= 0 ? name : name.substring(0, dot), k -> new ArrayList<>()).add(p);
                        });
            }
        }
        return byBase;
    }

    static String extension(Path p) {
        String name = p.getFileName().toString();
        return name.substring(name.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT);
    }

    static Set<String> video() {
        return FolderManifest.VIDEO_EXT;
    }

    static Set<String> audio() {
        return FolderManifest.AUDIO_EXT;
    }

    /** A file written next to the manifest (converted IMU, subtitles): in the folder "STEM.DIR" beside "STEM.jsonl". */
    Path beside(String dir, String name) throws IOException {
        String file = manifest.getFileName().toString();
        String stem = file.contains(".") ? file.substring(0, file.lastIndexOf('.')) : file;
        Path folder = manifestDir.resolve(stem + "." + dir);
        Files.createDirectories(folder);
        return folder.resolve(name);
    }

    /** The manifest lines, the files not found (one line each) and the samples with at least one file found. */
    Importer.Result result(Dataset dataset) {
        flush();
        return new Importer.Result(dataset, List.copyOf(lines), withMedia, List.copyOf(missing), List.copyOf(skipped),
                List.copyOf(notes), java.util.Collections.unmodifiableMap(new TreeMap<>(splits)), java.util.Collections.unmodifiableMap(new LinkedHashMap<>(classes)));
    }

    private String line(Sample s) {
        ObjectNode n = JSON.createObjectNode();
        n.put("id", s.id);
        n.put("split", s.split);
        if (s.label != null) {
            n.put("label", s.label);
        }
        if (s.subject != null) {
            n.put("subject", s.subject);
        }
        s.files.forEach((m, f) -> {
            ObjectNode r = n.putObject(m.key());
            r.put("uri", uri(f));
            double[] span = s.spans.get(m);
            if (!Double.isNaN(span[0])) {
                r.put("start", span[0]);
            }
            if (!Double.isNaN(span[1])) {
                r.put("end", span[1]);
            }
        });
        if (!s.captions.isEmpty()) {
            ArrayNode c = n.putArray("captions");
            s.captions.forEach(c::add);
        }
        if (!s.segments.isEmpty()) {
            ArrayNode a = n.putArray("segments");
            s.segments.forEach(g -> a.addObject().put("start", g.start()).put("end", g.end()).put("label", g.label()));
        }
        if (!s.attributes.isEmpty()) {
            ObjectNode a = n.putObject("attributes");
            s.attributes.forEach(a::put);
        }
        return n.toString();
    }

    /** f relative to the manifest's folder, with '/'. */
    private String uri(Path f) {
        return manifestDir.relativize(f.toAbsolutePath().normalize()).toString().replace(f.getFileSystem().getSeparator(), "/");
    }

    /** "train", "val" or "test" for the ways datasets spell them, else null. */
    static String split(String raw) {
        return switch (raw.strip().toLowerCase(Locale.ROOT)) {
            case "train", "training" -> "train";
            case "val", "valid", "validate", "validation" -> "val";
            case "test", "testing" -> "test";
            default -> null;
        };
    }

    /** A class name as words: "ApplyEyeMakeup" -> "apply eye makeup", "chirping_birds" -> "chirping birds". */
    static String words(String label) {
        return label.replaceAll("(?<=[a-z])(?=[A-Z])", " ").replaceAll("[_\\s]+", " ").strip().toLowerCase(Locale.ROOT);
    }
}
