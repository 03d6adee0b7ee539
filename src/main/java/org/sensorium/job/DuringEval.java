package org.sensorium.job;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.config.Modality;
import org.sensorium.data.ManifestEntry;
import org.sensorium.distributed.Collective;
import org.sensorium.eval.Suite;
import org.sensorium.modality.ModalityAdapter;
import org.sensorium.modality.SkipLog;
import org.sensorium.model.SensoriumModel;
import org.sensorium.objective.Objective;
import org.sensorium.train.Checkpoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Evaluation during pretraining (eval.every_steps): every that many steps, and after the last, the suite
 * eval.during_suite runs on the model as it is, through the eval command's own task code ({@link EvalTasks} on
 * {@link EvalSamples}, sharing the run's adapters), and each task's metrics become eval/&lt;task&gt;/&lt;metric&gt;
 * keys of that step's metrics.jsonl line. With train.keep_best, a value better than the best so far replaces
 * RUN/checkpoints/best ({@link Checkpoint#saveBest}).
 *
 * <p>In a worker group rank 0 alone evaluates; every rank then meets at a barrier, so the others wait there (within
 * dist.timeout_seconds) instead of inside the next gradient all-reduce. Evaluation draws no random number from
 * the training's sources: it decodes its own clips (centred, seeded by the sample), runs the model without
 * dropout, and the trainer re-seeds libtorch from (seed, step, rank) before every step; the training loader's
 * cursor is not touched. So a run with it trains the same numbers as one without, and resumes exactly.
 */
final class DuringEval {
    private static final Logger LOG = LoggerFactory.getLogger(DuringEval.class);
    /** Task metrics that are counts or constants, not measures: not logged. */
    private static final Set<String> NOT_LOGGED = Set.of("n", "chance_top1", "windows", "activities", "frames");

    /** Writes RUN/checkpoints/best with the given best in its state.json. */
    interface BestSaver {
        void save(Checkpoint.Best best) throws IOException;
    }

    private final Config cfg;
    private final Collective group;
    private final List<Suite.Task> tasks;
    private final EvalSamples samples; // rank 0 only
    private final EvalTasks evalTasks; // rank 0 only
    private Checkpoint.Best best;

    private DuringEval(Config cfg, Collective group, List<Suite.Task> tasks, EvalSamples samples, EvalTasks evalTasks) {
        this.cfg = cfg;
        this.group = group;
        this.tasks = tasks;
        this.samples = samples;
        this.evalTasks = evalTasks;
    }

    /**
     * The evaluation of a run, or null when eval.every_steps is 0. Checks the suite first: its tasks must be kinds
     * that only embed (finetune and qa train models of their own), and train.keep_best must name one of its tasks.
     *
     * @param runDir the run folder; the newest evaluation's embeddings go to RUN/eval_during/embeddings/
     */
    static DuringEval create(Config cfg, Path runDir, Collective group, SensoriumModel model, NDManager root,
            Map<Modality, ModalityAdapter> adapters, SkipLog skips, List<Objective.Weighted> objectives,
            List<ManifestEntry> shardHeldOut) throws IOException {
        if (cfg.eval().everySteps() == 0) {
            return null;
        }
        Path file = Path.of(cfg.eval().duringSuite());
        if (!Files.isRegularFile(file)) {
            throw new ConfigException("eval.during_suite", file.toAbsolutePath() + ": no such file (relative paths start at the"
                    + " working directory, as the eval command's --suite does)");
        }
        Suite suite = Suite.load(file);
        List<Suite.Task> tasks = new ArrayList<>();
        for (Suite.Task t : suite.tasks()) {
            Suite.Kind kind = Suite.Kind.of(t);
            if (kind == Suite.Kind.FINETUNE || kind == Suite.Kind.QA) {
                throw new ConfigException("eval.during_suite", suite.file() + ": task " + t.name() + " is " + t.kind()
                        + ", which trains a model of its own; during pretraining only zero_shot, retrieval, linear_probe, knn"
                        + " and segmentation run");
            }
            String why = EvalJob.unusable(cfg, t);
            if (why == null && shardHeldOut != null && needsTraining(t) && t.source().manifest() == null) {
                why = "it reads the training samples, which a run on shards streams (only its held-out samples are files)";
            }
            if (why != null) {
                LOG.warn("eval.during_suite {}: task {} not run: {}", suite.file(), t.name(), why);
            } else {
                tasks.add(t);
            }
        }
        if (tasks.isEmpty()) {
            throw new ConfigException("eval.during_suite", suite.file() + ": no task fits this run");
        }
        String keep = cfg.train().keepBest();
        if (!keep.isBlank() && tasks.stream().noneMatch(t -> keep.startsWith("eval/" + t.name() + "/"))) {
            throw new ConfigException("train.keep_best", keep + " names none of the tasks that run: "
                    + tasks.stream().map(t -> "eval/" + t.name() + "/...").toList());
        }
        if (group.rank() != 0) {
            return new DuringEval(cfg, group, tasks, null, null);
        }
        Path out = Files.createDirectories(runDir.resolve("eval_during").resolve("embeddings")).getParent();
        EvalSamples samples = new EvalSamples(cfg, model, root, skips, tasks, adapters, embedded(tasks), shardHeldOut);
        EvalTasks evalTasks = new EvalTasks(new TrainedRun(null, cfg, 0), objectives, samples,
                new EvalJob.Options(null, suite.file(), out, List.of()), out);
        return new DuringEval(cfg, group, tasks, samples, evalTasks);
    }

    /** Held-out samples alone, unless a task reads the training side (a probe, kNN, zero-shot centred on it). */
    private static Predicate<ManifestEntry> embedded(List<Suite.Task> tasks) {
        return tasks.stream().anyMatch(DuringEval::needsTraining) ? e -> true : EvalSamples.HELD_OUT;
    }

    /** A probe, kNN, or zero-shot centred on the training embeddings reads the training side. */
    private static boolean needsTraining(Suite.Task t) {
        return t instanceof Suite.LinearProbe || t instanceof Suite.Knn || t instanceof Suite.ZeroShot z && z.centre();
    }

    /** True when the steps done call for an evaluation: every eval.every_steps, and the last. */
    boolean due(int step) {
        return step % cfg.eval().everySteps() == 0 || step == cfg.train().steps();
    }

    /** The best so far (null before the first evaluation, or without train.keep_best). */
    Checkpoint.Best best() {
        return best;
    }

    /** On resume: the best of the run's past, from the checkpoint resumed from (ignored when keep_best changed). */
    void restore(Checkpoint.Best saved, Path runDir, int step) {
        if (saved == null || cfg.train().keepBest().isBlank()) {
            return;
        }
        if (!saved.metric().equals(cfg.train().keepBest()) || !saved.mode().equals(cfg.train().keepBestMode())) {
            LOG.warn("train.keep_best is now {} ({}); the checkpoint kept {} ({}): the best starts afresh", cfg.train().keepBest(),
                    cfg.train().keepBestMode(), saved.metric(), saved.mode());
            return;
        }
        best = saved;
        Path dir = Checkpoint.best(runDir);
        try {
            int kept = dir == null ? -1 : Checkpoint.readState(dir).step();
            if (dir == null) {
                LOG.warn("no checkpoints/best on disk; the resumed checkpoint's best is step {} ({} = {})", saved.step(),
                        saved.metric(), saved.value());
            } else if (kept != saved.step()) { // the interrupted run's steps after the checkpoint; an exact resume writes them again
                LOG.warn("{} holds step {}, the resumed checkpoint's best is step {} ({} = {}); it is replaced when the resumed"
                        + " run beats that", dir, kept, saved.step(), saved.metric(), saved.value());
            }
        } catch (IOException e) {
            LOG.warn("{} unreadable: {}", dir, e.getMessage());
        }
        LOG.info("best so far: {} = {} at step {} (resumed at step {})", saved.metric(), saved.value(), saved.step(), step);
    }

    /**
     * Runs the suite (rank 0) and meets the group at a barrier (every rank).
     *
     * @return the metrics to add to the step's line (empty on the other ranks)
     */
    Map<String, Object> evaluate(int step, BestSaver saver) throws IOException, InterruptedException {
        Map<String, Object> line = new LinkedHashMap<>();
        if (samples != null) {
            long t0 = System.nanoTime();
            samples.forget();
            for (Suite.Task t : List.copyOf(tasks)) {
                EvalJob.TaskResult r;
                try {
                    r = EvalJob.evaluate(evalTasks, t);
                } catch (ConfigException e) { // e.g. no held-out sample has one of a zero-shot task's labels: not this run's task
                    if (cfg.train().keepBest().startsWith("eval/" + t.name() + "/")) {
                        throw e;
                    }
                    LOG.warn("step {}: evaluation task {} left out of this run's evaluations: {}", step, t.name(), e.getMessage());
                    tasks.remove(t);
                    continue;
                }
                r.metrics().forEach((k, v) -> {
                    if (!NOT_LOGGED.contains(k)) {
                        line.put("eval/" + t.name() + "/" + k, v);
                    }
                });
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            line.put("eval_s", seconds);
            LOG.info("step {}: evaluation ({} tasks) in {} s", step, tasks.size(), String.format("%.2f", seconds));
            keepBest(step, line, saver);
        }
        group.barrier();
        return line;
    }

    private void keepBest(int step, Map<String, Object> line, BestSaver saver) throws IOException {
        String metric = cfg.train().keepBest();
        if (metric.isBlank()) {
            return;
        }
        if (!(line.get(metric) instanceof Double v)) {
            throw new ConfigException("train.keep_best", metric + " is not among the evaluation's metrics: "
                    + line.keySet().stream().filter(k -> k.startsWith("eval/")).toList());
        }
        if (Double.isNaN(v) || best != null && !best.beatenBy(v)) {
            return;
        }
        Checkpoint.Best was = best;
        best = new Checkpoint.Best(metric, cfg.train().keepBestMode(), step, v);
        saver.save(best);
        LOG.info("step {}: best {} = {} (was {}): kept in checkpoints/best", step, metric, String.format("%.4f", v),
                was == null ? "none" : String.format("%.4f at step %d", was.value(), was.step()));
    }
}
