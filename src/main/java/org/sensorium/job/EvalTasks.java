package org.sensorium.job;

import static org.sensorium.job.EvalSamples.HELD_OUT;
import static org.sensorium.job.EvalSamples.TRAIN;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.config.Modality;
import org.sensorium.data.LabelCaptions;
import org.sensorium.data.Batch;
import org.sensorium.data.Loader;
import org.sensorium.data.Manifest;
import org.sensorium.data.ManifestEntry;
import org.sensorium.eval.ClusterMetrics;
import org.sensorium.eval.Segmentation;
import org.sensorium.eval.TemporalSegmentation;
import org.sensorium.modality.Clip;
import org.sensorium.modality.ModalityAdapter;
import org.sensorium.modality.Spans;
import org.sensorium.objective.Objective;
import org.sensorium.eval.Classification;
import org.sensorium.eval.LinearProbe;
import org.sensorium.eval.Retrieval;
import org.sensorium.eval.Suite;
import org.sensorium.job.EvalJob.TaskResult;
import org.sensorium.job.EvalSamples.Coded;
import org.sensorium.job.EvalSamples.Embedded;
import org.sensorium.job.EvalSamples.Labelled;

/**
 * The evaluation of each task kind of a {@link Suite} on a run, one method per kind; {@link EvalJob} picks the method.
 * The embedding kinds (zero-shot, retrieval, linear probe, kNN) read the frozen embeddings {@link EvalSamples} shares;
 * segmentation, fine-tuning and QA decode and embed their own samples. Each writes the
 * tested samples' embeddings to OUT/embeddings/&lt;task&gt;.csv where it has them.
 */
final class EvalTasks {
    private final TrainedRun run;
    private final List<Objective.Weighted> objectives;
    private final EvalSamples samples;
    private final EvalJob.Options options;
    private final Path out;
    private final Map<String, String> skipped = new LinkedHashMap<>();

    /**
     * @param objectives the run's objectives (temporal_ot segments with its prototypes)
     * @param out the results folder (embeddings/ is written below it)
     */
    EvalTasks(TrainedRun run, List<Objective.Weighted> objectives, EvalSamples samples, EvalJob.Options options, Path out) {
        this.run = run;
        this.objectives = objectives;
        this.samples = samples;
        this.options = options;
        this.out = out;
    }

    /** Samples and QA lines the fine-tuning and QA tasks skipped, as "task: id" -> why. */
    Map<String, String> skipped() {
        return skipped;
    }

    /** Zero-shot: each class's embedding is the ensemble of its prompts through the text encoder; scores are cosines. */
    TaskResult zeroShot(Suite.ZeroShot z) throws IOException, InterruptedException {
        LabelCaptions.Classes classes = LabelCaptions.classes(z.labels(), "tasks." + z.name() + ".labels");
        List<String> templates = LabelCaptions.templates(z.templates(), "tasks." + z.name() + ".templates");
        List<String> prompts = new ArrayList<>();
        for (String phrase : classes.phrases()) {
            templates.forEach(tp -> prompts.add(tp.replace("{}", phrase)));
        }
        float[][] text = samples.embedTexts(prompts);                    // (C * T, E)
        float[][] classEmb = new float[classes.labels().size()][];
        for (int k = 0; k < classEmb.length; k++) {
            classEmb[k] = Classification.ensemble(List.of(text).subList(k * templates.size(), (k + 1) * templates.size()));
        }
        Embedded all = samples.embedded(z);
        Coded test = all.labelled(z.modality(), HELD_OUT).code(classes.labels());
        if (test.y().length == 0) {
            throw new ConfigException(z.labels().toString(), "no held-out sample of " + z.modality().key() + " has one of these labels");
        }
        float[][] queries = test.x();
        String centredOn = "none";
        if (z.centre()) { // minus the mean embedding of what the run trained on, renormalised (the modality gap)
            Set<String> trained = trainedLabels();
            float[][] train = all.labelled(z.modality(), e -> TRAIN.test(e) && (trained == null || trained.contains(e.label()))).x();
            if (train.length == 0) {
                throw new ConfigException("tasks." + z.name() + ".centre", "no training sample of " + z.modality().key() + " to centre on");
            }
            queries = Classification.centred(queries, Classification.mean(train));
            centredOn = "mean of " + train.length + " training embeddings" + (trained == null ? "" : " of the run's data.label_captions labels");
        }
        Classification.Result r = Classification.score(Classification.similarities(queries, classEmb), test.y(), classes.labels());
        Map<String, Object> p = protocol(z, "labels", z.labels().toString(), "templates", z.templates().toString(),
                "classes", classes.labels().size(), "prompts_per_class", templates.size(), "centred_on", centredOn);
        return classification(z, z.modality(), "tested: held-out (split != train), " + r.n() + " samples", p, r, test);
    }

    /** The labels the run trained on when it trained with data.label_captions; null when it trained on every label. */
    private Set<String> trainedLabels() {
        String file = samples.config().data().labelCaptions();
        return file.isBlank() ? null : Set.copyOf(LabelCaptions.classes(Path.of(file), "data.label_captions").labels());
    }

    /** Both directions of every pair, queries and candidates the held-out samples (CLIP's retrieval protocol). */
    TaskResult retrieval(Suite.RetrievalTask t) throws IOException, InterruptedException {
        Embedded all = samples.embedded(t);
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
        String csv = shown.labels().isEmpty() ? null : writeCsv(t.name(), shown.x(), shown.labels());
        String modalities = String.join(",", t.modalities().stream().map(Modality::key).sorted().toList());
        return new TaskResult(t.name(), t.kind(), modalities, "queries and candidates: held-out (split != train), "
                + held.size() + " samples", protocol(t, "pairs", t.pairs().stream().map(p -> p.a().key() + "-" + p.b().key()).toList(),
                "ties", "count against the match"), metrics, recall, null, null, csv);
    }

    /** Train side (classes = its labels) and tested side of a labelled task. */
    private record Sides(List<String> classes, Coded train, Coded test) {
        String text() {
            return "trained: split train, " + train.y().length + " samples; tested: split != train, " + test.y().length + " samples";
        }
    }

    private Sides sides(Suite.Task t, Modality m) throws IOException, InterruptedException {
        Embedded all = samples.embedded(t);
        Labelled train = all.labelled(m, TRAIN), test = all.labelled(m, HELD_OUT);
        List<String> classes = List.copyOf(new TreeSet<>(train.labels()));
        if (classes.size() < 2 || test.labels().isEmpty()) {
            throw new ConfigException("tasks." + t.name(), "needs labelled " + m.key() + " samples of 2+ classes in split train and some in"
                    + " another split; found " + train.labels().size() + " train (" + classes.size() + " classes), " + test.labels().size() + " held-out");
        }
        return new Sides(classes, train.code(classes), test.code(classes));
    }

    TaskResult probe(Suite.LinearProbe t) throws IOException, InterruptedException {
        Sides s = sides(t, t.modality());
        LinearProbe.Sweep sweep = LinearProbe.sweep(s.train().x(), s.train().y(), s.classes().size(), t.l2(), t.valFraction(),
                run.config().run().seed());
        Classification.Result r = Classification.score(sweep.model().scores(s.test().x()), s.test().y(), s.classes());
        Map<String, Object> val = new LinkedHashMap<>();
        sweep.validation().forEach((l2, acc) -> val.put(Double.toString(l2), acc));
        Map<String, Object> p = protocol(t, "classifier", "multinomial logistic regression, L-BFGS, mean cross-entropy + l2/2 |W|^2",
                "l2_sweep_val_top1", val, "l2_picked", sweep.picked(), "val_fraction", t.valFraction(),
                "sweep_train_samples", sweep.trainSamples(), "sweep_val_samples", sweep.valSamples(), "refit", "train + val");
        return classification(t, t.modality(), s.text(), p, r, s.test());
    }

    TaskResult knn(Suite.Knn t) throws IOException, InterruptedException {
        Sides s = sides(t, t.modality());
        double[][] votes = Classification.knn(s.test().x(), s.train().x(), s.train().y(), s.classes().size(), t.k(), t.temperature());
        Classification.Result r = Classification.score(votes, s.test().y(), s.classes());
        Map<String, Object> p = protocol(t, "k", t.k(), "temperature", t.temperature(), "vote", "sum of exp(cosine / temperature) over the k nearest");
        return classification(t, t.modality(), s.text(), p, r, s.test());
    }

    /**
     * Segmentation of held-out long recordings. k-means: windows of the run's clip length every stride
     * seconds, each labelled by the segment at its centre; k = the number of activities; Hungarian
     * matching over all windows; MoF, NMI and F1@{10,25,50} of the mapped window sequences per
     * recording. temporal_ot: the run's own prototypes ({@link TemporalSegmentation}).
     */
    TaskResult segmentation(Suite.SegmentationTask t) throws IOException, InterruptedException {
        Config cfg = run.config();
        boolean tot = cfg.objectives().temporalOt().weight() > 0 && cfg.objectives().temporalOt().modality() == t.modality();
        if (t.method().equals("temporal_ot") && !tot) {
            throw new ConfigException("tasks." + t.name() + ".method", "temporal_ot: the run did not train objectives.temporal_ot on " + t.modality().key());
        }
        List<ManifestEntry> recordings = Manifest.read(samples.manifest(t.source())).stream()
                .filter(e -> HELD_OUT.test(e) && !e.segments().isEmpty() && e.has(t.modality())).toList();
        if (recordings.isEmpty()) {
            throw new ConfigException("tasks." + t.name() + ".manifest", "no held-out recording with segments and " + t.modality().key());
        }
        String split = "held-out recordings with segments (split != train): " + recordings.size();
        if (tot && !t.method().equals("kmeans")) {
            TemporalSegmentation.Report g = Pretrain.segmentation(cfg, samples.model(), objectives, recordings, samples.root(), samples.skips());
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
        return kmeansSegmentation(t, recordings, split);
    }

    /** A recording's windows that fit and have a segment at their centre: decoded, labelled, and which recording each is from. */
    private record Windows(List<Batch.Decoded> decoded, List<String> labels, List<Integer> recording) {}

    private Windows windows(Suite.SegmentationTask t, List<ManifestEntry> recordings) {
        Config cfg = run.config();
        double clip = cfg.data().clipSeconds();
        Map<Modality, ModalityAdapter> adapter = Map.of(t.modality(), samples.adapter(t.modality()));
        Windows w = new Windows(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        for (int r = 0; r < recordings.size(); r++) {
            ManifestEntry e = recordings.get(r);
            double span = Spans.seconds(e.recording());
            for (double at = 0; at + clip <= span + 1e-9; at += t.strideSeconds()) {
                String[] truth = Segmentation.labelsAt(e.segments(), new double[] {at + clip / 2});
                if (truth[0] == null) {
                    continue;
                }
                Batch.Decoded d = Loader.decode(e, new Clip(at, clip, false, Loader.mix(cfg.run().seed(), r, w.decoded().size())),
                        adapter, samples.skips());
                if (d != null) {
                    w.decoded().add(d);
                    w.labels().add(truth[0]);
                    w.recording().add(r);
                }
            }
        }
        return w;
    }

    private TaskResult kmeansSegmentation(Suite.SegmentationTask t, List<ManifestEntry> recordings, String split) throws IOException {
        Config cfg = run.config();
        double clip = cfg.data().clipSeconds();
        Windows w = windows(t, recordings);
        if (w.decoded().isEmpty()) {
            throw new ConfigException("tasks." + t.name(), "no window of " + clip + " s fits a held-out recording");
        }
        float[][] rows = samples.embed(w.decoded(), t.modality());
        int k = new TreeSet<>(w.labels()).size();
        List<double[]> points = new ArrayList<>();
        for (float[] row : rows) {
            points.add(ClusterJob.toDouble(row));
        }
        int[] clusters = k < 2 ? new int[rows.length] : ClusterMetrics.kmeans(points, Math.min(k, rows.length), 300, cfg.run().seed()).assigned();
        int[] classes = ClusterMetrics.codes(w.labels());
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("mof", Segmentation.mof(clusters, classes));
        metrics.put("nmi", ClusterMetrics.nmi(clusters, classes));
        metrics.putAll(Segmentation.f1(clusters, classes, w.recording().stream().mapToInt(Integer::intValue).toArray()));
        metrics.put("windows", (double) rows.length);
        metrics.put("activities", (double) k);
        String csv = writeCsv(t.name(), rows, w.labels());
        return new TaskResult(t.name(), t.kind(), t.modality().key(), split, protocol(t, "method", "k-means on window embeddings, k = activities",
                "window_seconds", clip, "stride_seconds", t.strideSeconds(), "matching", "Hungarian over all windows",
                "f1", "segments of the matched window sequence per recording, IoU >= overlap (Lea et al. 2017)"),
                metrics, null, null, null, csv);
    }

    TaskResult finetune(Suite.FineTuneTask t) throws IOException, InterruptedException {
        samples.manifest(t.source());
        FineTune.Result r = FineTune.run(new FineTune.Options(run.checkpoint(), t.modality(), t.trainable(), t.shots(), t.epochs(),
                t.lr(), t.headLr(), t.batch(), t.seeds(), options.randomWeights(), sets(t.source())));
        r.skipped().forEach((id, why) -> skipped.put(t.name() + ": " + id, why));
        return fromContract(r.toTask(t.name()), t.kind());
    }

    TaskResult qa(Suite.QaTask t) throws IOException, InterruptedException {
        VideoQa.Result r = VideoQa.run(new VideoQa.Options(run.checkpoint(), t.qa(), t.hidden(), t.epochs(), t.lr(), 0f, t.batch(),
                t.seeds(), t.subtitles(), options.randomWeights(), options.sets(),
                new QaPretextPhase.Settings(t.pretextSteps(), QaPretextPhase.Settings.OFF.lr(), QaPretextPhase.Settings.OFF.temperature(),
                        QaPretextPhase.Settings.OFF.maskedWeight(), QaPretextPhase.Settings.OFF.genericShare())));
        samples.recordManifest(r.qa(), r.qaSha256());
        r.skipped().forEach((id, why) -> skipped.put(t.name() + ": " + id, why));
        return fromContract(r.toTask(t.name()), t.kind());
    }

    /** The --set overrides a fine-tuning task passes on: the suite's, plus the task's manifest as data.manifest. */
    private List<String> sets(Suite.Source source) {
        List<String> sets = new ArrayList<>(options.sets());
        if (source.manifest() != null) {
            sets.add("data.manifest=" + source.manifest());
        }
        return sets;
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

    /** A task's protocol entry: where its samples come from, its clip count, then the given key, value pairs. */
    static Map<String, Object> protocol(Suite.Task t, Object... kv) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("manifest", t.source().manifest() == null ? (t.source().synthLong() > 0 ? "synth_long " + t.source().synthLong() : "run")
                : t.source().manifest().toString());
        p.put("clips", t.clips());
        for (int i = 0; i < kv.length; i += 2) {
            p.put((String) kv[i], kv[i + 1]);
        }
        return p;
    }

    private TaskResult classification(Suite.Task t, Modality m, String split, Map<String, Object> protocol,
            Classification.Result r, Coded test) throws IOException {
        Map<String, Object> confusion = new LinkedHashMap<>();
        confusion.put("labels", r.classes());
        confusion.put("matrix", r.confusion());
        Map<String, Double> metrics = r.metrics();
        if (test.dropped() > 0) {
            protocol.put("tested_samples_without_a_known_class", test.dropped());
        }
        List<String> labels = new ArrayList<>();
        for (int y : test.y()) {
            labels.add(r.classes().get(y));
        }
        String csv = writeCsv(t.name(), test.x(), labels);
        return new TaskResult(t.name(), t.kind(), m.key(), split, protocol, metrics, null, r.perClass(), confusion, csv);
    }

    /** embeddings/&lt;task&gt;.csv: header label,e0,e1,...; one row per sample (x (n, E), labels n); path relative to results.json. */
    String writeCsv(String task, float[][] x, List<String> labels) throws IOException {
        String rel = "embeddings/" + task + ".csv";
        StringBuilder sb = new StringBuilder("label");
        int dim = x.length == 0 ? 0 : x[0].length;
        for (int d = 0; d < dim; d++) {
            sb.append(",e").append(d);
        }
        sb.append('\n');
        for (int i = 0; i < x.length; i++) {
            String l = labels.get(i);
            sb.append(l.contains(",") || l.contains("\"") ? '"' + l.replace("\"", "\"\"") + '"' : l);
            for (float v : x[i]) {
                sb.append(',').append(v);
            }
            sb.append('\n');
        }
        Files.writeString(out.resolve(rel), sb.toString());
        return rel;
    }
}
