package org.sensorium.job;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.config.Modality;
import org.sensorium.data.Batch;
import org.sensorium.data.Loader;
import org.sensorium.modality.Adapters;
import org.sensorium.modality.text.TextAdapter;
import org.sensorium.model.ModelOutput;
import org.sensorium.model.SensoriumModel;
import org.sensorium.eval.QaPretext;
import org.sensorium.eval.Retrieval;
import org.sensorium.train.AdamW;
import org.sensorium.train.Schedule;
import org.sensorium.train.Trainer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pretraining phase of `sensorium qa` before its fusion head (Kim et al. 2021): the video and text encoders
 * train on the train items' question prediction and masked-answer contrastive losses ({@link QaPretext}),
 * L = L_qp + maskedWeight L_ma, for a number of steps of b items drawn in a seeded order; then the head trains on
 * the encoders' new embeddings. With the frozen pretrained text tower only its projection head learns. Without
 * subtitles (--no-subtitles) the context is the video alone.
 */
public final class QaPretextPhase {
    private static final Logger LOG = LoggerFactory.getLogger(QaPretextPhase.class);

    private QaPretextPhase() {}

    /**
     * --pretext-* options of `sensorium qa`.
     *
     * @param steps optimizer steps of the phase; 0 = no pretext (the fusion head on the encoders as they come)
     * @param lr the encoders' learning rate in the phase
     * @param temperature tau of both losses
     * @param maskedWeight weight of L_ma next to L_qp (0: question prediction alone)
     * @param genericShare items whose question is asked of more than this share of the train items are left out of
     *     L_qp ({@link QaPretext#generic}); 1 = keep all
     * @param train which parameters the phase updates: all (every parameter the losses reach) | heads (the projection
     *     heads head.* only; trunk, stems and the rest keep the checkpoint's values)
     * @param augment each step's clips cropped and jittered as the video loader augments training clips ({@link org.sensorium.model.ClipOps#asTrained})
     * @param measureEvery the held-out measures logged every this many steps (0 = only before and after)
     * @param innerShare a diagnostic: this share of the train recordings ({@link QaPretext#spread}) is left out of the
     *     pretext and its items measured before and after like the held-out ones (a second held-out set drawn from the
     *     train split); the fusion head still trains on every train item. 0 = off
     * @param cosine the learning rate warms up linearly over the first {@link #WARMUP_SHARE} of the steps, then decays
     *     to 0 at the last step on a cosine ({@link Schedule}); false = lr at every step
     */
    public record Settings(int steps, float lr, float temperature, float maskedWeight, float genericShare, String train,
            boolean augment, int measureEvery, float innerShare, boolean cosine) {
        public static final Settings OFF = new Settings(0, 1e-4f, 0.1f, 1f, 0.25f);

        /** The share of the steps the cosine schedule warms up over. */
        public static final double WARMUP_SHARE = 0.05;

        /** Every parameter trains, on the clips as decoded, at a constant rate, measured before and after only. */
        public Settings(int steps, float lr, float temperature, float maskedWeight, float genericShare) {
            this(steps, lr, temperature, maskedWeight, genericShare, "all", false, 0, 0f, false);
        }

        /** The learning rate of each step: constant, or warm-up then cosine to 0. */
        Schedule schedule() {
            return cosine ? new Schedule(lr, 0f, (int) Math.ceil(WARMUP_SHARE * steps), steps) : new Schedule(lr, lr, 0, steps);
        }

        public Settings {
            if (!List.of("all", "heads").contains(train)) {
                throw new ConfigException("--pretext-train", train + " must be all or heads");
            }
            if (!(innerShare >= 0 && innerShare < 1)) {
                throw new ConfigException("--pretext-inner-share", innerShare + " must be in [0, 1) (0 = off)");
            }
            if (measureEvery < 0) {
                throw new ConfigException("--pretext-measure-every", measureEvery + " must be >= 0 (0 = before and after only)");
            }
            if (steps < 0) {
                throw new ConfigException("--pretext-steps", steps + " must be >= 0 (0 = no pretext)");
            }
            if (!(lr > 0)) {
                throw new ConfigException("--pretext-lr", lr + " must be > 0");
            }
            if (!(temperature > 0)) {
                throw new ConfigException("--pretext-temperature", temperature + " must be > 0");
            }
            if (!(maskedWeight >= 0)) {
                throw new ConfigException("--pretext-masked-weight", maskedWeight + " must be >= 0");
            }
            if (!(genericShare > 0 && genericShare <= 1)) {
                throw new ConfigException("--pretext-generic-share", genericShare + " must be in (0, 1] (1 = keep every question)");
            }
        }
    }

    /**
     * The phase over the seeds of one `sensorium qa`: each seed loads the checkpoint again and runs the pretext on it
     * ({@link #run}); the measures before it are the checkpoint's, taken at the first seed and shared by every seed.
     * Measured and logged: the held-out items, the train items the pretext fits and, with --pretext-inner-share, the
     * train recordings it leaves out.
     */
    static final class Seeds {
        private final Config cfg;
        private final Settings s;
        private final List<VideoQa.Decoded> test, fit, inner; // held-out items; the pretext's train items; the train items it leaves out
        private final int batch;
        private final boolean subtitles;
        private final Map<Modality, long[]> shapes;
        private HeldOut before, fitBefore, innerBefore;       // the checkpoint's, set by the first seed

        Seeds(Config cfg, Settings s, List<VideoQa.Decoded> train, List<VideoQa.Decoded> test, int batch, boolean subtitles,
                Map<Modality, long[]> shapes) {
            List<List<VideoQa.Decoded>> split = innerSplit(train, s.innerShare());
            this.cfg = cfg;
            this.s = s;
            this.test = test;
            this.fit = split.get(0);
            this.inner = split.get(1);
            this.batch = batch;
            this.subtitles = subtitles;
            this.shapes = shapes;
        }

        /** The checkpoint's held-out measures, before any pretext step (null until the first {@link #run}). */
        HeldOut before() {
            return before;
        }

        /** One seed: measures before (first seed only), trains the pretext on model, logs the changes; the held-out measures after. */
        HeldOut run(SensoriumModel model, long seed, NDManager run) {
            if (before == null) {
                before = measure(model, test, run);
                fitBefore = measure(model, fit, run);
                innerBefore = inner.isEmpty() ? null : measure(model, inner, run);
            }
            train(cfg, s, model, fit, batch, subtitles, shapes, seed, run, step -> {
                if (s.measureEvery() > 0 && step % s.measureEvery() == 0 && step < s.steps()) {
                    HeldOut h = measure(model, test, run);
                    LOG.info("seed {}: QA pretext after {} steps: held-out question R@1 {} (balanced {}), masked-answer accuracy {}",
                            seed, step, h.questions().r1(), h.questions().balancedR1(), h.maskedAccuracy());
                    if (innerBefore != null) {
                        LOG.info("seed {}: QA pretext after {} steps: left-out train items' balanced R@1 {}", seed, step,
                                measure(model, inner, run).questions().balancedR1());
                    }
                }
            });
            HeldOut after = measure(model, test, run);
            LOG.info("seed {}: QA pretext held-out question R@1 {} -> {} (balanced {} -> {}, chance {}), masked-answer accuracy {} -> {}"
                    + " (chance {})", seed, before.questions().r1(), after.questions().r1(), before.questions().balancedR1(),
                    after.questions().balancedR1(), after.questions().chance(), before.maskedAccuracy(), after.maskedAccuracy(),
                    after.maskedChance());
            logSides(seed, before, after);
            logIntervals(seed, before, after);
            HeldOut fitted = measure(model, fit, run);
            if (innerBefore != null) {
                logInner(seed, innerBefore, measure(model, inner, run));
            }
            LOG.info("seed {}: the same measures on the train items (fitted, not held out): question R@1 {} -> {} (balanced {} -> {}),"
                    + " masked-answer accuracy {} -> {}", seed, fitBefore.questions().r1(), fitted.questions().r1(),
                    fitBefore.questions().balancedR1(), fitted.questions().balancedR1(), fitBefore.maskedAccuracy(), fitted.maskedAccuracy());
            return after;
        }

        private HeldOut measure(SensoriumModel model, List<VideoQa.Decoded> items, NDManager run) {
            return heldOut(cfg, model, items, batch, subtitles, shapes, run);
        }
    }

    /** The phase's first and last losses (mean of L_qp and L_ma over its first and last 5 steps). */
    record Log(double firstQp, double lastQp, double firstMa, double lastMa) {}

    /**
     * The pretext's own held-out measures ({@link QaPretext#questionR1}, {@link QaPretext#maskedAccuracy}) on the
     * held-out items, the encoders in evaluation mode: does c find its item's question among the held-out items'
     * distinct questions, does the masked input pick the correct answer among the K. With the embeddings it was
     * measured on: contexts (n, E), the distinct questions (Q, E), their texts and each item's question index (n).
     */
    public record HeldOut(QaPretext.QuestionR1 questions, double maskedAccuracy, double maskedChance, float[][] contexts,
            float[][] questionRows, List<String> questionTexts, int[] asked) {}

    /**
     * Which side moved question R@1 from before to after: per question its hit rate and the share of contexts naming
     * it, the mean cosine between the distinct questions' embeddings, and balanced R@1 with one side swapped (the
     * contexts after against the questions before, and the reverse).
     */
    static void logSides(long seed, HeldOut before, HeldOut after) {
        for (int j = 0; j < before.questionTexts().size(); j++) {
            LOG.info("seed {}: held-out question \"{}\": hit rate {} -> {}, named by {} -> {} of the contexts", seed,
                    before.questionTexts().get(j), before.questions().hitRate()[j], after.questions().hitRate()[j],
                    before.questions().named()[j], after.questions().named()[j]);
        }
        LOG.info("seed {}: mean cosine between the distinct held-out questions {} -> {}; balanced R@1 contexts after x questions before {},"
                + " contexts before x questions after {}", seed, meanCosine(before.questionRows()), meanCosine(after.questionRows()),
                QaPretext.questionR1(after.contexts(), before.questionRows(), before.asked()).balancedR1(),
                QaPretext.questionR1(before.contexts(), after.questionRows(), before.asked()).balancedR1());
    }

    /**
     * Held-out balanced R@1 before and after with 95% bootstrap intervals over the held-out items (1000 resamples,
     * seeded with the seed), and the paired change after - before on the same resampled items.
     */
    static void logIntervals(long seed, HeldOut before, HeldOut after) {
        boolean[] b = hits(before), a = hits(after);
        QaPretext.Interval ib = QaPretext.balancedR1Interval(null, b, before.asked(), 1000, seed);
        QaPretext.Interval ia = QaPretext.balancedR1Interval(null, a, before.asked(), 1000, seed);
        QaPretext.Interval change = QaPretext.balancedR1Interval(b, a, before.asked(), 1000, seed);
        LOG.info("seed {}: held-out balanced R@1 with 95% bootstrap intervals (1000 resamples of the items): before {} [{}, {}],"
                + " after {} [{}, {}], change {} [{}, {}]", seed, ib.value(), ib.lo(), ib.hi(), ia.value(), ia.lo(), ia.hi(),
                change.value(), change.lo(), change.hi());
    }

    /**
     * The train items split for --pretext-inner-share: [the pretext's items, the inner held-out items] (the items of
     * {@link QaPretext#spread}'s recordings); share 0: [every train item, none].
     */
    static List<List<VideoQa.Decoded>> innerSplit(List<VideoQa.Decoded> train, float share) {
        boolean[] inner = QaPretext.spread(train.stream().map(d -> d.item().video().toString()).toList(), share);
        List<VideoQa.Decoded> fit = new ArrayList<>(), out = new ArrayList<>();
        for (int i = 0; i < inner.length; i++) {
            (inner[i] ? out : fit).add(train.get(i));
        }
        return List.of(fit, out);
    }

    /** The measures on the train recordings the pretext left out (--pretext-inner-share), with the bootstrap intervals. */
    static void logInner(long seed, HeldOut before, HeldOut after) {
        LOG.info("seed {}: the same measures on the {} train items left out of the pretext: question R@1 {} -> {} (balanced {} -> {}),"
                + " masked-answer accuracy {} -> {}", seed, before.asked().length, before.questions().r1(), after.questions().r1(),
                before.questions().balancedR1(), after.questions().balancedR1(), before.maskedAccuracy(), after.maskedAccuracy());
        QaPretext.Interval change = QaPretext.balancedR1Interval(hits(before), hits(after), before.asked(), 1000, seed);
        LOG.info("seed {}: left-out train items, balanced R@1 change {} [{}, {}] (95% bootstrap)", seed, change.value(), change.lo(), change.hi());
    }

    /** Per held-out item whether its context names its own question ({@link QaPretext#hits}). */
    private static boolean[] hits(HeldOut h) {
        return QaPretext.hits(h.contexts(), h.questionRows(), h.asked());
    }

    private static double meanCosine(float[][] rows) {
        double sum = 0;
        int pairs = 0;
        for (int i = 0; i < rows.length; i++) {
            for (int j = i + 1; j < rows.length; j++) {
                sum += QaPretext.cosine(rows[i], rows[j]);
                pairs++;
            }
        }
        return sum / pairs;
    }

    /**
     * The pretext's held-out measures into a task's metrics, means over the seeds: pretext_question_r1 (and _balanced)
     * and pretext_masked_accuracy, each _before and _after, with their baselines.
     */
    static void putMetrics(Map<String, Object> m, List<VideoQa.SeedResult> seeds) {
        HeldOut first = seeds.get(0).pretextBefore();
        for (String when : List.of("before", "after")) {
            java.util.function.Function<VideoQa.SeedResult, HeldOut> at = when.equals("before") ? VideoQa.SeedResult::pretextBefore
                    : VideoQa.SeedResult::pretextAfter;
            m.put("pretext_question_r1_" + when, seeds.stream().mapToDouble(s -> at.apply(s).questions().r1()).average().orElse(Double.NaN));
            m.put("pretext_question_r1_balanced_" + when, seeds.stream().mapToDouble(s -> at.apply(s).questions().balancedR1()).average()
                    .orElse(Double.NaN));
            m.put("pretext_masked_accuracy_" + when, seeds.stream().mapToDouble(s -> at.apply(s).maskedAccuracy()).average().orElse(Double.NaN));
        }
        m.put("pretext_question_chance", first.questions().chance());
        m.put("pretext_question_most_frequent", first.questions().frequent());
        m.put("pretext_masked_chance", first.maskedChance());
    }

    /** A seed's row of a task's "seeds": its accuracy and, with a pretext, its held-out measures before and after. */
    static Map<String, Object> perSeed(VideoQa.SeedResult s) {
        Map<String, Object> row = new java.util.LinkedHashMap<>();
        row.put("seed", s.seed());
        row.put("accuracy", s.accuracy());
        if (s.pretextBefore() != null) {
            for (HeldOut h : List.of(s.pretextBefore(), s.pretextAfter())) {
                String when = h == s.pretextBefore() ? "_before" : "_after";
                row.put("pretext_question_r1" + when, h.questions().r1());
                row.put("pretext_question_r1_balanced" + when, h.questions().balancedR1());
                row.put("pretext_masked_accuracy" + when, h.maskedAccuracy());
            }
        }
        return row;
    }

    /** {@link HeldOut} of model on the items, b at a time (no gradients). */
    static HeldOut heldOut(Config cfg, SensoriumModel model, List<VideoQa.Decoded> items, int batch, boolean subtitles,
            Map<Modality, long[]> shapes, NDManager run) {
        List<String> asked = items.stream().map(d -> d.item().question()).toList();
        List<String> distinct = asked.stream().distinct().toList();
        int n = items.size(), k = items.get(0).answers().size();
        float[][] context = new float[n][], masked = new float[n][], questions = new float[distinct.size()][];
        float[][][] answers = new float[n][][];
        Texts texts = texts(cfg, items);
        List<Batch.Decoded> qs = distinct.stream().map(q -> texts.questions().get(asked.indexOf(q))).toList();
        for (int from = 0; from < qs.size(); from += batch) {
            try (NDManager sm = run.newSubManager()) {
                float[][] q = rows(textEmbedding(model, sm, qs.subList(from, Math.min(qs.size(), from + batch)), shapes, false)); // (b, E)
                System.arraycopy(q, 0, questions, from, q.length);
            }
        }
        for (int from = 0; from < n; from += batch) {
            int to = Math.min(n, from + batch);
            try (NDManager sm = run.newSubManager()) {
                VideoQa.Inputs in = VideoQa.encode(model, sm, items.subList(from, to), shapes, false);  // t (b, K, E), v, s (b, E)
                float[][] c = rows(subtitles ? in.v().add(in.s()) : in.v());                         // (b, E)
                float[][] m = rows(textEmbedding(model, sm, texts.masked().subList(from, to), shapes, false));
                float[][] t = rows(in.t().reshape(-1, in.v().getShape().get(1)));                   // (b*K, E)
                for (int i = from; i < to; i++) {
                    context[i] = c[i - from];
                    masked[i] = m[i - from];
                    answers[i] = java.util.Arrays.copyOfRange(t, (i - from) * k, (i - from + 1) * k);
                }
            }
        }
        int[] question = asked.stream().mapToInt(distinct::indexOf).toArray();
        int[] correct = items.stream().mapToInt(d -> d.item().correct()).toArray();
        return new HeldOut(QaPretext.questionR1(context, questions, question), QaPretext.maskedAccuracy(context, masked, answers, correct),
                1.0 / k, context, questions, distinct, question);
    }

    /** Each item's question alone and its masked text ("question [MASK]..."), tokenized. */
    private record Texts(List<Batch.Decoded> questions, List<Batch.Decoded> masked) {}

    private static Texts texts(Config cfg, List<VideoQa.Decoded> items) {
        List<Batch.Decoded> questions = new ArrayList<>(), masked = new ArrayList<>();
        try (TextAdapter text = (TextAdapter) Adapters.create(Modality.TEXT, cfg.modalities(), cfg.data().clipSeconds())) {
            for (VideoQa.Decoded d : items) {
                questions.add(new Batch.Decoded(d.moment().entry(), Map.of(Modality.TEXT, text.sample(d.item().question()))));
                masked.add(new Batch.Decoded(d.moment().entry(), Map.of(Modality.TEXT, text.sample(maskedText(d)))));
            }
        }
        return new Texts(questions, masked);
    }

    /** (n, E) -> n rows of E. */
    private static float[][] rows(NDArray x) {
        return Retrieval.rows(x).toArray(float[][]::new);
    }

    /** Trains model's parameters on the pretext losses of the train items; b items a step (fewer if there are fewer). */
    static Log train(Config cfg, Settings s, SensoriumModel model, List<VideoQa.Decoded> train, int batch, boolean subtitles,
            Map<Modality, long[]> shapes, long seed, NDManager run, java.util.function.IntConsumer afterStep) {
        int b = Math.min(batch, train.size());
        if (b < 2) {
            throw new ConfigException("--pretext-steps", "the pretext contrasts items of a batch: needs 2 or more train items and --batch >= 2");
        }
        Texts texts = texts(cfg, train);
        List<Batch.Decoded> questions = texts.questions(), masked = texts.masked();
        List<String> asked = train.stream().map(d -> d.item().question()).toList();
        boolean[] generic = QaPretext.generic(asked, s.genericShare());
        List<String> left = java.util.stream.IntStream.range(0, generic.length).filter(i -> generic[i]).mapToObj(asked::get).distinct().toList();
        if (left.size() == asked.stream().distinct().count()) {
            throw new ConfigException("--pretext-generic-share", s.genericShare() + " leaves every train question out of question prediction "
                    + left + "; raise it (1 = keep all)");
        }
        LOG.info("QA pretext: question prediction leaves out the items of {} question(s) asked of more than {} of the {} train items: {}",
                left.size(), s.genericShare(), asked.size(), left);
        Config.Train t = cfg.train();
        AdamW opt = new AdamW(model.params(), t.beta1(), t.beta2(), t.eps(), t.weightDecay());
        java.util.function.Predicate<String> trains = trains(s.train());
        LOG.info("QA pretext trains {}: {} of the model's {} parameter tensors", s.train(),
                model.params().all().keySet().stream().filter(n -> trains == null || trains.test(n)).count(), model.params().all().size());
        Engine.getInstance().setRandomSeed((int) Loader.mix(seed, 59, 0));
        SplittableRandom order = new SplittableRandom(Loader.mix(seed, 61, 0));
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < train.size(); i++) {
            idx.add(i);
        }
        double[] qp = new double[s.steps()], ma = new double[s.steps()];
        Schedule lr = s.schedule();
        int at = idx.size();
        for (int step = 0; step < s.steps(); step++) {
            if (at + b > idx.size()) { // a new pass over the items in a new order
                FineTune.shuffle(idx, order);
                at = 0;
            }
            List<Integer> chunk = idx.subList(at, at + b);
            at += b;
            try (NDManager sm = run.newSubManager()) {
                NDArray lqp, lma;
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    List<VideoQa.Decoded> items = chunk.stream().map(train::get).toList();
                    VideoQa.Inputs in = VideoQa.encode(model, sm, items, shapes, true, s.augment()                // t (b, K, E), v, s (b, E)
                            ? x -> org.sensorium.model.ClipOps.asTrained(x, cfg.modalities().video()) : x -> x);
                    NDArray m = textEmbedding(model, sm, chunk.stream().map(masked::get).toList(), shapes, true);      // (b, E)
                    NDArray context = subtitles ? in.v().add(in.s()) : in.v();                            // (b, E)
                    boolean[] keep = new boolean[b];                                                      // not generic
                    for (int i = 0; i < b; i++) {
                        keep[i] = !generic[chunk.get(i)];
                    }
                    List<Integer> kept = java.util.stream.IntStream.range(0, b).filter(i -> keep[i]).mapToObj(chunk::get).toList();
                    if (kept.isEmpty()) {
                        lqp = sm.zeros(new ai.djl.ndarray.types.Shape());
                    } else {
                        NDArray q = textEmbedding(model, sm, kept.stream().map(questions::get).toList(), shapes, true); // (b', E)
                        lqp = QaPretext.questionPrediction(context.get(sm.create(keep)), q,                 // c (b', E)
                                sameQuestion(kept.stream().map(train::get).toList()), s.temperature());
                    }
                    lma = QaPretext.maskedAnswer(context, m, in.t(), items.stream().mapToInt(d -> d.item().correct()).toArray(),
                            s.temperature());
                    gc.backward(lqp.add(org.sensorium.model.Layers.scale(lma, s.maskedWeight())));
                }
                qp[step] = lqp.getFloat();
                ma[step] = lma.getFloat();
                Trainer.applyStep(opt, sm, lr.at(step), t.clipGradNorm(), trains);
            }
            afterStep.accept(step + 1);
        }
        Log log = new Log(mean(qp, 0), mean(qp, s.steps() - 5), mean(ma, 0), mean(ma, s.steps() - 5));
        LOG.info("seed {}: QA pretext {} steps: question prediction {} -> {}, masked answer {} -> {}", seed, s.steps(),
                log.firstQp(), log.lastQp(), log.firstMa(), log.lastMa());
        return log;
    }

    /** Which parameters --pretext-train updates: null = all, else the projection heads (names head.*). */
    static java.util.function.Predicate<String> trains(String train) {
        return train.equals("heads") ? n -> n.startsWith("head.") : null;
    }

    /** "question [MASK] [MASK]": the correct answer's words each replaced by the mask token. */
    static String maskedText(VideoQa.Decoded d) {
        String answer = d.item().answers().get(d.item().correct()).strip();
        int words = answer.isEmpty() ? 1 : answer.split("\\s+").length;
        return d.item().question() + " " + String.join(" ", java.util.Collections.nCopies(words, "[MASK]"));
    }

    private static boolean[][] sameQuestion(List<VideoQa.Decoded> items) {
        boolean[][] same = new boolean[items.size()][items.size()];
        for (int i = 0; i < items.size(); i++) {
            for (int j = 0; j < items.size(); j++) {
                same[i][j] = items.get(i).item().question().equals(items.get(j).item().question());
            }
        }
        return same;
    }

    private static NDArray textEmbedding(SensoriumModel model, NDManager sm, List<Batch.Decoded> texts, Map<Modality, long[]> shapes,
            boolean training) {
        Batch batch = Batch.collate(sm, texts, Map.of(Modality.TEXT, shapes.get(Modality.TEXT)));
        ModelOutput out = model.forward(batch.inputs(), batch.valid(), training);
        return out.embedding(Modality.TEXT);                                                          // (b, E)
    }

    /** Mean of up to 5 values from index from (clamped to the array). */
    private static double mean(double[] x, int from) {
        int a = Math.max(0, from), z = Math.min(x.length, a + 5);
        return z <= a ? Double.NaN : Arrays.stream(x, a, z).average().orElse(Double.NaN);
    }
}
