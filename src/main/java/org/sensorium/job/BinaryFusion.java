package org.sensorium.job;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.training.GradientCollector;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.config.Modality;
import org.sensorium.data.Batch;
import org.sensorium.data.Loader;
import org.sensorium.data.Manifest;
import org.sensorium.data.ManifestEntry;
import org.sensorium.eval.Auroc;
import org.sensorium.eval.MatchingPairs;
import org.sensorium.eval.Retrieval;
import org.sensorium.modality.Adapters;
import org.sensorium.modality.ModalityAdapter;
import org.sensorium.modality.SkipLog;
import org.sensorium.model.Layers.Linear;
import org.sensorium.model.Params;
import org.sensorium.train.AdamW;
import org.sensorium.train.Trainer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A binary label from two modalities (the surgical-feedback paper's text + video classifier): a run's frozen
 * encoders embed each sample in both modalities (a and b, E each, standardised with the training samples'
 * statistics), a fusion MLP on [a, b, a*b] (3E) -> hidden -> GELU -> 1 gives the logit of the positive class,
 * trained with class-balanced logistic loss on the train split; on the held-out split (val + test) AUROC with a
 * percentile bootstrap interval (1000 resamples, seeded) and accuracy at probability 0.5 against the majority
 * class. The positive class is the manifest's label {@code positive}, every other label negative (with two
 * labels it is a plain binary task). With match the task needs both modalities: video-text matching
 * ({@link MatchingPairs#matching}, ALBEF / BLIP's image-text matching): a sample's a with its own b is positive,
 * with the b of a sample of another label negative, one negative per positive, drawn with the seed in each split;
 * as every a and every b is once in each class, a head on one side alone is at AUROC 0.5 exactly. Every run also
 * trains the head with one side's input zero ([a, 0, 0], [0, b, 0]) and reports those controls' AUROC. Each seed
 * draws the head's initial weights, the batch order and the matching pairs.
 *
 * <pre>
 *   a (b, E), b (b, E) -> x = [a, b, a*b] (b, 3E) -> fc1 (b, H) -> gelu -> fc2 (b, 1) -> logit (b)
 *   loss = -1/sum w  sum_i w_i ( y_i log sigmoid(z_i) + (1 - y_i) log(1 - sigmoid(z_i)) ),
 *          w_i = n / (2 P) for positives, n / (2 N) for negatives
 * </pre>
 */
public final class BinaryFusion {
    private static final Logger LOG = LoggerFactory.getLogger(BinaryFusion.class);
    static final int RESAMPLES = 1000;
    static final double LEVEL = 0.95;

    private BinaryFusion() {}

    /**
     * @param modalities the two encoders fused
     * @param positive the label that is the positive class (null with match)
     * @param match video-text matching instead of a label ({@link MatchingPairs#matching}): a sample's first modality
     *     with its own second (positive) or with the second of a sample of another label (negative), one negative per
     *     positive, drawn with the seed in each split
     */
    public record Options(Path checkpoint, List<Modality> modalities, String positive, boolean match, int hidden, int epochs, float lr,
            int batch, List<Long> seeds, boolean randomWeights, List<String> sets) {
        /** A label task: positive against the rest. */
        public Options(Path checkpoint, List<Modality> modalities, String positive, int hidden, int epochs, float lr, int batch,
                List<Long> seeds, boolean randomWeights, List<String> sets) {
            this(checkpoint, modalities, positive, false, hidden, epochs, lr, batch, seeds, randomWeights, sets);
        }

        public Options {
            if (modalities.size() != 2 || modalities.get(0) == modalities.get(1)) {
                throw new ConfigException("--modality", "fusion takes two different modalities, e.g. video,text; got " + modalities);
            }
            if (match && positive != null) {
                throw new ConfigException("--binary", "match makes its own positives (a clip with its own caption); leave out --positive " + positive);
            }
            if (!match && (positive == null || positive.isBlank())) {
                throw new ConfigException("--positive", "give the label that is the positive class (or --binary match)");
            }
            if (hidden < 1 || epochs < 1 || !(lr > 0)) {
                throw new ConfigException("--epochs", "hidden " + hidden + " and epochs " + epochs + " must be >= 1, lr " + lr + " > 0");
            }
            FineTune.checkBatchAndSeeds(batch, seeds);
            modalities = List.copyOf(modalities);
            seeds = List.copyOf(seeds);
            sets = List.copyOf(sets);
        }
    }

    /**
     * One seed: held-out AUROC with its interval, accuracy at 0.5, and the last epoch's mean training loss; the controls
     * aOnly and bOnly: held-out AUROC of the same head trained with the other modality's input zero ([a, 0, 0] and [0, b, 0]).
     */
    public record SeedResult(long seed, Auroc.Interval auroc, double accuracy, double finalLoss, double aOnly, double bOnly) {}

    /** @param train training pairs; @param test held-out pairs; @param positives held-out positive pairs, of test */
    public record Result(Path checkpoint, int step, Path manifest, Options options, int train, int test, int positives,
            List<SeedResult> seeds, Map<String, String> skipped) {
        /** Accuracy of always answering the held-out split's larger class. */
        public double majority() {
            return Math.max(positives, test - positives) / (double) test;
        }

        public double mean(java.util.function.ToDoubleFunction<SeedResult> f) {
            return seeds.stream().mapToDouble(f).average().orElse(Double.NaN);
        }

        /** One entry of results.json's "tasks" (the shared evaluation contract), kind "binary_fusion". */
        public Map<String, Object> toTask() {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("name", "binary_" + String.join("_", options.modalities().stream().map(Modality::key).toList()) + "_"
                    + (options.match() ? "match" : options.positive()));
            t.put("kind", "binary_fusion");
            t.put("modality", String.join("+", options.modalities().stream().map(Modality::key).toList()));
            t.put("split", String.format("train: %d %s; test: %d of val + test (%d positive)", train,
                    options.match() ? "pairs of train-split samples" : "train-split samples", test, positives));
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("positive", options.match() ? "matching: a sample's own pair; negative: paired with a sample of another label,"
                    + " one per positive, drawn with the seed" : options.positive());
            p.put("fusion", "MLP on [a, b, a*b] of standardised frozen embeddings, hidden " + options.hidden());
            p.put("loss", "class-balanced logistic");
            p.put("epochs", options.epochs());
            p.put("lr", options.lr());
            p.put("batch", options.batch());
            p.put("seeds", options.seeds());
            p.put("bootstrap", RESAMPLES + " resamples, percentile " + LEVEL + ", seeded with the seed");
            p.put("weights", options.randomWeights() ? "random (initial values of the run's config)" : "checkpoint step " + step);
            t.put("protocol", p);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("auroc", mean(s -> s.auroc().auroc()));
            m.put("auroc_ci_lo", mean(s -> s.auroc().lo()));
            m.put("auroc_ci_hi", mean(s -> s.auroc().hi()));
            m.put("accuracy", mean(SeedResult::accuracy));
            m.put("chance_auroc", 0.5);
            m.put("majority_accuracy", majority());
            m.put("auroc_" + options.modalities().get(0).key() + "_only", mean(SeedResult::aOnly));
            m.put("auroc_" + options.modalities().get(1).key() + "_only", mean(SeedResult::bOnly));
            m.put("n_test", test);
            m.put("n_train", train);
            t.put("metrics", m);
            List<Map<String, Object>> per = new ArrayList<>();
            for (SeedResult s : seeds) {
                per.add(Map.of("seed", s.seed(), "auroc", s.auroc().auroc(), "ci_lo", s.auroc().lo(), "ci_hi", s.auroc().hi(),
                        "accuracy", s.accuracy(), "auroc_a_only", s.aOnly(), "auroc_b_only", s.bOnly()));
            }
            t.put("seeds", per);
            return t;
        }
    }

    public static Result run(Options o) throws IOException, InterruptedException {
        TrainedRun trained = TrainedRun.open(o.checkpoint(), o.sets());
        Config cfg = trained.config();
        for (Modality m : o.modalities()) {
            if (!cfg.data().modalities().contains(m)) {
                throw new ConfigException("--modality", m.key() + " is not in the run's data.modalities " + cfg.data().modalities());
            }
        }
        Path manifest = Manifest.forRun(cfg.data());
        List<ManifestEntry> all = Manifest.read(manifest).stream()
                .filter(e -> e.label() != null && o.modalities().stream().allMatch(e::has)).toList();
        TreeSet<String> labels = new TreeSet<>(all.stream().map(ManifestEntry::label).toList());
        if (!o.match() && !labels.contains(o.positive())) {
            throw new ConfigException("--positive", o.positive() + " is not a label of " + manifest + " " + labels);
        }
        Map<String, String> skipped = new LinkedHashMap<>();
        List<Batch.Decoded> train = decode(cfg, o.modalities(), all.stream().filter(e -> e.split().equals("train")).toList(), skipped);
        List<Batch.Decoded> test = decode(cfg, o.modalities(), all.stream().filter(e -> !e.split().equals("train")).toList(), skipped);
        if (!o.match()) {
            int positives = (int) test.stream().filter(d -> d.entry().label().equals(o.positive())).count();
            if (positives == 0 || positives == test.size() || train.stream().noneMatch(d -> d.entry().label().equals(o.positive()))) {
                throw new ConfigException("--positive", o.positive() + ": train and held-out splits need both positive and negative samples");
            }
        }
        MatchingPairs.Pairs trainShape = pairs(o, train, 0); // fail here, before any embedding, when no pairs can be drawn
        MatchingPairs.Pairs testShape = pairs(o, test, 0);
        List<SeedResult> seeds = new ArrayList<>();
        try (NDManager root = NDManager.newBaseManager()) {
            float[][][] trainEmb, testEmb;
            try (NDManager run = root.newSubManager(); TrainedRun.Loaded loaded = trained.load(run, o.randomWeights(), false)) {
                trainEmb = embed(loaded, cfg, o, train, run);
                testEmb = embed(loaded, cfg, o, test, run);
            }
            for (long seed : o.seeds()) {
                try (NDManager run = root.newSubManager()) {
                    seeds.add(oneSeed(cfg, o, trainEmb, pairs(o, train, Loader.mix(seed, 67, 0)), testEmb,
                            pairs(o, test, Loader.mix(seed, 71, 0)), seed, run));
                }
                SeedResult s = seeds.get(seeds.size() - 1);
                LOG.info("seed {}: held-out AUROC {} [{}, {}], accuracy {}; controls: {} only {}, {} only {}", seed, s.auroc().auroc(),
                        s.auroc().lo(), s.auroc().hi(), s.accuracy(), o.modalities().get(0).key(), s.aOnly(), o.modalities().get(1).key(), s.bOnly());
            }
        }
        return new Result(trained.checkpoint(), trained.step(), manifest, o, trainShape.size(), testShape.size(),
                testShape.positives(), seeds, skipped);
    }

    /** The split's pairs: each sample with itself, positive when of the positive label; or matching pairs drawn with seed. */
    static MatchingPairs.Pairs pairs(Options o, List<Batch.Decoded> samples, long seed) {
        if (!o.match()) {
            return MatchingPairs.own(labels(samples, o.positive()));
        }
        try {
            return MatchingPairs.matching(samples.stream().map(d -> d.entry().label()).toList(), seed);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("--binary", "match in a split of " + samples.size() + " samples: " + e.getMessage());
        }
    }

    private static List<Batch.Decoded> decode(Config cfg, List<Modality> modalities, List<ManifestEntry> entries,
            Map<String, String> skipped) throws InterruptedException {
        SkipLog skips = new SkipLog(cfg.run().strict());
        Map<Modality, ModalityAdapter> adapters = new java.util.EnumMap<>(Modality.class);
        try {
            for (Modality m : modalities) {
                adapters.put(m, Adapters.create(m, cfg.modalities(), cfg.data().clipSeconds()));
            }
            List<Batch.Decoded> out = Loader.decodeAll(entries, adapters, cfg.data().clipSeconds(), 0, 1, cfg.data().loaderThreads(),
                    cfg.run().seed(), skips);
            skipped.putAll(skips.reasons());
            return out.stream().filter(d -> modalities.stream().allMatch(m -> d.items().containsKey(m))).toList();
        } finally {
            for (ModalityAdapter a : adapters.values()) {
                a.close();
            }
        }
    }

    /** Both modalities' unit embeddings of the samples: [modality][sample][E]. */
    private static float[][][] embed(TrainedRun.Loaded loaded, Config cfg, Options o, List<Batch.Decoded> samples, NDManager run) {
        Map<Modality, long[]> shapes = new java.util.EnumMap<>(Modality.class);
        for (Modality m : o.modalities()) {
            shapes.put(m, samples.get(0).items().get(m).shape());
        }
        Retrieval.Embeddings e = Retrieval.embed(loaded.model(), samples, shapes, o.batch(), run);
        return new float[][][] {e.rows().get(o.modalities().get(0)), e.rows().get(o.modalities().get(1))};
    }

    private static boolean[] labels(List<Batch.Decoded> samples, String positive) {
        boolean[] y = new boolean[samples.size()];
        for (int i = 0; i < y.length; i++) {
            y[i] = samples.get(i).entry().label().equals(positive);
        }
        return y;
    }

    /** What the head sees: both modalities, or one with the other's input zero (the one-side controls). */
    enum Side { BOTH, A_ONLY, B_ONLY }

    /** The head on both modalities (AUROC with its interval, accuracy) and the two one-side controls (AUROC). */
    private static SeedResult oneSeed(Config cfg, Options o, float[][][] train, MatchingPairs.Pairs trainPairs, float[][][] test,
            MatchingPairs.Pairs testPairs, long seed, NDManager run) {
        boolean[] y = testPairs.positive();
        Fit both = fit(cfg, o, train, trainPairs, test, testPairs, seed, Side.BOTH, run);
        double aOnly = Auroc.of(fit(cfg, o, train, trainPairs, test, testPairs, seed, Side.A_ONLY, run).scores(), y);
        double bOnly = Auroc.of(fit(cfg, o, train, trainPairs, test, testPairs, seed, Side.B_ONLY, run).scores(), y);
        int right = 0;
        for (int i = 0; i < y.length; i++) {
            right += (both.scores()[i] > 0) == y[i] ? 1 : 0; // logit > 0: probability above 0.5
        }
        Auroc.Interval a = Auroc.bootstrap(both.scores(), y, RESAMPLES, LEVEL, seed);
        return new SeedResult(seed, a, right / (double) y.length, both.finalLoss(), aOnly, bOnly);
    }

    /** A trained head's logits of the held-out pairs, and its last epoch's mean training loss. */
    private record Fit(double[] scores, double finalLoss) {}

    private static Fit fit(Config cfg, Options o, float[][][] train, MatchingPairs.Pairs trainPairs, float[][][] test,
            MatchingPairs.Pairs testPairs, long seed, Side side, NDManager run) {
        Config.Train t = cfg.train();
        int e = train[0][0].length, n = trainPairs.size(), p = trainPairs.positives();
        boolean[] yTrain = trainPairs.positive();
        float wPos = n / (2f * p), wNeg = n / (2f * (n - p)); // each class weighs half of the loss
        Engine.getInstance().setRandomSeed((int) Loader.mix(seed, 43, 0));
        try (Params params = new Params(run, Loader.mix(seed, 47, 0))) {
            FineTune.Standardise normA = FineTune.Standardise.of(train[0], run), normB = FineTune.Standardise.of(train[1], run);
            Head head = new Head(Linear.create(params, "fusion.fc1", 3 * e, o.hidden()), Linear.create(params, "fusion.fc2", o.hidden(), 1),
                    normA, normB, side);
            AdamW opt = new AdamW(params, t.beta1(), t.beta2(), t.eps(), t.weightDecay());
            SplittableRandom order = new SplittableRandom(Loader.mix(seed, 53, 0));
            List<Integer> idx = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                idx.add(i);
            }
            double lastLoss = Double.NaN;
            for (int epoch = 0; epoch < o.epochs(); epoch++) {
                FineTune.shuffle(idx, order);
                double sum = 0;
                for (int from = 0; from < n; from += o.batch()) {
                    List<Integer> chunk = idx.subList(from, Math.min(n, from + o.batch()));
                    try (NDManager sm = run.newSubManager()) {
                        float[] y = new float[chunk.size()], w = new float[chunk.size()];
                        for (int i = 0; i < y.length; i++) {
                            y[i] = yTrain[chunk.get(i)] ? 1 : 0;
                            w[i] = yTrain[chunk.get(i)] ? wPos : wNeg;
                        }
                        NDArray loss;
                        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                            NDArray z = head.logits(sm, train, trainPairs, chunk);                          // (b)
                            loss = weightedLogistic(z, sm.create(y), sm.create(w));                        // ()
                            gc.backward(loss);
                        }
                        sum += loss.getFloat() * chunk.size();
                        Trainer.applyStep(opt, sm, o.lr(), t.clipGradNorm(), null);
                    }
                }
                lastLoss = sum / n;
            }
            double[] scores = new double[testPairs.size()];
            for (int from = 0; from < scores.length; from += o.batch()) {
                List<Integer> chunk = new ArrayList<>();
                for (int i = from; i < Math.min(scores.length, from + o.batch()); i++) {
                    chunk.add(i);
                }
                try (NDManager sm = run.newSubManager()) {
                    float[] z = head.logits(sm, test, testPairs, chunk).toFloatArray();
                    for (int i = 0; i < z.length; i++) {
                        scores[from + i] = z[i];
                    }
                }
            }
            return new Fit(scores, lastLoss);
        }
    }

    /** The fusion MLP with the standardisation of each modality; side zeroes one input for the controls. */
    private record Head(Linear fc1, Linear fc2, FineTune.Standardise normA, FineTune.Standardise normB, Side side) {
        /** The logit of the pairs idx: first modality of sample pairs.a, second of pairs.b, from emb: (b). */
        NDArray logits(NDManager sm, float[][][] emb, MatchingPairs.Pairs pairs, List<Integer> idx) {
            int b = idx.size(), e = emb[0][0].length;
            float[] fa = new float[b * e], fb = new float[b * e];
            for (int i = 0; i < b; i++) {
                System.arraycopy(emb[0][pairs.a()[idx.get(i)]], 0, fa, i * e, e);
                System.arraycopy(emb[1][pairs.b()[idx.get(i)]], 0, fb, i * e, e);
            }
            NDArray a = normA.apply(sm.create(fa, new Shape(b, e)));                                 // (b, E)
            NDArray c = normB.apply(sm.create(fb, new Shape(b, e)));                                 // (b, E)
            a = side == Side.B_ONLY ? a.zerosLike() : a;
            c = side == Side.A_ONLY ? c.zerosLike() : c;
            NDArray x = NDArrays.concat(new NDList(a, c, a.mul(c)), 1);                               // (b, 3E)
            return fc2.forward(Activation.gelu(fc1.forward(x))).reshape(b);                           // (b, 1) -> (b)
        }
    }

    /**
     * Weighted logistic loss of logits z (b), targets y (b) in {0, 1}, weights w (b): -sum w (y log s(z) + (1-y) log(1-s(z))) / sum w,
     * with log s(z) = -softplus(-z) and log(1 - s(z)) = -softplus(z), softplus(x) = max(x, 0) + log(1 + exp(-|x|)).
     */
    static NDArray weightedLogistic(NDArray z, NDArray y, NDArray w) {
        NDArray one = z.getManager().create(1f);
        NDArray nll = y.mul(softplus(z.neg())).add(one.sub(y).mul(softplus(z)));                    // (b)
        return nll.mul(w).sum().div(w.sum());
    }

    /** log(1 + exp(x)) without overflow; constants as arrays of x's manager ({@link org.sensorium.model.Layers#scale}). */
    private static NDArray softplus(NDArray x) {
        NDManager m = x.getManager();
        return x.maximum(m.create(0f)).add(x.abs().neg().exp().add(m.create(1f)).log());
    }
}
