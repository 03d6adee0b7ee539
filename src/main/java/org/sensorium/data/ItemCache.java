package org.sensorium.data;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.sensorium.config.Modality;
import org.sensorium.modality.BadInputException;
import org.sensorium.modality.Clip;
import org.sensorium.modality.Item;
import org.sensorium.modality.ModalityAdapter;
import org.sensorium.modality.Recording;

/**
 * Decoded items kept in memory across epochs (data.cache_mb), for the adapters whose items depend only on the
 * recording and the clip's span ({@link ModalityAdapter#drawsFromSeed} false: audio, motion, IMU without
 * augmentation). The second epoch of the built-in sample set then decodes only what is drawn at random (the video
 * crops, the captions), so the loader's threads take less of the CPU the trainer runs on; the items are the same
 * arrays, so training is unchanged bit for bit. Items are added until the budget is spent and never evicted (a set
 * larger than the budget is cached in part, the rest decoded every epoch); a failed load is not kept (it fails
 * again, and is skipped and counted again, as without the cache). Items are shared: nobody writes into a loaded
 * item's arrays (the batch copies them). Thread-safe.
 */
public final class ItemCache {
    private final long budgetBytes;
    private final Map<Key, Item> items = new ConcurrentHashMap<>();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong hits = new AtomicLong();
    private final AtomicLong misses = new AtomicLong();

    /** @param budgetMb the most memory the kept items' arrays may take; 0 = keep nothing */
    public ItemCache(double budgetMb) {
        this.budgetBytes = (long) (budgetMb * (1 << 20));
    }

    /** One clip of one recording as an adapter decodes it. */
    private record Key(String recording, Modality modality, double start, double seconds, double speed, boolean train) {}

    /** What the cache did: loads answered from memory, loads decoded, items kept and the bytes they take. */
    public record Stats(long hits, long misses, int items, long bytes) {
        @Override
        public String toString() {
            return String.format("%d hits, %d decoded, %d items kept (%.1f MB)", hits, misses, items, bytes / (double) (1 << 20));
        }
    }

    public Stats stats() {
        return new Stats(hits.get(), misses.get(), items.size(), bytes.get());
    }

    /**
     * The adapter itself when its items draw from the seed or the budget is 0, else the adapter answering repeated
     * clips from this cache.
     */
    public ModalityAdapter wrap(ModalityAdapter adapter) {
        if (budgetBytes <= 0 || adapter.drawsFromSeed()) {
            return adapter;
        }
        return new Cached(adapter);
    }

    private final class Cached implements ModalityAdapter {
        private final ModalityAdapter inner;

        Cached(ModalityAdapter inner) {
            this.inner = inner;
        }

        @Override
        public Modality modality() {
            return inner.modality();
        }

        @Override
        public long[] inputShape() {
            return inner.inputShape();
        }

        @Override
        public boolean drawsFromSeed() {
            return false;
        }

        @Override
        public Item load(Recording entry, Clip clip) throws BadInputException {
            Key key = new Key(entry.id(), inner.modality(), clip.start(), clip.seconds(), clip.speed(), clip.train());
            Item kept = items.get(key);
            if (kept != null) {
                hits.incrementAndGet();
                return kept;
            }
            misses.incrementAndGet();
            Item item = inner.load(entry, clip);
            long size = sizeOf(item);
            if (bytes.addAndGet(size) <= budgetBytes) {
                if (items.putIfAbsent(key, item) != null) { // another thread decoded the same clip first
                    bytes.addAndGet(-size);
                }
            } else {
                bytes.addAndGet(-size);
            }
            return item;
        }

        @Override
        public void close() {
            inner.close();
        }
    }

    /** Bytes of an item's arrays: 4 per float, 1 per mask flag, 8 per shape entry. */
    static long sizeOf(Item item) {
        return 4L * item.values().length + (item.valid() == null ? 0 : item.valid().length) + 8L * item.shape().length;
    }
}
