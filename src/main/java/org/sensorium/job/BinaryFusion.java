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
 * labels it is a plain binary task). Each seed draws the head's initial weights and the batch order.
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

    /** @param modalities the two encoders fused; @param positive the label that is the positive class */
    public record Options(Path checkpoint, List<Modality> modalities, String positive, int hidden, int epochs, float lr, int batch,
            List<Long> seeds, boolean randomWeights, List<String> sets) {
        public Options {
            if (modalities.size() != 2 || modalities.get(0) == modalities.get(1)) {
                throw new ConfigException("--modality", "fusion takes two different modalities, e.g. video,text; got " + modalities);
            }
            if (positive == null || positive.isBlank()) {
                throw new ConfigException("--positive", "give the label that is the positive class");
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

    /** One seed: held-out AUROC with its interval, accuracy at 0.5, and the last epoch's mean training loss. */
    public record SeedResult(long seed, Auroc.Interval auroc, double accuracy, double finalLoss) {}

    /** @param positives held-out samples of the positive class, of test */
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
            t.put("name", "binary_" + String.join("_", options.modalities().stream().map(Modality::key).toList()) + "_" + options.positive());
            t.put("kind", "binary_fusion");
            t.put("modality", String.join("+", options.modalities().stream().map(Modality::key).toList()));
            t.put("split", String.format("train: %d train-split samples; test: %d val + test (%d positive)", train, test, positives));
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("positive", options.positive());
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
            m.put("n_test", test);
            m.put("n_train", train);
            t.put("metrics", m);
            List<Map<String, Object>> per = new ArrayList<>();
            for (SeedResult s : seeds) {
                per.add(Map.of("seed", s.seed(), "auroc", s.auroc().auroc(), "ci_lo", s.auroc().lo(), "ci_hi", s.auroc().hi(),
                        "accuracy", s.accuracy()));
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
        if (!labels.contains(o.positive())) {
            throw new ConfigException("--positive", o.positive() + " is not a label of " + manifest + " " + labels);
        }
        Map<String, String> skipped = new LinkedHashMap<>();
        List<Batch.Decoded> train = decode(cfg, o.modalities(), all.stream().filter(e -> e.split().equals("train")).toList(), skipped);
        List<Batch.Decoded> test = decode(cfg, o.modalities(), all.stream().filter(e -> !e.split().equals("train")).toList(), skipped);
        int positives = (int) test.stream().filter(d -> d.entry().label().equals(o.positive())).count();
        if (positives == 0 || positives == test.size() || train.stream().noneMatch(d -> d.entry().label().equals(o.positive()))) {
            throw new ConfigException("--positive", o.positive() + ": train and held-out splits need both positive and negative samples");
        }
        List<SeedResult> seeds = new ArrayList<>();
        try (NDManager root = NDManager.newBaseManager()) {
            float[][][] trainEmb, testEmb;
            try (NDManager run = root.newSubManager(); TrainedRun.Loaded loaded = trained.load(run, o.randomWeights(), false)) {
                trainEmb = embed(loaded, cfg, o, train, run);
                testEmb = embed(loaded, cfg, o, test, run);
            }
            boolean[] yTrain = labels(train, o.positive()), yTest = labels(test, o.positive());
            for (long seed : o.seeds()) {
                try (NDManager run = root.newSubManager()) {
                    seeds.add(oneSeed(cfg, o, trainEmb, yTrain, testEmb, yTest, seed, run));
                }
                SeedResult s = seeds.get(seeds.size() - 1);
                LOG.info("seed {}: held-out AUROC {} [{}, {}], accuracy {}", seed, s.auroc().auroc(), s.auroc().lo(), s.auroc().hi(), s.accuracy());
            }
        }
        return new Result(trained.checkpoint(), trained.step(), manifest, o, train.size(), test.size(), positives, seeds, skipped);
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

    private static SeedResult oneSeed(Config cfg, Options o, float[][][] train, boolean[] yTrain, float[][][] test, boolean[] yTest,
            long seed, NDManager run) {
        Config.Train t = cfg.train();
        int e = train[0][0].length, n = yTrain.length, p = 0;
        for (boolean y : yTrain) {
            p += y ? 1 : 0;
        }
        float wPos = n / (2f * p), wNeg = n / (2f * (n - p)); // each class weighs half of the loss
        Engine.getInstance().setRandomSeed((int) Loader.mix(seed, 43, 0));
        try (Params params = new Params(run, Loader.mix(seed, 47, 0))) {
            FineTune.Standardise normA = FineTune.Standardise.of(train[0], run), normB = FineTune.Standardise.of(train[1], run);
            Linear fc1 = Linear.create(params, "fusion.fc1", 3 * e, o.hidden());
            Linear fc2 = Linear.create(params, "fusion.fc2", o.hidden(), 1);
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
                            NDArray z = logits(sm, train, chunk, normA, normB, fc1, fc2);                  // (b)
                            loss = weightedLogistic(z, sm.create(y), sm.create(w));                        // ()
                            gc.backward(loss);
                        }
                        sum += loss.getFloat() * chunk.size();
                        Trainer.applyStep(opt, sm, o.lr(), t.clipGradNorm(), null);
                    }
                }
                lastLoss = sum / n;
            }
            double[] scores = new double[yTest.length];
            for (int from = 0; from < scores.length; from += o.batch()) {
                List<Integer> chunk = new ArrayList<>();
                for (int i = from; i < Math.min(scores.length, from + o.batch()); i++) {
                    chunk.add(i);
                }
                try (NDManager sm = run.newSubManager()) {
                    float[] z = logits(sm, test, chunk, normA, normB, fc1, fc2).toFloatArray();
                    for (int i = 0; i < z.length; i++) {
                        scores[from + i] = z[i];
                    }
                }
            }
            int right = 0;
            for (int i = 0; i < scores.length; i++) {
                right += (scores[i] > 0) == yTest[i] ? 1 : 0; // logit > 0: probability above 0.5
            }
            Auroc.Interval a = Auroc.bootstrap(scores, yTest, RESAMPLES, LEVEL, seed);
            return new SeedResult(seed, a, right / (double) scores.length, lastLoss);
        }
    }

    /** The fusion head's logit for the samples idx of emb: (b). */
    private static NDArray logits(NDManager sm, float[][][] emb, List<Integer> idx, FineTune.Standardise normA,
            FineTune.Standardise normB, Linear fc1, Linear fc2) {
        int b = idx.size(), e = emb[0][0].length;
        float[] fa = new float[b * e], fb = new float[b * e];
        for (int i = 0; i < b; i++) {
            System.arraycopy(emb[0][idx.get(i)], 0, fa, i * e, e);
            System.arraycopy(emb[1][idx.get(i)], 0, fb, i * e, e);
        }
        NDArray a = normA.apply(sm.create(fa, new Shape(b, e)));                                     // (b, E)
        NDArray c = normB.apply(sm.create(fb, new Shape(b, e)));                                     // (b, E)
        NDArray x = NDArrays.concat(new NDList(a, c, a.mul(c)), 1);                                   // (b, 3E)
        return fc2.forward(Activation.gelu(fc1.forward(x))).reshape(b);                               // (b, 1) -> (b)
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
