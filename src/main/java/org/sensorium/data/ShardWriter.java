package org.sensorium.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.sensorium.config.Modality;
import org.sensorium.modality.Recording;

/**
 * Packs a manifest's samples into tar shards in the WebDataset layout (`sensorium data shard`): per sample one key,
 * its media files as members {@code KEY.video.mp4}, {@code KEY.imu.csv}, ... (a file two modalities share, a video
 * with its sound track, is one member) and {@code KEY.json}, the manifest line with each uri replaced by the
 * member's name; the members of a key are contiguous. Shards are {@code shard-000000.tar}, ... of at most the given
 * size (a sample larger than that gets a shard of its own); training samples come first, then the held-out ones
 * (val, test) in shards of their own, so a run streams the training shards and reads the held-out ones once.
 * {@link Shards} reads the index, {@code index.json}.
 *
 * <p>A sample whose file is missing, not a regular file, empty or unreadable is left out and listed with the reason;
 * the files are not decoded (that is `data validate`'s work, and the loader skips a broken member as it skips a
 * broken file).
 */
public final class ShardWriter {
    static final String FORMAT = "sensorium-shards 1 (WebDataset tar layout)";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What a run of the writer did: samples packed, shards written, their bytes, and one line per sample left out. */
    public record Result(int samples, int shards, long bytes, List<String> skipped) {}

    private final Path out;
    private final long shardBytes;
    private final ArrayNode shardsJson = JSON.createArrayNode();
    private Open open;
    private long total;

    private ShardWriter(Path out, long shardBytes) {
        this.out = out;
        this.shardBytes = shardBytes;
    }

    /** A sample ready to write: its key, split kind, members (name to bytes) and the JSON that describes it. */
    private record Packed(String key, boolean train, Map<String, byte[]> members, ObjectNode json) {
        long bytes() {
            long b = 0;
            for (byte[] d : members.values()) {
                b += Tar.BLOCK + new Tar.Member("", d.length).padded();
            }
            return b;
        }
    }

    /** The shard being written. */
    private static final class Open {
        final String file;
        final boolean train;
        final Path part;
        final MessageDigest sha;
        final OutputStream stream;
        final ArrayNode keys = JSON.createArrayNode();
        final ArrayNode samples = JSON.createArrayNode();
        long bytes;

        Open(Path dir, String file, boolean train) throws IOException {
            this.file = file;
            this.train = train;
            this.part = dir.resolve(file + ".part");
            try {
                sha = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
            stream = new DigestOutputStream(new BufferedOutputStream(Files.newOutputStream(part), 1 << 20), sha);
        }
    }

    /**
     * Writes the shards and index.json of manifest into out (created if needed).
     *
     * @param shardBytes the most bytes a shard holds (tar headers and padding included)
     * @throws ManifestException when the manifest is broken (before anything is written) or out already holds an index
     */
    public static Result write(Path manifest, Path out, long shardBytes) throws IOException {
        List<ManifestEntry> entries = Manifest.read(manifest);
        List<JsonNode> lines = new ArrayList<>();
        for (String l : Manifest.lines(manifest)) {
            if (!l.isBlank()) {
                lines.add(JSON.readTree(l));
            }
        }
        Files.createDirectories(out);
        if (Files.exists(out.resolve("index.json"))) {
            throw new ManifestException(out.resolve("index.json") + ": already there; shard into an empty folder");
        }
        ShardWriter w = new ShardWriter(out, shardBytes);
        List<String> skipped = new ArrayList<>();
        int packed = 0;
        for (boolean train : new boolean[] {true, false}) {
            for (int i = 0; i < entries.size(); i++) {
                ManifestEntry e = entries.get(i);
                if (e.split().equals("train") != train) {
                    continue;
                }
                try {
                    w.add(pack(e, (ObjectNode) lines.get(i), i));
                    packed++;
                } catch (Unusable u) {
                    skipped.add(e.where() + ": " + u.getMessage());
                }
            }
        }
        w.close();
        if (packed > 0) {
            ObjectNode index = JSON.createObjectNode();
            index.put("format", FORMAT);
            index.put("source", manifest.getFileName().toString());
            index.put("source_sha256", Manifest.sha256(manifest));
            index.put("samples", packed);
            index.put("bytes", w.total);
            ArrayNode sk = index.putArray("skipped");
            skipped.forEach(sk::add);
            index.set("shards", w.shardsJson);
            Path tmp = out.resolve("index.json.part");
            Files.writeString(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(index) + "\n", StandardCharsets.UTF_8);
            Files.move(tmp, out.resolve("index.json"), StandardCopyOption.ATOMIC_MOVE);
        }
        return new Result(packed, w.shardsJson.size(), w.total, skipped);
    }

    /** A source file that cannot be packed; the message says why. */
    private static final class Unusable extends Exception {
        Unusable(String message) {
            super(message);
        }
    }

    /**
     * The key of sample i: its id when that is a WebDataset key (no '.', which would split it, no leading '/', no
     * "..", at most 200 bytes), else "sample-" and i.
     */
    static String key(String id, int i) {
        boolean ok = !id.contains(".") && !id.startsWith("/") && !id.endsWith("/") && !id.contains("//")
                && id.getBytes(StandardCharsets.UTF_8).length <= 200 && !id.isEmpty();
        return ok ? id : String.format(Locale.ROOT, "sample-%08d", i);
    }

    private static Packed pack(ManifestEntry e, ObjectNode line, int i) throws Unusable {
        String key = key(e.id(), i);
        Map<String, byte[]> members = new LinkedHashMap<>();
        Map<Path, String> names = new LinkedHashMap<>();
        ObjectNode json = line.deepCopy();
        for (Map.Entry<Modality, Recording.Source> s : e.sources().entrySet()) {
            Path file = s.getValue().path();
            String name = names.get(file);
            if (name == null) {
                name = key + "." + s.getKey().key() + extension(file);
                members.put(name, read(file));
                names.put(file, name);
            }
            if (json.get(s.getKey().key()) instanceof ObjectNode recording) { // motion is the video's file, no key of its own
                recording.put("uri", name);
            }
        }
        members.put(key + ".json", json.toString().getBytes(StandardCharsets.UTF_8));
        return new Packed(key, e.split().equals("train"), members, json);
    }

    private static String extension(Path file) {
        String n = file.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(dot).toLowerCase(Locale.ROOT) : "";
    }

    private static byte[] read(Path file) throws Unusable {
        String why = Recording.unopenable(file);
        if (why != null) {
            throw new Unusable(file + ": " + why);
        }
        try {
            byte[] b = Files.readAllBytes(file);
            if (b.length == 0) {
                throw new Unusable(file + ": zero bytes");
            }
            return b;
        } catch (IOException | OutOfMemoryError ex) {
            throw new Unusable(file + ": cannot read: " + ex.getMessage());
        }
    }

    private void add(Packed p) throws IOException {
        long bytes = p.bytes();
        if (open != null && (open.train != p.train() || open.bytes + bytes + 2 * Tar.BLOCK > shardBytes)) {
            closeShard();
        }
        if (open == null) {
            open = new Open(out, String.format(Locale.ROOT, "shard-%06d.tar", shardsJson.size()), p.train());
        }
        long mtime = System.currentTimeMillis() / 1000;
        for (Map.Entry<String, byte[]> m : p.members().entrySet()) {
            Tar.write(open.stream, m.getKey(), m.getValue(), mtime);
        }
        open.bytes += bytes;
        open.keys.add(p.key());
        open.samples.add(p.json());
    }

    private void closeShard() throws IOException {
        Tar.finish(open.stream);
        open.stream.close();
        Path done = out.resolve(open.file);
        Files.move(open.part, done, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        ObjectNode s = shardsJson.addObject();
        s.put("file", open.file);
        s.put("split", open.train ? "train" : "held-out");
        s.put("count", open.keys.size());
        s.put("bytes", Files.size(done));
        s.put("sha256", HexFormat.of().formatHex(open.sha.digest()));
        s.set("keys", open.keys);
        s.set("samples", open.samples);
        total += Files.size(done);
        open = null;
    }

    private void close() throws IOException {
        if (open != null) {
            closeShard();
        }
    }

    /** "1GB", "500MB", "64KiB", "1000000": bytes (KB, MB, GB, TB are powers of 1000; KiB, MiB, GiB, TiB of 1024). */
    public static long parseSize(String text) {
        String t = text.trim().toUpperCase(Locale.ROOT);
        String[] units = {"TIB", "GIB", "MIB", "KIB", "TB", "GB", "MB", "KB", "B"};
        long[] factors = {1L << 40, 1L << 30, 1L << 20, 1L << 10, 1_000_000_000_000L, 1_000_000_000L, 1_000_000L, 1000L, 1L};
        for (int u = 0; u < units.length; u++) {
            if (t.endsWith(units[u])) {
                return (long) (Double.parseDouble(t.substring(0, t.length() - units[u].length()).trim()) * factors[u]);
            }
        }
        return Long.parseLong(t);
    }
}
