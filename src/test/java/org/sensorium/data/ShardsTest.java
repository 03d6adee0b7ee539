package org.sensorium.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigLoader;
import org.sensorium.config.Modality;
import org.sensorium.modality.Adapters;
import org.sensorium.modality.BadInputException;
import org.sensorium.modality.Clip;
import org.sensorium.modality.Item;
import org.sensorium.modality.ModalityAdapter;
import org.sensorium.modality.Recording;
import org.sensorium.modality.SkipLog;

/** Shards: the tar layout and index `data shard` writes, and the loader streaming them. */
class ShardsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Reads its IMU file as one integer: the sample's number, written into the file by {@link #manifest}. */
    static final class FileNumberAdapter implements ModalityAdapter {
        @Override
        public Modality modality() {
            return Modality.IMU;
        }

        @Override
        public long[] inputShape() {
            return new long[] {1};
        }

        @Override
        public Item load(Recording r, Clip clip) throws BadInputException {
            Path p = r.sources().get(Modality.IMU).path();
            try {
                return new Item(new float[] {Integer.parseInt(Files.readString(p).trim())}, inputShape(), null);
            } catch (Exception e) {
                throw new BadInputException(r.where() + ": " + p.getFileName() + ": not a number");
            }
        }
    }

    /** n samples s0..s(n-1), each an IMU "csv" holding its number (10 bytes of text); every 5th is val. */
    static Path manifest(Path dir, int n) throws Exception {
        Files.createDirectories(dir.resolve("media"));
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            Files.writeString(dir.resolve("media/s" + i + ".csv"), String.format("%9d%n", i));
            sb.append("{\"id\":\"s").append(i).append("\",\"split\":\"").append(i % 5 == 4 ? "val" : "train")
                    .append("\",\"imu\":{\"uri\":\"media/s").append(i).append(".csv\"},\"captions\":[\"sample ").append(i).append("\"]}\n");
        }
        Path m = dir.resolve("m.jsonl");
        Files.writeString(m, sb.toString());
        return m;
    }

    static Map<Modality, ModalityAdapter> numbers() {
        Map<Modality, ModalityAdapter> a = new EnumMap<>(Modality.class);
        a.put(Modality.IMU, new FileNumberAdapter());
        return a;
    }

    static Loader loader(Shards shards, Loader.Cursor start, SkipLog skips) {
        List<ManifestEntry> train = shards.entries().stream().filter(e -> e.split().equals("train")).toList();
        return new Loader(train, numbers(), 2, 42, 2.0, 2, 2, skips, start, Loader.Shard.SINGLE, Loader.Views.NONE, shards, 4);
    }

    static List<List<String>> take(Loader l, int batches) throws InterruptedException {
        List<List<String>> out = new ArrayList<>();
        for (int i = 0; i < batches; i++) {
            List<String> b = new ArrayList<>();
            for (Batch.Decoded d : l.next()) {
                b.add(d.entry().id() + "=" + (int) d.items().get(Modality.IMU).values()[0]);
            }
            out.add(b);
        }
        return out;
    }

    /** One member's header, parsed from the format description (POSIX ustar), not by our reader. */
    record Header(String name, long size, String magic) {}

    static List<Header> headers(Path tar) throws Exception {
        byte[] all = Files.readAllBytes(tar);
        assertEquals(0, all.length % 512);
        List<Header> out = new ArrayList<>();
        int at = 0;
        while (true) {
            byte[] h = java.util.Arrays.copyOfRange(all, at, at + 512);
            if (java.util.Arrays.equals(h, new byte[512])) {
                assertTrue(java.util.Arrays.equals(java.util.Arrays.copyOfRange(all, at + 512, at + 1024), new byte[512]),
                        "the archive ends with two zero blocks");
                return out;
            }
            String name = new String(h, 0, 100, StandardCharsets.US_ASCII).replace("\0", "");
            long size = Long.parseLong(new String(h, 124, 11, StandardCharsets.US_ASCII), 8);
            long chk = Long.parseLong(new String(h, 148, 6, StandardCharsets.US_ASCII), 8);
            long sum = 0;
            for (int i = 0; i < 512; i++) {
                sum += i >= 148 && i < 156 ? ' ' : h[i] & 0xff; // the checksum field counts as eight spaces
            }
            assertEquals(sum, chk, "checksum of " + name);
            assertEquals('0', h[156], "a regular file");
            out.add(new Header(name, size, new String(h, 257, 6, StandardCharsets.US_ASCII)));
            at += 512 + (int) ((size + 511) / 512 * 512);
        }
    }

    @Test
    void writerPacksWebDatasetShardsAndAnIndexAndListsMissingFiles(@TempDir Path dir) throws Exception {
        Path m = manifest(dir, 10);
        Files.delete(dir.resolve("media/s7.csv"));
        // one sample: its csv (512 + 512) and json (512 + 512) = 2048 bytes; 6000 holds two of them (+ the end blocks)
        ShardWriter.Result r = ShardWriter.write(m, dir.resolve("shards"), 6000);
        assertEquals(9, r.samples());
        assertEquals(1, r.skipped().size());
        assertTrue(r.skipped().get(0).startsWith("m.jsonl:8 (id=s7): ") && r.skipped().get(0).endsWith("s7.csv: no such file"), r.skipped().get(0));
        JsonNode index = JSON.readTree(dir.resolve("shards/index.json").toFile());
        assertEquals(9, index.get("samples").asInt());
        assertEquals(r.skipped().get(0), index.get("skipped").get(0).asText());
        // training first (s0 s1 s2 s3 s5 s6 s8: 4 shards of 2, 2, 2, 1), then held-out (s4 s9: 1 shard)
        List<String> splits = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        for (JsonNode s : index.get("shards")) {
            Path tar = dir.resolve("shards").resolve(s.get("file").asText());
            splits.add(s.get("split").asText());
            assertEquals(Files.size(tar), s.get("bytes").asLong());
            assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(tar))),
                    s.get("sha256").asText());
            List<Header> h = headers(tar);
            assertEquals(2 * s.get("count").asInt(), h.size());
            for (int i = 0; i < s.get("count").asInt(); i++) {
                String key = s.get("keys").get(i).asText();
                keys.add(key);
                assertEquals(key + ".imu.csv", h.get(2 * i).name());      // a key's members together, media then json
                assertEquals(10, h.get(2 * i).size());
                assertEquals("ustar\0", h.get(2 * i).magic());
                assertEquals(key + ".json", h.get(2 * i + 1).name());
                assertEquals(key + ".imu.csv", s.get("samples").get(i).get("imu").get("uri").asText());
            }
        }
        assertEquals(List.of("shard-000000.tar", "shard-000001.tar", "shard-000002.tar", "shard-000003.tar", "shard-000004.tar"),
                index.get("shards").findValuesAsText("file"));
        assertEquals(List.of("train", "train", "train", "train", "held-out"), splits);
        assertEquals(List.of("s0", "s1", "s2", "s3", "s5", "s6", "s8", "s4", "s9"), keys);
        // the JSON member is the manifest line with the uri pointing at the member
        byte[] all = Files.readAllBytes(dir.resolve("shards/shard-000000.tar"));
        JsonNode s0 = JSON.readTree(new String(all, 512 + 512 + 512, (int) headers(dir.resolve("shards/shard-000000.tar")).get(1).size(),
                StandardCharsets.UTF_8));
        assertEquals("s0.imu.csv", s0.get("imu").get("uri").asText());
        assertEquals("sample 0", s0.get("captions").get(0).asText());
    }

    @Test
    void nothingToPackIsNotASuccess(@TempDir Path dir) throws Exception {
        Path m = manifest(dir, 2);
        Files.delete(dir.resolve("media/s0.csv"));
        Files.writeString(dir.resolve("media/s1.csv"), "");
        ShardWriter.Result r = ShardWriter.write(m, dir.resolve("shards"), 6000);
        assertEquals(0, r.samples());
        assertEquals(2, r.skipped().size());
        assertTrue(r.skipped().get(1).endsWith("s1.csv: zero bytes"), r.skipped().get(1));
        assertTrue(!Files.exists(dir.resolve("shards/index.json")));
    }

    @Test
    void anEpochFromShardsDecodesTheSameSamplesAsLooseFiles(@TempDir Path dir) throws Exception {
        Path m = manifest(dir, 30);
        ShardWriter.write(m, dir.resolve("shards"), 6000);
        Shards shards = Shards.open(dir.resolve("shards/index.json"));
        List<ManifestEntry> looseTrain = Manifest.read(m).stream().filter(e -> e.split().equals("train")).toList();
        Map<String, String> loose = new HashMap<>();
        try (Loader l = new Loader(looseTrain, numbers(), 2, 42, 2.0, 2, 2, new SkipLog(false), new Loader.Cursor(0, 0),
                Loader.Shard.SINGLE)) {
            take(l, 12).forEach(b -> b.forEach(s -> loose.put(s.split("=")[0], s)));
        }
        List<String> e0 = new ArrayList<>();
        List<String> e1 = new ArrayList<>();
        try (Loader l = loader(shards, new Loader.Cursor(0, 0), new SkipLog(false))) {
            take(l, 12).forEach(e0::addAll);
            take(l, 12).forEach(e1::addAll);
        }
        assertEquals(24, loose.size());
        assertEquals(new HashSet<>(loose.values()), new HashSet<>(e0));    // each sample once, decoded alike
        assertEquals(new HashSet<>(e0), new HashSet<>(e1));
        assertNotEquals(e0, e1);                                            // another shard order and buffer draw
        assertEquals("s1=1", loose.get("s1"));
    }

    @Test
    void theHeldOutSetIsCopiedOutOnce(@TempDir Path dir) throws Exception {
        ShardWriter.write(manifest(dir, 10), dir.resolve("shards"), 6000);
        Shards shards = Shards.open(dir.resolve("shards/index.json"));
        List<ManifestEntry> held = shards.extract(shards.entries().stream().filter(e -> !e.split().equals("train")).toList());
        assertEquals(List.of("s4", "s9"), held.stream().map(ManifestEntry::id).toList());
        Item item = new FileNumberAdapter().load(held.get(1).recording(), null);
        assertEquals(9f, item.values()[0]);
        assertEquals("shard-000004.tar:2 (id=s9)", held.get(1).where());
    }

    /** Today's exact-resume check of the loader, on shards: a loader started at a mid-shard cursor continues the stream. */
    @Test
    void aLoaderStartedMidShardContinuesWithTheNextSample(@TempDir Path dir) throws Exception {
        ShardWriter.write(manifest(dir, 30), dir.resolve("shards"), 6000); // 24 training samples, 2 a shard
        Shards shards = Shards.open(dir.resolve("shards/index.json"));
        List<List<String>> straight = new ArrayList<>();
        Loader.Cursor after3;
        try (Loader l = loader(shards, new Loader.Cursor(0, 0), new SkipLog(false))) {
            straight.addAll(take(l, 3));
            after3 = l.cursor();
            straight.addAll(take(l, 12));                   // crosses into epoch 1 (12 batches per epoch)
        }
        assertEquals(new Loader.Cursor(0, 6), after3);
        try (Loader resumed = loader(shards, after3, new SkipLog(false))) {
            assertEquals(straight.subList(3, 15), take(resumed, 12));
        }
        try (Loader resumed = loader(shards, new Loader.Cursor(1, 5), new SkipLog(false))) { // odd: mid-batch, mid-shard
            List<String> flat = straight.subList(12, 15).stream().flatMap(List::stream).toList();
            assertEquals(flat.subList(5, 6), take(resumed, 1).get(0).subList(0, 1));
        }
    }

    @Test
    void aBrokenMemberIsSkippedAndNamed(@TempDir Path dir) throws Exception {
        ShardWriter.write(manifest(dir, 10), dir.resolve("shards"), 6000);
        Path tar = dir.resolve("shards/shard-000001.tar"); // s2 then s3
        try (RandomAccessFile f = new RandomAccessFile(tar.toFile(), "rw")) {
            f.seek(512);                                      // s2.imu.csv's data
            f.write("broken!!!\n".getBytes(StandardCharsets.US_ASCII));
        }
        Path damaged = dir.resolve("shards/shard-000002.tar"); // s5 then s6: s6's header is damaged
        try (RandomAccessFile f = new RandomAccessFile(damaged.toFile(), "rw")) {
            f.seek(2048);
            f.write('X');
        }
        Files.writeString(dir.resolve("shards/index.json"), Files.readString(dir.resolve("shards/index.json"))); // sizes unchanged
        SkipLog skips = new SkipLog(false);
        Shards shards = Shards.open(dir.resolve("shards/index.json"));
        List<String> got = new ArrayList<>();
        try (Loader l = loader(shards, new Loader.Cursor(0, 0), skips)) {
            take(l, 4).forEach(got::addAll);
        }
        assertEquals(6, got.size(), "one epoch of 8 training samples, two broken: " + got);
        assertEquals(2, skips.skipped());
        assertEquals("shard-000001.tar:1 (id=s2): s2.imu.csv: not a number", skips.reasons().get("s2"));
        assertTrue(skips.reasons().get("s6").startsWith("shard-000002.tar:2 (id=s6): shard-000002.tar is damaged: bad tar header checksum"),
                skips.reasons().get("s6"));
    }

    /** The real adapters (IMU, text, video) read a sample set's sample from shards exactly as from its loose files. */
    @Test
    void realAdaptersDecodeShardedSamplesLikeLooseOnes(@TempDir Path dir) throws Exception {
        Path m = SampleSetGenerator.ensure(dir.resolve("cache"), 10, 7);
        ShardWriter.write(m, dir.resolve("shards"), ShardWriter.parseSize("100KB"));
        Shards shards = Shards.open(dir.resolve("shards/index.json"));
        Config cfg = ConfigLoader.load(null, List.of()).config();
        Map<Modality, ModalityAdapter> adapters = new EnumMap<>(Modality.class);
        for (Modality mod : List.of(Modality.VIDEO, Modality.IMU, Modality.TEXT, Modality.AUDIO)) {
            adapters.put(mod, Adapters.create(mod, cfg.modalities(), 2.0));
        }
        Map<String, ManifestEntry> loose = new HashMap<>();
        Manifest.read(m).forEach(e -> loose.put(e.id(), e));
        List<ManifestEntry> train = shards.entries().stream().filter(e -> e.split().equals("train")).toList();
        SkipLog skips = new SkipLog(true);
        try (ShardStream stream = new ShardStream(shards, train, 3, 5)) {
            boolean[] all = new boolean[train.size()];
            java.util.Arrays.fill(all, true);
            stream.begin(0, all);
            for (int i : stream.order(0)) {
                ManifestEntry e = train.get(i);
                Clip clip = Loader.evalClip(e, 1, 0, 1, 2.0);
                Batch.Decoded fromShard = stream.withFiles(stream.take(i), x -> Loader.decode(x, clip, adapters, skips), skips, null);
                Batch.Decoded fromFile = Loader.decode(loose.get(e.id()), clip, adapters, skips);
                assertEquals(fromFile.items().keySet(), fromShard.items().keySet());
                for (Modality mod : fromFile.items().keySet()) {
                    assertArrayEquals(fromFile.items().get(mod).values(), fromShard.items().get(mod).values(), mod + " of " + e.id());
                }
            }
        } finally {
            adapters.values().forEach(ModalityAdapter::close);
        }
    }
}
