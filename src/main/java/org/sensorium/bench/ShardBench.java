package org.sensorium.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.sensorium.config.Config;
import org.sensorium.config.Modality;
import org.sensorium.data.Loader;
import org.sensorium.data.Manifest;
import org.sensorium.data.ManifestEntry;
import org.sensorium.data.ShardWriter;
import org.sensorium.data.Shards;
import org.sensorium.modality.Adapters;
import org.sensorium.modality.ModalityAdapter;
import org.sensorium.modality.SkipLog;

/**
 * The loader from shards against the loader from the same samples' loose files (the run's manifest or sample
 * set, packed into shards here), in one run: samples per second decoded by the training loader, rounds interleaved
 * so background load hits both alike, best round of each; and the memory of streaming a big shard folder.
 */
final class ShardBench {
    private static final int ROUNDS = 3;

    private final Config cfg;
    private final Path work;

    ShardBench(Config cfg, Path work) {
        this.cfg = cfg;
        this.work = work;
    }

    /** Shards / loose samples per second of the training loader (data.loader_threads, the run's modalities). */
    BenchTable.Row throughput(int batches) throws IOException, InterruptedException {
        Path manifest = Manifest.forRun(cfg.data());
        List<ManifestEntry> loose = train(Manifest.read(manifest));
        // shards of ~1/8 of the set, so a pass crosses several shard boundaries as a real run does
        long bytes = 0;
        for (ManifestEntry e : loose) {
            for (var s : e.sources().values()) {
                bytes += Files.size(s.path());
            }
        }
        ShardWriter.write(manifest, work.resolve("shards"), Math.max(1 << 20, bytes / 8));
        Shards shards = Shards.open(work.resolve("shards/index.json"));
        List<ManifestEntry> sharded = train(shards.entries());
        Map<Modality, ModalityAdapter> adapters = new EnumMap<>(Modality.class);
        for (Modality m : cfg.activeModalities()) {
            adapters.put(m, Adapters.create(m, cfg.modalities(), cfg.data().clipSeconds()));
        }
        int micro = cfg.train().microBatch();
        int n = Math.min(batches, loose.size() / micro);
        double bestLoose = 0;
        double bestShards = 0;
        try {
            for (int r = 0; r < ROUNDS; r++) {
                bestLoose = Math.max(bestLoose, samplesPerSecond(loose, null, adapters, micro, n, r));
                bestShards = Math.max(bestShards, samplesPerSecond(sharded, shards, adapters, micro, n, r));
            }
        } finally {
            adapters.values().forEach(ModalityAdapter::close);
        }
        String detail = String.format(Locale.ROOT,
                "batches 2..%d of %d samples, %d decode thread(s), best of %d interleaved rounds: shards %.1f samples/s, loose %.1f samples/s; "
                        + "%d shards, shuffle buffer %d; load average %.2f",
                n, micro, cfg.data().loaderThreads(), ROUNDS, bestShards, bestLoose, shards.shardCount(),
                cfg.data().shuffleBuffer(), ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        return new BenchTable.Row("loader from shards vs loose files", bestShards / bestLoose, false, 0.9, false, detail);
    }

    private double samplesPerSecond(List<ManifestEntry> train, Shards shards, Map<Modality, ModalityAdapter> adapters, int micro,
            int batches, int round) throws InterruptedException {
        try (Loader l = new Loader(train, adapters, micro, cfg.run().seed() + round, cfg.data().clipSeconds(), cfg.data().loaderThreads(),
                cfg.data().prefetchBatches(), new SkipLog(false), new Loader.Cursor(0, 0), Loader.Shard.SINGLE, Loader.Views.NONE,
                shards, cfg.data().shuffleBuffer())) {
            l.next(); // steady state: not the first batch (the pool starting; from shards, the shuffle buffer filling)
            long t0 = System.nanoTime();
            int samples = 0;
            for (int b = 1; b < batches; b++) {
                samples += l.next().size();
            }
            return samples / ((System.nanoTime() - t0) / 1e9);
        }
    }

    private static List<ManifestEntry> train(List<ManifestEntry> all) {
        return all.stream().filter(e -> e.split().equals("train")).toList();
    }

    /**
     * Streams every training sample of a shard index once through the loader (the run's modalities and threads),
     * printing the resident memory after each shard's worth of samples; the row is RSS at the end over RSS after the
     * first shard.
     */
    BenchTable.Row streamMemory(Path index) throws IOException, InterruptedException {
        Shards shards = Shards.open(index);
        // only the run's modalities: a sample's span is the shortest of its sources', so the others would be probed
        // (FFmpeg opens each video, one at a time); every member is still read from the shards and buffered
        List<ManifestEntry> train = train(shards.entries()).stream().map(e -> only(e, cfg.activeModalities())).toList();
        Map<Modality, ModalityAdapter> adapters = new EnumMap<>(Modality.class);
        for (Modality m : cfg.activeModalities()) {
            adapters.put(m, Adapters.create(m, cfg.modalities(), cfg.data().clipSeconds()));
        }
        int micro = cfg.train().microBatch();
        int perShard = Math.max(1, train.size() / Math.max(1, shards.shardCount() - heldOutShards(shards)));
        List<Long> rss = new ArrayList<>();
        long t0 = System.nanoTime();
        long samples = 0;
        try (Loader l = new Loader(train, adapters, micro, cfg.run().seed(), cfg.data().clipSeconds(), cfg.data().loaderThreads(),
                cfg.data().prefetchBatches(), new SkipLog(false), new Loader.Cursor(0, 0), Loader.Shard.SINGLE, Loader.Views.NONE,
                shards, cfg.data().shuffleBuffer())) {
            for (int b = 0; b < l.samplesPerEpoch() / micro; b++) {
                samples += l.next().size();
                if ((long) (b + 1) * micro / perShard > rss.size()) {
                    rss.add(rssBytes());
                    System.out.printf(Locale.ROOT, "  after %d samples (%.1f shards' worth), %.0f s: RSS %.0f MB%n", (b + 1) * micro,
                            (b + 1.0) * micro / perShard, (System.nanoTime() - t0) / 1e9, rss.get(rss.size() - 1) / 1e6);
                }
            }
        } finally {
            adapters.values().forEach(ModalityAdapter::close);
        }
        rss.add(rssBytes());
        String detail = String.format(Locale.ROOT, "%d samples from %d shards (%.1f GB) in %.0f s; RSS after the first shard %.0f MB, "
                        + "at the end %.0f MB, max %.0f MB; load average %.2f",
                samples, shards.shardCount(), shards.bytes() / 1e9, (System.nanoTime() - t0) / 1e9, rss.get(0) / 1e6,
                rss.get(rss.size() - 1) / 1e6, rss.stream().mapToLong(Long::longValue).max().orElse(0) / 1e6,
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        return new BenchTable.Row("streaming RSS end / after first shard", (double) rss.get(rss.size() - 1) / rss.get(0), false, 1.10,
                true, detail);
    }

    private static ManifestEntry only(ManifestEntry e, List<Modality> modalities) {
        Map<Modality, org.sensorium.modality.Recording.Source> kept = new EnumMap<>(Modality.class);
        e.sources().forEach((m, s) -> {
            if (modalities.contains(m)) {
                kept.put(m, s);
            }
        });
        return new ManifestEntry(e.id(), e.split(), e.label(), e.subject(), kept, e.captions(), e.segments(), e.attributes(),
                e.manifest(), e.line());
    }

    private static int heldOutShards(Shards shards) {
        return shards.heldOutShardCount();
    }

    /** Resident set size of this process (Linux /proc/self/status VmRSS). */
    static long rssBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        return -1;
    }
}
