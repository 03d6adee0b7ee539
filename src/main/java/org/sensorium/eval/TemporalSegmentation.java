package org.sensorium.eval;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.sensorium.data.Batch;
import org.sensorium.data.Clip;
import org.sensorium.data.Loader;
import org.sensorium.data.ManifestEntry;
import org.sensorium.data.SkipLog;
import org.sensorium.data.Spans;
import org.sensorium.model.ModelOutput;
import org.sensorium.model.SensoriumModel;
import org.sensorium.modality.Modality;
import org.sensorium.modality.ModalityAdapter;
import org.sensorium.objective.TemporalOt;

/**
 * Unsupervised temporal activity segmentation of held-out long recordings with a model trained by
 * {@link TemporalOt}: each recording is tiled with windows of data.clip_seconds ({@link #windows}), every
 * frame gets a prototype, and the prototypes are scored against the manifest's segments
 * ({@link Segmentation}: Hungarian matching over all frames of all recordings, MoF, NMI, and the
 * baseline that cuts each recording into K equal parts in order). Two decodings: the argmax of each
 * frame's prototype scores (the representation alone), and the argmax of each window's transport plan
 * with the temporal prior at the window's place (which also uses the order).
 */
public final class TemporalSegmentation {
    private TemporalSegmentation() {}

    /** Scores of both decodings over the same frames. */
    public record Report(String modality, int recordings, Segmentation.Result argmax, Segmentation.Result transport) {
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("modality", modality);
            m.put("recordings", recordings);
            m.put("argmax", argmax.toMap());
            m.put("transport", transport.toMap());
            return m;
        }
    }

    /** One evaluation window of a recording: its clip, and from which second of the span its frames count. */
    record Window(ManifestEntry entry, double start, double countFrom) {}

    /**
     * The windows that tile a recording: clips of clipSeconds from 0, back to back, plus one ending at
     * the span's end when a remainder is left (its frames count from where the one before ended, so no
     * frame counts twice). One window at 0 when the span is unknown or not longer than a clip.
     */
    static List<Window> windows(ManifestEntry e, double span, double clipSeconds) {
        List<Window> out = new ArrayList<>();
        if (Double.isNaN(span) || span <= clipSeconds + 1e-9) {
            out.add(new Window(e, 0, 0));
            return out;
        }
        double at = 0;
        for (; at + clipSeconds <= span + 1e-9; at += clipSeconds) {
            out.add(new Window(e, at, at));
        }
        if (at < span - 1e-9) {
            out.add(new Window(e, span - clipSeconds, at));
        }
        return out;
    }

    /**
     * Runs the model without gradients over every window of every recording that has segments (windows
     * decoded on the given threads; a broken recording is skipped and logged).
     *
     * @return null when no frame has a label
     */
    public static Report run(SensoriumModel model, TemporalOt tot, List<ManifestEntry> recordings, ModalityAdapter adapter,
            int batchSize, NDManager manager, double clipSeconds, int threads, long seed, SkipLog skips)
            throws InterruptedException {
        Modality m = tot.modality();
        List<Window> windows = new ArrayList<>();
        for (ManifestEntry e : recordings) {
            if (!e.segments().isEmpty() && e.has(m)) {
                windows.addAll(windows(e, Spans.seconds(e), clipSeconds));
            }
        }
        List<Done> decoded = decode(windows, m, adapter, clipSeconds, threads, seed, skips);
        List<Integer> argmax = new ArrayList<>(), transport = new ArrayList<>(), split = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        Set<String> scored = new HashSet<>();
        int t = tot.steps(), k = tot.prototypes();
        Map<Modality, long[]> shapes = Map.of(m, adapter.inputShape());
        for (int from = 0; from < decoded.size(); from += batchSize) {
            List<Done> chunk = decoded.subList(from, Math.min(decoded.size(), from + batchSize));
            TemporalOt.Prediction p;
            try (NDManager sm = manager.newSubManager()) {
                Batch batch = Batch.collate(sm, chunk.stream().map(Done::decoded).toList(), shapes);
                ModelOutput out = model.forward(batch, false);
                p = tot.predict(out, batch);
            }
            for (int i = 0; i < chunk.size(); i++) {
                Batch.Decoded d = chunk.get(i).decoded();
                Window w = chunk.get(i).window();
                if (p.argmax()[i] == null) {
                    continue;
                }
                double span = Spans.seconds(d.entry());
                double length = Double.isNaN(span) || span <= clipSeconds ? clipSeconds : span;
                String[] truth = Segmentation.frameLabels(d.entry().segments(), d.start(), clipSeconds, t);
                for (int f = 0; f < t; f++) {
                    double time = d.start() + (f + 0.5) * clipSeconds / t;
                    if (truth[f] != null && time >= w.countFrom()) {
                        labels.add(truth[f]);
                        argmax.add(p.argmax()[i][f]);
                        transport.add(p.transport()[i][f]);
                        split.add(Math.min(k - 1, (int) (time / length * k))); // equal parts of the recording, in order
                        scored.add(d.entry().id());
                    }
                }
            }
        }
        if (labels.isEmpty()) {
            return null;
        }
        int[] eq = ints(split);
        return new Report(m.key(), scored.size(), Segmentation.score(ints(argmax), labels, eq),
                Segmentation.score(ints(transport), labels, eq));
    }

    /** A window and its decoded clip. */
    private record Done(Window window, Batch.Decoded decoded) {}

    /** Decodes every window (in order, on threads); broken ones are left out and logged. */
    private static List<Done> decode(List<Window> windows, Modality m, ModalityAdapter adapter, double clipSeconds,
            int threads, long seed, SkipLog skips) throws InterruptedException {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Batch.Decoded>> fs = new ArrayList<>();
            for (int i = 0; i < windows.size(); i++) {
                Window w = windows.get(i);
                Clip clip = new Clip(w.start(), clipSeconds, false, Loader.mix(seed, -1, i));
                fs.add(pool.submit(() -> Loader.decode(w.entry(), clip, Map.of(m, adapter), skips)));
            }
            List<Done> out = new ArrayList<>();
            for (int i = 0; i < fs.size(); i++) {
                Batch.Decoded d = fs.get(i).get();
                if (d != null) {
                    out.add(new Done(windows.get(i), d));
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
