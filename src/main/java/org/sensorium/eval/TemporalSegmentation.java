package org.sensorium.eval;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.sensorium.data.Batch;
import org.sensorium.modality.Clip;
import org.sensorium.data.Loader;
import org.sensorium.data.ManifestEntry;
import org.sensorium.modality.SkipLog;
import org.sensorium.modality.Spans;
import org.sensorium.model.ModelOutput;
import org.sensorium.model.SensoriumModel;
import org.sensorium.config.Modality;
import org.sensorium.modality.ModalityAdapter;
import org.sensorium.model.ModelOutput;

/**
 * Unsupervised temporal activity segmentation of held-out long recordings with a model trained by
 * a {@link Segmenter} (temporal OT): each recording is tiled with clips of data.clip_seconds ({@link #tiles}), or cut into
 * the objective's N windows ({@link #windows}), every frame gets a prototype, and the prototypes are scored against the manifest's segments
 * ({@link Segmentation}: Hungarian matching over all frames of all recordings, MoF, NMI, and the
 * baseline that cuts each recording into K equal parts in order). Two decodings: the argmax of each
 * frame's prototype scores (the representation alone), and the argmax of each sequence's transport plan
 * with the temporal prior at its place (which also uses the order).
 */
public final class TemporalSegmentation {

    /** What segments held-out long recordings: an objective that assigns each frame of a sequence to a prototype. */
    public interface Segmenter {
        /** The modality whose clips are segmented. */
        Modality modality();

        /** Windows of each recording per sequence; 0: the time steps of one clip are the frames. */
        int windows();

        /** K, the prototypes a frame is assigned to. */
        int prototypes();

        /** Each sequence of the batch, in batch order: its frames' times and prototypes. */
        List<Segmented> segment(ModelOutput out, Batch batch);

        /**
         * @param times each frame's time in seconds from the start of the recording's span
         * @param argmax the prototype of each frame by its own scores
         * @param transport the prototype of each frame by the transport plan (which also uses the order)
         */
        record Segmented(double[] times, int[] argmax, int[] transport) {}
    }
    private TemporalSegmentation() {}

    /** Scores of both decodings over the same frames; segment F1 ({@link Segmentation#f1}) of the transport decoding. */
    public record Report(String modality, int recordings, Segmentation.Result argmax, Segmentation.Result transport,
            Map<String, Double> transportF1) {
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("modality", modality);
            m.put("recordings", recordings);
            m.put("argmax", argmax.toMap());
            m.put("transport", transport.toMap());
            m.put("transport_f1", transportF1);
            return m;
        }
    }

    /**
     * One sequence to predict: clips of a recording (time steps: one clip; windows: the recording's N
     * windows) and from which second of the span its frames count.
     */
    record Job(ManifestEntry entry, List<Clip> clips, double countFrom) {}

    /**
     * Time steps: the clips that tile a recording, of clipSeconds from 0, back to back, plus one ending at
     * the span's end when a remainder is left (its frames count from where the one before ended, so no
     * frame counts twice). One clip at 0 when the span is unknown or not longer than a clip.
     */
    static List<Job> tiles(ManifestEntry e, double span, double clipSeconds, long seed) {
        List<Clip> clips = tiling(span, clipSeconds, seed);
        List<Job> out = new ArrayList<>();
        for (int j = 0; j < clips.size(); j++) {
            out.add(new Job(e, List.of(clips.get(j)), j == 0 ? 0 : clips.get(j - 1).start() + clipSeconds));
        }
        return out;
    }

    /**
     * The evaluation clips that tile a span of span seconds: clipSeconds long from 0, back to back, plus one ending
     * at the span's end when a remainder is left (it overlaps the one before); one clip at 0 when the span is
     * unknown (NaN) or not longer than a clip. In time order.
     */
    public static List<Clip> tiling(double span, double clipSeconds, long seed) {
        List<Clip> out = new ArrayList<>();
        if (Double.isNaN(span) || span <= clipSeconds + 1e-9) {
            out.add(new Clip(0, clipSeconds, false, seed));
            return out;
        }
        double at = 0;
        for (; at + clipSeconds <= span + 1e-9; at += clipSeconds) {
            out.add(new Clip(at, clipSeconds, false, seed));
        }
        if (at < span - 1e-9) {
            out.add(new Clip(span - clipSeconds, clipSeconds, false, seed));
        }
        return out;
    }

    /**
     * Clips of recordings (clips[i] of recordings[i]) decoded on the given threads with every adapter whose modality
     * the recording has: per recording its clips in order, each with its start, or null (and a skip) when one of them
     * is broken.
     */
    public static List<List<Batch.Decoded>> decodeClips(List<ManifestEntry> recordings, List<List<Clip>> clips,
            Map<Modality, ModalityAdapter> adapters, int threads, SkipLog skips) throws InterruptedException {
        List<Job> jobs = new ArrayList<>();
        Map<Job, Integer> at = new IdentityHashMap<>();
        for (int i = 0; i < recordings.size(); i++) {
            jobs.add(new Job(recordings.get(i), clips.get(i), 0));
            at.put(jobs.get(i), i);
        }
        List<List<Batch.Decoded>> out = new ArrayList<>(Collections.nCopies(jobs.size(), null));
        for (Done d : decode(jobs, adapters, threads, skips)) {
            out.set(at.get(d.job()), d.clips());
        }
        return out;
    }

    /** Windows: the recording's N evaluation windows ({@link Loader#windowClip}), one sequence. */
    static Job windows(ManifestEntry e, int n, double clipSeconds, long seed) {
        List<Clip> clips = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            clips.add(Loader.windowClip(e, seed, k, n, clipSeconds, false));
        }
        return new Job(e, clips, 0);
    }

    /**
     * Runs the model without gradients over every recording that has segments and the objective's
     * modality (clips decoded on the given threads; a broken recording is skipped and logged).
     *
     * @return null when no frame has a label
     */
    public static Report run(SensoriumModel model, Segmenter tot, List<ManifestEntry> recordings, ModalityAdapter adapter,
            int batchSize, NDManager manager, double clipSeconds, int threads, long seed, SkipLog skips)
            throws InterruptedException {
        Modality m = tot.modality();
        List<Done> done = decode(jobs(tot, recordings, clipSeconds, seed), Map.of(m, adapter), threads, skips);
        Frames frames = new Frames();
        Map<Modality, long[]> shapes = Map.of(m, adapter.inputShape());
        int perBatch = Math.max(1, batchSize / done.stream().mapToInt(d -> d.clips().size()).max().orElse(1));
        for (int from = 0; from < done.size(); from += perBatch) {
            List<Done> chunk = done.subList(from, Math.min(done.size(), from + perBatch));
            List<Batch.Decoded> clips = new ArrayList<>();
            chunk.forEach(d -> clips.addAll(d.clips()));
            List<Segmenter.Segmented> predictions;
            try (NDManager sm = manager.newSubManager()) {
                Batch batch = Batch.collate(sm, clips, shapes);
                predictions = tot.segment(model.forward(batch.inputs(), batch.valid(), false), batch);
            }
            if (predictions.size() != chunk.size()) {
                throw new IllegalStateException(predictions.size() + " sequences predicted for " + chunk.size() + " recordings' clips");
            }
            for (int i = 0; i < chunk.size(); i++) {
                frames.add(chunk.get(i).job(), predictions.get(i), clipSeconds, tot.prototypes());
            }
        }
        if (frames.labels.isEmpty()) {
            return null;
        }
        int[] eq = ints(frames.split);
        return new Report(m.key(), frames.recordings.size(), Segmentation.score(ints(frames.argmax), frames.labels, eq),
                Segmentation.score(ints(frames.transport), frames.labels, eq),
                Segmentation.f1(ints(frames.transport), ClusterMetrics.codes(frames.labels), ints(frames.sequence)));
    }

    /** The sequences to predict for every recording that has segments and the modality. */
    private static List<Job> jobs(Segmenter tot, List<ManifestEntry> recordings, double clipSeconds, long seed) {
        List<Job> jobs = new ArrayList<>();
        for (int i = 0; i < recordings.size(); i++) {
            ManifestEntry e = recordings.get(i);
            if (!e.segments().isEmpty() && e.has(tot.modality())) {
                long s = Loader.mix(seed, -1, i);
                if (tot.windows() > 0) {
                    jobs.add(windows(e, tot.windows(), clipSeconds, s));
                } else {
                    jobs.addAll(tiles(e, Spans.seconds(e.recording()), clipSeconds, s));
                }
            }
        }
        return jobs;
    }

    /** Every scored frame so far: its label, both decodings, its equal-split part; the recordings they come from. */
    private static final class Frames {
        final List<String> labels = new ArrayList<>();
        final List<Integer> argmax = new ArrayList<>(), transport = new ArrayList<>(), split = new ArrayList<>();
        final List<Integer> sequence = new ArrayList<>(); // index of the frame's recording (tiles of one recording come in time order)
        final Set<String> recordings = new HashSet<>();
        final Map<String, Integer> index = new java.util.HashMap<>();

        /** Adds the frames of a prediction that have a label and are not before the job's countFrom. */
        void add(Job job, Segmenter.Segmented p, double clipSeconds, int k) {
            ManifestEntry e = job.entry();
            double span = Spans.seconds(e.recording());
            double length = Double.isNaN(span) || span <= clipSeconds ? clipSeconds : span;
            double[] times = p.times();
            String[] truth = Segmentation.labelsAt(e.segments(), times);
            for (int f = 0; f < times.length; f++) {
                if (truth[f] != null && times[f] >= job.countFrom()) {
                    labels.add(truth[f]);
                    argmax.add(p.argmax()[f]);
                    transport.add(p.transport()[f]);
                    split.add(Math.min(k - 1, (int) (times[f] / length * k))); // equal parts of the recording, in order
                    recordings.add(e.id());
                    sequence.add(index.computeIfAbsent(e.id(), id -> index.size()));
                }
            }
        }
    }

    /** A job and its decoded clips. */
    private record Done(Job job, List<Batch.Decoded> clips) {}

    /** Decodes every job's clips with the adapters (in order, on threads); a job with a broken clip is left out (and logged). */
    private static List<Done> decode(List<Job> jobs, Map<Modality, ModalityAdapter> adapters, int threads, SkipLog skips)
            throws InterruptedException {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<List<Future<Batch.Decoded>>> fs = new ArrayList<>();
            for (Job j : jobs) {
                List<Future<Batch.Decoded>> clips = new ArrayList<>();
                for (Clip c : j.clips()) {
                    clips.add(pool.submit(() -> Loader.decode(j.entry(), c, adapters, skips)));
                }
                fs.add(clips);
            }
            List<Done> out = new ArrayList<>();
            for (int i = 0; i < fs.size(); i++) {
                List<Batch.Decoded> clips = new ArrayList<>();
                for (Future<Batch.Decoded> f : fs.get(i)) {
                    Batch.Decoded d = f.get();
                    if (d == null) {
                        clips = null;
                        break;
                    }
                    clips.add(d);
                }
                if (clips != null) {
                    out.add(new Done(jobs.get(i), clips));
                }
            }
            return out;
        } catch (ExecutionException ex) {
            throw ex.getCause() instanceof RuntimeException re ? re : new IllegalStateException(ex.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    private static int[] ints(List<Integer> x) {
        return x.stream().mapToInt(Integer::intValue).toArray();
    }
}
