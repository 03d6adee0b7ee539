package org.sensorium.job;

import org.sensorium.modality.Recording;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.training.GradientCollector;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.data.Batch;
import org.sensorium.data.Loader;
import org.sensorium.data.Manifest;
import org.sensorium.data.ManifestEntry;
import org.sensorium.data.QaManifest;
import org.sensorium.data.SampleSetGenerator;
import org.sensorium.modality.SkipLog;
import org.sensorium.model.Layers.Linear;
import org.sensorium.model.Params;
import org.sensorium.model.SensoriumModel;
import org.sensorium.modality.Adapters;
import org.sensorium.config.Modality;
import org.sensorium.modality.ModalityAdapter;
import org.sensorium.modality.text.TextAdapter;
import org.sensorium.train.AdamW;
import org.sensorium.train.Trainer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Multiple-choice video QA (TVQA's task, Lei et al. 2018): each of an item's K answers is
 * scored from the text encoder's embedding of "question answer" (t), the video encoder's embedding of the
 * moment asked about (v) and the text encoder's embedding of the subtitles in that moment (s), fused by an
 * MLP on [t, v, s, t*v, t*s] (5E) -> hidden -> GELU -> 1; softmax over the K scores and cross-entropy with
 * the right answer train the fusion head on the train split's items; accuracy on the held-out items
 * (val and test) against chance 1/K. The encoders are frozen (every embedding computed once) unless an
 * encoder learning rate is given; then they train with the head. Each seed draws the head's initial
 * weights and the batch order.
 *
 * <pre>
 *   shapes: b items, K answers, E embedding, H hidden
 *   t (b, K, E)   v (b, E) -> (b, K, E)   s (b, E) -> (b, K, E)
 *   x = [t, v, s, t*v, t*s] (b, K, 5E) -> fc1 (b, K, H) -> gelu -> fc2 (b, K, 1) -> scores (b, K)
 * </pre>
 */
public final class VideoQa {
    private static final Logger LOG = LoggerFactory.getLogger(VideoQa.class);

    private VideoQa() {}

    /**
     * @param qa the QA manifest; null: qa.jsonl next to the run's data manifest (written for the built-in
     *     sample set when missing)
     * @param subtitles false: the subtitle embedding is zero for every item (video and question only)
     * @param encoderLr 0: frozen encoders (embeddings computed once); above 0: the video and text encoders are
     *     fine-tuned too, at this learning rate (every model parameter the two modalities use)
     * @param randomWeights encoders at the run config's initial values instead of the checkpoint's
     * @param pretext the encoders' pretraining on the train items before the head (Kim et al. 2021); steps 0 = none
     */
    public record Options(Path checkpoint, Path qa, int hidden, int epochs, float lr, float encoderLr, int batch, List<Long> seeds,
            boolean subtitles, boolean randomWeights, List<String> sets, QaPretextPhase.Settings pretext) {
        /** Without a pretext phase. */
        public Options(Path checkpoint, Path qa, int hidden, int epochs, float lr, float encoderLr, int batch, List<Long> seeds,
                boolean subtitles, boolean randomWeights, List<String> sets) {
            this(checkpoint, qa, hidden, epochs, lr, encoderLr, batch, seeds, subtitles, randomWeights, sets, QaPretextPhase.Settings.OFF);
        }

        public Options {
            if (!(encoderLr >= 0)) {
                throw new ConfigException("--encoder-lr", encoderLr + " must be >= 0 (0 = frozen encoders)");
            }
            if (hidden < 1) {
                throw new ConfigException("--hidden", hidden + " must be >= 1");
            }
            if (epochs < 1) {
                throw new ConfigException("--epochs", epochs + " must be >= 1");
            }
            if (!(lr > 0)) {
                throw new ConfigException("--lr", lr + " must be > 0");
            }
            FineTune.checkBatchAndSeeds(batch, seeds);
            seeds = List.copyOf(seeds);
            sets = List.copyOf(sets);
        }
    }

    /**
     * One seed: held-out accuracy and the last epoch's mean training loss; with a pretext phase its own held-out
     * measures before its first step and after its last (else null).
     */
    public record SeedResult(long seed, double accuracy, double trainAccuracy, double finalLoss, QaPretextPhase.HeldOut pretextBefore,
            QaPretextPhase.HeldOut pretextAfter) {
        SeedResult(long seed, double accuracy, double trainAccuracy, double finalLoss) {
            this(seed, accuracy, trainAccuracy, finalLoss, null, null);
        }
    }

    /**
     * @param answers K
     * @param skipped bad QA lines (by line) and items whose video could not be decoded (by id)
     */
    public record Result(Path checkpoint, int step, Path qa, String qaSha256, Options options, int answers, int train,
            int test, List<SeedResult> seeds, Map<String, String> skipped) {
        public double chance() {
            return 1.0 / answers;
        }

        public double meanAccuracy() {
            return seeds.stream().mapToDouble(SeedResult::accuracy).average().orElse(Double.NaN);
        }

        public double stdAccuracy() {
            if (seeds.size() < 2) {
                return 0;
            }
            double m = meanAccuracy();
            return Math.sqrt(seeds.stream().mapToDouble(s -> Math.pow(s.accuracy() - m, 2)).sum() / (seeds.size() - 1));
        }

        /** One entry of results.json's "tasks" (the shared evaluation contract), kind "video_qa". */
        public Map<String, Object> toTask(String name) {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("name", name);
            t.put("kind", "video_qa");
            t.put("modality", options.subtitles() ? "video+text" : "video");
            t.put("split", String.format("train: %d train-split items; test: %d val + test items", train, test));
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("answers", answers);
            p.put("fusion", "MLP on [q+a, video, subs, q+a*video, q+a*subs], hidden " + options.hidden());
            p.put("encoders", options.encoderLr() == 0 ? "frozen" : "fine-tuned, lr " + options.encoderLr());
            p.put("subtitles", options.subtitles());
            p.put("epochs", options.epochs());
            p.put("lr", options.lr());
            p.put("batch", options.batch());
            p.put("seeds", options.seeds());
            p.put("weights", options.randomWeights() ? "random (initial values of the run's config)" : "checkpoint step " + step);
            p.put("pretext", options.pretext().steps() == 0 ? "none" : options.pretext().steps() + " steps of question prediction"
                    + " (without questions asked of more than " + options.pretext().genericShare() + " of the train items) + "
                    + options.pretext().maskedWeight() + " x masked-answer contrastive, lr " + options.pretext().lr() + ", tau "
                    + options.pretext().temperature() + ", trains " + options.pretext().train() + (options.pretext().augment()
                    ? ", clips augmented as the loader trains" : ", clips as decoded"));
            t.put("protocol", p);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("accuracy", meanAccuracy());
            m.put("accuracy_std", stdAccuracy());
            m.put("chance", chance());
            m.put("train_accuracy", seeds.stream().mapToDouble(SeedResult::trainAccuracy).average().orElse(Double.NaN));
            m.put("n_test", test);
            m.put("n_train", train);
            m.put("skipped", skipped.size());
            if (options.pretext().steps() > 0) {
                QaPretextPhase.putMetrics(m, seeds);
            }
            t.put("metrics", m);
            t.put("seeds", seeds.stream().map(QaPretextPhase::perSeed).toList());
            return t;
        }
    }

    /** An item decoded: its moment (video, and text where it has subtitles) and its K "question answer" texts. */
    record Decoded(QaManifest.Item item, Batch.Decoded moment, List<Batch.Decoded> answers) {}

    /** An item's frozen features: t (K x E), v (E), s (E; zeros without subtitles). */
    record Features(Decoded item, float[][] answers, float[] video, float[] subs) {}

    /** The encoders' view of b items: t (b, K, E), v (b, E), s (b, E), zero rows where an item has no subtitles. */
    record Inputs(NDArray t, NDArray v, NDArray s) {}

    public static Result run(Options o) throws IOException, InterruptedException {
        TrainedRun trained = TrainedRun.open(o.checkpoint(), o.sets());
        Config cfg = trained.config();
        for (Modality m : List.of(Modality.VIDEO, Modality.TEXT)) {
            if (!cfg.data().modalities().contains(m)) {
                throw new ConfigException("--checkpoint", "video QA needs video and text in the run's data.modalities " + cfg.data().modalities());
            }
        }
        if (cfg.modalities().text().bag() != 1) {
            throw new ConfigException("modalities.text.bag", "video QA encodes one text per sequence; the run has bags of " + cfg.modalities().text().bag());
        }
        Path qa = o.qa() != null ? o.qa() : defaultQa(cfg);
        QaManifest.Read read = QaManifest.read(qa);
        Map<String, String> skipped = new LinkedHashMap<>();
        read.errors().forEach((line, msg) -> skipped.put("line " + line, msg));
        List<Decoded> items = decode(cfg, read.items(), skipped);
        List<Decoded> train = items.stream().filter(d -> d.item().split().equals("train")).toList();
        List<Decoded> test = items.stream().filter(d -> !d.item().split().equals("train")).toList();
        if (train.isEmpty() || test.isEmpty()) {
            throw new ConfigException("--qa", qa + ": needs train and held-out (val/test) items, has " + train.size() + " and " + test.size());
        }
        int k = items.get(0).item().answers().size();
        List<SeedResult> seeds = new ArrayList<>();
        try (NDManager root = NDManager.newBaseManager()) {
            Map<Decoded, Features> frozen = null;
            QaPretextPhase.Seeds phase = new QaPretextPhase.Seeds(cfg, o.pretext(), train, test, o.batch(), o.subtitles(), shapes(cfg));
            for (long seed : o.seeds()) {
                try (NDManager run = root.newSubManager(); TrainedRun.Loaded loaded = trained.load(run, o.randomWeights(), false)) {
                    SensoriumModel model = loaded.model();
                    boolean pretext = o.pretext().steps() > 0;
                    QaPretextPhase.HeldOut after = pretext ? phase.run(model, seed, run) : null; // the encoders change per seed
                    if (o.encoderLr() == 0 && (frozen == null || pretext)) { // frozen encoders, no pretext: every seed sees the same features
                        frozen = features(model, cfg, items, o.batch(), root);
                    }
                    SeedResult r = oneSeed(cfg, o, model, frozen, train, test, seed, run);
                    seeds.add(new SeedResult(seed, r.accuracy(), r.trainAccuracy(), r.finalLoss(), pretext ? phase.before() : null, after));
                }
                LOG.info("seed {}: held-out QA accuracy {}", seed, seeds.get(seeds.size() - 1).accuracy());
            }
        }
        return new Result(trained.checkpoint(), trained.step(), qa, Manifest.sha256(qa), o, k, train.size(), test.size(), seeds, skipped);
    }

    /** qa.jsonl beside the run's manifest; for the built-in sample set it is written when missing (sets generated before it existed). */
    static Path defaultQa(Config cfg) throws IOException {
        Path manifest = Manifest.forRun(cfg.data());
        Path qa = manifest.toAbsolutePath().getParent().resolve("qa.jsonl");
        if (!Files.isRegularFile(qa) && cfg.data().manifest().isBlank() && cfg.data().synthLong() == 0) {
            SampleSetGenerator.writeQa(qa.getParent(), cfg.data().synthSamples(), cfg.data().synthSeed());
        }
        if (!Files.isRegularFile(qa)) {
            throw new ConfigException("--qa", qa + ": no such file (give the QA manifest with --qa)");
        }
        return qa;
    }

    /** Decodes every item (video moment, its subtitles, each question + answer tokenized); an undecodable video skips the item. */
    static List<Decoded> decode(Config cfg, List<QaManifest.Item> items, Map<String, String> skipped) throws InterruptedException {
        SkipLog skips = new SkipLog(cfg.run().strict());
        double clipSeconds = cfg.data().clipSeconds();
        ModalityAdapter video = Adapters.create(Modality.VIDEO, cfg.modalities(), clipSeconds);
        TextAdapter text = (TextAdapter) Adapters.create(Modality.TEXT, cfg.modalities(), clipSeconds);
        List<Decoded> out = new ArrayList<>();
        try {
            List<ManifestEntry> entries = items.stream().map(VideoQa::entry).toList();
            Map<String, QaManifest.Item> byId = new LinkedHashMap<>();
            items.forEach(i -> byId.put(i.id(), i));
            for (Batch.Decoded d : Loader.decodeAll(entries, Map.of(Modality.VIDEO, video, Modality.TEXT, text),
                    clipSeconds, 0, 1, cfg.data().loaderThreads(), cfg.run().seed(), skips)) {
                QaManifest.Item item = byId.get(d.entry().id());
                List<Batch.Decoded> answers = item.answers().stream().map(a ->
                        new Batch.Decoded(d.entry(), Map.of(Modality.TEXT, text.sample(item.question() + " " + a)))).toList();
                out.add(new Decoded(item, d, answers));
            }
        } finally {
            video.close();
            text.close();
        }
        skipped.putAll(skips.reasons());
        return out;
    }

    /** Every item's embeddings, without gradients, batch by batch. */
    static Map<Decoded, Features> features(SensoriumModel model, Config cfg, List<Decoded> items, int batch, NDManager root) {
        Map<Modality, long[]> shapes = shapes(cfg);
        Map<Decoded, Features> out = new java.util.IdentityHashMap<>();
        for (int from = 0; from < items.size(); from += batch) {
            List<Decoded> chunk = items.subList(from, Math.min(items.size(), from + batch));
            try (NDManager sm = root.newSubManager()) {
                Inputs in = encode(model, sm, chunk, shapes, false);
                int b = chunk.size(), k = (int) in.t().getShape().get(1), e = (int) in.v().getShape().get(1);
                float[] t = in.t().toFloatArray(), v = in.v().toFloatArray(), s = in.s().toFloatArray();
                for (int i = 0; i < b; i++) {
                    float[][] ti = new float[k][];
                    for (int j = 0; j < k; j++) {
                        ti[j] = java.util.Arrays.copyOfRange(t, (i * k + j) * e, (i * k + j + 1) * e);
                    }
                    out.put(chunk.get(i), new Features(chunk.get(i), ti, java.util.Arrays.copyOfRange(v, i * e, (i + 1) * e),
                            java.util.Arrays.copyOfRange(s, i * e, (i + 1) * e)));
                }
            }
        }
        return out;
    }

    static Map<Modality, long[]> shapes(Config cfg) {
        Map<Modality, long[]> shapes = new java.util.EnumMap<>(Modality.class);
        for (Modality m : List.of(Modality.VIDEO, Modality.TEXT)) {
            try (ModalityAdapter a = Adapters.create(m, cfg.modalities(), cfg.data().clipSeconds())) {
                shapes.put(m, a.inputShape());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        return shapes;
    }

    /** The encoders on b items: the moment's video and subtitles, and the b*K question + answer texts. */
    static Inputs encode(SensoriumModel model, NDManager sm, List<Decoded> chunk, Map<Modality, long[]> shapes, boolean training) {
        return encode(model, sm, chunk, shapes, training, java.util.function.UnaryOperator.identity());
    }

    /** {@link #encode} with the clips (b, T, H, W, C) changed by video first (the pretext's augmentation). */
    static Inputs encode(SensoriumModel model, NDManager sm, List<Decoded> chunk, Map<Modality, long[]> shapes, boolean training,
            java.util.function.UnaryOperator<NDArray> video) {
        int b = chunk.size(), k = chunk.get(0).answers().size();
        Batch moments = Batch.collate(sm, chunk.stream().map(Decoded::moment).toList(), shapes);
        ai.djl.ndarray.NDArray here = sm.create(moments.present(Modality.TEXT)).toType(ai.djl.ndarray.types.DataType.FLOAT32, false)
                .reshape(b, 1);                                                                       // (b, 1) 1 = has subtitles
        Map<Modality, NDArray> inputs = new java.util.EnumMap<>(moments.inputs());
        inputs.put(Modality.VIDEO, video.apply(inputs.get(Modality.VIDEO)));
        var out = model.forward(inputs, moments.valid(), training);
        NDArray v = out.embedding(Modality.VIDEO);                                                    // (b, E)
        NDArray s = out.embedding(Modality.TEXT).mul(here);                                           // (b, E)
        List<Batch.Decoded> texts = chunk.stream().flatMap(d -> d.answers().stream()).toList();
        Batch answers = Batch.collate(sm, texts, Map.of(Modality.TEXT, shapes.get(Modality.TEXT)));
        NDArray t = model.forward(answers.inputs(), answers.valid(), training).embedding(Modality.TEXT);                                                            // (b*K, E)
        return new Inputs(t.reshape(b, k, -1), v, s);                                                 // (b, K, E)
    }

    /**
     * The item as a manifest entry the loader decodes: the video over the moment and, when there is a
     * subtitle file, its cues over the same moment (the subtitle times are the video's). A moment longer
     * than data.clip_seconds gives its centred clip; a moment without a cue has no subtitle text.
     */
    static ManifestEntry entry(QaManifest.Item item) {
        Map<Modality, Recording.Source> sources = new java.util.EnumMap<>(Modality.class);
        sources.put(Modality.VIDEO, item.video());
        if (item.subtitles() != null && subtitleText(item)) {
            sources.put(Modality.TEXT, new Recording.Source(item.subtitles(), item.video().start(), item.video().end()));
        }
        return new ManifestEntry(item.id(), item.split(), null, sources, List.of(), item.manifest(), item.line());
    }

    /** Whether the subtitle file reads and has a cue in the moment; else the item is asked without subtitles. */
    private static boolean subtitleText(QaManifest.Item item) {
        try {
            double end = Double.isNaN(item.video().end()) ? Double.MAX_VALUE : item.video().end();
            return org.sensorium.modality.text.Subtitles.read(item.subtitles()).stream()
                    .anyMatch(c -> c.overlaps(item.video().start(), end) && !c.text().isEmpty());
        } catch (IOException | RuntimeException e) {
            LOG.warn("{}: subtitles {} unusable ({}); asked without subtitles", item.where(), item.subtitles(), e.getMessage());
            return false;
        }
    }

    /**
     * Trains a fresh fusion head (and, with encoder_lr above 0, the model) on the train items, then scores both splits.
     *
     * @param frozen the items' features when the encoders are frozen, else null
     */
    private static SeedResult oneSeed(Config cfg, Options o, SensoriumModel model, Map<Decoded, Features> frozen,
            List<Decoded> train, List<Decoded> test, long seed, NDManager run) {
        Config.Train t = cfg.train();
        Map<Modality, long[]> shapes = shapes(cfg);
        int e = cfg.model().embedDim();
        Engine.getInstance().setRandomSeed((int) Loader.mix(seed, 41, 0));
        try (Params p = new Params(run, Loader.mix(seed, 31, 0))) {
            Linear fc1 = Linear.create(p, "qa.fc1", 5 * e, o.hidden());
            Linear fc2 = Linear.create(p, "qa.fc2", o.hidden(), 1);
            AdamW opt = new AdamW(p, t.beta1(), t.beta2(), t.eps(), t.weightDecay());
            AdamW encoderOpt = frozen == null ? new AdamW(model.params(), t.beta1(), t.beta2(), t.eps(), t.weightDecay()) : null;
            SplittableRandom order = new SplittableRandom(Loader.mix(seed, 37, 0));
            List<Integer> idx = new ArrayList<>();
            for (int i = 0; i < train.size(); i++) {
                idx.add(i);
            }
            double lastLoss = Double.NaN;
            for (int epoch = 0; epoch < o.epochs(); epoch++) {
                FineTune.shuffle(idx, order);
                double sum = 0;
                for (int from = 0; from < idx.size(); from += o.batch()) {
                    List<Decoded> chunk = idx.subList(from, Math.min(idx.size(), from + o.batch())).stream().map(train::get).toList();
                    try (NDManager sm = run.newSubManager()) {
                        NDArray loss;
                        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                            Inputs in = frozen != null ? inputs(sm, chunk, frozen) : encode(model, sm, chunk, shapes, true);
                            NDArray scores = scores(in, fc1, fc2, o.subtitles());                          // (b, K)
                            loss = FineTune.crossEntropy(scores, chunk.stream().mapToInt(d -> d.item().correct()).toArray());
                            gc.backward(loss);
                        }
                        sum += loss.getFloat() * chunk.size();
                        Trainer.applyStep(opt, sm, o.lr(), t.clipGradNorm(), null);
                        if (encoderOpt != null) {
                            Trainer.applyStep(encoderOpt, sm, o.encoderLr(), t.clipGradNorm(), null);
                        }
                    }
                }
                lastLoss = sum / train.size();
            }
            return new SeedResult(seed, accuracy(run, model, frozen, shapes, test, fc1, fc2, o),
                    accuracy(run, model, frozen, shapes, train, fc1, fc2, o), lastLoss);
        }
    }

    private static double accuracy(NDManager manager, SensoriumModel model, Map<Decoded, Features> frozen,
            Map<Modality, long[]> shapes, List<Decoded> items, Linear fc1, Linear fc2, Options o) {
        int right = 0;
        for (int from = 0; from < items.size(); from += o.batch()) {
            List<Decoded> chunk = items.subList(from, Math.min(items.size(), from + o.batch()));
            try (NDManager sm = manager.newSubManager()) {
                Inputs in = frozen != null ? inputs(sm, chunk, frozen) : encode(model, sm, chunk, shapes, false);
                long[] best = scores(in, fc1, fc2, o.subtitles()).argMax(1).toLongArray();                // (b)
                for (int i = 0; i < best.length; i++) {
                    right += best[i] == chunk.get(i).item().correct() ? 1 : 0;
                }
            }
        }
        return right / (double) items.size();
    }

    /** Frozen features of b items as arrays of the step. */
    private static Inputs inputs(NDManager sm, List<Decoded> items, Map<Decoded, Features> frozen) {
        int b = items.size(), k = items.get(0).answers().size();
        int e = frozen.get(items.get(0)).video().length;
        float[] tf = new float[b * k * e], vf = new float[b * e], sf = new float[b * e];
        for (int i = 0; i < b; i++) {
            Features f = frozen.get(items.get(i));
            for (int j = 0; j < k; j++) {
                System.arraycopy(f.answers()[j], 0, tf, (i * k + j) * e, e);
            }
            System.arraycopy(f.video(), 0, vf, i * e, e);
            System.arraycopy(f.subs(), 0, sf, i * e, e);
        }
        return new Inputs(sm.create(tf, new Shape(b, k, e)), sm.create(vf, new Shape(b, e)), sm.create(sf, new Shape(b, e)));
    }

    /** The fusion MLP's score of every answer of every item: (b, K). */
    static NDArray scores(Inputs in, Linear fc1, Linear fc2, boolean subtitles) {
        NDArray t = in.t();                                                                         // (b, K, E)
        long b = t.getShape().get(0), k = t.getShape().get(1), e = t.getShape().get(2);
        NDArray v = in.v().reshape(b, 1, e).broadcast(b, k, e);                                     // (b, K, E)
        NDArray s = (subtitles ? in.s() : in.s().zerosLike()).reshape(b, 1, e).broadcast(b, k, e);  // (b, K, E)
        NDArray x = NDArrays.concat(new NDList(t, v, s, t.mul(v), t.mul(s)), 2);                    // (b, K, 5E)
        return fc2.forward(Activation.gelu(fc1.forward(x))).reshape(b, k);                          // (b, K, 1) -> (b, K)
    }
}
