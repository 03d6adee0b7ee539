package org.sensorium.distributed;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Group}'s all-reduce through shared memory, for ranks on one host (as NCCL's within a node): each rank maps
 * a segment file of its own and every other rank's; the group's TCP links carry only barriers. A call moves the
 * buffer in pieces; per piece:
 * <ol>
 *   <li>every rank copies its floats of every slot but its own into its segment; barrier;
 *   <li>rank r sums its own floats of slot r with slot r of every other rank's segment, into its buffer and its
 *       segment's slot r (reduce-scatter); barrier;
 *   <li>every rank copies slot k from rank k's segment into its buffer, k != r (all-gather); barrier, after which
 *       the segments may be written again.
 * </ol>
 * Slot r of rank r's segment is never copied in nor out: per piece each rank moves 2 (w-1)/w of its floats through
 * shared memory, as much as the ring sends and receives, with memory copies instead of the kernel's.
 * Slot k of piece p holds the p-th run of {@link #SLOT_FLOATS_MAX}-or-fewer floats of the ring's segment k (floats
 * [n k / w, n (k+1) / w)), and its sum is formed as the ring forms it: rank k's value, then rank k+1's added, ...,
 * rank k-1's last. So the sums are bitwise those of {@link RingAllReduce}, and the same on every rank.
 *
 * <p>The segment files are created owner-only in {@link #DIR}, named from a hash of the job's secret and rank 0's
 * port, and deleted as soon as every rank has mapped them (and on any failure): a crash later leaves no file behind.
 * The mappings are released by {@link #close}. Not thread-safe: the group's one caller thread runs it.
 */
final class ShmAllReduce implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ShmAllReduce.class);

    /** Where the segments live: tmpfs on Linux, so the copies are memory copies. */
    static final Path DIR = Path.of("/dev/shm");

    /** A rank's segment is at most this big: 64 MB, whatever the buffer (bigger buffers take several pieces). */
    static final int SEGMENT_BYTES = 64 << 20;

    private static final int FILL_BYTES = 1 << 20;

    /** The adds go through Java arrays this long (64 KB each, in L2): the JIT vectorizes array loops, not buffer ones. */
    private static final int BLOCK_FLOATS = 16 << 10;

    private final float[] sums = new float[BLOCK_FLOATS], terms = new float[BLOCK_FLOATS]; // the adds' scratch, run's alone
    private final int rank, world, slotFloats;
    private final Runnable barrier;
    private final Path ownFile;
    private final MappedByteBuffer[] maps; // maps[k]: rank k's segment; maps[rank] is writable; null once closed
    private final FloatBuffer[] floats;    // the same bytes as floats

    private ShmAllReduce(int rank, int world, int slotFloats, Runnable barrier, Path ownFile, MappedByteBuffer[] maps) {
        this.rank = rank;
        this.world = world;
        this.slotFloats = slotFloats;
        this.barrier = barrier;
        this.ownFile = ownFile;
        this.maps = maps;
        this.floats = new FloatBuffer[world];
        for (int k = 0; k < world; k++) {
            floats[k] = maps[k].duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer();
        }
    }

    /**
     * Every rank of g calls it at once: creates, maps and shares the segments, agreeing on every step over g's links.
     *
     * @param segmentBytes the bound of one rank's segment (tests pass small ones to get many pieces)
     * @param barrier the links' barrier, not counted in the collectives' time
     * @param required true for dist.transport=shm: a rank that cannot take part fails the join; false (auto): every
     *     rank then gets null and the ring carries the all-reduce
     * @throws DistException (required only) naming the rank and why: no such directory, not writable, full
     */
    static ShmAllReduce open(Collective g, byte[] secret, int port, Path dir, int segmentBytes, Runnable barrier, boolean required) {
        int rank = g.rank(), world = g.worldSize();
        int slotFloats = segmentBytes / Float.BYTES / world;
        long bytes = (long) slotFloats * world * Float.BYTES;
        Path own = dir.resolve(name(secret, port, rank));
        MappedByteBuffer[] maps = new MappedByteBuffer[world];
        String failed;
        try {
            failed = agree(g, slotFloats < 1 ? "a segment of " + segmentBytes + " bytes has no room for " + world + " ranks"
                    : checkDir(dir, world * bytes));
            if (failed == null) {
                failed = agree(g, attempt(() -> maps[rank] = create(own, bytes)));
            }
            if (failed == null) {
                failed = agree(g, attempt(() -> {
                    for (int k = 0; k < world; k++) {
                        if (k != rank) {
                            maps[k] = map(dir.resolve(name(secret, port, k)), bytes, FileChannel.MapMode.READ_ONLY);
                        }
                    }
                }));
            }
        } catch (RuntimeException e) { // a peer lost during the join: nothing may stay mapped or on disk
            if (maps[rank] != null) {
                deleteQuietly(own);
            }
            release(maps);
            throw e;
        }
        if (maps[rank] != null) {
            deleteQuietly(own); // every rank has mapped it, or the group gives up on shared memory
        }
        if (failed == null) {
            return new ShmAllReduce(rank, world, slotFloats, barrier, own, maps);
        }
        release(maps);
        String why = "dist.transport=shm: " + failed;
        if (required) {
            throw new DistException("rank " + rank + ": " + why);
        }
        if (rank == 0) {
            LOG.warn("{}; the all-reduce runs on the TCP ring", why);
        }
        return null;
    }

    /** Every rank's failure (empty: none) gathered: the first, named by rank, or null when all succeeded. */
    private static String agree(Collective g, String mine) {
        byte[][] all = g.allGatherBytes((mine == null ? "" : mine).getBytes(StandardCharsets.UTF_8));
        for (int k = 0; k < all.length; k++) {
            if (all[k].length > 0) {
                return "rank " + k + ": " + new String(all[k], StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    private interface Step {
        void run() throws IOException;
    }

    private static String attempt(Step s) {
        try {
            s.run();
            return null;
        } catch (IOException | RuntimeException e) {
            return e.toString();
        }
    }

    /** Why dir cannot hold bytes more (one line), or null when it can. */
    static String checkDir(Path dir, long bytes) {
        if (!Files.isDirectory(dir)) {
            return dir + " is not a directory (no shared memory on this host?)";
        }
        if (!Files.isWritable(dir)) {
            return dir + " is not writable";
        }
        try {
            long free = Files.getFileStore(dir).getUsableSpace();
            if (free < bytes) {
                return String.format("%s is full: %.1f MB free, the segments need %.1f MB", dir, free / 1e6, bytes / 1e6);
            }
        } catch (IOException e) {
            return "cannot read the free space of " + dir + ": " + e.getMessage();
        }
        return null;
    }

    /** The segment's file name: the job's (secret, port) hashed, so that concurrent jobs never collide nor learn the secret. */
    static String name(byte[] secret, int port, int rank) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update("sensorium-shm".getBytes(StandardCharsets.UTF_8));
            md.update(secret);
            md.update(Integer.toString(port).getBytes(StandardCharsets.UTF_8));
            return "sensorium-" + HexFormat.of().formatHex(md.digest(), 0, 12) + "-r" + rank;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is in every JDK", e);
        }
    }

    /** A new owner-only file of bytes zeros, written out so that tmpfs allocates it now (a full one fails here, not later). */
    private static MappedByteBuffer create(Path file, long bytes) throws IOException {
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ByteBuffer zeros = ByteBuffer.allocate(FILL_BYTES);
            for (long at = 0; at < bytes; at += FILL_BYTES) {
                zeros.clear().limit((int) Math.min(FILL_BYTES, bytes - at));
                while (zeros.hasRemaining()) {
                    ch.write(zeros, at + zeros.position());
                }
            }
            return map(file, bytes, FileChannel.MapMode.READ_WRITE);
        } catch (IOException | RuntimeException e) {
            deleteQuietly(file);
            throw e;
        }
    }

    private static MappedByteBuffer map(Path file, long bytes, FileChannel.MapMode mode) throws IOException {
        try (FileChannel ch = mode == FileChannel.MapMode.READ_ONLY ? FileChannel.open(file, StandardOpenOption.READ)
                : FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            if (ch.size() != bytes) {
                throw new IOException(file + " holds " + ch.size() + " bytes, not " + bytes);
            }
            return ch.map(mode, 0, bytes); // the mapping outlives the channel and the file's name
        }
    }

    /**
     * Sums the floats of data (position to limit) over the ranks in place; position and limit are left as they were.
     *
     * @throws DistException when a peer fails or stalls at a barrier for the timeout
     */
    synchronized void run(ByteBuffer data) {
        if (maps[rank] == null) {
            throw new IllegalStateException("rank " + rank + ": shared-memory all-reduce used after close");
        }
        ByteBuffer buf = data.slice().order(ByteOrder.nativeOrder()); // float i at byte 4 i
        int n = buf.capacity() / Float.BYTES;
        int longest = (n + world - 1) / world; // the ring's longest segment
        for (int from = 0; from < longest; from += slotFloats) {
            for (int k = 0; k < world; k++) {
                if (k != rank) { // slot rank is summed straight from buf
                    copy(buf, start(n, k) + from, maps[rank], k * slotFloats, slotLength(n, k, from));
                }
            }
            barrier.run();
            reduceOwnSlot(buf, start(n, rank) + from, slotLength(n, rank, from));
            barrier.run();
            for (int k = 0; k < world; k++) {
                if (k != rank) {
                    copy(maps[k], k * slotFloats, buf, start(n, k) + from, slotLength(n, k, from));
                }
            }
            barrier.run();
        }
    }

    /**
     * Floats [at, at + len) of this rank's buffer summed in place with slot rank of every other segment, in the ring's
     * order (rank r's value, + rank r+1's, ..., + rank r-1's), then copied into this rank's slot, where the others
     * read it. One pass per source, a block at a time through two small arrays, then a bulk copy: faster, measured,
     * than a loop over the buffers (which the JIT does not vectorize) or one writing both outputs.
     */
    private void reduceOwnSlot(ByteBuffer buf, int at, int len) {
        FloatBuffer acc = buf.asFloatBuffer();
        int slot = rank * slotFloats;
        for (int i = 1; i < world; i++) {
            FloatBuffer x = floats[(rank + i) % world];
            for (int j = 0; j < len; j += BLOCK_FLOATS) {
                int m = Math.min(BLOCK_FLOATS, len - j);
                acc.get(at + j, sums, 0, m);
                x.get(slot + j, terms, 0, m);
                for (int q = 0; q < m; q++) {
                    sums[q] = terms[q] + sums[q];
                }
                acc.put(at + j, sums, 0, m);
            }
        }
        copy(buf, at, maps[rank], slot, len);
    }

    /** First float of the ring's segment k of n floats. */
    private int start(int n, int k) {
        return (int) ((long) n * k / world);
    }

    /** Floats of the ring's segment k in the piece that starts from floats into each segment. */
    private int slotLength(int n, int k, int from) {
        return Math.max(0, Math.min(slotFloats, start(n, k + 1) - start(n, k) - from));
    }

    private static void copy(ByteBuffer src, int srcFloat, ByteBuffer dst, int dstFloat, int len) {
        if (len > 0) {
            ByteBuffer s = src.duplicate().limit((srcFloat + len) * Float.BYTES).position(srcFloat * Float.BYTES);
            dst.duplicate().position(dstFloat * Float.BYTES).put(s);
        }
    }

    /** The segment file's path: it exists only while the group joins (tests check it is gone). */
    Path file() {
        return ownFile;
    }

    /**
     * Unmaps every segment now (not at some garbage collection), and removes the file if a failure left it. Waits for
     * a {@link #run} in progress on another thread (touching an unmapped segment would crash the JVM): the group
     * closes its links first, so that a run waiting at a barrier fails at once.
     */
    @Override
    public synchronized void close() {
        release(maps);
        deleteQuietly(ownFile);
    }

    private static void release(MappedByteBuffer[] maps) {
        for (int k = 0; k < maps.length; k++) {
            if (maps[k] != null) {
                unmap(maps[k]);
                maps[k] = null;
            }
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.warn("cannot remove the shared-memory segment {}: {}", file, e.getMessage());
        }
    }

    /**
     * Releases a mapping at once. Java 17 has no public unmap (the foreign-memory API that has one is final in 22),
     * so this uses the JDK's Unsafe.invokeCleaner; where that is missing the mapping goes with the buffer's collection.
     */
    private static void unmap(MappedByteBuffer b) {
        try {
            Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
            Field f = unsafeClass.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            Method clean = unsafeClass.getMethod("invokeCleaner", ByteBuffer.class);
            clean.invoke(f.get(null), b);
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.debug("cannot unmap a shared-memory segment now ({}); the collector will", e.toString());
        }
    }
}
