package org.sensorium.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.sensorium.config.Modality;
import org.sensorium.modality.Recording;

/**
 * A folder of tar shards written by {@link ShardWriter}, read through its index.json: every sample's manifest
 * line (the index holds them, so a run knows its splits, labels and counts without opening a shard), and where
 * its members are. The entries' uris point into the shards ({@code DIR/KEY.video.mp4}, no such file): the
 * training loader streams them ({@link ShardStream}), and {@link #extract} copies the small held-out set out
 * once. An entry's {@link ManifestEntry#where} names its shard and position: "shard-000003.tar:12 (id=s00012)".
 */
public final class Shards {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One shard: its file, the keys of its samples in file order, and whether it holds training samples. */
    record Shard(Path file, boolean train, List<String> keys, long bytes) {}

    private final Path dir;
    private final List<Shard> shards;
    private final List<ManifestEntry> entries;

    private Shards(Path dir, List<Shard> shards, List<ManifestEntry> entries) {
        this.dir = dir;
        this.shards = shards;
        this.entries = entries;
    }

    /** True when file is a shard index (a .json file, not a JSONL manifest). */
    public static boolean isIndex(Path file) {
        return file.getFileName().toString().endsWith(".json");
    }

    /**
     * Reads an index; every shard it names must be there with its size (checked, cheap; the sha256 is for
     * {@code sha256sum -c}, not checked at every start).
     *
     * @throws ManifestException naming the index or the shard and sample at fault
     */
    public static Shards open(Path index) {
        JsonNode root;
        try {
            root = JSON.readTree(index.toFile());
        } catch (IOException e) {
            throw new ManifestException(index + ": not a shard index: " + e.getMessage());
        }
        if (root == null || !root.path("format").asText().equals(ShardWriter.FORMAT) || !root.path("shards").isArray()) {
            throw new ManifestException(index + ": not a shard index (expected \"format\": \"" + ShardWriter.FORMAT + "\")");
        }
        Path dir = index.toAbsolutePath().getParent();
        List<Shard> shards = new ArrayList<>();
        List<ManifestEntry> entries = new ArrayList<>();
        Map<String, String> seen = new HashMap<>();
        for (JsonNode s : root.get("shards")) {
            Path file = dir.resolve(s.path("file").asText());
            long bytes = s.path("bytes").asLong();
            try {
                if (Files.size(file) != bytes) {
                    throw new ManifestException(file + ": " + Files.size(file) + " bytes, the index says " + bytes);
                }
            } catch (IOException e) {
                throw new ManifestException(index.getFileName() + ": shard " + file + ": no such file");
            }
            List<String> keys = new ArrayList<>();
            s.path("keys").forEach(k -> keys.add(k.asText()));
            JsonNode samples = s.path("samples");
            if (samples.size() != keys.size() || keys.size() != s.path("count").asInt()) {
                throw new ManifestException(index.getFileName() + ": shard " + file.getFileName() + ": count, keys and samples disagree");
            }
            for (int i = 0; i < keys.size(); i++) {
                ManifestEntry e = Manifest.parseLine(file, i + 1, samples.get(i).toString());
                String first = seen.putIfAbsent(e.id(), e.where());
                if (first != null) {
                    throw new ManifestException(e.where() + ": duplicate id (first at " + first + ")");
                }
                entries.add(e);
            }
            shards.add(new Shard(file, s.path("split").asText().equals("train"), List.copyOf(keys), bytes));
        }
        return new Shards(dir, List.copyOf(shards), List.copyOf(entries));
    }

    /** Every sample, training shards first, in shard order. */
    public List<ManifestEntry> entries() {
        return entries;
    }

    List<Shard> shards() {
        return shards;
    }

    /** The folder of the index and its shards. */
    Path folder() {
        return dir;
    }

    /** Number of shard files. */
    public int shardCount() {
        return shards.size();
    }

    /** Number of shard files holding held-out samples (they come after the training ones). */
    public int heldOutShardCount() {
        return (int) shards.stream().filter(s -> !s.train()).count();
    }

    /** Bytes of all shard files. */
    public long bytes() {
        return shards.stream().mapToLong(Shard::bytes).sum();
    }

    /** Index of the shard holding an entry of {@link #entries} (its manifest path is the shard's file). */
    int shardOf(ManifestEntry e) {
        for (int s = 0; s < shards.size(); s++) {
            if (shards.get(s).file().equals(e.manifest())) {
                return s;
            }
        }
        throw new IllegalArgumentException(e.where() + " is not in " + dir);
    }

    /** The member name a source of an entry of this index points at. */
    String member(Recording.Source s) {
        return dir.relativize(s.path()).toString().replace('\\', '/');
    }

    /** The entry with its sources' members read from folder (where {@link #copy} or a decode put them). */
    ManifestEntry at(ManifestEntry e, Path folder) {
        Map<Modality, Recording.Source> moved = new EnumMap<>(Modality.class);
        e.sources().forEach((m, s) -> moved.put(m, new Recording.Source(folder.resolve(member(s)), s.start(), s.end())));
        return new ManifestEntry(e.id(), e.split(), e.label(), e.subject(), moved, e.captions(), e.segments(), e.attributes(),
                e.manifest(), e.line());
    }

    /**
     * The held-out samples with their members copied into a temporary folder (deleted when the JVM exits), each
     * shard that holds one read once from start to end; the held-out set is small, the training set is streamed.
     * A member missing from its shard leaves the entry's file missing: the evaluation skips it as a broken file.
     */
    public List<ManifestEntry> extract(List<ManifestEntry> heldOut) throws IOException {
        if (heldOut.isEmpty()) {
            return heldOut;
        }
        Path folder = Files.createTempDirectory("sensorium-heldout");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(folder)));
        Map<Integer, List<ManifestEntry>> byShard = new HashMap<>();
        for (ManifestEntry e : heldOut) {
            byShard.computeIfAbsent(shardOf(e), k -> new ArrayList<>()).add(e);
        }
        for (Map.Entry<Integer, List<ManifestEntry>> s : byShard.entrySet()) {
            java.util.Set<String> wanted = new java.util.HashSet<>();
            s.getValue().forEach(e -> e.sources().values().forEach(src -> wanted.add(member(src))));
            copy(shards.get(s.getKey()).file(), wanted, folder);
        }
        List<ManifestEntry> out = new ArrayList<>();
        heldOut.forEach(e -> out.add(at(e, folder)));
        return out;
    }

    /** Copies the wanted members of a shard into folder; a damaged shard is read up to the damage (logged). */
    private static void copy(Path shard, java.util.Set<String> wanted, Path folder) throws IOException {
        try (FileChannel in = FileChannel.open(shard, StandardOpenOption.READ)) {
            for (Tar.Member m; (m = Tar.next(in)) != null; ) {
                if (wanted.contains(m.name())) {
                    Path to = folder.resolve(m.name()).normalize();
                    if (!to.startsWith(folder)) {
                        throw new IOException("member name leaves the folder: " + m.name());
                    }
                    Files.createDirectories(to.getParent());
                    Files.write(to, Tar.data(in, m));
                } else {
                    Tar.skip(in, m);
                }
            }
        } catch (IOException e) {
            org.slf4j.LoggerFactory.getLogger(Shards.class).warn("{}: {}; its held-out samples after that are skipped", shard, e.getMessage());
        }
    }

    static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (java.util.stream.Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // a temporary folder left behind is not worth failing a run for
        }
    }
}
