package org.sensorium.job;

import org.sensorium.eval.Suite;

import org.sensorium.eval.Classification;
import org.sensorium.eval.Retrieval;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.data.Batch;
import org.sensorium.data.Loader;
import org.sensorium.data.Manifest;
import org.sensorium.data.ManifestEntry;
import org.sensorium.modality.SkipLog;
import org.sensorium.model.Layers.Linear;
import org.sensorium.model.Params;
import org.sensorium.model.SensoriumModel;
import org.sensorium.modality.Adapters;
import org.sensorium.config.Modality;
import org.sensorium.modality.ModalityAdapter;
import org.sensorium.train.AdamW;
import org.sensorium.train.Trainer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Activity recognition by fine-tuning: a pretrained run's encoder of one modality (its
 * forward: stem, trunk, head -> the unit embedding, E) plus a linear classifier (E -> C), trained with
 * cross-entropy and AdamW on the labelled samples of the manifest's train split (all, or N per class drawn
 * with the seed), tested on its held-out samples (val and test). Repeated over seeds: each seed draws its
 * shots, the classifier's initial weights and the batch order, and starts again from the checkpoint.
 *
 * <p>What trains: {@code head} the classifier alone on frozen embeddings (computed once); {@code last:N} the
 * last N trunk blocks, the trunk's final norm, the modality's projection head and the classifier; {@code full}
 * every encoder parameter the modality uses. The classifier reads the embedding standardised per dimension
 * with the training samples' statistics under the starting encoder ({@link Standardise}). Every sample is its centred clip (no augmentation), decoded once;
 * constant learning rates (lr for the encoder, head_lr for the classifier), the run's AdamW settings
 * (betas, eps, weight decay) and global-norm gradient clipping.
 */
public final class FineTune {
    private static final Logger LOG = LoggerFactory.getLogger(FineTune.class);

    private FineTune() {}

    /**
     * @param trainable "full", "head" or "last:N"
     * @param shots labelled samples per class drawn from the train split (fewer if a class has fewer); 0 = all
     * @param seeds one fine-tuning per seed; metrics are their mean and standard deviation
     * @param randomWeights ignore the checkpoint's weights: the run's architecture at its initial values (the
     *     same numbers a train.steps=0 run of that config saves)
     * @param sets --set overrides of the run's config (e.g. data.manifest)
     */
    public record Options(Path checkpoint, Modality modality, String trainable, int shots, int epochs, float lr,
            float headLr, int batch, List<Long> seeds, boolean randomWeights, List<String> sets) {
        public Options {
            Suite.trainableBlocks(trainable, Integer.MAX_VALUE);
            if (shots < 0) {
                throw new ConfigException("--shots", shots + " must be >= 0 (0 = every labelled train sample)");
            }
            if (epochs < 1) {
                throw new ConfigException("--epochs", epochs + " must be >= 1");
            }
            if (!(lr >= 0) || !(headLr > 0)) {
                throw new ConfigException("--lr", "lr " + lr + " must be >= 0 and head lr " + headLr + " > 0");
            }
            checkBatchAndSeeds(batch, seeds);
            seeds = List.copyOf(seeds);
            sets = List.copyOf(sets);
        }
    }

    /** The checks fine-tuning and QA share: a batch of one or more, at least one seed. */
    static void checkBatchAndSeeds(int batch, List<Long> seeds) {
        if (batch < 1) {
            throw new ConfigException("--batch", batch + " must be >= 1");
        }
        if (seeds.isEmpty()) {
            throw new ConfigException("--seeds", "needs at least one seed");
        }
    }

    /** One seed's fine-tuning: how many samples it trained on, its test scores and its final training loss. */
    public record SeedResult(long seed, int trainSamples, double finalLoss, Classification.Scores scores, double seconds) {}

    /**
     * @param labels the classes (sorted labels of the train split), C
     * @param pooled the seeds' test predictions pooled: confusion matrices summed
     * @param unseen held-out samples whose label is not among the train split's (not tested)
     */
    public record Result(Path checkpoint, int step, Path manifest, String manifestSha256, Options options, List<String> labels,
            int trainPool, int testSamples, int unseen, List<SeedResult> seeds, Classification.Scores pooled,
            Map<String, String> skipped) {

        public double mean(java.util.function.ToDoubleFunction<Classification.Scores> f) {
            return seeds.stream().mapToDouble(s -> f.applyAsDouble(s.scores())).average().orElse(Double.NaN);
        }

        /** Sample standard deviation over seeds (n - 1); 0 for one seed. */
        public double std(java.util.function.ToDoubleFunction<Classification.Scores> f) {
            if (seeds.size() < 2) {
                return 0;
            }
            double m = mean(f), ss = 0;
            for (SeedResult s : seeds) {
                ss += Math.pow(f.applyAsDouble(s.scores()) - m, 2);
            }
            return Math.sqrt(ss / (seeds.size() - 1));
        }

        /** One entry of results.json's "tasks" (the shared evaluation contract), kind "finetune". */
        public Map<String, Object> toTask(String name) {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("name", name);
            t.put("kind", "finetune");
            t.put("modality", options.modality().key());
            t.put("split", String.format("train: %s of the train split (%d labelled); test: val + test (%d)",
                    options.shots() == 0 ? "all" : options.shots() + " per class", trainPool, testSamples));
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("trainable", options.trainable());
            p.put("shots", options.shots());
            p.put("epochs", options.epochs());
            p.put("lr", options.lr());
            p.put("head_lr", options.headLr());
            p.put("batch", options.batch());
            p.put("seeds", options.seeds());
            p.put("weights", options.randomWeights() ? "random (initial values of the run's config)" : "checkpoint step " + step);
            p.put("clip", "centred, no augmentation");
            p.put("input", "embedding standardised per dimension (train samples' mean/std under the starting encoder)");
            p.put("aggregate", "metrics: mean and std over seeds; per_class: mean over seeds; confusion: summed over seeds");
            t.put("protocol", p);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("accuracy", mean(Classification.Scores::accuracy));
            m.put("accuracy_std", std(Classification.Scores::accuracy));
            m.put("balanced_accuracy", mean(Classification.Scores::balancedAccuracy));
            m.put("balanced_accuracy_std", std(Classification.Scores::balancedAccuracy));
            m.put("macro_f1", mean(Classification.Scores::macroF1));
            m.put("macro_f1_std", std(Classification.Scores::macroF1));
            m.put("chance", 1.0 / labels.size());
            m.put("n_test", testSamples);
            m.put("n_train", seeds.get(0).trainSamples());
            t.put("metrics", m);
            Map<String, Object> perClass = new LinkedHashMap<>();
            for (String l : labels) {
                perClass.put(l, seeds.stream().mapToDouble(s -> s.scores().perClass().get(l)).average().orElse(Double.NaN));
            }
            t.put("per_class", perClass);
            t.put("confusion", pooled.confusionMap());
            return t;
        }
    }

    public static Result run(Options o) throws IOException, InterruptedException {
        TrainedRun trained = TrainedRun.open(o.checkpoint(), o.sets());
        Config cfg = trained.config();
        Modality m = o.modality();
        if (!cfg.data().modalities().contains(m)) {
            throw new ConfigException("--modality", m.key() + " is not in the run's data.modalities " + cfg.data().modalities());
        }
        Suite.trainableBlocks(o.trainable(), cfg.model().depth());
        Path manifest = Manifest.forRun(cfg.data());
        List<ManifestEntry> all = Manifest.read(manifest).stream().filter(e -> e.has(m) && e.label() != null).toList();
        List<ManifestEntry> train = all.stream().filter(e -> e.split().equals("train")).toList();
        List<String> labels = List.copyOf(new TreeSet<>(train.stream().map(ManifestEntry::label).toList()));
        if (labels.size() < 2) {
            throw new ConfigException("data.manifest", manifest + ": the train split has " + labels.size()
                    + " labelled classes with " + m.key() + "; fine-tuning needs at least 2");
        }
        List<ManifestEntry> heldOut = all.stream().filter(e -> !e.split().equals("train")).toList();
        List<ManifestEntry> test = heldOut.stream().filter(e -> labels.contains(e.label())).toList();
        if (test.isEmpty()) {
            throw new ConfigException("data.manifest", manifest + ": no held-out (val/test) sample with " + m.key() + " and a train label");
        }
        Map<Long, List<ManifestEntry>> shotsBySeed = new LinkedHashMap<>();
        Set<ManifestEntry> needed = new LinkedHashSet<>();
        for (long seed : o.seeds()) {
            List<ManifestEntry> s = shots(train, o.shots(), seed);
            shotsBySeed.put(seed, s);
            needed.addAll(s);
        }
        SkipLog skips = new SkipLog(cfg.run().strict());
        ModalityAdapter adapter = Adapters.create(m, cfg.modalities(), cfg.data().clipSeconds());
        Map<String, Batch.Decoded> decoded = new LinkedHashMap<>();
        List<Batch.Decoded> testDecoded;
        try {
            Map<Modality, ModalityAdapter> adapters = Map.of(m, adapter);
            for (Batch.Decoded d : Loader.decodeAll(new ArrayList<>(needed), adapters, cfg.data().clipSeconds(), 0, 1,
                    cfg.data().loaderThreads(), cfg.run().seed(), skips)) {
                decoded.put(d.entry().id(), d);
            }
            testDecoded = Loader.decodeAll(test, adapters, cfg.data().clipSeconds(), 0, 1, cfg.data().loaderThreads(),
                    cfg.run().seed(), skips);
        } finally {
            adapter.close();
        }
        Map<Modality, long[]> shapes = Map.of(m, adapter.inputShape());
        List<SeedResult> results = new ArrayList<>();
        try (NDManager root = NDManager.newBaseManager()) {
            for (long seed : o.seeds()) {
                List<Batch.Decoded> shots = shotsBySeed.get(seed).stream().map(e -> decoded.get(e.id()))
                        .filter(java.util.Objects::nonNull).toList();
                long t0 = System.nanoTime();
                SeedResult r = oneSeed(trained, o, m, labels, shots, testDecoded, shapes, seed, root);
                results.add(new SeedResult(seed, r.trainSamples(), r.finalLoss(), r.scores(), (System.nanoTime() - t0) / 1e9));
                LOG.info("seed {}: {} training samples, test accuracy {}", seed, shots.size(), r.scores().accuracy());
            }
        }
        Classification.Scores pooled = Classification.fromConfusion(labels,
                Classification.sum(results.stream().map(r -> r.scores().confusion()).toList()));
        return new Result(trained.checkpoint(), trained.step(), manifest, Manifest.sha256(manifest), o, labels, train.size(), testDecoded.size(),
                heldOut.size() - test.size(), results, pooled, skips.reasons());
    }

    /** N samples per class drawn with the seed (a class with fewer gives all it has), in a seeded order; n = 0: all. */
    static List<ManifestEntry> shots(List<ManifestEntry> train, int n, long seed) {
        List<ManifestEntry> pool = new ArrayList<>(train);
        shuffle(pool, new SplittableRandom(seed));
        if (n == 0) {
            return pool;
        }
        Map<String, Integer> taken = new LinkedHashMap<>();
        List<ManifestEntry> out = new ArrayList<>();
        for (ManifestEntry e : pool) {
            if (taken.merge(e.label(), 1, Integer::sum) <= n) {
                out.add(e);
            }
        }
        return out;
    }

    /** Fisher-Yates with the given generator: the seeded order of a seed's shots and batches. */
    static <T> void shuffle(List<T> list, SplittableRandom r) {
        for (int i = list.size() - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            T t = list.get(i);
            list.set(i, list.get(j));
            list.set(j, t);
        }
    }

    /** The encoder parameters trainable names: last N blocks, the final norm and the modality's projection head; every one for full. */
    static boolean trains(String name, String trainable, int depth, Modality m) {
        if (trainable.equals("full")) {
            return true;
        }
        int n = Suite.trainableBlocks(trainable, depth);
        if (n == 0) {
            return false;
        }
        if (name.startsWith("trunk.norm.") || name.startsWith("head." + m.key() + ".")) {
            return true;
        }
        for (int b = depth - n; b < depth; b++) {
            if (name.startsWith("trunk." + b + ".")) {
                return true;
            }
        }
        return false;
    }

    private static SeedResult oneSeed(TrainedRun trained, Options o, Modality m, List<String> labels,
            List<Batch.Decoded> shots, List<Batch.Decoded> test, Map<Modality, long[]> shapes, long seed, NDManager root)
            throws IOException {
        Config cfg = trained.config();
        Config.Train t = cfg.train();
        int c = labels.size();
        Engine.getInstance().setRandomSeed((int) Loader.mix(seed, 17, 0)); // dropout and drop-path, if the run has them
        try (NDManager run = root.newSubManager();
                TrainedRun.Loaded loaded = trained.load(run, o.randomWeights(), false);
                Params headParams = new Params(run, Loader.mix(seed, 23, 0))) {
            SensoriumModel model = loaded.model();
            Linear classifier = Linear.create(headParams, "classifier", cfg.model().embedDim(), c); // (E) -> (C)
            AdamW headOpt = new AdamW(headParams, t.beta1(), t.beta2(), t.eps(), t.weightDecay());
            boolean frozen = o.trainable().equals("head");
            AdamW encoderOpt = frozen ? null : new AdamW(model.params(), t.beta1(), t.beta2(), t.eps(), t.weightDecay());
            // head only: the embeddings never change, so compute them once and train the classifier on them
            float[][] initial = embed(model, shots, shapes, o.batch(), run);
            float[][] cached = frozen ? initial : null;
            Standardise norm = Standardise.of(initial, run);
            SplittableRandom order = new SplittableRandom(Loader.mix(seed, 29, 0));
            List<Integer> idx = new ArrayList<>();
            for (int i = 0; i < shots.size(); i++) {
                idx.add(i);
            }
            double lastLoss = Double.NaN;
            for (int epoch = 0; epoch < o.epochs(); epoch++) {
                shuffle(idx, order);
                double sum = 0;
                for (int from = 0; from < idx.size(); from += o.batch()) {
                    List<Integer> chunk = idx.subList(from, Math.min(idx.size(), from + o.batch()));
                    try (NDManager sm = run.newSubManager()) {
                        int[] y = chunk.stream().mapToInt(i -> labels.indexOf(shots.get(i).entry().label())).toArray();
                        NDArray loss;
                        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                            Batch shot = frozen ? null : Batch.collate(sm, chunk.stream().map(shots::get).toList(), shapes);
                            NDArray e = frozen ? rows(sm, chunk.stream().map(i -> cached[i]).toList())          // (b, E)
                                    : model.forward(shot.inputs(), shot.valid(), true).embedding(m);
                            loss = crossEntropy(classifier.forward(norm.apply(e)), y);                           // ()
                            gc.backward(loss);
                        }
                        sum += loss.getFloat() * chunk.size();
                        Trainer.applyStep(headOpt, sm, o.headLr(), t.clipGradNorm(), n -> true);
                        if (encoderOpt != null) {
                            Trainer.applyStep(encoderOpt, sm, o.lr(), t.clipGradNorm(),
                                    n -> trains(n, o.trainable(), model.depth(), m));
                        }
                    }
                }
                lastLoss = sum / Math.max(1, idx.size());
            }
            int[] truth = test.stream().mapToInt(d -> labels.indexOf(d.entry().label())).toArray();
            int[] predicted = predict(model, norm, classifier, test, shapes, o.batch(), m, run);
            return new SeedResult(seed, shots.size(), lastLoss, Classification.score(labels, truth, predicted), 0);
        }
    }

    /**
     * The classifier's input: each embedding dimension centred and scaled by its mean and standard deviation over the
     * training samples under the starting encoder (MAE's linear probe puts a BatchNorm without affine before the
     * head for the same reason: unit-norm embeddings differ by little, most of all a random encoder's, and a
     * linear head with weight decay barely separates them unscaled). Fixed during training.
     *
     * @param mean (1, E)
     * @param scale (1, E), 1 / (std + 1e-6)
     */
    record Standardise(NDArray mean, NDArray scale) {
        static Standardise of(float[][] rows, NDManager manager) {
            int e = rows[0].length, n = rows.length;
            float[] mu = new float[e], inv = new float[e];
            for (float[] r : rows) {
                for (int j = 0; j < e; j++) {
                    mu[j] += r[j] / n;
                }
            }
            for (int j = 0; j < e; j++) {
                double var = 0;
                for (float[] r : rows) {
                    var += (r[j] - mu[j]) * (double) (r[j] - mu[j]) / n;
                }
                inv[j] = (float) (1 / (Math.sqrt(var) + 1e-6));
            }
            return new Standardise(manager.create(mu, new Shape(1, e)), manager.create(inv, new Shape(1, e)));
        }

        /** (b, E) -> (b, E); the result belongs to e's manager. */
        NDArray apply(NDArray e) {
            return e.sub(mean).mul(scale);
        }
    }

    /** Mean over the batch of -log softmax(logits)[y]: logits (b, C), y b class indices -> (). */
    static NDArray crossEntropy(NDArray logits, int[] y) {
        NDArray onehot = logits.getManager().create(y).oneHot((int) logits.getShape().get(1));    // (b, C)
        return logits.logSoftmax(1).mul(onehot).sum(new int[] {1}).mean().neg();
    }

    private static NDArray rows(NDManager sm, List<float[]> rows) {
        int e = rows.get(0).length;
        float[] flat = new float[rows.size() * e];
        for (int i = 0; i < rows.size(); i++) {
            System.arraycopy(rows.get(i), 0, flat, i * e, e);
        }
        return sm.create(flat, new Shape(rows.size(), e));
    }

    private static float[][] embed(SensoriumModel model, List<Batch.Decoded> samples, Map<Modality, long[]> shapes,
            int batch, NDManager manager) {
        return Retrieval.embed(model, samples, shapes, batch, manager).rows().get(shapes.keySet().iterator().next());
    }

    private static int[] predict(SensoriumModel model, Standardise norm, Linear classifier, List<Batch.Decoded> samples,
            Map<Modality, long[]> shapes, int batch, Modality m, NDManager manager) {
        int[] out = new int[samples.size()];
        for (int from = 0; from < samples.size(); from += batch) {
            List<Batch.Decoded> chunk = samples.subList(from, Math.min(samples.size(), from + batch));
            try (NDManager sm = manager.newSubManager()) {
                Batch b = Batch.collate(sm, chunk, shapes);
                NDArray e = model.forward(b.inputs(), b.valid(), false).embedding(m);                      // (b, E)
                long[] arg = classifier.forward(norm.apply(e)).argMax(1).toLongArray();                                  // (b)
                for (int i = 0; i < arg.length; i++) {
                    out[from + i] = (int) arg[i];
                }
            }
        }
        return out;
    }
}
