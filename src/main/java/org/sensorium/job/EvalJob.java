package org.sensorium.job;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.config.Json;
import org.sensorium.config.Modality;
import org.sensorium.data.Manifest;
import org.sensorium.data.ManifestEntry;
import org.sensorium.eval.Suite;
import org.sensorium.modality.SkipLog;
import org.sensorium.modality.imu.ImuAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * `sensorium eval`: a run's newest checkpoint (or a given one) through a {@link Suite}'s tasks, on
 * frozen embeddings. Writes OUT/results.json (the contract shared with the report: suite, checkpoint,
 * step, wall seconds, sha256 of every manifest read, one entry per task) and OUT/embeddings/&lt;task&gt;.csv
 * (label, e0, e1, ... of the tested samples). Train side = split "train", tested side = every other split.
 * Embeddings of a manifest are computed once per clip count and shared by the tasks that use them
 * ({@link EvalSamples}); each kind of task is evaluated by {@link EvalTasks}.
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

    public static Result run(Options o) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        Suite suite = Suite.load(o.suite());
        TrainedRun trained = TrainedRun.open(o.checkpoint(), o.sets());
        Map<String, String> notRun = new LinkedHashMap<>();
        List<Suite.Task> runnable = runnable(suite, trained, notRun);
        Path out = o.out() != null ? o.out()
                : trained.runDir().resolve("eval").resolve(suite.name() + (o.randomWeights() ? "-random" : ""));
        Files.createDirectories(out.resolve("embeddings"));
        SkipLog skips = new SkipLog(trained.config().run().strict());
        List<TaskResult> results = new ArrayList<>();
        Map<String, String> manifests;
        Map<String, String> skipped = new LinkedHashMap<>();
        try (NDManager root = NDManager.newBaseManager();
                TrainedRun.Loaded loaded = trained.load(root, o.randomWeights(), true); // objectives may add parameters (temporal_ot's prototypes)
                EvalSamples samples = new EvalSamples(trained.config(), loaded.model(), root, skips, runnable)) {
            EvalTasks tasks = new EvalTasks(trained, loaded.objectives(), samples, o, out);
            for (Suite.Task t : runnable) {
                long ts = System.nanoTime();
                LOG.info("task {} ({})", t.name(), t.kind());
                TaskResult r = evaluate(tasks, t);
                r.protocol().put("seconds", (System.nanoTime() - ts) / 1e9);
                results.add(r);
            }
            manifests = samples.manifests();
            skipped.putAll(skips.reasons());
            skipped.putAll(tasks.skipped());
        }
        Result r = new Result(out, trained.checkpoint(), trained.step(), o.randomWeights(), (System.nanoTime() - t0) / 1e9,
                suite.name(), results, notRun, skipped);
        write(r, manifests);
        return r;
    }

    /** The suite's tasks the run can serve, in order; the others go to notRun with why. @throws ConfigException if none */
    private static List<Suite.Task> runnable(Suite suite, TrainedRun trained, Map<String, String> notRun) throws IOException {
        List<Suite.Task> runnable = new ArrayList<>();
        for (Suite.Task t : suite.tasks()) {
            String why = unusable(trained.config(), t);
            if (why != null) {
                notRun.put(t.name(), why);
                LOG.warn("task {} not run: {}", t.name(), why);
            } else {
                runnable.add(t);
            }
        }
        if (runnable.isEmpty()) {
            throw new ConfigException(suite.file().toString(), "no task of the suite fits the run " + trained.checkpoint() + ": " + notRun);
        }
        return runnable;
    }

    static TaskResult evaluate(EvalTasks tasks, Suite.Task t) throws IOException, InterruptedException {
        return switch (Suite.Kind.of(t)) {
            case ZERO_SHOT -> tasks.zeroShot((Suite.ZeroShot) t);
            case RETRIEVAL -> tasks.retrieval((Suite.RetrievalTask) t);
            case LINEAR_PROBE -> tasks.probe((Suite.LinearProbe) t);
            case KNN -> tasks.knn((Suite.Knn) t);
            case SEGMENTATION -> tasks.segmentation((Suite.SegmentationTask) t);
            case FINETUNE -> tasks.finetune((Suite.FineTuneTask) t);
            case QA -> tasks.qa((Suite.QaTask) t);
        };
    }

    /** OUT/results.json: the run, its weights, the sha256 of every manifest read, the tasks, those not run and what was skipped. */
    private static void write(Result r, Map<String, String> manifests) throws IOException {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("suite", r.suite());
        json.put("checkpoint", runDir(r.checkpoint()).toString());
        json.put("checkpoint_folder", r.checkpoint().toString());
        json.put("step", r.step());
        json.put("weights", r.randomWeights() ? "random (initial values of the run's config, as train.steps=0 saves them)"
                : "checkpoint step " + r.step());
        json.put("wall_seconds", r.seconds());
        json.put("manifests", manifests);
        json.put("tasks", r.tasks().stream().map(TaskResult::toMap).toList());
        json.put("tasks_not_run", r.notRun());
        json.put("skipped", r.skipped());
        Json.write(r.out().resolve("results.json"), json);
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
        if (Suite.Kind.of(t) == Suite.Kind.ZERO_SHOT && !has.contains(Modality.TEXT)) {
            return "zero_shot needs text in the run's data.modalities";
        }
        if (Suite.Kind.of(t) == Suite.Kind.QA && cfg.modalities().text().bag() != 1) {
            return "qa encodes one text per sequence; the run has modalities.text.bag " + cfg.modalities().text().bag();
        }
        if (t.modalities().contains(Modality.IMU) && t.source().manifest() != null) {
            for (ManifestEntry e : Manifest.read(t.source().manifest())) {
                if (e.has(Modality.IMU)) {
                    List<String> wants = cfg.modalities().imu().channels();
                    List<String> got;
                    try {
                        got = ImuAdapter.channels(e.sources().get(Modality.IMU).path());
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

    /** The run folder of a checkpoint folder (RUN/checkpoints/step-N). */
    public static Path runDir(Path ckpt) {
        return TrainedRun.runDir(ckpt);
    }
}
