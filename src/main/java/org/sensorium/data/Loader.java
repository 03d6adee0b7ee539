package org.sensorium.data;

import org.sensorium.modality.Spans;
import org.sensorium.modality.SkipLog;
import org.sensorium.modality.text.DocumentSpans;
import org.sensorium.modality.text.TextAdapter;
import org.sensorium.modality.BadInputException;
import org.sensorium.modality.Item;
import org.sensorium.modality.Clip;
import org.sensorium.modality.Recording;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.sensorium.config.Modality;
import org.sensorium.modality.ModalityAdapter;
import org.sensorium.modality.video.MotionAdapter;
import org.sensorium.modality.video.VideoAdapter;
import org.sensorium.config.ModalitySpecs;

/**
 * Feeds training micro-batches: a deterministic shuffle per epoch from (seed, epoch), samples
 * decoded on a pool of threads up to prefetch micro-batches ahead, results consumed in order, so
 * the stream of batches depends only on the seed and the cursor, never on thread timing. The last
 * incomplete micro-batch of an epoch is dropped (contrastive losses want full batches). A broken
 * sample is skipped (the micro-batch is then smaller) and recorded in the {@link SkipLog}. From tar shards
 * ({@link Shards}), the epoch's order is the shard stream's instead ({@link ShardStream}: shards in a seeded order
 * through a bounded shuffle buffer); everything else, the cursor included, is the same.
 */
public final class Loader implements AutoCloseable {
    /** Where the stream is: the next sample is this shard's position-th of epoch's permutation. Saved in checkpoints. */
    public record Cursor(int epoch, int position) {}

    /**
     * This worker's share of every epoch: rank r of w takes permutation positions r, r + w, r + 2w, ...
     * (PyTorch's DistributedSampler), every rank the same count, the remainder dropped. All ranks
     * shuffle with the same (seed, epoch), so together they see each sample at most once per epoch.
     */
    public record Shard(int rank, int worldSize) {
        public static final Shard SINGLE = new Shard(0, 1);

        public Shard {
            if (worldSize < 1 || rank < 0 || rank >= worldSize) {
                throw new IllegalArgumentException("rank " + rank + " is not in [0, " + worldSize + ")");
            }
        }

        /** Index into the epoch's permutation of this shard's i-th sample. */
        int global(int i) {
            return i * worldSize + rank;
        }
    }

    private final List<ManifestEntry> entries;
    private final Map<Modality, ModalityAdapter> adapters;
    private final int microBatch, ahead;
    private final Shard shard;
    private final long seed;
    private final double clipSeconds;
    private final SkipLog skips;
    private final Views views;
    private final ExecutorService pool;
    private final ArrayDeque<Future<List<Batch.Decoded>>> queue = new ArrayDeque<>();
    private Cursor cursor;   // next sample handed to the trainer
    private Cursor submitted; // next sample submitted for decoding
    private int[] permutation;
    private int permutationEpoch = -1;
    private final ShardStream stream; // null: loose files

    public Loader(List<ManifestEntry> entries, Map<Modality, ModalityAdapter> adapters, int microBatch, long seed,
            double clipSeconds, int threads, int prefetchBatches, SkipLog skips, Cursor start, Shard shard) {
        this(entries, adapters, microBatch, seed, clipSeconds, threads, prefetchBatches, skips, start, shard, Views.NONE);
    }

    /**
     * How samples are decoded besides their main clip: what the objectives need ({@link Needs}), and the adapters
     * of the context the loader builds for it (the key frame as a static video clip, the future motion field).
     */
    public record Views(Needs needs, VideoAdapter keyframes, MotionAdapter future) {
        public static final Views NONE = new Views(Needs.NONE, null, null);

        /** The views of needs, with the adapters their context takes from the run's modality specs. */
        public static Views of(Needs needs, ModalitySpecs specs, double clipSeconds) {
            return new Views(needs, needs.keyframes() ? new VideoAdapter(specs.video(), clipSeconds) : null,
                    needs.futureSeconds() > 0 ? new MotionAdapter(specs.motion(), needs.futureSeconds()) : null);
        }

        int windows() {
            return needs.windows();
        }
    }

    /**
     * @param views what is decoded besides each main clip: second views (two-view objectives: SimCLR, CVRL,
     *     RSPNet; the second clip starts at a gap drawn by {@link #secondClip}, has its own augmentation seed
     *     and, for video, a playback speed drawn from the needs' speeds), windows, and the main clip's
     *     compressed-video context ({@link #withContext})
     */
    public Loader(List<ManifestEntry> entries, Map<Modality, ModalityAdapter> adapters, int microBatch, long seed,
            double clipSeconds, int threads, int prefetchBatches, SkipLog skips, Cursor start, Shard shard,
            Views views) {
        this(entries, adapters, microBatch, seed, clipSeconds, threads, prefetchBatches, skips, start, shard, views, null, 0);
    }

    /**
     * @param shards the shard folder entries come from, streamed through a shuffle buffer of shuffleBuffer samples
     *     ({@link ShardStream}: the epoch's order is the buffer's, not a permutation of the whole set); null for loose files
     */
    public Loader(List<ManifestEntry> entries, Map<Modality, ModalityAdapter> adapters, int microBatch, long seed,
            double clipSeconds, int threads, int prefetchBatches, SkipLog skips, Cursor start, Shard shard,
            Views views, Shards shards, int shuffleBuffer) {
        if (entries.size() / shard.worldSize() < microBatch) {
            throw new ManifestException("the training split has " + entries.size() + " samples: fewer than one micro-batch of "
                    + microBatch + " for each of " + shard.worldSize() + " worker(s)");
        }
        this.shard = shard;
        this.entries = List.copyOf(entries);
        this.adapters = adapters;
        this.microBatch = microBatch;
        this.ahead = microBatch * prefetchBatches;
        this.seed = seed;
        this.clipSeconds = clipSeconds;
        this.skips = skips;
        this.views = views;
        this.stream = shards == null ? null : new ShardStream(shards, this.entries, shuffleBuffer, seed);
        this.pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "sensorium-loader");
            t.setDaemon(true);
            return t;
        });
        // a cursor from a group of another size may point past this shard's epoch (whole micro-batches): next epoch
        Cursor c = start.position() >= samplesPerEpoch() ? new Cursor(start.epoch() + 1, 0) : start;
        this.cursor = c;
        this.submitted = c;
    }

    public Cursor cursor() {
        return cursor;
    }

    /** Samples this shard uses per epoch (whole micro-batches). */
    public int samplesPerEpoch() {
        return entries.size() / shard.worldSize() / microBatch * microBatch;
    }

    /**
     * The next micro-batch's decoded samples (fewer than microBatch when some were skipped; with windows,
     * each sample's windows one after the other); blocks on decoding.
     */
    public List<Batch.Decoded> next() throws InterruptedException {
        fill();
        List<Batch.Decoded> out = new ArrayList<>(microBatch * views.windows());
        for (int i = 0; i < microBatch; i++) {
            Future<List<Batch.Decoded>> f = queue.poll();
            try {
                out.addAll(f.get());
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RuntimeException re) {
                    throw re;
                }
                throw new IllegalStateException(e.getCause());
            }
            cursor = advance(cursor);
        }
        fill();
        return out;
    }

    private void fill() {
        while (queue.size() < ahead) {
            Cursor c = submitted;
            int global = shard.global(c.position());
            int index = permutation(c.epoch())[global];
            long sampleSeed = mix(seed, c.epoch(), global);
            if (stream == null) {
                ManifestEntry e = entries.get(index);
                queue.add(pool.submit(() -> decodeSample(e, sampleSeed)));
            } else {
                if (stream.epoch() != c.epoch()) {
                    stream.begin(c.epoch(), needed(c));
                }
                ShardStream.Sample s = stream.take(index);
                queue.add(pool.submit(() -> stream.withFiles(s, e -> decodeSample(e, sampleSeed), skips, List.<Batch.Decoded>of())));
            }
            submitted = advance(c);
        }
    }

    private List<Batch.Decoded> decodeSample(ManifestEntry e, long sampleSeed) {
        return views.windows() > 1 ? decodeWindows(e, sampleSeed) : one(decodeViews(e, sampleSeed, adapters, clipSeconds, views, skips));
    }

    /** Which entries this shard still takes in c's epoch, from c on (the stream holds those and skips the rest). */
    private boolean[] needed(Cursor c) {
        boolean[] needed = new boolean[entries.size()];
        int[] p = permutation(c.epoch());
        for (int i = c.position(); i < samplesPerEpoch(); i++) {
            needed[p[shard.global(i)]] = true;
        }
        return needed;
    }

    private static List<Batch.Decoded> one(Batch.Decoded d) {
        return d == null ? List.of() : List.of(d);
    }

    /** The sample's windows (training clips, in time order); none when any is broken. */
    private List<Batch.Decoded> decodeWindows(ManifestEntry e, long sampleSeed) {
        int n = views.windows();
        List<Batch.Decoded> out = new ArrayList<>(n);
        for (int k = 0; k < n; k++) {
            Batch.Decoded d = decode(e, windowClip(e, mix(sampleSeed, 4, k), k, n, clipSeconds, true), adapters, skips);
            if (d == null) {
                return List.of();
            }
            out.add(d);
        }
        return out;
    }

    /**
     * Window k of n of a sample: the room for a clip's start (the span's slack) is cut into n equal
     * parts and window k starts in part k, at a point drawn from the seed for training, in its middle
     * for evaluation (where windows are {@link #evalClip}s). Windows are in time order and together
     * cover the span; spans of unknown length give n clips at 0.
     */
    public static Clip windowClip(ManifestEntry e, long seed, int k, int n, double clipSeconds, boolean train) {
        double slack = slack(e, clipSeconds);
        double u = train ? new SplittableRandom(seed).nextDouble() : 0.5;
        return new Clip(slack * (k + u) / n, clipSeconds, train, seed);
    }

    /**
     * The sample's training clip, plus the second views when a two-view objective is on and the clip's
     * compressed-video context when those objectives are on; null when broken.
     */
    static Batch.Decoded decodeViews(ManifestEntry e, long sampleSeed, Map<Modality, ModalityAdapter> adapters,
            double clipSeconds, Views views, SkipLog skips) {
        Clip first = clip(e, sampleSeed, true, clipSeconds);
        Batch.Decoded d = decode(e, first, adapters, skips);
        if (d != null && !views.needs().secondViews().isEmpty()) {
            Map<Modality, ModalityAdapter> chosen = new EnumMap<>(Modality.class);
            views.needs().secondViews().forEach(m -> {
                if (adapters.containsKey(m)) {
                    chosen.put(m, adapters.get(m));
                }
            });
            long seed2 = mix(sampleSeed, 2, 0);
            List<Double> speeds = views.needs().speeds();
            double speed = speeds.get(new SplittableRandom(mix(seed2, 3, 0)).nextInt(speeds.size()));
            Clip other = secondClip(e, first, seed2, clipSeconds, speed);
            Batch.Decoded second = decode(e, other, chosen, skips);
            d = second == null ? null : d.with(Batch.Extra.SECOND_VIEW,
                    new Batch.Decoded(e, second.items(), other.start(), speed, Map.of()));
        }
        if (d != null && views.needs().spanWords() > 0 && adapters.get(Modality.TEXT) instanceof TextAdapter text) {
            d = withSpans(d, text, views.needs().spanWords(), mix(sampleSeed, 5, 0), skips);
        }
        return d == null ? null : withContext(d, first, views, skips);
    }

    /**
     * The decoded sample with DeCLUTR's anchor and positive spans of its recording's text document added
     * ({@link DocumentSpans}, drawn with seed); a document shorter than minWords words adds none (the objective
     * masks the sample out); an unreadable subtitle file makes the sample broken: null, and a skip.
     */
    static Batch.Decoded withSpans(Batch.Decoded d, TextAdapter text, int minWords, long seed, SkipLog skips) {
        ManifestEntry e = d.entry();
        try {
            String document = text.document(e.recording()).strip();
            List<String> words = document.isEmpty() ? List.of() : List.of(document.split("\\s+"));
            if (words.size() < minWords) {
                return d;
            }
            DocumentSpans.Pair p = DocumentSpans.draw(words.size(), minWords, new SplittableRandom(seed));
            return d.with(Batch.Extra.SPAN_ANCHOR, new Batch.Decoded(e, Map.of(Modality.TEXT, text.encode(p.anchor().of(words)))))
                    .with(Batch.Extra.SPAN_POSITIVE, new Batch.Decoded(e, Map.of(Modality.TEXT, text.encode(p.positive().of(words)))));
        } catch (BadInputException ex) {
            skips.skip(e.id(), ex);
            return null;
        }
    }

    /**
     * The decoded sample with its clip's compressed-video context added, as views asks: the key frame of the
     * clip's group of pictures, the motion field right after the clip. A sample whose recording has no key frame
     * there, or ends before the future window does, keeps a null there (its objectives mask it out); a
     * recording that fails to decode makes the sample broken: null, and a skip.
     */
    public static Batch.Decoded withContext(Batch.Decoded d, Clip clip, Views views, SkipLog skips) {
        if (views.keyframes() == null && views.future() == null) {
            return d;
        }
        ManifestEntry e = d.entry();
        try {
            Item keyframe = views.keyframes() != null && e.has(Modality.VIDEO) ? views.keyframes().keyframeClip(e.recording(), clip) : null;
            Item future = views.future() != null && e.has(Modality.MOTION)
                    ? futureMotion(e, clip, views.future(), views.needs().futureSeconds()) : null;
            Batch.Decoded out = d;
            if (keyframe != null) {
                out = out.with(Batch.Extra.KEYFRAME, new Batch.Decoded(e, Map.of(Modality.VIDEO, keyframe), clip.start()));
            }
            if (future != null) {
                out = out.with(Batch.Extra.FUTURE_MOTION, new Batch.Decoded(e, Map.of(Modality.MOTION, future), clip.start()));
            }
            return out;
        } catch (BadInputException ex) {
            skips.skip(e.id(), ex);
            return null;
        }
    }

    /**
     * The motion field of [end, end + seconds) of the recording, end the clip's last instant (its start plus
     * seconds x speed of recording), from the adapter (built for that many seconds); null when the motion
     * source's span ends before the window does, or its length is unknown. Never past the span: FFmpeg would
     * repeat the last frame there, a made-up future.
     */
    public static Item futureMotion(ManifestEntry e, Clip clip, MotionAdapter adapter, double seconds) throws BadInputException {
        double from = clip.start() + clip.seconds() * clip.speed();
        double span = Spans.seconds(Modality.MOTION, e.sources().get(Modality.MOTION));
        if (Double.isNaN(span) || from + seconds > span + 1e-6) {
            return null;
        }
        return adapter.loadTarget(e.recording(), new Clip(from, seconds, clip.train(), clip.seed()));
    }

    /**
     * A second training clip for two-view objectives, after CVRL's temporal sampling: the gap between
     * the two clips' starts is drawn from a density falling linearly from 0 to the span's slack
     * (p(g) = 2 (1 - g / slack) / slack, inverse CDF g = slack (1 - sqrt(1 - u))), so nearby clips are
     * likelier than distant ones; the second clip goes after or before the first, whichever fits
     * (a coin decides when both do). Its own seed gives it its own augmentation.
     */
    public static Clip secondClip(ManifestEntry e, Clip first, long seed, double clipSeconds, double speed) {
        double slack = slack(e, clipSeconds * speed); // a faster clip covers more of the recording
        SplittableRandom r = new SplittableRandom(seed);
        double gap = slack * (1 - Math.sqrt(1 - r.nextDouble()));
        boolean after = first.start() + gap <= slack;
        boolean before = first.start() - gap >= 0;
        double start = after && before ? (r.nextBoolean() ? first.start() + gap : first.start() - gap)
                : after ? first.start() + gap : before ? first.start() - gap : Math.min(slack, first.start() + gap);
        return new Clip(Math.max(0, start), clipSeconds, true, seed, speed);
    }

    private Cursor advance(Cursor c) {
        int next = c.position() + 1;
        return next < samplesPerEpoch() ? new Cursor(c.epoch(), next) : new Cursor(c.epoch() + 1, 0);
    }

    private int[] permutation(int epoch) {
        if (epoch != permutationEpoch) {
            permutation = stream != null ? stream.order(epoch) : shuffle(entries.size(), mix(seed, epoch, -1));
            permutationEpoch = epoch;
        }
        return permutation;
    }

    /** Fisher-Yates shuffle of 0..n-1 from a seed. */
    static int[] shuffle(int n, long seed) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int tmp = p[i];
            p[i] = p[j];
            p[j] = tmp;
        }
        return p;
    }

    /**
     * The clip of a sample: training clips start at a random point of the span (see {@link Spans})
     * when it is longer than the clip; evaluation clips are centred. Spans of unknown length start at 0.
     */
    public static Clip clip(ManifestEntry e, long seed, boolean train, double clipSeconds) {
        double slack = slack(e, clipSeconds);
        double start = train ? new SplittableRandom(seed).nextDouble() * slack : slack / 2;
        return new Clip(start, clipSeconds, train, seed);
    }

    /**
     * Evaluation clip k of n: clips evenly spaced over the span, clip k centred at (k + 1/2) / n of the
     * room left for a clip's start (n = 1 is the centred clip). Short spans give n equal clips.
     */
    public static Clip evalClip(ManifestEntry e, long seed, int k, int n, double clipSeconds) {
        double slack = slack(e, clipSeconds);
        return new Clip(slack * (k + 0.5) / n, clipSeconds, false, seed);
    }

    private static double slack(ManifestEntry e, double clipSeconds) {
        double span = Spans.seconds(e.recording());
        return Double.isNaN(span) ? 0 : Math.max(0, span - clipSeconds);
    }

    /** Decodes every modality the run uses that the entry has; null (and a skip) if any recording is broken. */
    public static Batch.Decoded decode(ManifestEntry e, Clip clip, Map<Modality, ModalityAdapter> adapters,
            SkipLog skips) {
        Map<Modality, Item> items = new EnumMap<>(Modality.class);
        Recording r = e.recording();
        try {
            for (Map.Entry<Modality, ModalityAdapter> a : adapters.entrySet()) {
                if (e.has(a.getKey())) {
                    items.put(a.getKey(), a.getValue().load(r, clip));
                }
            }
        } catch (BadInputException ex) {
            skips.skip(e.id(), ex);
            return null;
        }
        return new Batch.Decoded(e, items, clip.start());
    }

    /**
     * Decodes a whole split for evaluation, clip k of n of every sample ({@link #evalClip}), in order, on
     * the given number of threads; broken samples are skipped.
     */
    public static List<Batch.Decoded> decodeAll(List<ManifestEntry> split, Map<Modality, ModalityAdapter> adapters,
            double clipSeconds, int k, int n, int threads, long seed, SkipLog skips) throws InterruptedException {
        return decodeAll(split, adapters, clipSeconds, k, n, threads, seed, skips, Views.NONE);
    }

    /** {@link #decodeAll}, each clip with its compressed-video context as views asks ({@link #withContext}; no second views). */
    public static List<Batch.Decoded> decodeAll(List<ManifestEntry> split, Map<Modality, ModalityAdapter> adapters,
            double clipSeconds, int k, int n, int threads, long seed, SkipLog skips, Views views)
            throws InterruptedException {
        return decodeEach(split, threads, (i, e) -> {
            Clip c = evalClip(e, mix(seed, -1 - k, i), k, n, clipSeconds);
            Batch.Decoded d = decode(e, c, adapters, skips);
            return d == null ? null : withContext(d, c, views, skips);
        });
    }

    /**
     * Training views of a whole split, for held-out measures of the two-view objectives: sample i's training clip
     * (augmented) and its second views, drawn as training draws them but from seed mix(seed, -9, i), so every call
     * gives the same clips; in order, broken samples skipped.
     */
    public static List<Batch.Decoded> decodeViewsAll(List<ManifestEntry> split, Map<Modality, ModalityAdapter> adapters,
            double clipSeconds, int threads, long seed, SkipLog skips, Views views) throws InterruptedException {
        return decodeEach(split, threads, (i, e) -> decodeViews(e, mix(seed, -9, i), adapters, clipSeconds, views, skips));
    }

    /** decodeOne(i, split[i]) for every sample on a pool of threads; the non-null results, in split order. */
    private static List<Batch.Decoded> decodeEach(List<ManifestEntry> split, int threads,
            java.util.function.BiFunction<Integer, ManifestEntry, Batch.Decoded> decodeOne) throws InterruptedException {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Batch.Decoded>> fs = new ArrayList<>();
            for (int i = 0; i < split.size(); i++) {
                int index = i;
                fs.add(pool.submit(() -> decodeOne.apply(index, split.get(index))));
            }
            List<Batch.Decoded> out = new ArrayList<>();
            for (Future<Batch.Decoded> f : fs) {
                Batch.Decoded d = f.get();
                if (d != null) {
                    out.add(d);
                }
            }
            return out;
        } catch (ExecutionException ex) {
            throw ex.getCause() instanceof RuntimeException re ? re : new IllegalStateException(ex.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    /** A 64-bit seed from (seed, a, b) (SplitMix64 finaliser), so nearby inputs give unrelated streams. */
    public static long mix(long seed, long a, long b) {
        long z = seed * 0x9E3779B97F4A7C15L + a * 0xBF58476D1CE4E5B9L + b * 0x94D049BB133111EBL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    @Override
    public void close() {
        pool.shutdownNow();
        if (stream != null) {
            try {
                pool.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS); // decodes in flight hold temporary files
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            stream.close();
        }
    }
}
