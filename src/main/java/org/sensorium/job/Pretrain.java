package org.sensorium.job;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.config.ConfigLoader;
import org.sensorium.config.Json;
import org.sensorium.config.Modality;
import org.sensorium.modality.text.TextAdapter;
import org.sensorium.data.LabelCaptions;
import org.sensorium.data.Batch;
import org.sensorium.data.ItemCache;
import org.sensorium.data.Loader;
import org.sensorium.data.Manifest;
import org.sensorium.data.ManifestEntry;
import org.sensorium.data.ManifestException;
import org.sensorium.data.Shards;
import org.sensorium.distributed.Collective;
import org.sensorium.distributed.DataParallel;
import org.sensorium.distributed.Devices;
import org.sensorium.eval.ClusterMetrics;
import org.sensorium.eval.Report;
import org.sensorium.eval.Retrieval;
import org.sensorium.eval.TemporalSegmentation;
import org.sensorium.model.SensoriumModel;
import org.sensorium.modality.Adapters;
import org.sensorium.modality.ModalityAdapter;
import org.sensorium.modality.SkipLog;
import org.sensorium.objective.Objective;
import org.sensorium.objective.ObjectiveKind;
import org.sensorium.objective.Step;
import org.sensorium.train.AdamW;
import org.sensorium.train.Checkpoint;
import org.sensorium.train.InitFrom;
import org.sensorium.train.RunLock;
import org.sensorium.train.Metrics;
import org.sensorium.train.Trainer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pretraining job: data, model, objectives, then one explicit loop (read {@link #train}), checkpoints, and
 * held-out retrieval and the objectives' own measures at the end. One worker and one device, or one rank of a
 * worker group (data parallel, as PyTorch DDP): each rank reads its shard of every epoch, gradients are averaged
 * over the ranks before each optimizer step, contrastive negatives come from every rank's batch; rank 0 alone
 * evaluates and writes metrics, summaries and checkpoints. The global batch is train.batch_size x the world size.
 */
public final class Pretrain {
    private static final Logger LOG = LoggerFactory.getLogger(Pretrain.class);
    /** The system property of {@link #failOnce}. */
    public static final String FAIL_ONCE = "sensorium.test.fail_once";

    private final ConfigLoader.Resolved resolved;
    private final Config cfg;
    private final Path runDir;
    private final boolean resume;
    private final Path from; // the checkpoint --resume named, or null for the newest readable one
    private final Collective group;
    private final String device; // null: libtorch's default device
    private final boolean lead;   // rank 0: evaluates and writes the run's files
    private DuringEval during;    // eval.every_steps; null when off

    /** What a run reports at its end (also written to runs/&lt;name&gt;/summary.json); segmentation is null unless measured. */
    public record Summary(Path runDir, Path checkpoint, int steps, double seconds, double stepsPerSecond,
            double peakRssMiB, List<Double> losses, Map<String, Retrieval.Result> retrieval,
            Map<String, ClusterMetrics.Score> clusters, Map<String, String> skipped, TemporalSegmentation.Report segmentation,
            Map<String, HeldOut> heldOut) {
        /** Mean held-out R@1 over every evaluated cross-modal direction (NaN without any). */
        public double meanR1() {
            return retrieval.values().stream().mapToDouble(Retrieval.Result::r1).average().orElse(Double.NaN);
        }
    }

    /**
     * A held-out measure of an objective (masked reconstruction error, motion-field error, key-frame R@1, ...)
     * before the run's first step and after its last.
     */
    public record HeldOut(double start, double end) {}

    /** The manifest split the run trains and evaluates on. */
    private record Split(Path manifest, String sha256, List<ManifestEntry> train, List<ManifestEntry> heldOut, Shards shards) {
        static Split of(Config.Data d) throws IOException {
            Path manifest = Manifest.forRun(d);
            Shards shards = Shards.isIndex(manifest) ? Shards.open(manifest) : null; // held-out copied out, training streamed
            LabelCaptions.Applied captioned = LabelCaptions.forRun(d, shards == null ? Manifest.read(manifest) : shards.entries());
            if (!captioned.leftOut().isEmpty()) {
                LOG.info("data.label_captions {}: training samples of labels it does not list are left out: {}", d.labelCaptions(),
                        captioned.leftOut());
            }
            List<ManifestEntry> all = captioned.entries(), heldOut = all.stream().filter(e -> !e.split().equals("train")).toList();
            return new Split(manifest, Manifest.sha256(manifest), all.stream().filter(e -> e.split().equals("train")).toList(),
                    shards == null ? heldOut : shards.extract(heldOut), shards);
        }
    }

    /** Where training starts: step, data cursor (0 and the first sample of epoch 0 for a new run), best so far or null. */
    private record Start(int step, Loader.Cursor cursor, Checkpoint.Best best) {}

    private Pretrain(ConfigLoader.Resolved resolved, Path runDir, boolean resume, Path from, Collective group, String device) {
        this.resolved = resolved;
        this.cfg = resolved.config();
        this.runDir = runDir;
        this.resume = resume;
        this.from = from;
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
            byte[] name = dir.getFileName().toString().getBytes(StandardCharsets.UTF_8);
            dir = dir.resolveSibling(new String(group.broadcastBytes(name, 0), StandardCharsets.UTF_8));
        }
        try (RunLock lock = group.rank() == 0 ? RunLock.acquire(dir) : null) {
            if (Checkpoint.latest(dir) != null) {
                throw new ConfigException("run.name", dir + " already has checkpoints: use --resume " + dir + " or another name");
            }
            return new Pretrain(resolved, dir, false, null, group, device).execute();
        }
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
    public static Summary resume(Path runOrCheckpoint, List<String> sets, Collective group, String device)
            throws IOException, InterruptedException {
        Path from = Checkpoint.isCheckpoint(runOrCheckpoint) ? runOrCheckpoint : null; // a chosen checkpoint, or the newest
        Path runDir = from == null ? runOrCheckpoint : runOrCheckpoint.toAbsolutePath().getParent().getParent();
        Path yaml = (from == null ? runDir : from).resolve("config.yaml");
        if (!Files.isRegularFile(yaml)) {
            throw new ConfigException("--resume", runOrCheckpoint + " has no config.yaml: neither a run folder nor a checkpoint folder");
        }
        ConfigLoader.Resumed r = ConfigLoader.loadForResume(yaml, sets);
        r.changed().forEach(c -> LOG.warn("--resume with a changed key: {}", c));
        ConfigLoader.Resolved resolved = r.resolved();
        try (RunLock lock = group.rank() == 0 ? RunLock.acquire(runDir) : null) {
            return new Pretrain(resolved, runDir, true, from, group, device).execute();
        }
    }

    private Summary execute() throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        Split split = Split.of(cfg.data());
        LOG.info("run {}: {} train / {} held-out samples from {}", runDir, split.train().size(), split.heldOut().size(), split.manifest());
        if (split.train().isEmpty() && cfg.train().steps() > 0) {
            throw new ManifestException(split.manifest() + ": no sample with split \"train\": nothing to train on");
        }
        Map<Modality, ModalityAdapter> adapters = new EnumMap<>(Modality.class);
        ItemCache cache = new ItemCache(cfg.data().cacheMb()); // clips that draw nothing at random, decoded once
        for (Modality m : cfg.activeModalities()) {
            adapters.put(m, cache.wrap(Adapters.create(m, cfg.modalities(), cfg.data().clipSeconds())));
        }
        SkipLog skips = new SkipLog(cfg.run().strict());
        try (NDManager root = device == null ? NDManager.newBaseManager() : NDManager.newBaseManager(Devices.require(device));
                SensoriumModel model = new SensoriumModel(cfg, root)) {
            Config.Train t = cfg.train();
            DataParallel dp = new DataParallel(group, model.params()::all, cfg.dist().bucketMb(), cfg.dist().hashEvery());
            List<Objective.Weighted> objectives = ObjectiveKind.enabled(cfg, model, group); // before AdamW: may add parameters
            AdamW opt = new AdamW(model.params(), t.beta1(), t.beta2(), t.eps(), t.weightDecay());
            Start start = restore(model, opt, objectives, split);
            during = DuringEval.create(cfg, runDir, group, model, root, adapters, skips, objectives,
                    split.shards() != null ? split.heldOut() : null); // on shards: the held-out samples copied out
            if (during != null) {
                during.restore(start.best(), runDir, start.step());
            }
            // Written once the checkpoint has loaded, so a --resume that fails leaves the run's config as it was.
            if (lead) {
                Files.writeString(runDir.resolve("config.yaml"), resolved.yaml());
            }
            dp.broadcastParameters();
            if (lead) {
                LOG.info("model: {} parameters, modalities {}", model.params().count(), cfg.activeModalities());
            }
            boolean evaluate = lead && cfg.eval().atEnd() && !split.heldOut().isEmpty();
            HeldOutSamples held = new HeldOutSamples(cfg, model, root, split.heldOut(), adapters, skips);
            Map<String, Double> measuredAtStart = evaluate ? measure(objectives, held) : Map.of();
            Trained trained = fit(root, model, opt, dp, objectives, split, adapters, skips, start, held.shapes());
            LOG.info("decoded-clip cache (data.cache_mb {}): {}", cfg.data().cacheMb(), cache.stats());
            Map<String, Retrieval.Result> retrieval = new LinkedHashMap<>();
            Map<String, ClusterMetrics.Score> clusters = new LinkedHashMap<>();
            if (evaluate) {
                retrieval(model, root, held, split.heldOut(), retrieval, clusters);
            }
            TemporalSegmentation.Report segmentation = lead && cfg.eval().atEnd()
                    ? segmentation(cfg, model, objectives, split.heldOut(), root, skips) : null;
            Map<String, HeldOut> heldOut = new LinkedHashMap<>();
            if (evaluate) {
                measure(objectives, held).forEach((k, v) -> heldOut.put(k, new HeldOut(measuredAtStart.getOrDefault(k, Double.NaN), v)));
            }
            int done = t.steps() - start.step();
            Summary summary = new Summary(runDir, trained.checkpoint(), t.steps(), (System.nanoTime() - t0) / 1e9,
                    done == 0 ? 0 : done / trained.seconds(), Metrics.peakRssMiB(), trained.losses(), retrieval, clusters,
                    skips.reasons(), segmentation, heldOut);
            if (adapters.get(Modality.TEXT) instanceof TextAdapter text && text.tower() != null) {
                LOG.info("text tower {}: {} distinct texts encoded, {} cache hits (sha256 {})", cfg.modalities().text().pretrained().model(),
                        text.tower().runs(), text.tower().hits(), text.tower().modelSha256().substring(0, 12));
            }
            if (lead) {
                Json.write(runDir.resolve("summary.json"), SummaryJson.of(summary, skips));
                if (cfg.eval().report()) {
                    writeReport();
                }
            }
            return summary;
        } finally {
            adapters.values().forEach(ModalityAdapter::close);
        }
    }

    /** What the loop left: each step's loss, the newest checkpoint (rank 0), the loop's wall time. */
    private record Trained(List<Double> losses, Path checkpoint, double seconds) {}

    /** The loader over this rank's shard of the training split, decoding what the objectives need, and the loop. */
    private Trained fit(NDManager root, SensoriumModel model, AdamW opt, DataParallel dp, List<Objective.Weighted> objectives,
            Split split, Map<Modality, ModalityAdapter> adapters, SkipLog skips, Start start, Map<Modality, long[]> shapes)
            throws IOException, InterruptedException {
        Config.Train t = cfg.train();
        long loopStart = System.nanoTime();
        try (Loader loader = new Loader(split.train(), adapters, t.microBatch(), cfg.run().seed(), cfg.data().clipSeconds(),
                cfg.data().loaderThreads(), cfg.data().prefetchBatches(), skips, start.cursor(),
                new Loader.Shard(group.rank(), group.worldSize()),
                Loader.Views.of(ObjectiveKind.needs(objectives), cfg.modalities(), cfg.data().clipSeconds()), split.shards(),
                cfg.data().shuffleBuffer());
                Metrics metrics = lead ? new Metrics(runDir.resolve("metrics.jsonl"), resume ? start.step() : -1,
                        cfg.log().tensorboard() ? runDir.resolve("tensorboard") : null) : null) {
            List<Double> losses = train(root, model, opt, dp, objectives, loader, metrics, shapes, start.step(), split.sha256(), skips);
            if (t.steps() == 0 && !resume && lead) { // train.steps = 0: the untrained model, checkpointed as a baseline
                Checkpoint.save(runDir, new Checkpoint.State(0, loader.cursor(), cfg.run().seed(), split.sha256(), group.worldSize()),
                        model.params(), opt, objectives, resolved.yaml(), t.keepCheckpoints());
            }
            return new Trained(losses, lead ? Checkpoint.latest(runDir) : null, (System.nanoTime() - loopStart) / 1e9);
        }
    }

    /** A new run starts at step 0; a resumed one where its newest checkpoint left off, weights and state restored. */
    private Start restore(SensoriumModel model, AdamW opt, List<Objective.Weighted> objectives, Split split) throws IOException {
        if (!resume) {
            InitFrom.start(model.params(), cfg.model(), model.tokensPerStep(), lead ? runDir : null); // model.init_from, if set
            return new Start(0, new Loader.Cursor(0, 0), null);
        }
        Checkpoint.Loaded loaded = Checkpoint.loadReadable(runDir, from, model.params(), opt, objectives);
        Path ckpt = loaded.dir();
        Checkpoint.State s = loaded.state();
        if (!s.manifestSha256().equals(split.sha256())) {
            throw new ManifestException(split.manifest() + ": changed since " + ckpt + " was written (sha256 differs)");
        }
        Loader.Cursor cursor = Checkpoint.reshard(s.cursor(), s.worldSize(), group.worldSize());
        LOG.info("resumed from {} (step {}, epoch {}, position {} of {} worker(s); now position {} of {})", ckpt, s.step(),
                s.cursor().epoch(), s.cursor().position(), s.worldSize(), cursor.position(), group.worldSize());
        return new Start(s.step(), cursor, s.best());
    }

    /** Every objective's own held-out measures, in the objectives' order. */
    private static Map<String, Double> measure(List<Objective.Weighted> objectives, HeldOutSamples held) throws InterruptedException {
        Map<String, Double> out = new LinkedHashMap<>();
        for (Objective.Weighted o : objectives) {
            out.putAll(o.objective().measure(held));
        }
        return out;
    }

    /**
     * The training loop. Each step ({@link Trainer#step}): a sub-manager owns every array of the step; the libtorch
     * RNG is re-seeded from (seed, step, rank) so dropout replays exactly on resume; accumulate micro-batches of
     * forward + weighted loss terms + backward; average gradients over the group; clip by global norm; AdamW. Then
     * the teachers follow, the replicas are compared, and metrics and checkpoints are written.
     */
    private List<Double> train(NDManager root, SensoriumModel model, AdamW opt, DataParallel dp, List<Objective.Weighted> objectives,
            Loader loader, Metrics metrics, Map<Modality, long[]> shapes, int startStep, String manifestSha, SkipLog skips)
            throws IOException, InterruptedException {
        Config.Train t = cfg.train();
        Trainer trainer = new Trainer(t, cfg.run().seed(), opt, dp);
        boolean readsOutput = objectives.stream().anyMatch(o -> o.objective().readsOutput());
        List<Double> losses = new ArrayList<>();
        int empty = 0; // steps in a row without a sample
        try (ProgressBar bar = lead && t.progress() ? progressBar("pretrain", t.steps(), startStep, " steps") : null) {
            for (int step = startStep; step < t.steps(); step++) {
                long stepStart = System.nanoTime();
                Trainer.StepResult r = trainer.step(root, step, sm -> micro(sm, model, loader, objectives, shapes, readsOutput));
                if (r.applied()) { // a skipped step leaves the student, and so its EMA teachers, as they were
                    for (Objective.Weighted o : objectives) {
                        o.objective().afterStep(step);
                    }
                }
                dp.checkReplicas(step + 1);
                double seconds = (System.nanoTime() - stepStart) / 1e9;
                r = r.withDist(dp.takeSeconds());
                empty = r.samples() == 0 ? empty + 1 : 0;
                if (empty == EMPTY_STEPS_ALLOWED) {
                    throw new ManifestException(emptyData(skips, empty));
                }
                losses.add(r.loss());
                int done = step + 1;
                Map<String, Object> line = Metrics.line(done, r, trainer.lr(step), seconds, group.worldSize());
                if (during != null && during.due(done)) { // rank 0 evaluates (and keeps the best), every rank waits for it
                    line.putAll(during.evaluate(done, best -> Checkpoint.saveBest(runDir, new Checkpoint.State(done, loader.cursor(),
                            cfg.run().seed(), manifestSha, group.worldSize(), best), model.params(), opt, objectives, resolved.yaml())));
                }
                if (metrics != null) {
                    metrics.write(line);
                    report(bar, done, r, seconds, trainer.lr(step));
                }
                boolean last = done == t.steps();
                if (lead && (last || (t.checkpointEvery() > 0 && done % t.checkpointEvery() == 0))) {
                    metrics.sync();
                    Checkpoint.save(runDir, new Checkpoint.State(done, loader.cursor(), cfg.run().seed(), manifestSha,
                            group.worldSize(), during == null ? null : during.best()), model.params(), opt, objectives,
                            resolved.yaml(), t.keepCheckpoints());
                }
                failOnce(group.rank(), step + 1);
            }
        }
        return losses;
    }

    /** Steps in a row without a single training sample before a run stops (exit 2) instead of training on nothing. */
    static final int EMPTY_STEPS_ALLOWED = 3;

    /** Why training has no samples: the likely cause, from the skip log. */
    private String emptyData(SkipLog skips, int steps) {
        Map<String, String> reasons = skips.reasons();
        String first = reasons.isEmpty() ? "" : " (e.g. " + reasons.entrySet().iterator().next() + ")";
        return (cfg.data().manifest().isBlank() ? "the built-in sample set" : cfg.data().manifest())
                + ": " + steps + " training steps in a row had no sample: " + (reasons.isEmpty()
                        ? "the loader delivered none"
                        : "every one decoded so far was broken and skipped, " + reasons.size() + " of them" + first)
                + "; check the manifest's paths and files (`sensorium data validate`); the run stops without a checkpoint";
    }

    /** One micro-batch: the next samples, the passes the objectives read, and each objective's weighted terms. */
    private static Trainer.Micro micro(NDManager sm, SensoriumModel model, Loader loader, List<Objective.Weighted> objectives,
            Map<Modality, long[]> shapes, boolean readsOutput) throws InterruptedException {
        long w0 = System.nanoTime();
        List<Batch.Decoded> decoded = loader.next();
        double wait = (System.nanoTime() - w0) / 1e9;
        return Trainer.Micro.of(Step.forward(model, sm, decoded, shapes, readsOutput, true), objectives, wait);
    }

    /**
     * Held-out cross-modal retrieval over eval.pairs (embeddings averaged over eval.clips clips per sample) and the
     * k-means NMI of each modality's held-out embeddings against the labels.
     */
    private void retrieval(SensoriumModel model, NDManager root, HeldOutSamples held, List<ManifestEntry> valSet,
            Map<String, Retrieval.Result> retrieval, Map<String, ClusterMetrics.Score> clusters) throws InterruptedException {
        List<Retrieval.Embeddings> views = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int k = 0; k < cfg.eval().clips(); k++) {
            views.add(Retrieval.embed(model, held.evalClips(k, cfg.eval().clips()), held.shapes(), cfg.eval().batchSize(), root));
        }
        Retrieval.Embeddings emb = Retrieval.average(views);
        double s = (System.nanoTime() - t0) / 1e9; // decoding included, unless a held-out measure decoded the clips first
        LOG.info(String.format("held-out samples decoded and embedded: %d in %.2f s, %.1f samples/s", emb.ids().size(), s, emb.ids().size() / s));
        for (Config.Pair p : cfg.eval().pairs()) {
            if (held.shapes().containsKey(p.a()) && held.shapes().containsKey(p.b())) {
                Retrieval.pair(emb, p).forEach(r -> retrieval.put(r.direction(), r));
            }
        }
        Map<String, String> labels = new HashMap<>();
        valSet.stream().filter(e -> e.label() != null).forEach(e -> labels.put(e.id(), e.label()));
        clusters.putAll(ClusterMetrics.byModality(emb, labels, cfg.run().seed()));
    }

    /**
     * Held-out temporal segmentation by the objective that trains a segmenter (temporal OT): every held-out sample
     * that has segments and the segmenter's modality, scored by {@link TemporalSegmentation}; null when no objective
     * segments or no such sample exists.
     */
    public static TemporalSegmentation.Report segmentation(Config cfg, SensoriumModel model, List<Objective.Weighted> objectives,
            List<ManifestEntry> heldOut, NDManager root, SkipLog skips) throws InterruptedException {
        TemporalSegmentation.Segmenter segmenter = objectives.stream().map(o -> o.objective().segmenter())
                .filter(Objects::nonNull).findFirst().orElse(null);
        if (segmenter == null) {
            return null;
        }
        Modality m = segmenter.modality();
        List<ManifestEntry> recordings = heldOut.stream().filter(e -> !e.segments().isEmpty() && e.has(m)).toList();
        if (recordings.isEmpty()) {
            return null;
        }
        double clip = cfg.data().clipSeconds();
        try (ModalityAdapter adapter = Adapters.create(m, cfg.modalities(), clip)) {
            return TemporalSegmentation.run(model, segmenter, recordings, adapter, cfg.eval().batchSize(), root, clip,
                    cfg.data().loaderThreads(), cfg.run().seed(), skips);
        }
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

    /** The console's progress bar of a long job (ASCII, redrawn twice a second); null without a console (a log file, a pipe). */
    static ProgressBar progressBar(String task, long max, long start, String unit) {
        if (System.console() == null) {
            return null;
        }
        return new ProgressBarBuilder().setTaskName(task).setInitialMax(max).startsFrom(start, Duration.ZERO)
                .setStyle(ProgressBarStyle.ASCII).setUnit(unit, 1).setUpdateIntervalMillis(500).build();
    }

    private void report(ProgressBar bar, int step, Trainer.StepResult r, double seconds, float lr) {
        String msg = String.format("loss %.4f  %.1f samples/s", r.loss(), r.samples() / seconds);
        if (bar != null) {
            bar.stepTo(step);
            bar.setExtraMessage(msg);
        } else if (step % cfg.train().logEvery() == 0 || step == cfg.train().steps()) {
            LOG.info("step {}/{}  {}  lr {}  grad_norm {}", step, cfg.train().steps(), msg,
                    String.format("%.2e", lr), String.format("%.3f", r.gradNorm()));
        }
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
}
