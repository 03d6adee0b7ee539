package org.sensorium.data;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.sensorium.modality.BadInputException;
import org.sensorium.modality.Recording;
import org.sensorium.modality.SkipLog;

/**
 * The training samples of a shard folder as the loader takes them: each epoch reads the training shards one after
 * the other (in an order drawn from (seed, epoch)), each from start to end, through a shuffle buffer of
 * {@code buffer} samples (WebDataset's shuffle: fill the buffer, then each sample read replaces one drawn at
 * random, which goes out; the rest drains in random order). The epoch's order is a function of the index, the seed
 * and the epoch alone ({@link #order}), so the loader's cursor (epoch, position) names the next sample exactly and a
 * resume re-reads the epoch's shards up to it by skipping members (tar headers only, no data read) and holds only the
 * samples still to come.
 *
 * <p>Memory: the samples read but not yet taken, at most about buffer + the loader's prefetch, as bytes. Disk: a
 * sample's members are written to a temporary folder only while one decode thread decodes it, then deleted (at most
 * one sample per decode thread on disk).
 */
final class ShardStream implements AutoCloseable {
    /** A sample read from its shard: the members (name to bytes), or why it could not be read. */
    record Sample(ManifestEntry entry, Map<String, byte[]> members, String broken) {}

    private final Shards shards;
    private final List<ManifestEntry> entries;
    private final int buffer;
    private final long seed;
    private final int[][] entryAt; // per shard, per position in it: index into entries, or -1 (held-out, left out)
    private final int[] trainShards;
    private final Path temp;

    // reading state of the current epoch
    private int epoch = -1;
    private boolean[] needed;
    private int[] shardOrder;
    private int next; // index into shardOrder of the shard being read
    private FileChannel channel;
    private int position; // sample of that shard to read next
    private Tar.Member pending; // a header read past the end of the previous sample
    private String damage; // why the shard cannot be read past the current sample, or null
    private final Map<Integer, Sample> held = new HashMap<>();
    /**
     * The temporary area of this JVM, removed when it exits. A sample is decoded from the same path every time (this
     * folder, the shard folder's hash, shard, position), because {@link org.sensorium.modality.Spans} caches a
     * recording's length by path: a new path per decode would probe the file again (FFmpeg opens one file at a time)
     * and grow that cache without bound. Each sample's folder is deleted right after its decode.
     */
    private static final Path TEMP = Path.of(System.getProperty("java.io.tmpdir"), "sensorium-shards-" + ProcessHandle.current().pid());
    private static final java.util.Set<Path> BUSY = java.util.concurrent.ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> Shards.deleteTree(TEMP)));
    }

    /** @param entries the samples to train on: entries of shards (some may be left out, e.g. by label) */
    ShardStream(Shards shards, List<ManifestEntry> entries, int buffer, long seed) {
        this.shards = shards;
        this.entries = entries;
        this.buffer = Math.max(1, buffer);
        this.seed = seed;
        List<Shards.Shard> all = shards.shards();
        entryAt = new int[all.size()][];
        Map<Path, Integer> shardIndex = new HashMap<>();
        for (int s = 0; s < all.size(); s++) {
            entryAt[s] = new int[all.get(s).keys().size()];
            java.util.Arrays.fill(entryAt[s], -1);
            shardIndex.put(all.get(s).file(), s);
        }
        List<Integer> used = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            ManifestEntry e = entries.get(i);
            Integer s = shardIndex.get(e.manifest());
            if (s == null) {
                throw new IllegalArgumentException(e.where() + " is not a sample of the shard index");
            }
            entryAt[s][e.line() - 1] = i;
            if (!used.contains(s)) {
                used.add(s);
            }
        }
        trainShards = used.stream().sorted().mapToInt(Integer::intValue).toArray();
        temp = TEMP.resolve(Integer.toHexString(shards.folder().toAbsolutePath().normalize().hashCode()));
    }

    /** The epoch's sample order as indices into entries: the shards in a drawn order, read through the buffer. */
    int[] order(int ep) {
        int[] shardsInOrder = shardOrder(ep);
        int[] out = new int[entries.size()];
        int n = 0;
        int[] buf = new int[buffer];
        int filled = 0;
        SplittableRandom r = new SplittableRandom(Loader.mix(seed, ep, -3));
        for (int s : shardsInOrder) {
            for (int e : entryAt[s]) {
                if (e < 0) {
                    continue;
                }
                if (filled < buffer) {
                    buf[filled++] = e;
                } else {
                    int j = r.nextInt(buffer);
                    out[n++] = buf[j];
                    buf[j] = e;
                }
            }
        }
        for (; filled > 0; filled--) { // drain: draw one of those left, move the last into its place
            int j = r.nextInt(filled);
            out[n++] = buf[j];
            buf[j] = buf[filled - 1];
        }
        return out;
    }

    private int[] shardOrder(int ep) {
        int[] p = Loader.shuffle(trainShards.length, Loader.mix(seed, ep, -2));
        int[] out = new int[p.length];
        for (int i = 0; i < p.length; i++) {
            out[i] = trainShards[p[i]];
        }
        return out;
    }

    int epoch() {
        return epoch;
    }

    /** Starts reading epoch ep from its first shard; needed[i]: entry i is still to be taken this epoch. */
    void begin(int ep, boolean[] neededEntries) {
        closeChannel();
        held.clear();
        epoch = ep;
        needed = neededEntries;
        shardOrder = shardOrder(ep);
        next = 0;
    }

    /** The sample of entry i (needed, of the current epoch), reading on through the shards as far as it takes. */
    Sample take(int i) {
        while (!held.containsKey(i)) {
            if (!readOne()) {
                throw new IllegalStateException("the shards of epoch " + epoch + " ended before " + entries.get(i).where());
            }
        }
        return held.remove(i);
    }

    /** Reads the next sample of the stream (holding it when needed, else skipping its data); false at the end. */
    private boolean readOne() {
        if (channel == null) {
            if (next >= shardOrder.length) {
                return false;
            }
            try {
                channel = FileChannel.open(shards.shards().get(shardOrder[next]).file(), StandardOpenOption.READ);
            } catch (IOException e) {
                brokenRest(0, "cannot open: " + e.getMessage());
                return true;
            }
            position = 0;
            pending = null;
            damage = null;
        }
        int s = shardOrder[next];
        List<String> keys = shards.shards().get(s).keys();
        if (position >= keys.size()) {
            closeChannel();
            next++;
            return true;
        }
        int e = entryAt[s][position];
        boolean want = e >= 0 && needed[e];
        String key = keys.get(position);
        if (damage != null) {
            brokenRest(position, damage);
            return true;
        }
        Map<String, byte[]> members = new LinkedHashMap<>();
        boolean any = false;
        try {
            while (true) {
                Tar.Member m;
                try {
                    m = pending != null ? pending : Tar.next(channel);
                } catch (IOException ex) {
                    if (!any) {
                        throw ex;
                    }
                    damage = ex.getMessage(); // the next header is damaged: this sample is whole, the ones after are lost
                    break;
                }
                pending = null;
                any = true;
                if (m == null) {
                    break;
                }
                if (!key(m.name()).equals(key)) {
                    pending = m;
                    break;
                }
                if (want) {
                    members.put(m.name(), Tar.data(channel, m));
                } else {
                    Tar.skip(channel, m);
                }
            }
        } catch (IOException ex) {
            brokenRest(position, ex.getMessage());
            return true;
        }
        if (want) {
            held.put(e, new Sample(entries.get(e), members, null));
        }
        position++;
        return true;
    }

    /** The shard is damaged from sample from on: each such sample still needed is held as broken, and the shard left. */
    private void brokenRest(int from, String why) {
        int s = shardOrder[next];
        String file = shards.shards().get(s).file().getFileName().toString();
        for (int p = from; p < entryAt[s].length; p++) {
            int e = entryAt[s][p];
            if (e >= 0 && needed[e]) {
                held.put(e, new Sample(entries.get(e), Map.of(), file + " is damaged: " + why));
            }
        }
        closeChannel();
        next++;
    }

    /** WebDataset's key of a member: its name up to the first '.' of its last path part. */
    static String key(String name) {
        int slash = name.lastIndexOf('/');
        int dot = name.indexOf('.', slash + 1);
        return dot < 0 ? name : name.substring(0, dot);
    }

    /**
     * decode applied to the sample with its members as files in a temporary folder of its own, deleted after; a
     * broken sample or a missing member is a skip (reported with the shard, position and id) and gives broken.
     */
    <T> T withFiles(Sample s, Function<ManifestEntry, T> decode, SkipLog skips, T broken) {
        ManifestEntry e = s.entry();
        if (s.broken() != null) {
            skips.skip(e.id(), new BadInputException(e.where() + ": " + s.broken()));
            return broken;
        }
        Path folder = temp.resolve(e.manifest().getFileName().toString()).resolve(Integer.toString(e.line()));
        boolean own = BUSY.add(folder);
        try {
            if (!own) { // the same sample in flight twice (the end of one epoch and the start of the next): a folder of its own
                Files.createDirectories(temp);
                folder = Files.createTempDirectory(temp, "again");
            }
            Files.createDirectories(folder);
            for (Recording.Source src : e.sources().values()) {
                String member = shards.member(src);
                byte[] data = s.members().get(member);
                if (data == null) {
                    skips.skip(e.id(), new BadInputException(e.where() + ": the shard has no member " + member));
                    return broken;
                }
                Path to = folder.resolve(member).normalize();
                if (!to.startsWith(folder)) {
                    throw new IOException("member name leaves the folder: " + member);
                }
                Files.createDirectories(to.getParent());
                if (!Files.exists(to)) {
                    Files.write(to, data);
                }
            }
            return decode.apply(shards.at(e, folder));
        } catch (IOException ex) {
            skips.skip(e.id(), new BadInputException(e.where() + ": cannot write its members to " + temp + ": " + ex.getMessage()));
            return broken;
        } finally {
            Shards.deleteTree(folder);
            if (own) {
                BUSY.remove(folder);
            }
        }
    }

    private void closeChannel() {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                // reading is over; nothing to lose
            }
            channel = null;
        }
    }

    @Override
    public void close() {
        closeChannel();
        held.clear();
    }
}
