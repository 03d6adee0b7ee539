package org.sensorium.job;

import org.sensorium.train.Metrics;
import org.sensorium.train.Schedule;
import org.sensorium.train.Checkpoint;
import org.sensorium.train.AdamW;
import org.sensorium.config.Json;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.config.ConfigLoader;
import org.sensorium.data.Batch;
import org.sensorium.data.Loader;
import org.sensorium.data.Manifest;
import org.sensorium.data.ManifestEntry;
import org.sensorium.data.ManifestException;
import org.sensorium.data.SampleSetGenerator;
import org.sensorium.modality.SkipLog;
import org.sensorium.distributed.DataParallel;
import org.sensorium.distributed.Devices;
import org.sensorium.distributed.Collective;
import org.sensorium.eval.ClusterMetrics;
import org.sensorium.eval.ContextEval;
import org.sensorium.eval.Report;
import org.sensorium.eval.Retrieval;
import org.sensorium.eval.TemporalSegmentation;
import org.sensorium.model.Layers;
import org.sensorium.model.ModelOutput;
import org.sensorium.model.SensoriumModel;
import org.sensorium.modality.Adapters;
import org.sensorium.config.Modality;
import org.sensorium.modality.ModalityAdapter;
import org.sensorium.objective.Clustering;
import org.sensorium.objective.MotionPrediction;
import org.sensorium.objective.Objective;
import org.sensorium.objective.PseudoLabels;
import org.sensorium.objective.RelativeSpeed;
import org.sensorium.objective.TemporalOt;
import org.sensorium.objective.TwoView;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pretraining job: data, model, objectives, then one explicit loop (read {@link #train}),
 * checkpoints, and held-out retrieval at the end. One worker and one device, or one rank of a worker group
 * (data parallel, as PyTorch DDP): each rank reads its shard of every epoch, gradients are averaged over the
 * ranks before each optimizer step, contrastive negatives come from every rank's batch; rank 0 alone evaluates
 * and writes metrics, summaries and checkpoints. The global batch is train.batch_size x the world size.
 */
public final class Pretrain {
    private static final Logger LOG = LoggerFactory.getLogger(Pretrain.class);
    /** The system property of {@link #failOnce}. */
    public static final String FAIL_ONCE = "sensorium.test.fail_once";

    private final ConfigLoader.Resolved resolved;
    private final Config cfg;
    private final Path runDir;
    private final boolean resume;
    private final Collective group;
    private final String device; // null: libtorch's default device
    private final boolean lead;   // rank 0: evaluates and writes the run's files
    private DataParallel dp;

    /** What a run reports at its end (also written to runs/&lt;name&gt;/summary.json); segmentation is null unless measured. */
    public record Summary(Path runDir, Path checkpoint, int steps, double seconds, double stepsPerSecond,
            double peakRssMiB, List<Double> losses, Map<String, Retrieval.Result> retrieval,
            Map<String, ClusterMetrics.Score> clusters, Map<String, String> skipped, TemporalSegmentation.Report segmentation,
            Map<String, HeldOut> heldOut) {}

    /**
     * A held-out measure of an objective (masked reconstruction error, motion-field error, key-frame R@1, ...)
     * before the run's first step and after its last.
     */
    public record HeldOut(double start, double end) {}

    private Pretrain(ConfigLoader.Resolved resolved, Path runDir, boolean resume, Collective group, String device) {
        this.resolved = resolved;
        this.cfg = resolved.config();
        this.runDir = runDir;
        this.resume = resume;
        this.group = group;
        this.device = device;
        this.lead = group.rank() == 0;
    }

    /** Starts a new run in run.dir/run.name (a new timestamped name when empty). */
    public static Summary start(ConfigLoader.Resolved resolved) throws IOException, InterruptedException {
        return start(resolved, Collective.local(), null);
    }

    /**
     * Starts a new run as one rank of a group (rank 0 picks the timestamped name when run.name is empty).
     *
     * @param device "cpu" or "cuda:i", or null for libtorch's default device
     */
    public static Summary start(ConfigLoader.Resolved resolved, Collective group, String device) throws IOException, InterruptedException {
        Config.Run run = resolved.config().run();
        Path dir = runDir(run);
        if (run.name().isBlank() && group.worldSize() > 1) { // every rank takes rank 0's timestamp
            byte[] name = dir.getFileName().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            dir = dir.resolveSibling(new String(group.broadcastBytes(name, 0), java.nio.charset.StandardCharsets.UTF_8));
        }
        if (Checkpoint.latest(dir) != null) {
            throw new ConfigException("run.name", dir + " already has checkpoints: use --resume " + dir + " or another name");
        }
        if (group.rank() == 0) {
            Files.createDirectories(dir);
        }
        return new Pretrain(resolved, dir, false, group, device).execute();
    }

    /** The run folder run.dir/run.name; an empty run.name is pretrain-&lt;yyyyMMdd-HHmmss&gt; of now. */
    public static Path runDir(Config.Run run) {
        String name = run.name().isBlank()
                ? "pretrain-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")) : run.name();
        return Path.of(run.dir()).resolve(name);
    }

    /** Continues the run in runDir from its newest checkpoint, with the config it was started with (plus sets). */
    public static Summary resume(Path runDir, List<String> sets) throws IOException, InterruptedException {
        return resume(runDir, sets, Collective.local(), null);
    }

    /**
     * {@link #resume(Path, List)} as one rank of a group: every rank reads the checkpoint (runDir must be on storage
     * all ranks see), rank 0's weights are broadcast; the data cursor is translated when the world size changed.
     */
    public static Summary resume(Path runDir, List<String> sets, Collective group, String device) throws IOException, InterruptedException {
        Path yaml = runDir.resolve("config.yaml");
        if (!Files.isRegularFile(yaml)) {
            throw new ConfigException("--resume", runDir + " has no config.yaml: not a run folder");
        }
        return new Pretrain(ConfigLoader.loadResolved(yaml, sets), runDir, true, group, device).execute();
    }

    private Summary execute() throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        Path manifest = manifestPath(cfg.data());
        List<ManifestEntry> all = Manifest.read(manifest);
        List<ManifestEntry> trainSet = all.stream().filter(e -> e.split().equals("train")).toList();
        List<ManifestEntry> valSet = all.stream().filter(e -> !e.split().equals("train")).toList();
        String manifestSha = Manifest.sha256(manifest);
        LOG.info("run {}: {} train / {} held-out samples from {}", runDir, trainSet.size(), valSet.size(), manifest);

        Map<Modality, ModalityAdapter> adapters = new EnumMap<>(Modality.class);
        Map<Modality, long[]> shapes = new EnumMap<>(Modality.class);
        for (Modality m : cfg.activeModalities()) {
            adapters.put(m, Adapters.create(m, cfg.modalities(), cfg.data().clipSeconds()));
            shapes.put(m, adapters.get(m).inputShape());
        }
        SkipLog skips = new SkipLog(cfg.run().strict());
        try (NDManager root = device == null ? NDManager.newBaseManager() : NDManager.newBaseManager(Devices.require(device));
                SensoriumModel model = new SensoriumModel(cfg, root)) {
            Config.Train t = cfg.train();
            dp = new DataParallel(group, model.params()::all, cfg.dist().bucketMb(), cfg.dist().hashEvery());
            List<Objective.Weighted> objectives = Objective.fromConfig(cfg, model, group); // before AdamW: may add parameters
            // Written once the objectives have read their files, so a bad --set at --resume leaves the run's config as it was.
            if (lead) {
                Files.writeString(runDir.resolve("config.yaml"), resolved.yaml());
            }
            AdamW opt = new AdamW(model.params(), t.beta1(), t.beta2(), t.eps(), t.weightDecay());
            int startStep = 0;
            Loader.Cursor cursor = new Loader.Cursor(0, 0);
            if (resume) {
                Path ckpt = Checkpoint.latest(runDir);
                if (ckpt == null) {
                    throw new ConfigException("--resume", runDir + " has no complete checkpoint");
                }
                Checkpoint.State s = Checkpoint.load(ckpt, model.params(), opt, objectives);
                if (!s.manifestSha256().equals(manifestSha)) {
                    throw new ManifestException(manifest + ": changed since " + ckpt + " was written (sha256 differs)");
                }
                startStep = s.step();
                cursor = Checkpoint.reshard(s.cursor(), s.worldSize(), group.worldSize());
                LOG.info("resumed from {} (step {}, epoch {}, position {} of {} worker(s); now position {} of {})", ckpt, s.step(),
                        s.cursor().epoch(), s.cursor().position(), s.worldSize(), cursor.position(), group.worldSize());
            }
            dp.broadcastParameters();
            if (lead) {
                LOG.info("model: {} parameters, modalities {}", model.params().count(), cfg.activeModalities());
            }
            // Masked objectives' held-out reconstruction error before the first step of this run and after its last.
            boolean evaluate = lead && cfg.eval().atEnd();
            boolean measure = evaluate && !valSet.isEmpty() && objectives.stream().anyMatch(o -> o.objective().measuresHeldOut());
            List<Batch.Decoded> heldOutSamples = measure ? Loader.decodeAll(valSet, adapters, cfg.data().clipSeconds(), 0, 1,
                    cfg.data().loaderThreads(), cfg.run().seed(), skips) : List.of();
            Map<String, Double> heldOutStart = new LinkedHashMap<>();
            if (measure) {
                heldOutStart.putAll(heldOut(root, objectives, heldOutSamples, shapes));
            }
            Loader.SecondViews secondViews = Objective.secondViews(cfg, objectives);
            boolean context = evaluate && !valSet.isEmpty() && (secondViews.keyframes() != null || secondViews.future() != null);
            // the held-out clips with their key frames and future fields, decoded once for the start and the end
            Map<Modality, ModalityAdapter> clipAdapters = new EnumMap<>(Modality.class); // video, and motion when decoded
            adapters.forEach((m, ad) -> {
                if (m == Modality.VIDEO || m == Modality.MOTION) {
                    clipAdapters.put(m, ad);
                }
            });
            List<Batch.Decoded> contextSamples = context ? Loader.decodeAll(valSet, clipAdapters,
                    cfg.data().clipSeconds(), 0, 1, cfg.data().loaderThreads(), cfg.run().seed(), skips, secondViews) : List.of();
            // and with training's augmentation, drawn independently for the clip and its key frame (no pixel copying)
            List<Batch.Decoded> augmentedContext = context && secondViews.keyframes() != null
                    ? Loader.decodeViewsAll(valSet, Map.of(Modality.VIDEO, adapters.get(Modality.VIDEO)), cfg.data().clipSeconds(),
                            cfg.data().loaderThreads(), cfg.run().seed(), skips,
                            new Loader.SecondViews(Set.of(), List.of(1.0), 1, secondViews.keyframes(), null, 0))
                    : List.of();
            if (context) {
                heldOutStart.putAll(evaluateContext(model, objectives, secondViews, contextSamples, augmentedContext, root, null));
            }
            boolean heads = evaluate && !valSet.isEmpty() && (!secondViews.modalities().isEmpty()
                    || objectives.stream().anyMatch(o -> o.objective() instanceof PseudoLabels || o.objective() instanceof Clustering));
            List<Batch.Decoded> viewSamples = heads ? Loader.decodeViewsAll(valSet, adapters, cfg.data().clipSeconds(),
                    cfg.data().loaderThreads(), cfg.run().seed(), skips, new Loader.SecondViews(secondViews.modalities(), secondViews.speeds()))
                    : List.of();
            if (heads) {
                heldOutStart.putAll(evaluateHeads(model, objectives, viewSamples, shapes, root));
            }
            List<Double> losses;
            Path lastCkpt;
            long loopStart = System.nanoTime();
            try (Loader loader = new Loader(trainSet, adapters, t.microBatch(), cfg.run().seed(), cfg.data().clipSeconds(),
                    cfg.data().loaderThreads(), cfg.data().prefetchBatches(), skips, cursor,
                    new Loader.Shard(group.rank(), group.worldSize()), secondViews);
                    Metrics metrics = lead ? new Metrics(runDir.resolve("metrics.jsonl"), resume ? startStep : -1) : null) {
                losses = train(root, model, opt, objectives, loader, metrics, shapes, startStep, manifestSha);
                if (t.steps() == 0 && !resume && lead) { // train.steps = 0: the untrained model, checkpointed as a baseline
                    Checkpoint.save(runDir, new Checkpoint.State(0, loader.cursor(), cfg.run().seed(), manifestSha, group.worldSize()),
                            model.params(), opt, objectives, resolved.yaml(), t.keepCheckpoints());
                }
                lastCkpt = lead ? Checkpoint.latest(runDir) : null;
            }
            double loopSeconds = (System.nanoTime() - loopStart) / 1e9;
            Map<String, Retrieval.Result> retrieval = new LinkedHashMap<>();
            Map<String, ClusterMetrics.Score> clusters = new LinkedHashMap<>();
            if (evaluate && !valSet.isEmpty()) {
                List<Retrieval.Embeddings> views = new ArrayList<>();
                for (int k = 0; k < cfg.eval().clips(); k++) {
                    List<Batch.Decoded> val = measure && cfg.eval().clips() == 1 ? heldOutSamples // the same centred clips
                            : Loader.decodeAll(valSet, adapters, cfg.data().clipSeconds(), k,
                            cfg.eval().clips(), cfg.data().loaderThreads(), cfg.run().seed(), skips);
                    views.add(Retrieval.embed(model, val, shapes, cfg.eval().batchSize(), root));
                }
                Retrieval.Embeddings emb = Retrieval.average(views);
                for (Config.Pair p : cfg.eval().pairs()) {
                    if (shapes.containsKey(p.a()) && shapes.containsKey(p.b())) {
                        Retrieval.pair(emb, p).forEach(r -> retrieval.put(r.direction(), r));
                    }
                }
                Map<String, String> labels = new java.util.HashMap<>();
                valSet.stream().filter(e -> e.label() != null).forEach(e -> labels.put(e.id(), e.label()));
                clusters.putAll(ClusterMetrics.byModality(emb, labels, cfg.run().seed()));
            }
            TemporalSegmentation.Report segmentation = evaluate
                    ? segmentation(cfg, model, objectives, valSet, root, skips) : null;
            Map<String, Double> heldOutEnd = new LinkedHashMap<>();
            if (measure) {
                heldOutEnd.putAll(heldOut(root, objectives, heldOutSamples, shapes));
            }
            if (context) {
                heldOutEnd.putAll(evaluateContext(model, objectives, secondViews, contextSamples, augmentedContext, root, retrieval));
            }
            if (heads) {
                heldOutEnd.putAll(evaluateHeads(model, objectives, viewSamples, shapes, root));
            }
            Map<String, HeldOut> heldOut = new LinkedHashMap<>();
            heldOutEnd.forEach((k, v) -> heldOut.put(k, new HeldOut(heldOutStart.getOrDefault(k, Double.NaN), v)));
            double seconds = (System.nanoTime() - t0) / 1e9;
            int done = t.steps() - startStep;
            Summary summary = new Summary(runDir, lastCkpt, t.steps(), seconds, done == 0 ? 0 : done / loopSeconds, Metrics.peakRssMiB(),
                    losses, retrieval, clusters, skips.reasons(), segmentation, heldOut);
            if (lead) {
                writeSummary(summary, skips);
                if (cfg.eval().report()) {
                    writeReport();
                }
            }
            return summary;
        } finally {
            adapters.values().forEach(ModalityAdapter::close);
        }
    }

    /**
     * Held-out temporal segmentation when objectives.temporal_ot is on: every held-out sample that has
     * segments and the objective's modality, tiled with windows and scored by {@link TemporalSegmentation};
     * null when the objective is off or no such sample exists.
     */
    public static TemporalSegmentation.Report segmentation(Config cfg, SensoriumModel model, List<Objective.Weighted> objectives,
            List<ManifestEntry> heldOut, NDManager root, SkipLog skips) throws InterruptedException {
        TemporalOt tot = objectives.stream().map(Objective.Weighted::objective).filter(o -> o instanceof TemporalOt)
                .map(o -> (TemporalOt) o).findFirst().orElse(null);
        if (tot == null) {
            return null;
        }
        Modality m = tot.modality();
        List<ManifestEntry> recordings = heldOut.stream().filter(e -> !e.segments().isEmpty() && e.has(m)).toList();
        if (recordings.isEmpty()) {
            return null;
        }
        double clip = cfg.data().clipSeconds();
        try (ModalityAdapter adapter = Adapters.create(m, cfg.modalities(), clip)) {
            return TemporalSegmentation.run(model, tot, recordings, adapter, cfg.eval().batchSize(), root, clip,
                    cfg.data().loaderThreads(), cfg.run().seed(), skips);
        }
    }

    /**
     * The held-out measures of objectives with a head or a second view, on training-style views of the held-out
     * samples (the same clips before the first step and after the last): for two_view, per modality, the R@1 of
     * finding a sample's second view among all second views from its first ({@link Retrieval}'s ranks); for
     * relative_speed, the accuracy of its slower/same/faster classifier; for pseudo_labels, the accuracy of its
     * head on the held-out samples' clusters (the cluster file covers the whole manifest).
     */
    private Map<String, Double> evaluateHeads(SensoriumModel model, List<Objective.Weighted> objectives, List<Batch.Decoded> samples,
            Map<Modality, long[]> shapes, NDManager root) {
        Map<Modality, List<float[]>> first = new java.util.EnumMap<>(Modality.class), second = new java.util.EnumMap<>(Modality.class);
        List<Modality> modalities = objectives.stream().map(Objective.Weighted::objective).filter(o -> o instanceof TwoView)
                .flatMap(o -> ((TwoView) o).modalities().stream()).distinct().toList();
        RelativeSpeed speed = objectives.stream().map(Objective.Weighted::objective).filter(o -> o instanceof RelativeSpeed)
                .map(o -> (RelativeSpeed) o).findFirst().orElse(null);
        PseudoLabels pseudo = objectives.stream().map(Objective.Weighted::objective).filter(o -> o instanceof PseudoLabels)
                .map(o -> (PseudoLabels) o).findFirst().orElse(null);
        Clustering clustering = objectives.stream().map(Objective.Weighted::objective).filter(o -> o instanceof Clustering)
                .map(o -> (Clustering) o).findFirst().orElse(null);
        Map<Modality, Map<Integer, Integer>> assigned = new java.util.EnumMap<>(Modality.class); // sample index -> prototype
        List<String> sampleLabels = new ArrayList<>();
        int hits = 0, judged = 0, labelHits = 0, labelled = 0;
        int size = cfg.eval().batchSize();
        for (int from = 0; from < samples.size(); from += size) {
            List<Batch.Decoded> chunk = samples.subList(from, Math.min(samples.size(), from + size));
            try (NDManager sm = root.newSubManager()) {
                Batch b1 = Batch.collate(sm, chunk, shapes);
                boolean seconds = chunk.stream().anyMatch(d -> !d.second().isEmpty());
                Batch b2 = seconds ? Batch.collateSecond(sm, chunk, shapes) : null;
                ModelOutput o1 = model.forward(b1.inputs(), b1.valid(), false), o2 = seconds ? model.forward(b2.inputs(), b2.valid(), false) : null;
                if (clustering != null) { // each sample's prototype, per modality
                    for (Modality m : clustering.modalities()) {
                        if (o1.embeddings().containsKey(m)) {
                            int[] k = clustering.assign(m, o1.embedding(m));
                            boolean[] present = b1.present(m);
                            for (int i = 0; i < k.length; i++) {
                                if (present[i]) {
                                    assigned.computeIfAbsent(m, x -> new LinkedHashMap<>()).put(from + i, k[i]);
                                }
                            }
                        }
                    }
                    sampleLabels.addAll(b1.labels());
                }
                if (pseudo != null) {
                    int[] c = pseudo.correct(o1, b1);
                    labelHits += c[0];
                    labelled += c[1];
                }
                for (Modality m : modalities) {
                    if (o2 == null || !o1.embeddings().containsKey(m) || !o2.embeddings().containsKey(m)) {
                        continue;
                    }
                    boolean[] p1 = b1.present(m), p2 = b2.present(m);
                    float[] z1 = o1.embedding(m).toFloatArray(), z2 = o2.embedding(m).toFloatArray(); // (B * E)
                    int e = z1.length / p1.length;
                    for (int i = 0; i < p1.length; i++) {
                        if (p1[i] && p2[i]) {
                            first.computeIfAbsent(m, k -> new ArrayList<>()).add(java.util.Arrays.copyOfRange(z1, i * e, (i + 1) * e));
                            second.computeIfAbsent(m, k -> new ArrayList<>()).add(java.util.Arrays.copyOfRange(z2, i * e, (i + 1) * e));
                        }
                    }
                }
                if (speed != null) {
                    int[] c = speed.correct(o1, b1, o2, b2);
                    hits += c[0];
                    judged += c[1];
                }
            }
        }
        Map<String, Double> out = new LinkedHashMap<>();
        first.forEach((m, rows) -> out.put("two_view/" + m.key() + "/R@1",
                Retrieval.direction(m.key() + "->" + m.key(), rows, second.get(m)).r1()));
        if (speed != null && judged > 0) {
            out.put("relative_speed/accuracy", hits / (double) judged);
        }
        if (pseudo != null && labelled > 0) {
            out.put("pseudo_labels/accuracy", labelHits / (double) labelled);
        }
        if (clustering != null) {
            out.putAll(clusterMeasures(clustering, assigned, sampleLabels));
        }
        return out;
    }

    /**
     * Online clustering's held-out measures from each sample's nearest prototype: per pair, the NMI between the two
     * modalities' clusters of the same samples (how far one modality's cluster tells the other's, which the objective
     * trains; 0 when independent, and 0 when everything falls in one cluster, so collapse does not score), and per
     * modality the NMI of the clusters against the hidden labels.
     */
    static Map<String, Double> clusterMeasures(Clustering clustering, Map<Modality, Map<Integer, Integer>> assigned,
            List<String> labels) {
        Map<String, Double> out = new LinkedHashMap<>();
        List<Double> pairNmi = new ArrayList<>();
        for (Config.Pair p : clustering.pairs()) {
            Map<Integer, Integer> a = assigned.getOrDefault(p.a(), Map.of()), b = assigned.getOrDefault(p.b(), Map.of());
            List<Integer> both = a.keySet().stream().filter(b::containsKey).toList();
            if (!both.isEmpty()) {
                double nmi = ClusterMetrics.nmi(both.stream().mapToInt(a::get).toArray(), both.stream().mapToInt(b::get).toArray());
                out.put("clustering/" + p + "/NMI", nmi);
                pairNmi.add(nmi);
            }
        }
        pairNmi.stream().mapToDouble(Double::doubleValue).average() // over the pairs, the one figure
                .ifPresent(mean -> out.put("clustering/cross_modal_NMI", mean));
        assigned.forEach((m, clusters) -> {
            List<Integer> ids = clusters.keySet().stream().filter(i -> labels.get(i) != null).toList();
            List<String> classes = ids.stream().map(labels::get).distinct().sorted().toList();
            if (!ids.isEmpty()) {
                out.put("clustering/" + m.key() + "/NMI", ClusterMetrics.nmi(ids.stream().mapToInt(clusters::get).toArray(),
                        ids.stream().mapToInt(i -> classes.indexOf(labels.get(i))).toArray()));
            }
        });
        return out;
    }

    /**
     * The compressed-video objectives' held-out measures on the centred clip of every held-out sample: video-to-key-frame
     * retrieval (R@1 and R@5 as measures, and the whole result into retrieval when it is not null), the same on augmented,
     * the held-out samples' training-style clips and key frames, each with its own crop, flip and colour (an untrained
     * encoder matches an unaugmented clip to its key frame by their shared pixels), the motion-prediction error and its
     * zero-field and mean-field baselines. Run before the first step and after the last.
     */
    private Map<String, Double> evaluateContext(SensoriumModel model, List<Objective.Weighted> objectives, Loader.SecondViews views,
            List<Batch.Decoded> val, List<Batch.Decoded> augmented, NDManager root, Map<String, Retrieval.Result> retrieval) {
        Map<String, Double> heldOut = new LinkedHashMap<>();
        if (views.keyframes() != null) {
            ContextEval.KeyframeMatch match = ContextEval.keyframeMatch(model, val, cfg.eval().batchSize(), root);
            Retrieval.Result r = match.instance();
            heldOut.put("keyframe_context/R@1", r.r1());
            heldOut.put("keyframe_context/R@5", r.r5());
            if (!augmented.isEmpty()) { // the pair as training sees it: an unaugmented pair is matched by copying pixels
                ContextEval.KeyframeMatch a = ContextEval.keyframeMatch(model, augmented, cfg.eval().batchSize(), root);
                heldOut.put("keyframe_context/augmented_R@1", a.instance().r1());
                heldOut.put("keyframe_context/augmented_R@5", a.instance().r5());
                if (!Double.isNaN(a.lookR1())) {
                    heldOut.put("keyframe_context/augmented_look_R@1", a.lookR1());
                    heldOut.put("keyframe_context/look_chance", a.lookChance());
                }
            }
            if (retrieval != null) {
                retrieval.put("video->keyframe", r);
            }
        }
        for (Objective.Weighted o : objectives) {
            if (o.objective() instanceof MotionPrediction p) {
                ContextEval.MotionError e = ContextEval.motionError(model, p, val, cfg.eval().batchSize(), root);
                heldOut.put("motion_prediction/n", (double) e.n());
                heldOut.put("motion_prediction/mse", e.mse());
                heldOut.put("motion_prediction/zero_field_mse", e.zeroFieldMse());
                heldOut.put("motion_prediction/mean_field_mse", e.meanFieldMse());
            }
        }
        return heldOut;
    }

    /**
     * The training loop. Each step: a sub-manager owns every array of the step; the libtorch RNG is
     * re-seeded from (seed, step) so dropout replays exactly on resume; accumulate micro-batches of
     * forward + weighted loss terms + backward; clip by global norm; AdamW; zero the gradients.
     */
    private List<Double> train(NDManager root, SensoriumModel model, AdamW opt, List<Objective.Weighted> objectives,
            Loader loader, Metrics metrics, Map<Modality, long[]> shapes, int startStep, String manifestSha)
            throws IOException, InterruptedException {
        Config.Train t = cfg.train();
        Schedule schedule = new Schedule(t.lr(), t.minLr(), t.warmupSteps(), t.steps());
        List<Double> losses = new ArrayList<>();
        try (ProgressBar bar = progressBar(startStep)) {
            for (int step = startStep; step < t.steps(); step++) {
                long stepStart = System.nanoTime();
                StepResult r;
                try (NDManager sm = root.newSubManager()) {
                    // dropout and masks differ per rank (its own samples), and replay exactly on resume
                    Engine.getInstance().setRandomSeed((int) Loader.mix(cfg.run().seed(), step, group.rank()));
                    r = step(sm, model, opt, loader, objectives, shapes, schedule.at(step));
                }
                if (r.applied()) { // a skipped step leaves the student, and so its EMA teachers, as they were
                    for (Objective.Weighted o : objectives) {
                        o.objective().afterStep(step);
                    }
                }
                dp.checkReplicas(step + 1);
                double seconds = (System.nanoTime() - stepStart) / 1e9;
                r = r.withDist(dp.takeSeconds());
                losses.add(r.loss());
                if (metrics != null) {
                    metrics.write(metricLine(step + 1, r, schedule.at(step), seconds));
                    report(bar, step + 1, r, seconds, schedule.at(step));
                }
                boolean last = step + 1 == t.steps();
                if (lead && (last || (t.checkpointEvery() > 0 && (step + 1) % t.checkpointEvery() == 0))) {
                    Checkpoint.save(runDir, new Checkpoint.State(step + 1, loader.cursor(), cfg.run().seed(), manifestSha,
                            group.worldSize()), model.params(), opt, objectives, resolved.yaml(), t.keepCheckpoints());
                }
                failOnce(group.rank(), step + 1);
            }
        }
        return losses;
    }

    /**
     * Fault injection for the launchers' restart tests: with -Dsensorium.test.fail_once=RANK:STEP:MARKER, that
     * rank throws once its step STEP is done (checkpoint included) unless the file MARKER exists; it creates MARKER
     * first, so the restarted group runs through.
     */
    static void failOnce(int rank, int step) throws IOException {
        String spec = System.getProperty(FAIL_ONCE);
        if (spec == null) {
            return;
        }
        String[] f = spec.split(":", 3);
        if (f.length != 3) {
            throw new ConfigException(FAIL_ONCE, "'" + spec + "' is not RANK:STEP:MARKER");
        }
        if (Integer.parseInt(f[0]) == rank && Integer.parseInt(f[1]) == step && Files.notExists(Path.of(f[2]))) {
            Files.createFile(Path.of(f[2]));
            throw new IllegalStateException(FAIL_ONCE + ": rank " + rank + " fails after step " + step + ", as asked");
        }
    }

    /**
     * What one optimizer step measured; in a group, loss and terms are the means and samples the sum over the
     * ranks, distSeconds the time this rank spent in collectives (gradient all-reduce, gathers, checks).
     */
    record StepResult(double loss, Map<String, Double> terms, float gradNorm, int samples, double waitSeconds,
            boolean applied, float logitScale, double distSeconds) {
        StepResult withDist(double seconds) {
            return new StepResult(loss, terms, gradNorm, samples, waitSeconds, applied, logitScale, seconds);
        }
    }

    private StepResult step(NDManager sm, SensoriumModel model, AdamW opt, Loader loader,
            List<Objective.Weighted> objectives, Map<Modality, long[]> shapes, float lr) throws InterruptedException {
        Config.Train t = cfg.train();
        Map<String, Double> terms = new LinkedHashMap<>();
        double loss = 0, wait = 0;
        int samples = 0;
        float logitScale = Float.NaN;
        boolean readsOutput = objectives.stream().anyMatch(o -> o.objective().readsOutput());
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            for (int micro = 0; micro < t.accumulate(); micro++) {
                long w0 = System.nanoTime();
                List<Batch.Decoded> decoded = loader.next();
                wait += (System.nanoTime() - w0) / 1e9;
                Batch batch = Batch.collate(sm, decoded, shapes);
                samples += batch.size();
                ModelOutput out = readsOutput ? model.forward(batch.inputs(), batch.valid(), true) : null; // null: only masked objectives, on passes of their own
                boolean twoViews = decoded.stream().anyMatch(d -> !d.second().isEmpty());
                Batch secondBatch = twoViews ? Batch.collateSecond(sm, decoded, shapes) : null; // same samples, same order
                ModelOutput second = twoViews ? model.forward(secondBatch.inputs(), secondBatch.valid(), true) : null;
                // compressed-video context: key frames through the video encoder as static clips; the future field is a target
                Batch keyframeBatch = Batch.collateOne(sm, decoded, Modality.VIDEO, Batch.Decoded::keyframe);
                ModelOutput keyframes = keyframeBatch == null ? null : model.forward(keyframeBatch.inputs(), keyframeBatch.valid(), true);
                Batch future = Batch.collateOne(sm, decoded, Modality.MOTION, Batch.Decoded::future);
                Objective.Views views = new Objective.Views(out, batch, second, secondBatch, keyframes, keyframeBatch, future);
                NDArray total = null;
                for (Objective.Weighted o : objectives) {
                    for (Map.Entry<String, NDArray> term : o.objective().losses(views).entrySet()) {
                        NDArray weighted = Layers.scale(term.getValue(), o.weight() / t.accumulate());
                        total = total == null ? weighted : total.add(weighted);
                        terms.merge(term.getKey(), (double) term.getValue().getFloat() / t.accumulate(), Double::sum);
                    }
                    o.objective().stats().forEach((k, v) -> terms.merge(k, v / t.accumulate(), Double::sum));
                }
                if (total != null) {
                    gc.backward(total);
                    loss += total.getFloat();
                }
                logitScale = out == null || out.logitScale() == null ? Float.NaN : out.logitScale().getFloat();
            }
        }
        // data parallel: every rank now holds the mean gradient over the group, so all take the same step
        dp.averageGradients(sm);
        double[] group = dp.sum(loss, samples);
        loss = group[0] / dp.group().worldSize();
        samples = (int) Math.round(group[1]);
        Map<String, Double> groupTerms = dp.meanOverRanks(terms);
        AdamW.GradNorms norms = opt.norms(sm);
        boolean finite = Float.isFinite(norms.global());
        if (finite) {
            float clip = t.clipGradNorm() > 0 && norms.global() > t.clipGradNorm() ? t.clipGradNorm() / norms.global() : 1f;
            opt.step(sm, norms, lr, clip);
        } else {
            LOG.warn("non-finite gradient norm {}: step skipped; non-finite in {}", norms.global(),
                    norms.squared().entrySet().stream().filter(e -> !Float.isFinite(e.getValue())).map(Map.Entry::getKey).toList());
        }
        opt.zeroGradients(sm);
        return new StepResult(loss, groupTerms, norms.global(), samples, wait, finite, logitScale, 0);
    }

    /**
     * The held-out measures of the objectives that have them, each the mean over batches of eval.batch_size
     * weighted by batch size. libtorch's generator is seeded the same way each time, so the start and the
     * end of a run draw the same masks; the training loop re-seeds every step, so this changes nothing there.
     */
    private Map<String, Double> heldOut(NDManager root, List<Objective.Weighted> objectives, List<Batch.Decoded> samples,
            Map<Modality, long[]> shapes) {
        Engine.getInstance().setRandomSeed((int) Loader.mix(cfg.run().seed(), -1, 1));
        Map<String, Double> sums = new LinkedHashMap<>();
        Map<String, Integer> counts = new LinkedHashMap<>();
        int size = cfg.eval().batchSize();
        for (int from = 0; from < samples.size(); from += size) {
            List<Batch.Decoded> chunk = samples.subList(from, Math.min(samples.size(), from + size));
            try (NDManager sm = root.newSubManager()) {
                Batch batch = Batch.collate(sm, chunk, shapes);
                for (Objective.Weighted o : objectives) {
                    if (o.objective().measuresHeldOut()) {
                        o.objective().heldOut(batch).forEach((k, v) -> {
                            sums.merge(k, (double) v.getFloat() * chunk.size(), Double::sum);
                            counts.merge(k, chunk.size(), Integer::sum);
                        });
                    }
                }
            }
        }
        Map<String, Double> out = new LinkedHashMap<>();
        sums.forEach((k, v) -> out.put(k, v / counts.get(k)));
        return out;
    }

    private Map<String, Object> metricLine(int step, StepResult r, float lr, double seconds) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("step", step);
        line.put("loss", r.loss());
        r.terms().forEach(line::put);
        line.put("lr", lr);
        line.put("grad_norm", r.gradNorm());
        line.put("logit_scale", r.logitScale());
        line.put("samples", r.samples());
        line.put("samples_per_s", r.samples() / seconds);
        line.put("step_s", seconds);
        line.put("data_wait_s", r.waitSeconds());
        if (group.worldSize() > 1) {
            line.put("world_size", group.worldSize());
            line.put("dist_s", r.distSeconds());
        }
        line.put("rss_mib", Metrics.rssMiB());
        Runtime rt = Runtime.getRuntime();
        line.put("heap_used_mib", (rt.totalMemory() - rt.freeMemory()) / 1048576.0);
        line.put("heap_committed_mib", rt.totalMemory() / 1048576.0);
        if (!r.applied()) {
            line.put("skipped_step", true);
        }
        return line;
    }

    private ProgressBar progressBar(int startStep) {
        if (!lead || !cfg.train().progress() || System.console() == null) {
            return null;
        }
        return new ProgressBarBuilder().setTaskName("pretrain").setInitialMax(cfg.train().steps())
                .startsFrom(startStep, Duration.ZERO).setStyle(ProgressBarStyle.ASCII).setUnit(" steps", 1)
                .setUpdateIntervalMillis(500).build();
    }

    private void report(ProgressBar bar, int step, StepResult r, double seconds, float lr) {
        String msg = String.format("loss %.4f  %.1f samples/s", r.loss(), r.samples() / seconds);
        if (bar != null) {
            bar.stepTo(step);
            bar.setExtraMessage(msg);
        } else if (step % cfg.train().logEvery() == 0 || step == cfg.train().steps()) {
            LOG.info("step {}/{}  {}  lr {}  grad_norm {}", step, cfg.train().steps(), msg,
                    String.format("%.2e", lr), String.format("%.3f", r.gradNorm()));
        }
    }

    private void writeSummary(Summary s, SkipLog skips) throws IOException {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("run", s.runDir().toString());
        json.put("checkpoint", String.valueOf(s.checkpoint()));
        json.put("steps", s.steps());
        json.put("wall_seconds", s.seconds());
        json.put("steps_per_second", s.stepsPerSecond());
        json.put("peak_rss_mib", s.peakRssMiB());
        json.put("final_loss", s.losses().isEmpty() ? null : s.losses().get(s.losses().size() - 1));
        Map<String, Object> ret = new LinkedHashMap<>();
        s.retrieval().forEach((k, v) -> ret.put(k, v.toMap()));
        json.put("retrieval", ret);
        Map<String, Object> nmi = new LinkedHashMap<>();
        s.clusters().forEach((k, v) -> nmi.put(k, v.toMap()));
        json.put("held_out_clusters", nmi);
        if (s.segmentation() != null) {
            json.put("segmentation", s.segmentation().toMap());
        }
        Map<String, Object> held = new LinkedHashMap<>();
        s.heldOut().forEach((k, v) -> held.put(k, Map.of("start", v.start(), "end", v.end())));
        json.put("held_out", held);
        json.put("skipped_samples", skips.skipped());
        json.put("skipped", s.skipped());
        Json.write(runDir.resolve("summary.json"), json);
    }

    /** RUN/report.html from the run's files; a report that cannot be written is a warning, never a failed run. */
    private void writeReport() {
        long t0 = System.nanoTime();
        try {
            Report.write(runDir, Report.evalDirs(runDir), runDir.resolve("report.html"));
            LOG.info("report {} in {} s", runDir.resolve("report.html"), String.format("%.2f", (System.nanoTime() - t0) / 1e9));
        } catch (IOException | RuntimeException e) {
            LOG.warn("report.html not written: {}", e.getMessage());
        }
    }

    /**
     * The manifest to train on: data.manifest, or the built-in sample set (generated once into the cache):
     * data.synth_long long recordings when above 0, else data.synth_samples short samples.
     */
    public static Path manifestPath(Config.Data d) throws IOException {
        if (!d.manifest().isBlank()) {
            Path p = Path.of(d.manifest());
            if (!Files.isRegularFile(p)) {
                throw new ConfigException("data.manifest", p + ": no such file");
            }
            return p;
        }
        return d.synthLong() > 0 ? SampleSetGenerator.ensureLong(cacheRoot(d), d.synthLong(), d.synthSegments(), d.synthSeed())
                : SampleSetGenerator.ensure(cacheRoot(d), d.synthSamples(), d.synthSeed());
    }

    public static Path cacheRoot(Config.Data d) {
        if (!d.cacheDir().isBlank()) {
            return Path.of(d.cacheDir());
        }
        String env = System.getenv("SENSORIUM_CACHE");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        return Path.of(System.getProperty("user.home"), ".cache", "sensorium");
    }
}
