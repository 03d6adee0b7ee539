package org.sensorium.job;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import org.sensorium.config.Config;
import org.sensorium.config.Modality;
import org.sensorium.data.LabelCaptions;
import org.sensorium.data.Batch;
import org.sensorium.data.Manifest;
import org.sensorium.data.ManifestEntry;
import org.sensorium.data.SampleSetGenerator;
import org.sensorium.eval.Retrieval;
import org.sensorium.eval.Suite;
import org.sensorium.modality.Adapters;
import org.sensorium.modality.Item;
import org.sensorium.modality.ModalityAdapter;
import org.sensorium.modality.SkipLog;
import org.sensorium.modality.text.TextAdapter;
import org.sensorium.model.SensoriumModel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The samples of an evaluation suite under a run's frozen model. The embedding tasks of a suite often read the
 * same source (a manifest at a clip count): its samples are decoded and embedded once, for every modality any
 * of those tasks wants from it, and shared. Every manifest read is recorded with its sha256 for results.json.
 * Owns one adapter per modality of the run; closing closes them.
 */
final class EvalSamples implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EvalSamples.class);

    /** The training side of a probe or kNN: split "train". */
    static final Predicate<ManifestEntry> TRAIN = e -> e.split().equals("train");
    /** The tested side: every other split (val, test). */
    static final Predicate<ManifestEntry> HELD_OUT = TRAIN.negate();

    /** A source's samples and their embeddings: entries[i] is embedded as rows[m][i] (null where absent or broken). */
    record Embedded(List<ManifestEntry> entries, Map<Modality, float[][]> rows) {
        /** The rows of modality m of the entries the filter keeps that have m and a label. */
        Labelled labelled(Modality m, Predicate<ManifestEntry> keep) {
            List<String> labels = new ArrayList<>();
            List<float[]> x = new ArrayList<>();
            for (int i = 0; i < entries.size(); i++) {
                ManifestEntry e = entries.get(i);
                float[] r = rows.get(m)[i];
                if (r != null && e.label() != null && keep.test(e)) {
                    labels.add(e.label());
                    x.add(r);
                }
            }
            return new Labelled(labels, x.toArray(float[][]::new));
        }
    }

    /** Embeddings (n, E) and their labels (n). */
    record Labelled(List<String> labels, float[][] x) {
        /** Only the rows whose label is one of classes; y[i] = its index. */
        Coded code(List<String> classes) {
            List<float[]> keep = new ArrayList<>();
            List<Integer> y = new ArrayList<>();
            for (int i = 0; i < labels.size(); i++) {
                int c = classes.indexOf(labels.get(i));
                if (c >= 0) {
                    keep.add(x[i]);
                    y.add(c);
                }
            }
            return new Coded(keep.toArray(float[][]::new), y.stream().mapToInt(Integer::intValue).toArray(), labels.size() - y.size());
        }
    }

    /** Embeddings (n, E), their class indices (n) and how many rows had a label outside the classes. */
    record Coded(float[][] x, int[] y, int dropped) {}

    private final Config cfg;
    private final SensoriumModel model;
    private final NDManager root;
    private final SkipLog skips;
    private final Map<Modality, ModalityAdapter> adapters = new EnumMap<>(Modality.class);
    private final Map<String, String> manifests = new LinkedHashMap<>();
    private final Map<String, Embedded> cache = new HashMap<>();
    private final Map<String, Set<Modality>> wanted = new HashMap<>();
    private final Predicate<ManifestEntry> only;
    private final List<ManifestEntry> own; // a shard run's held-out samples, copied out as files; null: read the manifest
    private final boolean ownsAdapters;

    /** @param tasks the tasks that will run; those that share embeddings say which modalities each source needs */
    EvalSamples(Config cfg, SensoriumModel model, NDManager root, SkipLog skips, List<Suite.Task> tasks) {
        this(cfg, model, root, skips, tasks, null, e -> true, null);
    }

    /**
     * @param shared the adapters of a running job (a pretraining run's), used and not closed; null: its own, one per
     *     modality of the run, closed by {@link #close}
     * @param only the entries of a source that are embedded (a pretraining run's evaluation embeds the held-out ones
     *     alone when no task needs the training side)
     * @param own the run's own samples when its manifest is a shard index (the held-out ones, copied out of the shards
     *     as files, label captions applied); null: the run's own source reads its manifest
     */
    EvalSamples(Config cfg, SensoriumModel model, NDManager root, SkipLog skips, List<Suite.Task> tasks,
            Map<Modality, ModalityAdapter> shared, Predicate<ManifestEntry> only, List<ManifestEntry> own) {
        this.cfg = cfg;
        this.model = model;
        this.root = root;
        this.skips = skips;
        this.only = only;
        this.own = own;
        this.ownsAdapters = shared == null;
        if (shared != null) {
            adapters.putAll(shared);
        }
        for (Suite.Task t : tasks) {
            if (Suite.Kind.of(t).sharesEmbeddings()) {
                wanted.computeIfAbsent(t.source().key(t.clips()), k -> new TreeSet<>()).addAll(t.modalities());
            }
        }
        try {
            for (Modality m : ownsAdapters ? cfg.data().modalities() : List.<Modality>of()) {
                adapters.put(m, Adapters.create(m, cfg.modalities(), cfg.data().clipSeconds()));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    Config config() {
        return cfg;
    }

    SensoriumModel model() {
        return model;
    }

    NDManager root() {
        return root;
    }

    SkipLog skips() {
        return skips;
    }

    ModalityAdapter adapter(Modality m) {
        return adapters.get(m);
    }

    /** The sha256 of every manifest read so far, by path, in reading order. */
    Map<String, String> manifests() {
        return manifests;
    }

    /** Records a file a task read besides its manifest (a QA manifest) with its sha256. */
    void recordManifest(Path file, String sha256) {
        manifests.put(file.toString(), sha256);
    }

    /** The manifest a source reads (recorded with its sha256): its file, N generated long recordings, or the run's own. */
    Path manifest(Suite.Source s) throws IOException {
        Path p = s.manifest() != null ? s.manifest()
                : s.synthLong() > 0 ? SampleSetGenerator.ensureLong(Manifest.cacheRoot(cfg.data()), s.synthLong(),
                        cfg.data().synthSegments(), cfg.data().synthSeed())
                : Manifest.forRun(cfg.data());
        manifests.computeIfAbsent(p.toString(), k -> Manifest.sha256(p));
        return p;
    }

    /** The embeddings of a task's source at its clip count, of every modality the suite wants from it (computed once). */
    Embedded embedded(Suite.Task t) throws IOException, InterruptedException {
        String key = t.source().key(t.clips());
        Embedded cached = cache.get(key);
        if (cached != null) {
            return cached;
        }
        boolean runsOwn = t.source().manifest() == null && t.source().synthLong() == 0;
        List<ManifestEntry> entries = runsOwn && own != null ? own.stream().filter(only).toList()
                : Manifest.read(manifest(t.source())).stream().filter(only).toList();
        if (runsOwn && own == null) { // the run's own: with its label captions
            Map<String, ManifestEntry> captioned = new HashMap<>();
            LabelCaptions.forRun(cfg.data(), entries).entries().forEach(e -> captioned.put(e.id(), e));
            entries = entries.stream().map(e -> captioned.getOrDefault(e.id(), e)).toList(); // nothing left out here
        }
        Map<Modality, ModalityAdapter> used = new EnumMap<>(Modality.class);
        wanted.get(key).forEach(m -> used.put(m, adapters.get(m)));
        LOG.info("embedding {} samples of {} ({} clips each): {}", entries.size(), key, t.clips(), used.keySet());
        Retrieval.Embeddings emb = Retrieval.embedClips(model, entries, used, cfg.data().clipSeconds(), t.clips(),
                cfg.data().loaderThreads(), cfg.run().seed(), cfg.eval().batchSize(), skips, root);
        Map<String, Integer> at = new HashMap<>();
        for (int i = 0; i < emb.ids().size(); i++) {
            at.put(emb.ids().get(i), i);
        }
        List<ManifestEntry> kept = entries.stream().filter(e -> at.containsKey(e.id())).toList();
        Map<Modality, float[][]> rows = new EnumMap<>(Modality.class);
        emb.rows().forEach((m, r) -> rows.put(m, kept.stream().map(e -> r[at.get(e.id())]).toArray(float[][]::new)));
        Embedded e = new Embedded(kept, rows);
        cache.put(key, e);
        return e;
    }

    /** Unit embeddings (n, E) of decoded samples of one modality, batch by batch. */
    float[][] embed(List<Batch.Decoded> samples, Modality m) {
        return Retrieval.embed(model, samples, Map.of(m, adapters.get(m).inputShape()), cfg.eval().batchSize(), root).rows().get(m);
    }

    /** Unit text embeddings (n, E) of free texts, through the run's tokenizer and text encoder. */
    float[][] embedTexts(List<String> texts) {
        return embed(texts((TextAdapter) adapters.get(Modality.TEXT), texts), Modality.TEXT);
    }

    /** Free texts as decoded text samples (ids prompt0, prompt1, ...), each through {@link TextAdapter#sample}. */
    static List<Batch.Decoded> texts(TextAdapter adapter, List<String> texts) {
        List<Batch.Decoded> decoded = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            ManifestEntry e = new ManifestEntry("prompt" + i, "test", null, Map.of(), List.of(texts.get(i)), Path.of("prompts"), i + 1);
            decoded.add(new Batch.Decoded(e, Map.of(Modality.TEXT, adapter.sample(texts.get(i))))); // a bag: the text is row 0
        }
        return decoded;
    }

    /** Drops the embeddings computed so far: the model has changed (the next evaluation during pretraining). */
    void forget() {
        cache.clear();
    }

    @Override
    public void close() {
        if (ownsAdapters) {
            adapters.values().forEach(ModalityAdapter::close);
        }
    }
}
