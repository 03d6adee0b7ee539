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
import org.sensorium.train.AdamW;
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
     */
    public record Settings(int steps, float lr, float temperature, float maskedWeight) {
        public static final Settings OFF = new Settings(0, 1e-4f, 0.1f, 1f);

        public Settings {
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
        }
    }

    /** The phase's first and last losses (mean of L_qp and L_ma over its first and last 5 steps). */
    record Log(double firstQp, double lastQp, double firstMa, double lastMa) {}

    /** Trains model's parameters on the pretext losses of the train items; b items a step (fewer if there are fewer). */
    static Log train(Config cfg, Settings s, SensoriumModel model, List<VideoQa.Decoded> train, int batch, boolean subtitles,
            Map<Modality, long[]> shapes, long seed, NDManager run) {
        int b = Math.min(batch, train.size());
        if (b < 2) {
            throw new ConfigException("--pretext-steps", "the pretext contrasts items of a batch: needs 2 or more train items and --batch >= 2");
        }
        List<Batch.Decoded> questions = new ArrayList<>(), masked = new ArrayList<>();
        try (TextAdapter text = (TextAdapter) Adapters.create(Modality.TEXT, cfg.modalities(), cfg.data().clipSeconds())) {
            for (VideoQa.Decoded d : train) {
                questions.add(new Batch.Decoded(d.moment().entry(), Map.of(Modality.TEXT, text.sample(d.item().question()))));
                masked.add(new Batch.Decoded(d.moment().entry(), Map.of(Modality.TEXT, text.sample(maskedText(d)))));
            }
        }
        Config.Train t = cfg.train();
        AdamW opt = new AdamW(model.params(), t.beta1(), t.beta2(), t.eps(), t.weightDecay());
        Engine.getInstance().setRandomSeed((int) Loader.mix(seed, 59, 0));
        SplittableRandom order = new SplittableRandom(Loader.mix(seed, 61, 0));
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < train.size(); i++) {
            idx.add(i);
        }
        double[] qp = new double[s.steps()], ma = new double[s.steps()];
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
                    VideoQa.Inputs in = VideoQa.encode(model, sm, items, shapes, true);                 // t (b, K, E), v, s (b, E)
                    NDArray q = textEmbedding(model, sm, chunk.stream().map(questions::get).toList(), shapes);   // (b, E)
                    NDArray m = textEmbedding(model, sm, chunk.stream().map(masked::get).toList(), shapes);      // (b, E)
                    NDArray context = subtitles ? in.v().add(in.s()) : in.v();                            // (b, E)
                    lqp = QaPretext.questionPrediction(context, q, sameQuestion(items), s.temperature());
                    lma = QaPretext.maskedAnswer(context, m, in.t(), items.stream().mapToInt(d -> d.item().correct()).toArray(),
                            s.temperature());
                    gc.backward(lqp.add(org.sensorium.model.Layers.scale(lma, s.maskedWeight())));
                }
                qp[step] = lqp.getFloat();
                ma[step] = lma.getFloat();
                Trainer.applyStep(opt, sm, s.lr(), t.clipGradNorm(), null);
            }
        }
        Log log = new Log(mean(qp, 0), mean(qp, s.steps() - 5), mean(ma, 0), mean(ma, s.steps() - 5));
        LOG.info("seed {}: QA pretext {} steps: question prediction {} -> {}, masked answer {} -> {}", seed, s.steps(),
                log.firstQp(), log.lastQp(), log.firstMa(), log.lastMa());
        return log;
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

    private static NDArray textEmbedding(SensoriumModel model, NDManager sm, List<Batch.Decoded> texts, Map<Modality, long[]> shapes) {
        Batch batch = Batch.collate(sm, texts, Map.of(Modality.TEXT, shapes.get(Modality.TEXT)));
        ModelOutput out = model.forward(batch.inputs(), batch.valid(), true);
        return out.embedding(Modality.TEXT);                                                          // (b, E)
    }

    /** Mean of up to 5 values from index from (clamped to the array). */
    private static double mean(double[] x, int from) {
        int a = Math.max(0, from), z = Math.min(x.length, a + 5);
        return z <= a ? Double.NaN : Arrays.stream(x, a, z).average().orElse(Double.NaN);
    }
}
