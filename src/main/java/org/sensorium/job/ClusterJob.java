package org.sensorium.job;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.data.Batch;
import org.sensorium.data.Loader;
import org.sensorium.data.Manifest;
import org.sensorium.data.ManifestEntry;
import org.sensorium.data.PseudoLabelFile;
import org.sensorium.modality.SkipLog;
import org.sensorium.eval.ClusterMetrics;
import org.sensorium.eval.Retrieval;
import org.sensorium.model.SensoriumModel;
import org.sensorium.modality.Adapters;
import org.sensorium.config.Modality;
import org.sensorium.modality.ModalityAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code sensorium cluster}: the offline step of cross-modal deep clustering (XDC, Alwassel et al. 2020,
 * after DeepCluster): embed one modality of every manifest sample that has it with a checkpoint's
 * encoder (centred clip, both splits), run k-means++ on the unit embeddings, and write the clusters as
 * pseudo-labels ({@link PseudoLabelFile}) that the pseudo-label objective teaches another modality to
 * predict. Scored against the manifest's labels (NMI, purity), train and held-out apart.
 */
public final class ClusterJob {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterJob.class);
    private static final int CHUNK = 256; // samples decoded at a time: decoded clips of a large manifest never sit in memory at once

    private ClusterJob() {}

    /**
     * @param checkpoint a run folder (its newest checkpoint) or a checkpoint folder
     * @param seed seeds k-means++ (null: the run's run.seed)
     * @param iterations most Lloyd iterations after the k-means++ seeding
     * @param out the pseudo-label file (null: RUN/clusters/&lt;modality&gt;-k&lt;K&gt;-step&lt;N&gt;.jsonl)
     * @param sets --set overrides of the run's config (e.g. data.manifest, eval.batch_size)
     */
    public record Options(Path checkpoint, Modality modality, int k, Long seed, int iterations, Path out, List<String> sets) {}

    /** What a clustering produced; scores by group ("train", "held-out") over the samples with a label. */
    public record Result(Path out, Path checkpoint, int step, Modality modality, int k, int samples, double inertia,
            int[] sizes, Map<String, ClusterMetrics.Score> scores, Map<String, String> skipped) {}

    /** Embedded samples, in manifest order: entries[i] has the embedding points[i] (E). */
    record Embedded(List<ManifestEntry> entries, List<double[]> points) {}

    public static Result run(Options o) throws IOException, InterruptedException {
        if (o.k() < 2) {
            throw new ConfigException("--k", o.k() + " must be >= 2");
        }
        if (o.iterations() < 1) {
            throw new ConfigException("--iterations", o.iterations() + " must be >= 1");
        }
        TrainedRun run = TrainedRun.open(o.checkpoint(), o.sets());
        Config cfg = run.config();
        Modality m = o.modality();
        if (!cfg.data().modalities().contains(m)) {
            throw new ConfigException("--modality", m.key() + " is not in the run's data.modalities " + cfg.data().modalities());
        }
        long seed = o.seed() == null ? cfg.run().seed() : o.seed();
        Path manifest = Manifest.forRun(cfg.data());
        List<ManifestEntry> entries = Manifest.read(manifest).stream().filter(e -> e.has(m)).toList();
        if (entries.size() < o.k()) {
            throw new ConfigException("--k", o.k() + " clusters but only " + entries.size() + " samples of " + manifest + " have " + m.key());
        }
        SkipLog skips = new SkipLog(cfg.run().strict());
        Embedded emb;
        ModalityAdapter adapter = Adapters.create(m, cfg.modalities(), cfg.data().clipSeconds());
        try (NDManager root = NDManager.newBaseManager();
                TrainedRun.Loaded loaded = run.load(root, false, false)) { // objective parameters of the run are not needed
            emb = embed(loaded.model(), cfg, m, adapter, entries, seed, skips, root);
        } finally {
            adapter.close();
        }
        int n = emb.points().size();
        if (n < o.k()) {
            throw new ConfigException("--k", o.k() + " clusters but only " + n + " samples decoded (" + skips.reasons().size() + " broken)");
        }
        LOG.info("k-means++ on {} {} embeddings, k = {}", n, m.key(), o.k());
        ClusterMetrics.KMeans km = ClusterMetrics.kmeans(emb.points(), o.k(), o.iterations(), seed);
        Map<String, ClusterMetrics.Score> scores = scores(emb.entries(), km.assigned(), seed);
        Path out = o.out() != null ? o.out()
                : run.runDir().resolve("clusters").resolve(String.format("%s-k%d-step%07d.jsonl", m.key(), o.k(), run.step()));
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("checkpoint", run.checkpoint().toString());
        summary.put("step", run.step());
        summary.put("manifest", manifest.toString());
        summary.put("manifest_sha256", Manifest.sha256(manifest));
        summary.put("seed", seed);
        summary.put("iterations", o.iterations());
        summary.put("samples", n);
        summary.put("skipped", skips.reasons().size());
        summary.put("inertia", km.inertia());
        summary.put("sizes", km.sizes());
        Map<String, Object> nmi = new LinkedHashMap<>();
        scores.forEach((group, s) -> nmi.put(group, s.toMap()));
        summary.put("scores", nmi);
        List<String> ids = emb.entries().stream().map(ManifestEntry::id).toList();
        PseudoLabelFile.write(out, m, o.k(), summary, ids, km.assigned());
        return new Result(out, run.checkpoint(), run.step(), m, o.k(), n, km.inertia(), km.sizes(), scores, skips.reasons());
    }

    /** Unit embeddings (E) of modality m of the entries, centred clips, in order; broken samples are skipped and logged. */
    static Embedded embed(SensoriumModel model, Config cfg, Modality m, ModalityAdapter adapter, List<ManifestEntry> entries,
            long seed, SkipLog skips, NDManager root) throws InterruptedException {
        Map<Modality, ModalityAdapter> adapters = Map.of(m, adapter);
        Map<Modality, long[]> shapes = Map.of(m, adapter.inputShape());
        List<ManifestEntry> kept = new ArrayList<>();
        List<double[]> points = new ArrayList<>();
        for (int from = 0; from < entries.size(); from += CHUNK) {
            List<ManifestEntry> chunk = entries.subList(from, Math.min(entries.size(), from + CHUNK));
            List<Batch.Decoded> decoded = Loader.decodeAll(chunk, adapters, cfg.data().clipSeconds(), 0, 1,
                    cfg.data().loaderThreads(), seed, skips);
            float[][] rows = Retrieval.embed(model, decoded, shapes, cfg.eval().batchSize(), root).rows().get(m);
            for (int i = 0; i < decoded.size(); i++) {
                if (rows[i] != null) {
                    kept.add(decoded.get(i).entry());
                    points.add(toDouble(rows[i]));
                }
            }
            LOG.info("embedded {} / {} samples", Math.min(entries.size(), from + CHUNK), entries.size());
        }
        return new Embedded(kept, points);
    }

    /** Agreement with the manifest's labels, train and held-out (val, test) apart, over the samples that have a label. */
    static Map<String, ClusterMetrics.Score> scores(List<ManifestEntry> entries, int[] clusters, long seed) {
        Map<String, ClusterMetrics.Score> scores = new LinkedHashMap<>();
        for (String group : List.of("train", "held-out")) {
            List<Integer> at = new ArrayList<>();
            List<String> labels = new ArrayList<>();
            for (int i = 0; i < entries.size(); i++) {
                ManifestEntry e = entries.get(i);
                if (e.label() != null && e.split().equals("train") == group.equals("train")) {
                    at.add(i);
                    labels.add(e.label());
                }
            }
            if (!at.isEmpty()) {
                scores.put(group, ClusterMetrics.score(at.stream().mapToInt(i -> clusters[i]).toArray(), labels, seed));
            }
        }
        return scores;
    }

    static double[] toDouble(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            d[i] = x[i];
        }
        return d;
    }
}
