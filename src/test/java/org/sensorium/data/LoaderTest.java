package org.sensorium.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.sensorium.modality.Modality;
import org.sensorium.modality.ModalityAdapter;

/** The loader's order, sharding, cursor and skips, with an adapter that just reports which sample it was given. */
class LoaderTest {

    /** Returns the sample's number as its one value; sample "s13" is broken. */
    static final class IdAdapter implements ModalityAdapter {
        @Override
        public Modality modality() {
            return Modality.IMU;
        }

        @Override
        public long[] inputShape() {
            return new long[] {1};
        }

        @Override
        public Item load(ManifestEntry e, Clip clip) throws BadInputException {
            if (e.id().equals("s13")) {
                throw new BadInputException(e.where() + ": s13.csv: broken on purpose");
            }
            return new Item(new float[] {Integer.parseInt(e.id().substring(1))}, inputShape(), null);
        }
    }

    static List<ManifestEntry> entries(int n) {
        List<ManifestEntry> list = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            list.add(new ManifestEntry("s" + i, "train", null,
                    Map.of(Modality.IMU, new ManifestEntry.Source(Path.of("s" + i + ".csv"), 0, Double.NaN)), List.of(),
                    Path.of("m.jsonl"), i + 1));
        }
        return list;
    }

    static List<List<String>> take(Loader l, int batches) throws InterruptedException {
        List<List<String>> out = new ArrayList<>();
        for (int i = 0; i < batches; i++) {
            out.add(l.next().stream().map(d -> d.entry().id()).toList());
        }
        return out;
    }

    static Loader loader(int n, Loader.Cursor start, Loader.Shard shard, SkipLog skips) {
        Map<Modality, ModalityAdapter> adapters = new EnumMap<>(Modality.class);
        adapters.put(Modality.IMU, new IdAdapter());
        return new Loader(entries(n), adapters, 2, 42, 2.0, 2, 2, skips, start, shard);
    }

    @Test
    void shardsSplitEachEpochWithoutOverlap() throws Exception {
        List<String> all = new ArrayList<>();
        for (int rank = 0; rank < 3; rank++) {
            try (Loader l = loader(20, new Loader.Cursor(0, 0), new Loader.Shard(rank, 3), new SkipLog(false))) {
                assertEquals(6, l.samplesPerEpoch());        // 20 / 3 = 6 each, whole batches of 2
                take(l, 3).forEach(all::addAll);
                assertEquals(new Loader.Cursor(1, 0), l.cursor());
            }
        }
        Set<String> distinct = new HashSet<>(all);
        assertEquals(all.size(), distinct.size(), "a sample drawn by two ranks: " + all);
        assertTrue(all.size() >= 17, "18 draws, at most one of them the broken s13: " + all);
    }

    @Test
    void aLoaderStartedAtACursorContinuesTheSameStream() throws Exception {
        List<List<String>> straight;
        Loader.Cursor after2;
        try (Loader l = loader(11, new Loader.Cursor(0, 0), Loader.Shard.SINGLE, new SkipLog(false))) {
            straight = take(l, 2);
            after2 = l.cursor();
            straight = new ArrayList<>(straight);
            straight.addAll(take(l, 5));                      // crosses into epoch 1 (5 batches per epoch)
        }
        assertEquals(new Loader.Cursor(0, 4), after2);
        try (Loader resumed = loader(11, after2, Loader.Shard.SINGLE, new SkipLog(false))) {
            assertEquals(straight.subList(2, 7), take(resumed, 5));
        }
    }

    @Test
    void epochsAreShuffledDifferentlyAndEachSampleOncePerEpoch() throws Exception {
        try (Loader l = loader(10, new Loader.Cursor(0, 0), Loader.Shard.SINGLE, new SkipLog(false))) {
            List<String> e0 = take(l, 5).stream().flatMap(List::stream).toList();
            List<String> e1 = take(l, 5).stream().flatMap(List::stream).toList();
            assertEquals(10, new HashSet<>(e0).size());
            assertEquals(new HashSet<>(e0), new HashSet<>(e1));
            assertNotEquals(e0, e1);
        }
    }

    @Test
    void aBrokenSampleIsSkippedCountedAndNamed() throws Exception {
        SkipLog skips = new SkipLog(false);
        try (Loader l = loader(20, new Loader.Cursor(0, 0), Loader.Shard.SINGLE, skips)) {
            int samples = 0;
            for (List<String> b : take(l, 10)) {
                samples += b.size();
            }
            assertEquals(19, samples);                        // one epoch of 20, s13 skipped
        }
        assertEquals(1, skips.skipped());
        assertTrue(skips.reasons().get("s13").contains("m.jsonl:14 (id=s13): s13.csv: broken on purpose"));
    }
}
