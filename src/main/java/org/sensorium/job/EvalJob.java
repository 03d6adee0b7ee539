package org.sensorium.job;

import org.sensorium.objective.ObjectiveKind;

import org.sensorium.eval.Segmentation;
import org.sensorium.eval.TemporalSegmentation;
import org.sensorium.eval.Classification;
import org.sensorium.eval.LinearProbe;
import org.sensorium.eval.Retrieval;
import org.sensorium.eval.Suite;
import org.sensorium.eval.ClusterMetrics;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Files;
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
import org.sensorium.config.ConfigException;
import org.sensorium.config.ConfigLoader;
import org.sensorium.data.Batch;
import org.sensorium.modality.Clip;
import org.sensorium.modality.Item;
import org.sensorium.data.Loader;
import org.sensorium.data.Manifest;
import org.sensorium.data.ManifestEntry;
import org.sensorium.data.SampleSetGenerator;
import org.sensorium.modality.SkipLog;
import org.sensorium.modality.Spans;
import org.sensorium.model.SensoriumModel;
import org.sensorium.modality.Adapters;
import org.sensorium.config.Modality;
import org.sensorium.modality.ModalityAdapter;
import org.sensorium.modality.text.TextAdapter;
import org.sensorium.objective.Objective;
import org.sensorium.train.Checkpoint;
import org.sensorium.config.Json;
import org.sensorium.job.Pretrain;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * `sensorium eval`: a run's newest checkpoint (or a given one) through a {@link Suite}'s tasks, on
 * frozen embeddings. Writes OUT/results.json (the contract shared with the report: suite, checkpoint,
 * step, wall seconds, sha256 of every manifest read, one entry per task) and OUT/embeddings/&lt;task&gt;.csv
 * (label, e0, e1, ... of the tested samples). Train side = split "train", tested side = every other split.
 * Embeddings of a manifest are computed once per clip count and shared by the tasks that use them.
 */
public final class EvalJob {
    private static final Logger LOG = LoggerFactory.getLogger(EvalJob.class);

    private EvalJob() {}

    /**
     * @param out results folder (null: RUN/eval/&lt;suite name&gt;, or RUN/eval/&lt;suite name&gt;-random)
     * @param sets --set overrides of the run's config (eval.batch_size, data.loader_threads, ...)
     * @param randomWeights the run's architecture at its initial values (the numbers a train.steps=0 run of its
     *     config saves) instead of the checkpoint's weights: the untrained baseline of every task
     */
    public record Options(Path checkpoint, Path suite, Path out, List<String> sets, boolean randomWeights) {
        public Options(Path checkpoint, Path suite, Path out, List<String> sets) {
            this(checkpoint, suite, out, sets, false);
        }
    }

    /** One task's outcome, in the shape of results.json's task entries (null parts are left out). */
    public record TaskResult(String name, String kind, String modality, String split, Map<String, Object> protocol,
            Map<String, Double> metrics, Map<String, Map<String, Object>> recall, Map<String, Double> perClass,
            Map<String, Object> confusion, String embeddings) {
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", name);
            m.put("kind", kind);
            m.put("modality", modality);
            m.put("split", split);
            m.put("protocol", protocol);
            m.put("metrics", metrics);
            if (recall != null) {
                m.put("recall", recall);
            }
            if (perClass != null) {
                m.put("per_class", perClass);
            }
            if (confusion != null) {
                m.put("confusion", confusion);
            }
            if (embeddings != null) {
                m.put("embeddings", embeddings);
            }
            return m;
        }
    }

    /**
     * @param notRun tasks the run cannot serve (an encoder it lacks, IMU channels its encoder does not read), with why
     * @param skipped broken samples and QA lines, with why
     */
    public record Result(Path out, Path checkpoint, int step, boolean randomWeights, double seconds, String suite,
            List<TaskResult> tasks, Map<String, String> notRun, Map<String, String> skipped) {}

    /** A source's samples and their embeddings: entries[i] is embedded as rows[m][i] (null where absent or broken). */
    private record Embedded(List<ManifestEntry> entries, Map<Modality, float[][]> rows) {
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
    private record Labelled(List<String> labels, float[][] x) {
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

    private record Coded(float[][] x, int[] y, int dropped) {}

    private static final Predicate<ManifestEntry> TRAIN = e -> e.split().equals("train");
    private static final Predicate<ManifestEntry> HELD_OUT = TRAIN.negate();

    /** What every task needs: the run, its model and adapters, where results go, the shared embeddings. */
    private static final class Context {
        Config cfg;
        Path ckpt;
        SensoriumModel model;
        NDManager root;
        Map<Modality, ModalityAdapter> adapters = new EnumMap<>(Modality.class);
        SkipLog skips;
        Path out;
        Map<String, String> manifests = new LinkedHashMap<>();
        Map<String, Embedded> cache = new HashMap<>();
        Map<String, Set<Modality>> wanted = new HashMap<>();
        Map<String, String> taskSkips = new LinkedHashMap<>();
        Options options;
    }

    public static Result run(Options o) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        Suite suite = Suite.load(o.suite());
        Context c = new Context();
        c.ckpt = Checkpoint.resolve(o.checkpoint(), "--checkpoint");
        c.cfg = ConfigLoader.loadResolved(c.ckpt.resolve("config.yaml"), o.sets()).config();
        c.options = o;
        Config cfg = c.cfg;
        Map<String, String> notRun = new LinkedHashMap<>();
        List<Suite.Task> runnable = new ArrayList<>();
        for (Suite.Task t : suite.tasks()) {
            String why = unusable(cfg, t);
            if (why != null) {
                notRun.put(t.name(), why);
                LOG.warn("task {} not run: {}", t.name(), why);
                continue;
            }
            runnable.add(t);
            if (sharesEmbeddings(t)) {
                c.wanted.computeIfAbsent(t.source().key(t.clips()), k -> new TreeSet<>()).addAll(t.modalities());
            }
        }
        if (runnable.isEmpty()) {
            throw new ConfigException(o.suite().toString(), "no task of the suite fits the run " + c.ckpt + ": " + notRun);
        }
        int step = Checkpoint.readState(c.ckpt).step();
        c.out = o.out() != null ? o.out() : runDir(c.ckpt).resolve("eval").resolve(suite.name() + (o.randomWeights() ? "-random" : ""));
        Files.createDirectories(c.out.resolve("embeddings"));
        c.skips = new SkipLog(cfg.run().strict());
        List<TaskResult> results = new ArrayList<>();
        try (NDManager root = NDManager.newBaseManager();
                SensoriumModel model = new SensoriumModel(cfg, root)) {
            c.root = root;
            c.model = model;
            List<Objective.Weighted> objectives = ObjectiveKind.enabled(cfg, model); // may add parameters (TOT prototypes)
            if (!o.randomWeights()) {
                model.params().load(c.ckpt.resolve("model.ndlist"));
                for (Objective.Weighted w : objectives) {
                    w.objective().load(c.ckpt);
                }
            }
            for (Modality m : cfg.data().modalities()) {
                c.adapters.put(m, Adapters.create(m, cfg.modalities(), cfg.data().clipSeconds()));
            }
            for (Suite.Task t : runnable) {
                long ts = System.nanoTime();
                LOG.info("task {} ({})", t.name(), t.kind());
                TaskResult r;
                if (t instanceof Suite.ZeroShot z) {
                    r = zeroShot(c, z);
                } else if (t instanceof Suite.RetrievalTask rt) {
                    r = retrieval(c, rt);
                } else if (t instanceof Suite.LinearProbe p) {
                    r = probe(c, p);
                } else if (t instanceof Suite.Knn k) {
                    r = knn(c, k);
                } else if (t instanceof Suite.SegmentationTask s) {
                    r = segmentation(c, s, objectives);
                } else if (t instanceof Suite.FineTuneTask f) {
                    r = finetune(c, f);
                } else if (t instanceof Suite.QaTask q) {
                    r = qa(c, q);
                } else {
                    throw new IllegalStateException("no evaluation for task kind " + t.kind());
                }
                r.protocol().put("seconds", (System.nanoTime() - ts) / 1e9);
                results.add(r);
            }
        } finally {
            c.adapters.values().forEach(ModalityAdapter::close);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("suite", suite.name());
        json.put("checkpoint", runDir(c.ckpt).toString());
        json.put("checkpoint_folder", c.ckpt.toString());
        json.put("step", step);
        json.put("weights", o.randomWeights() ? "random (initial values of the run's config, as train.steps=0 saves them)"
                : "checkpoint step " + step);
        json.put("wall_seconds", seconds);
        json.put("manifests", c.manifests);
        json.put("tasks", results.stream().map(TaskResult::toMap).toList());
        json.put("tasks_not_run", notRun);
        Map<String, String> skipped = new LinkedHashMap<>(c.skips.reasons());
        skipped.putAll(c.taskSkips);
        json.put("skipped", skipped);
        Json.write(c.out.resolve("results.json"), json);
        return new Result(c.out, c.ckpt, step, o.randomWeights(), seconds, suite.name(), results, notRun, skipped);
    }

    /** Fine-tuning and QA decode and embed their own samples; segmentation its own windows. */
    private static boolean sharesEmbeddings(Suite.Task t) {
        return !(t instanceof Suite.SegmentationTask || t instanceof Suite.FineTuneTask || t instanceof Suite.QaTask);
    }

    /**
     * Why the run cannot serve a task, or null: an encoder it lacks, zero-shot or QA without text, QA with text
     * bags, or a manifest whose IMU recordings lack a channel the run's IMU encoder reads (HMP has ax, ay, az
     * only; a 6-channel run cannot embed it). One suite can so hold tasks for different runs (eval/real.yaml:
     * speech and sounds for the default run, HMP for an IMU run).
     */
    static String unusable(Config cfg, Suite.Task t) throws IOException {
        List<Modality> has = cfg.data().modalities();
        for (Modality m : t.modalities()) {
            if (!has.contains(m)) {
                return "needs the " + m.key() + " encoder; the run's data.modalities are " + has.stream().map(Modality::key).toList();
            }
        }
        if (t instanceof Suite.ZeroShot && !has.contains(Modality.TEXT)) {
            return "zero_shot needs text in the run's data.modalities";
        }
        if (t instanceof Suite.QaTask && cfg.modalities().text().bag() != 1) {
            return "qa encodes one text per sequence; the run has modalities.text.bag " + cfg.modalities().text().bag();
        }
        if (t.modalities().contains(Modality.IMU) && t.source().manifest() != null) {
            for (ManifestEntry e : Manifest.read(t.source().manifest())) {
                if (e.has(Modality.IMU)) {
                    List<String> wants = cfg.modalities().imu().channels();
                    List<String> got;
                    try {
                        got = org.sensorium.modality.imu.ImuAdapter.channels(e.sources().get(Modality.IMU).path());
                    } catch (IOException ex) {
                        return null; // a broken first recording is skipped when decoded, like any other
                    }
                    return got.containsAll(wants) ? null : "the run's IMU encoder reads " + wants + "; " + t.source().manifest()
                            + "'s recordings have " + got + " (line " + e.line() + ")";
                }
            }
        }
        return null;
    }

    /** The --set overrides a fine-tuning or QA task passes on: the suite's, plus the task's manifest as data.manifest. */
    private static List<String> sets(Context c, Suite.Source source) {
        List<String> sets = new ArrayList<>(c.options.sets());
        if (source.manifest() != null) {
            sets.add("data.manifest=" + source.manifest());
        }
        return sets;
    }

    private static TaskResult finetune(Context c, Suite.FineTuneTask t) throws IOException, InterruptedException {
        manifest(c, t.source());
        FineTune.Result r = FineTune.run(new FineTune.Options(c.ckpt, t.modality(), t.trainable(), t.shots(), t.epochs(), t.lr(),
                t.headLr(), t.batch(), t.seeds(), c.options.randomWeights(), sets(c, t.source())));
        r.skipped().forEach((id, why) -> c.taskSkips.put(t.name() + ": " + id, why));
        return fromContract(r.toTask(t.name()), t.kind());
    }

    private static TaskResult qa(Context c, Suite.QaTask t) throws IOException, InterruptedException {
        VideoQa.Result r = VideoQa.run(new VideoQa.Options(c.ckpt, t.qa(), t.hidden(), t.epochs(), t.lr(), 0f, t.batch(), t.seeds(),
                t.subtitles(), c.options.randomWeights(), c.options.sets()));
        c.manifests.put(r.qa().toString(), r.qaSha256());
        r.skipped().forEach((id, why) -> c.taskSkips.put(t.name() + ": " + id, why));
        return fromContract(r.toTask(t.name()), t.kind());
    }

    /** A task entry in the results.json shape ({@link FineTune.Result#toTask}, {@link VideoQa.Result#toTask}) as a TaskResult. */
    @SuppressWarnings("unchecked")
    private static TaskResult fromContract(Map<String, Object> e, String kind) {
        Map<String, Double> metrics = new LinkedHashMap<>();
        ((Map<String, Object>) e.get("metrics")).forEach((k, v) -> metrics.put(k, ((Number) v).doubleValue()));
        Map<String, Double> perClass = null;
        if (e.get("per_class") != null) {
            perClass = new LinkedHashMap<>();
            for (Map.Entry<String, Object> p : ((Map<String, Object>) e.get("per_class")).entrySet()) {
                perClass.put(p.getKey(), ((Number) p.getValue()).doubleValue());
            }
        }
        return new TaskResult((String) e.get("name"), kind, (String) e.get("modality"), (String) e.get("split"),
                new LinkedHashMap<>((Map<String, Object>) e.get("protocol")), metrics, null, perClass,
                (Map<String, Object>) e.get("confusion"), null);
    }

    /** The run folder of a checkpoint folder (RUN/checkpoints/step-N). */
    public static Path runDir(Path ckpt) {
        return ckpt.toAbsolutePath().getParent().getParent();
    }

    /** The manifest a task reads (recorded with its sha256). */
    private static Path manifest(Context c, Suite.Source s) throws IOException {
        Path p = s.manifest() != null ? s.manifest()
                : s.synthLong() > 0 ? SampleSetGenerator.ensureLong(Manifest.cacheRoot(c.cfg.data()), s.synthLong(),
                        c.cfg.data().synthSegments(), c.cfg.data().synthSeed())
                : Manifest.forRun(c.cfg.data());
        c.manifests.computeIfAbsent(p.toString(), k -> Manifest.sha256(p));
        return p;
    }

    /** The embeddings of a source at a clip count, of every modality the suite wants from it (computed once). */
    private static Embedded embedded(Context c, Suite.Task t) throws IOException, InterruptedException {
        String key = t.source().key(t.clips());
        Embedded cached = c.cache.get(key);
        if (cached != null) {
            return cached;
        }
        List<ManifestEntry> entries = Manifest.read(manifest(c, t.source()));
        Map<Modality, ModalityAdapter> adapters = new EnumMap<>(Modality.class);
        c.wanted.get(key).forEach(m -> adapters.put(m, c.adapters.get(m)));
        LOG.info("embedding {} samples of {} ({} clips each): {}", entries.size(), key, t.clips(), adapters.keySet());
        Config cfg = c.cfg;
        Retrieval.Embeddings emb = Retrieval.embedClips(c.model, entries, adapters, cfg.data().clipSeconds(), t.clips(),
                cfg.data().loaderThreads(), cfg.run().seed(), cfg.eval().batchSize(), c.skips, c.root);
        Map<String, Integer> at = new HashMap<>();
        for (int i = 0; i < emb.ids().size(); i++) {
            at.put(emb.ids().get(i), i);
        }
        List<ManifestEntry> kept = entries.stream().filter(e -> at.containsKey(e.id())).toList();
        Map<Modality, float[][]> rows = new EnumMap<>(Modality.class);
        emb.rows().forEach((m, r) -> rows.put(m, kept.stream().map(e -> r[at.get(e.id())]).toArray(float[][]::new)));
        Embedded e = new Embedded(kept, rows);
        c.cache.put(key, e);
        return e;
    }

    private static Map<String, Object> protocol(Suite.Task t, Object... kv) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("manifest", t.source().manifest() == null ? (t.source().synthLong() > 0 ? "synth_long " + t.source().synthLong() : "run")
                : t.source().manifest().toString());
        p.put("clips", t.clips());
        for (int i = 0; i < kv.length; i += 2) {
            p.put((String) kv[i], kv[i + 1]);
        }
        return p;
    }

    private static TaskResult classification(Context c, Suite.Task t, Modality m, String split, Map<String, Object> protocol,
            Classification.Result r, Coded test) throws IOException {
        Map<String, Object> confusion = new LinkedHashMap<>();
        confusion.put("labels", r.classes());
        confusion.put("matrix", r.confusion());
        Map<String, Double> metrics = r.metrics();
        if (test.dropped() > 0) {
            protocol.put("tested_samples_without_a_known_class", test.dropped());
        }
        String csv = writeCsv(c, t.name(), r.classes(), test);
        return new TaskResult(t.name(), t.kind(), m.key(), split, protocol, metrics, null, r.perClass(), confusion, csv);
    }

    /** Zero-shot: each class's embedding is the ensemble of its prompts through the text encoder; scores are cosines. */
    private static TaskResult zeroShot(Context c, Suite.ZeroShot z) throws IOException, InterruptedException {
        Classification.Classes classes = Classification.Classes.read(z.labels());
        List<String> templates = Classification.templates(z.templates());
        List<String> prompts = new ArrayList<>();
        for (String phrase : classes.phrases()) {
            templates.forEach(tp -> prompts.add(tp.replace("{}", phrase)));
        }
        float[][] text = embedTexts(c, prompts);                         // (C * T, E)
        float[][] classEmb = new float[classes.labels().size()][];
        for (int k = 0; k < classEmb.length; k++) {
            classEmb[k] = Classification.ensemble(List.of(text).subList(k * templates.size(), (k + 1) * templates.size()));
        }
        Coded test = embedded(c, z).labelled(z.modality(), HELD_OUT).code(classes.labels());
        if (test.y().length == 0) {
            throw new ConfigException(z.labels().toString(), "no held-out sample of " + z.modality().key() + " has one of these labels");
        }
        Classification.Result r = Classification.score(Classification.similarities(test.x(), classEmb), test.y(), classes.labels());
        Map<String, Object> p = protocol(z, "labels", z.labels().toString(), "templates", z.templates().toString(),
                "classes", classes.labels().size(), "prompts_per_class", templates.size());
        return classification(c, z, z.modality(), "tested: held-out (split != train), " + r.n() + " samples", p, r, test);
    }

    /** Unit text embeddings (n, E) of free texts, through the run's tokenizer and text encoder. */
    private static float[][] embedTexts(Context c, List<String> texts) {
        TextAdapter adapter = (TextAdapter) c.adapters.get(Modality.TEXT);
        long[] shape = adapter.inputShape();                             // (L) or (K, L) with a bag: the text is row 0
        int per = (int) java.util.Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        List<Batch.Decoded> decoded = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            Item one = adapter.tokenize(texts.get(i));
            float[] values = new float[per];
            boolean[] valid = new boolean[per];
            System.arraycopy(one.values(), 0, values, 0, one.values().length);
            System.arraycopy(one.valid(), 0, valid, 0, one.valid().length);
            ManifestEntry e = new ManifestEntry("prompt" + i, "test", null, Map.of(), List.of(texts.get(i)), Path.of("prompts"), i + 1);
            decoded.add(new Batch.Decoded(e, Map.of(Modality.TEXT, new Item(values, shape, valid))));
        }
        return Retrieval.embed(c.model, decoded, Map.of(Modality.TEXT, shape), c.cfg.eval().batchSize(), c.root).rows().get(Modality.TEXT);
    }

    private static TaskResult retrieval(Context c, Suite.RetrievalTask t) throws IOException, InterruptedException {
        Embedded all = embedded(c, t);
        List<Integer> held = new ArrayList<>();
        for (int i = 0; i < all.entries().size(); i++) {
            if (HELD_OUT.test(all.entries().get(i))) {
                held.add(i);
            }
        }
        Map<Modality, float[][]> rows = new EnumMap<>(Modality.class);
        all.rows().forEach((m, r) -> rows.put(m, held.stream().map(i -> r[i]).toArray(float[][]::new)));
        Retrieval.Embeddings emb = new Retrieval.Embeddings(held.stream().map(i -> all.entries().get(i).id()).toList(), rows);
        Map<String, Map<String, Object>> recall = new LinkedHashMap<>();
        Map<String, Double> metrics = new LinkedHashMap<>();
        for (Config.Pair pair : t.pairs()) {
            for (Retrieval.Result r : Retrieval.pair(emb, pair)) {
                recall.put(r.direction(), r.toMap());
                metrics.put(r.direction() + "/R@1", r.r1());
                metrics.put(r.direction() + "/R@5", r.r5());
                metrics.put(r.direction() + "/R@10", r.r10());
                metrics.put(r.direction() + "/median_rank", r.medianRank());
                metrics.put(r.direction() + "/mean_rank", r.meanRank());
            }
        }
        Modality first = t.pairs().get(0).a();
        Labelled shown = new Embedded(held.stream().map(i -> all.entries().get(i)).toList(), rows).labelled(first, e -> true);
        String csv = shown.labels().isEmpty() ? null : writeCsv(c, t.name(), null, new Coded(shown.x(), null, 0), shown.labels());
        String modalities = String.join(",", t.modalities().stream().map(Modality::key).sorted().toList());
        return new TaskResult(t.name(), t.kind(), modalities, "queries and candidates: held-out (split != train), "
                + held.size() + " samples", protocol(t, "pairs", t.pairs().stream().map(p -> p.a().key() + "-" + p.b().key()).toList(),
                "ties", "count against the match"), metrics, recall, null, null, csv);
    }

    /** Train side (classes = its labels) and tested side of a labelled task. */
    private record Sides(List<String> classes, Coded train, Coded test) {}

    private static Sides sides(Context c, Suite.Task t, Modality m) throws IOException, InterruptedException {
        Embedded all = embedded(c, t);
        Labelled train = all.labelled(m, TRAIN), test = all.labelled(m, HELD_OUT);
        List<String> classes = List.copyOf(new TreeSet<>(train.labels()));
        if (classes.size() < 2 || test.labels().isEmpty()) {
            throw new ConfigException("tasks." + t.name(), "needs labelled " + m.key() + " samples of 2+ classes in split train and some in"
                    + " another split; found " + train.labels().size() + " train (" + classes.size() + " classes), " + test.labels().size() + " held-out");
        }
        return new Sides(classes, train.code(classes), test.code(classes));
    }

    private static String splitText(Sides s) {
        return "trained: split train, " + s.train().y().length + " samples; tested: split != train, " + s.test().y().length + " samples";
    }

    private static TaskResult probe(Context c, Suite.LinearProbe t) throws IOException, InterruptedException {
        Sides s = sides(c, t, t.modality());
        LinearProbe.Sweep sweep = LinearProbe.sweep(s.train().x(), s.train().y(), s.classes().size(), t.l2(), t.valFraction(), c.cfg.run().seed());
        Classification.Result r = Classification.score(sweep.model().scores(s.test().x()), s.test().y(), s.classes());
        Map<String, Object> val = new LinkedHashMap<>();
        sweep.validation().forEach((l2, acc) -> val.put(Double.toString(l2), acc));
        Map<String, Object> p = protocol(t, "classifier", "multinomial logistic regression, L-BFGS, mean cross-entropy + l2/2 |W|^2",
                "l2_sweep_val_top1", val, "l2_picked", sweep.picked(), "val_fraction", t.valFraction(),
                "sweep_train_samples", sweep.trainSamples(), "sweep_val_samples", sweep.valSamples(), "refit", "train + val");
        return classification(c, t, t.modality(), splitText(s), p, r, s.test());
    }

    private static TaskResult knn(Context c, Suite.Knn t) throws IOException, InterruptedException {
        Sides s = sides(c, t, t.modality());
        double[][] votes = Classification.knn(s.test().x(), s.train().x(), s.train().y(), s.classes().size(), t.k(), t.temperature());
        Classification.Result r = Classification.score(votes, s.test().y(), s.classes());
        Map<String, Object> p = protocol(t, "k", t.k(), "temperature", t.temperature(), "vote", "sum of exp(cosine / temperature) over the k nearest");
        return classification(c, t, t.modality(), splitText(s), p, r, s.test());
    }

    /**
     * Segmentation of held-out long recordings. k-means: windows of the run's clip length every stride
     * seconds, each labelled by the segment at its centre; k = the number of activities; Hungarian
     * matching over all windows; MoF, NMI and F1@{10,25,50} of the mapped window sequences per
     * recording. temporal_ot: the run's own prototypes ({@link TemporalSegmentation}).
     */
    private static TaskResult segmentation(Context c, Suite.SegmentationTask t, List<Objective.Weighted> objectives)
            throws IOException, InterruptedException {
        Config cfg = c.cfg;
        boolean tot = cfg.objectives().temporalOt().weight() > 0 && cfg.objectives().temporalOt().modality() == t.modality();
        if (t.method().equals("temporal_ot") && !tot) {
            throw new ConfigException("tasks." + t.name() + ".method", "temporal_ot: the run did not train objectives.temporal_ot on " + t.modality().key());
        }
        List<ManifestEntry> recordings = Manifest.read(manifest(c, t.source())).stream()
                .filter(e -> HELD_OUT.test(e) && !e.segments().isEmpty() && e.has(t.modality())).toList();
        if (recordings.isEmpty()) {
            throw new ConfigException("tasks." + t.name() + ".manifest", "no held-out recording with segments and " + t.modality().key());
        }
        String split = "held-out recordings with segments (split != train): " + recordings.size();
        if (tot && !t.method().equals("kmeans")) {
            TemporalSegmentation.Report g = Pretrain.segmentation(cfg, c.model, objectives, recordings, c.root, c.skips);
            Map<String, Double> metrics = new LinkedHashMap<>();
            metrics.put("mof", g.transport().mof());
            metrics.put("nmi", g.transport().nmi());
            metrics.put("argmax_mof", g.argmax().mof());
            metrics.putAll(g.transportF1());
            metrics.put("equal_split_mof", g.transport().equalSplitMof());
            metrics.put("frames", (double) g.transport().n());
            return new TaskResult(t.name(), t.kind(), t.modality().key(), split, protocol(t, "method", "temporal_ot prototypes",
                    "decoding", "transport with the temporal prior (argmax_mof: argmax of prototype scores)"), metrics, null, null, null, null);
        }
        return kmeansSegmentation(c, t, recordings, split);
    }

    private static TaskResult kmeansSegmentation(Context c, Suite.SegmentationTask t, List<ManifestEntry> recordings, String split)
            throws IOException {
        Config cfg = c.cfg;
        double clip = cfg.data().clipSeconds();
        Map<Modality, ModalityAdapter> adapter = Map.of(t.modality(), c.adapters.get(t.modality()));
        List<Batch.Decoded> windows = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        List<Integer> recording = new ArrayList<>();
        for (int r = 0; r < recordings.size(); r++) {
            ManifestEntry e = recordings.get(r);
            double span = Spans.seconds(e.recording());
            for (double at = 0; at + clip <= span + 1e-9; at += t.strideSeconds()) {
                String[] truth = Segmentation.labelsAt(e.segments(), new double[] {at + clip / 2});
                if (truth[0] == null) {
                    continue;
                }
                Batch.Decoded d = Loader.decode(e, new Clip(at, clip, false, Loader.mix(cfg.run().seed(), r, windows.size())), adapter, c.skips);
                if (d != null) {
                    windows.add(d);
                    labels.add(truth[0]);
                    recording.add(r);
                }
            }
        }
        if (windows.isEmpty()) {
            throw new ConfigException("tasks." + t.name(), "no window of " + clip + " s fits a held-out recording");
        }
        float[][] rows = Retrieval.embed(c.model, windows, Map.of(t.modality(), adapter.get(t.modality()).inputShape()),
                cfg.eval().batchSize(), c.root).rows().get(t.modality());
        int k = new TreeSet<>(labels).size();
        List<double[]> points = new ArrayList<>();
        for (float[] row : rows) {
            double[] d = new double[row.length];
            for (int i = 0; i < d.length; i++) {
                d[i] = row[i];
            }
            points.add(d);
        }
        int[] clusters = k < 2 ? new int[rows.length] : ClusterMetrics.kmeans(points, Math.min(k, rows.length), 300, cfg.run().seed()).assigned();
        int[] classes = ClusterMetrics.codes(labels);
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("mof", Segmentation.mof(clusters, classes));
        metrics.put("nmi", ClusterMetrics.nmi(clusters, classes));
        metrics.putAll(Segmentation.f1(clusters, classes, recording.stream().mapToInt(Integer::intValue).toArray()));
        metrics.put("windows", (double) rows.length);
        metrics.put("activities", (double) k);
        String csv = writeCsv(c, t.name(), null, new Coded(rows, null, 0), labels);
        return new TaskResult(t.name(), t.kind(), t.modality().key(), split, protocol(t, "method", "k-means on window embeddings, k = activities",
                "window_seconds", clip, "stride_seconds", t.strideSeconds(), "matching", "Hungarian over all windows",
                "f1", "segments of the matched window sequence per recording, IoU >= overlap (Lea et al. 2017)"),
                metrics, null, null, null, csv);
    }

    private static String writeCsv(Context c, String task, List<String> classes, Coded rows) throws IOException {
        List<String> labels = new ArrayList<>();
        for (int y : rows.y()) {
            labels.add(classes.get(y));
        }
        return writeCsv(c, task, classes, rows, labels);
    }

    /** embeddings/&lt;task&gt;.csv: header label,e0,e1,...; one row per sample; path relative to results.json. */
    private static String writeCsv(Context c, String task, List<String> classes, Coded rows, List<String> labels) throws IOException {
        String rel = "embeddings/" + task + ".csv";
        StringBuilder sb = new StringBuilder("label");
        int dim = rows.x().length == 0 ? 0 : rows.x()[0].length;
        for (int d = 0; d < dim; d++) {
            sb.append(",e").append(d);
        }
        sb.append('\n');
        for (int i = 0; i < rows.x().length; i++) {
            String l = labels.get(i);
            sb.append(l.contains(",") || l.contains("\"") ? '"' + l.replace("\"", "\"\"") + '"' : l);
            for (float v : rows.x()[i]) {
                sb.append(',').append(v);
            }
            sb.append('\n');
        }
        Files.writeString(c.out.resolve(rel), sb.toString());
        return rel;
    }
}
