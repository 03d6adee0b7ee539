package org.sensorium.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.sensorium.config.Config;
import org.sensorium.data.Loader;
import org.sensorium.distributed.DataParallel;
import org.sensorium.model.Layers;
import org.sensorium.model.ModelOutput;
import org.sensorium.objective.Objective;
import org.sensorium.objective.Step;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One optimizer step, as every job that trains takes it (pretraining, fine-tuning, QA): a sub-manager owns every
 * array of the step; libtorch's generator is re-seeded from (seed, step, rank), so dropout and masks replay exactly
 * on resume; train.accumulate micro-batches of weighted named terms are summed and back-propagated; in a worker
 * group the gradients are averaged over the ranks; the step is clipped by global norm and taken by AdamW, or
 * skipped, not fatal, when the norm is not finite. The job's loop calls {@link #step} and does what follows a step
 * (metrics, checkpoints, teachers).
 */
public final class Trainer {
    private static final Logger LOG = LoggerFactory.getLogger(Trainer.class);

    private final Config.Train cfg;
    private final long seed;
    private final AdamW opt;
    private final DataParallel dp;
    private final Schedule schedule;

    /** @param dp the worker group's gradient sync (a group of one changes nothing) */
    public Trainer(Config.Train cfg, long seed, AdamW opt, DataParallel dp) {
        this.cfg = cfg;
        this.seed = seed;
        this.opt = opt;
        this.dp = dp;
        this.schedule = new Schedule(cfg.lr(), cfg.minLr(), cfg.warmupSteps(), cfg.steps());
    }

    /** One named loss term of a micro-batch and its weight in the total. */
    public record Term(String name, NDArray value, float weight) {}

    /**
     * What one micro-batch gives the step.
     *
     * @param terms the loss terms, summed as sum of weight x value in this order
     * @param logged named values logged for the step (the terms' values and the objectives' statistics), averaged
     *     over the micro-batches, in this order
     * @param samples samples in the micro-batch
     * @param waitSeconds time spent waiting for the data
     * @param logitScale the model's logit scale, NaN when not read
     */
    public record Micro(List<Term> terms, Map<String, Double> logged, int samples, double waitSeconds, float logitScale) {
        /**
         * A micro-batch's terms from its step: each objective's weighted loss terms (their values read for the log)
         * and statistics, and the logit scale when the step ran the model (pretraining and `bench train` alike).
         */
        public static Micro of(Step step, List<Objective.Weighted> objectives, double waitSeconds) {
            List<Term> terms = new ArrayList<>();
            Map<String, Double> logged = new LinkedHashMap<>();
            for (Objective.Weighted o : objectives) {
                for (Map.Entry<String, NDArray> term : o.objective().losses(step).entrySet()) {
                    terms.add(new Term(term.getKey(), term.getValue(), o.weight()));
                    logged.merge(term.getKey(), (double) term.getValue().getFloat(), Double::sum);
                }
                o.objective().stats().forEach((k, v) -> logged.merge(k, v, Double::sum));
            }
            ModelOutput out = step.out();
            float scale = out == null || out.logitScale() == null ? Float.NaN : out.logitScale().getFloat();
            return new Micro(terms, logged, step.batch().size(), waitSeconds, scale);
        }
    }

    /** The job's side of a step: the next micro-batch's terms, computed on arrays of sm. */
    @FunctionalInterface
    public interface Source {
        Micro next(NDManager sm) throws InterruptedException;
    }

    /**
     * What one optimizer step measured; in a group, loss and terms are the means and samples the sum over the
     * ranks, distSeconds the time this rank spent in collectives (gradient all-reduce, gathers, checks).
     */
    public record StepResult(double loss, Map<String, Double> terms, float gradNorm, int samples, double waitSeconds,
            boolean applied, float logitScale, double distSeconds) {
        public StepResult withDist(double seconds) {
            return new StepResult(loss, terms, gradNorm, samples, waitSeconds, applied, logitScale, seconds);
        }
    }

    /** The learning rate at step (0-based): warm-up, then cosine. */
    public float lr(int step) {
        return schedule.at(step);
    }

    /** Runs step (0-based) of the loop in a sub-manager of root. */
    public StepResult step(NDManager root, int step, Source source) throws InterruptedException {
        try (NDManager sm = root.newSubManager()) {
            // dropout and masks differ per rank (its own samples), and replay exactly on resume
            Engine.getInstance().setRandomSeed((int) Loader.mix(seed, step, dp.group().rank()));
            return accumulate(sm, source, lr(step));
        }
    }

    private StepResult accumulate(NDManager sm, Source source, float lr) throws InterruptedException {
        int k = cfg.accumulate();
        Map<String, Double> terms = new LinkedHashMap<>();
        double loss = 0, wait = 0;
        int samples = 0;
        float logitScale = Float.NaN;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            for (int micro = 0; micro < k; micro++) {
                Micro m = source.next(sm);
                NDArray total = null;
                for (Term t : m.terms()) {
                    NDArray weighted = Layers.scale(t.value(), t.weight() / k);
                    total = total == null ? weighted : total.add(weighted);
                }
                m.logged().forEach((name, v) -> terms.merge(name, v / k, Double::sum));
                if (total != null) {
                    gc.backward(total);
                    loss += total.getFloat();
                }
                samples += m.samples();
                wait += m.waitSeconds();
                logitScale = m.logitScale();
            }
        }
        // data parallel: every rank now holds the mean gradient over the group, so all take the same step
        dp.averageGradients(sm);
        double[] group = dp.sum(loss, samples);
        Map<String, Double> groupTerms = dp.meanOverRanks(terms);
        AdamW.GradNorms norms = applyStep(opt, sm, lr, cfg.clipGradNorm(), null);
        return new StepResult(group[0] / dp.group().worldSize(), groupTerms, norms.global(), (int) Math.round(group[1]), wait,
                Float.isFinite(norms.global()), logitScale, 0);
    }

    /**
     * One AdamW step of the parameters {@code trains} accepts (null: all), clipped by their global gradient norm, then
     * every gradient zeroed; skipped, with a warning naming the parameters, when that norm is not finite. The others
     * keep their values (AdamW leaves a parameter whose squared gradient norm reads 0 untouched).
     *
     * @return the norms the step was clipped by
     */
    public static AdamW.GradNorms applyStep(AdamW opt, NDManager sm, float lr, float clipNorm, Predicate<String> trains) {
        AdamW.GradNorms norms = opt.norms(sm);
        if (trains != null) {
            Map<String, Float> kept = new LinkedHashMap<>();
            double total = 0;
            for (Map.Entry<String, Float> e : norms.squared().entrySet()) {
                float v = trains.test(e.getKey()) ? e.getValue() : 0f;
                kept.put(e.getKey(), v);
                total += v;
            }
            norms = new AdamW.GradNorms((float) Math.sqrt(total), kept);
        }
        if (Float.isFinite(norms.global())) {
            float clip = clipNorm > 0 && norms.global() > clipNorm ? clipNorm / norms.global() : 1f;
            opt.step(sm, norms, lr, clip);
        } else {
            LOG.warn("non-finite gradient norm {}: step skipped; non-finite in {}", norms.global(),
                    norms.squared().entrySet().stream().filter(e -> !Float.isFinite(e.getValue())).map(Map.Entry::getKey).toList());
        }
        opt.zeroGradients(sm);
        return norms;
    }
}
