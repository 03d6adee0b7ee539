package org.sensorium.job;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.sensorium.config.Config;
import org.sensorium.config.Modality;
import org.sensorium.data.Batch;
import org.sensorium.data.Loader;
import org.sensorium.data.ManifestEntry;
import org.sensorium.data.Needs;
import org.sensorium.model.SensoriumModel;
import org.sensorium.modality.ModalityAdapter;
import org.sensorium.modality.SkipLog;
import org.sensorium.objective.HeldOut;

/**
 * A run's held-out split as the objectives' measures and the retrieval evaluation read it: each kind of view is
 * decoded once, on data.loader_threads threads, and kept, so that the measures before the first step and after
 * the last see the same clips. Broken samples are skipped into the run's skip log.
 */
final class HeldOutSamples implements HeldOut {
    private final Config cfg;
    private final SensoriumModel model;
    private final NDManager manager;
    private final List<ManifestEntry> split;
    private final Map<Modality, ModalityAdapter> adapters;
    private final Map<Modality, long[]> shapes = new EnumMap<>(Modality.class);
    private final SkipLog skips;
    private final Map<String, List<Batch.Decoded>> decoded = new HashMap<>();

    HeldOutSamples(Config cfg, SensoriumModel model, NDManager manager, List<ManifestEntry> split,
            Map<Modality, ModalityAdapter> adapters, SkipLog skips) {
        this.cfg = cfg;
        this.model = model;
        this.manager = manager;
        this.split = split;
        this.adapters = adapters;
        this.skips = skips;
        adapters.forEach((m, a) -> shapes.put(m, a.inputShape()));
    }

    @Override
    public SensoriumModel model() {
        return model;
    }

    @Override
    public NDManager manager() {
        return manager;
    }

    @Override
    public int batchSize() {
        return cfg.eval().batchSize();
    }

    @Override
    public void seedRandom() {
        Engine.getInstance().setRandomSeed((int) Loader.mix(cfg.run().seed(), -1, 1));
    }

    @Override
    public Map<Modality, long[]> shapes() {
        return shapes;
    }

    @Override
    public List<Batch.Decoded> centred(Set<Modality> modalities, Needs needs) throws InterruptedException {
        // centred clips take only the context of needs (key frames, the future field), never second views or windows
        Needs context = new Needs(Set.of(), List.of(1.0), 1, needs.keyframes(), needs.futureSeconds());
        return cached("centred " + EnumSet.copyOf(modalities) + " " + context, () -> Loader.decodeAll(split, adapters(modalities),
                cfg.data().clipSeconds(), 0, 1, cfg.data().loaderThreads(), cfg.run().seed(), skips, views(context)));
    }

    @Override
    public List<Batch.Decoded> asTrained(Set<Modality> modalities, Needs needs) throws InterruptedException {
        return cached("trained " + EnumSet.copyOf(modalities) + " " + needs, () -> Loader.decodeViewsAll(split, adapters(modalities),
                cfg.data().clipSeconds(), cfg.data().loaderThreads(), cfg.run().seed(), skips, views(needs)));
    }

    /** Evaluation clip k of n of every held-out sample, every modality of the run ({@link Loader#evalClip}). */
    List<Batch.Decoded> evalClips(int k, int n) throws InterruptedException {
        if (n == 1) {
            return centred(shapes.keySet(), Needs.NONE);
        }
        return Loader.decodeAll(split, adapters, cfg.data().clipSeconds(), k, n, cfg.data().loaderThreads(), cfg.run().seed(), skips);
    }

    /** The loader's views of needs; built only when a decode runs, since each holds adapters of its own. */
    private Loader.Views views(Needs needs) {
        return Loader.Views.of(needs, cfg.modalities(), cfg.data().clipSeconds());
    }

    private Map<Modality, ModalityAdapter> adapters(Set<Modality> modalities) {
        Map<Modality, ModalityAdapter> chosen = new EnumMap<>(Modality.class);
        adapters.forEach((m, a) -> {
            if (modalities.contains(m)) {
                chosen.put(m, a);
            }
        });
        return chosen;
    }

    private interface Decoding {
        List<Batch.Decoded> run() throws InterruptedException;
    }

    private List<Batch.Decoded> cached(String key, Decoding d) throws InterruptedException {
        List<Batch.Decoded> got = decoded.get(key);
        if (got == null) {
            got = d.run();
            decoded.put(key, got);
        }
        return got;
    }
}
