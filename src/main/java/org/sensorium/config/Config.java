package org.sensorium.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.ArrayList;
import java.util.List;

/**
 * The resolved configuration of a run: configs/defaults.yaml, then the model preset
 * configs/models/&lt;model.size&gt;.yaml, then the experiment file, then --set overrides. Every key is
 * documented in configs/defaults.yaml; each record checks its own values and names the key it rejects.
 */
public record Config(Run run, Data data, Model model, Train train, Objectives objectives, Eval eval, Log log, Dist dist,
        ModalitySpecs modalities) {

    public Config {
        if (!train.keepBest().isBlank() && eval.everySteps() == 0) {
            throw new ConfigException("train.keep_best", train.keepBest() + ": set eval.every_steps too; without evaluation during"
                    + " training there is no metric to keep the best checkpoint by");
        }
        for (Objectives.Settings o : objectives.all()) {
            if (o.weight() > 0) {
                o.check(data, model, modalities);
            }
        }
    }


    /** run.*: naming, seeding and failure policy. */
    public record Run(String name, String dir, long seed, boolean strict) {}

    /** data.*: what to train on and how to feed it. */
    public record Data(String manifest, String cacheDir, int synthSamples, int synthLong, int synthSegments, long synthSeed,
            double clipSeconds, List<Modality> modalities, int loaderThreads, int prefetchBatches, String labelCaptions,
            String labelTemplates, int shuffleBuffer, double cacheMb, int synthScenes) {
        public Data {
            if (labelCaptions.isBlank() && !labelTemplates.isBlank()) {
                throw new ConfigException("data.label_templates", "needs data.label_captions (the label file whose phrases fill it)");
            }
            positive("data.synth_samples", synthSamples);
            if (synthLong < 0) {
                throw new ConfigException("data.synth_long", synthLong + " must be >= 0 (0 = the set of short samples)");
            }
            if (synthScenes < 0 || synthScenes > 64) {
                throw new ConfigException("data.synth_scenes", synthScenes + " must be in [0, 64] (0 = the plain grey field)");
            }
            if (synthScenes > 0 && synthLong > 0) {
                throw new ConfigException("data.synth_scenes", "scenes are for the short samples; set data.synth_long=0 or data.synth_scenes=0");
            }
            if (synthSegments < 2 || synthSegments > 8) {
                throw new ConfigException("data.synth_segments", synthSegments + " must be in [2, 8] (each of the 8 motions at most once)");
            }
            if (!(clipSeconds > 0)) {
                throw new ConfigException("data.clip_seconds", clipSeconds + " must be > 0");
            }
            if (modalities == null || modalities.isEmpty()) {
                throw new ConfigException("data.modalities", "needs at least one of video, audio, text, imu");
            }
            positive("data.loader_threads", loaderThreads);
            positive("data.prefetch_batches", prefetchBatches);
            positive("data.shuffle_buffer", shuffleBuffer);
            if (!(cacheMb >= 0)) {
                throw new ConfigException("data.cache_mb", cacheMb + " must be >= 0 (0 = decode every clip every epoch)");
            }
        }
    }

    /** model.*: trunk size and heads; presets in configs/models/. */
    public record Model(String size, int width, int depth, int heads, int mlpRatio, float dropout, float dropPath, int embedDim,
            String pool, float logitScaleInit, float logitScaleMax, String initFrom, List<String> initParts, float dropToken) {
        /** What model.init_parts may name: a modality's encoder, the shared trunk, the logit scale, objective parameters. */
        public static final List<String> INIT_PARTS = List.of("video", "audio", "text", "imu", "motion", "trunk", "logit_scale",
                "objectives");

        public Model {
            initParts = initParts == null ? List.of() : List.copyOf(initParts);
            for (String part : initParts) {
                if (!INIT_PARTS.contains(part)) {
                    throw new ConfigException("model.init_parts", "'" + part + "' is not a part: expected one of " + INIT_PARTS);
                }
            }
            positive("model.width", width);
            positive("model.depth", depth);
            positive("model.heads", heads);
            if (width % heads != 0) {
                throw new ConfigException("model.width", width + " is not divisible by model.heads=" + heads);
            }
            positive("model.mlp_ratio", mlpRatio);
            if (dropout < 0 || dropout >= 1) {
                throw new ConfigException("model.dropout", dropout + " must be in [0, 1)");
            }
            if (dropPath < 0 || dropPath >= 1) {
                throw new ConfigException("model.drop_path", dropPath + " must be in [0, 1)");
            }
            positive("model.embed_dim", embedDim);
            if (!pool.equals("mean") && !pool.equals("cls")) {
                throw new ConfigException("model.pool", "'" + pool + "' must be mean or cls");
            }
            if (!(logitScaleMax > 0)) {
                throw new ConfigException("model.logit_scale_max", logitScaleMax + " must be > 0");
            }
            if (!(logitScaleInit > 0) || logitScaleInit > logitScaleMax) {
                throw new ConfigException("model.logit_scale_init", logitScaleInit + " must be in (0, model.logit_scale_max "
                        + logitScaleMax + "]");
            }
            if (!(dropToken >= 0 && dropToken < 1)) {
                throw new ConfigException("model.drop_token", dropToken + " must be in [0, 1) (0 = every token)");
            }
        }
    }

    /** train.*: optimisation. */
    public record Train(int steps, int batchSize, int accumulate, float lr, float minLr, int warmupSteps,
            float weightDecay, float beta1, float beta2, float eps, float clipGradNorm, int checkpointEvery,
            int keepCheckpoints, int logEvery, boolean progress, String keepBest, String keepBestMode) {
        public Train {
            if (steps < 0) {
                throw new ConfigException("train.steps", steps + " must be >= 0 (0: evaluate and checkpoint the untrained model)");
            }
            positive("train.batch_size", batchSize);
            positive("train.accumulate", accumulate);
            if (batchSize % accumulate != 0) {
                throw new ConfigException("train.accumulate", "batch_size " + batchSize + " is not divisible by " + accumulate);
            }
            // Each key's own rule first, so a bad lr is named as train.lr; then the relation between the two.
            if (!(lr > 0)) {
                throw new ConfigException("train.lr", lr + " must be > 0");
            }
            if (!(minLr >= 0)) {
                throw new ConfigException("train.min_lr", minLr + " must be >= 0");
            }
            if (minLr > lr) {
                throw new ConfigException("train.min_lr", minLr + " must be <= train.lr " + lr);
            }
            if (warmupSteps < 0) {
                throw new ConfigException("train.warmup_steps", warmupSteps + " must be >= 0");
            }
            if (weightDecay < 0) {
                throw new ConfigException("train.weight_decay", weightDecay + " must be >= 0");
            }
            if (beta1 < 0 || beta1 >= 1) {
                throw new ConfigException("train.beta1", beta1 + " must be in [0, 1)");
            }
            if (beta2 < 0 || beta2 >= 1) {
                throw new ConfigException("train.beta2", beta2 + " must be in [0, 1)");
            }
            if (!(eps > 0)) {
                throw new ConfigException("train.eps", eps + " must be > 0");
            }
            if (clipGradNorm < 0) {
                throw new ConfigException("train.clip_grad_norm", clipGradNorm + " must be >= 0 (0 = off)");
            }
            if (checkpointEvery < 0) {
                throw new ConfigException("train.checkpoint_every", checkpointEvery + " must be >= 0 (0 = only at the end)");
            }
            positive("train.keep_checkpoints", keepCheckpoints);
            positive("train.log_every", logEvery);
            if (keepBest == null || !keepBest.isBlank() && !keepBest.startsWith("eval/")) {
                throw new ConfigException("train.keep_best", keepBest + " is not an evaluation metric: empty (off) or eval/<task>/<metric>,"
                        + " a key of the metrics.jsonl lines eval.every_steps writes");
            }
            if (!"max".equals(keepBestMode) && !"min".equals(keepBestMode)) {
                throw new ConfigException("train.keep_best_mode", keepBestMode + " is neither max nor min");
            }
        }

        public int microBatch() {
            return batchSize / accumulate;
        }
    }

    /** eval.*: the held-out retrieval measured at the end of pretraining, and whether RUN/report.html is written then. */
    public record Eval(int batchSize, int clips, List<Pair> pairs, boolean atEnd, boolean report, int everySteps, String duringSuite) {
        public Eval {
            positive("eval.batch_size", batchSize);
            positive("eval.clips", clips);
            if (everySteps < 0) {
                throw new ConfigException("eval.every_steps", everySteps + " must be >= 0 (0 = no evaluation during training)");
            }
            if (everySteps > 0 && (duringSuite == null || duringSuite.isBlank())) {
                throw new ConfigException("eval.during_suite", "names no suite; eval.every_steps " + everySteps + " needs one");
            }
        }
    }

    /** log.*: where the metrics of every step go besides RUN/metrics.jsonl. */
    public record Log(boolean tensorboard) {}

    /**
     * dist.*: data-parallel training across worker JVMs (`sensorium launch`, or a cluster launcher).
     *
     * @param iface the address workers listen on: loopback unless a network interface's address is given
     * @param localLoss objectives with negatives from the whole group build only their rank's rows of the logits
     * @param transport what carries the all-reduce: auto (shared memory when every worker is on this host), tcp, shm
     */
    public record Dist(double bucketMb, double timeoutSeconds, int hashEvery, @JsonProperty("interface") String iface,
            boolean localLoss, String transport) {
        public Dist {
            if (!java.util.List.of("auto", "tcp", "shm").contains(transport)) {
                throw new ConfigException("dist.transport", "'" + transport + "' is not auto, tcp or shm");
            }
            positive("dist.bucket_mb", bucketMb);
            positive("dist.timeout_seconds", timeoutSeconds);
            if (hashEvery < 0) {
                throw new ConfigException("dist.hash_every", hashEvery + " must be >= 0 (0 = never)");
            }
            if (iface == null || iface.isBlank()) {
                throw new ConfigException("dist.interface", "needs an address to listen on, e.g. 127.0.0.1");
            }
        }
    }

    /** A modality pair written "video-text". */
    public record Pair(Modality a, Modality b) {
        public Pair {
            if (a == b) {
                throw new ConfigException("pairs", "a pair needs two different modalities, got " + a.key() + "-" + b.key());
            }
        }

        public static Pair parse(String s) {
            String[] parts = s.split("-");
            if (parts.length != 2) {
                throw new IllegalArgumentException("'" + s + "' is not a pair like video-text");
            }
            return new Pair(Modality.parse(parts[0]), Modality.parse(parts[1]));
        }

        @Override
        public String toString() {
            return a.key() + "-" + b.key();
        }
    }

    /** The modalities the run actually uses, in enum order. */
    public List<Modality> activeModalities() {
        List<Modality> out = new ArrayList<>();
        for (Modality m : Modality.values()) {
            if (data.modalities().contains(m)) {
                out.add(m);
            }
        }
        return out;
    }

    // One overload per type, so a message shows the value as the key's type prints it: an integer key's 0 as "0",
    // not "0.0", and a float key's -0.1 as "-0.1", not its widening to double.
    static void positive(String key, int v) {
        if (v <= 0) {
            throw new ConfigException(key, v + " must be > 0");
        }
    }

    static void positive(String key, float v) {
        if (!(v > 0)) {
            throw new ConfigException(key, v + " must be > 0");
        }
    }

    static void positive(String key, double v) {
        if (!(v > 0)) {
            throw new ConfigException(key, v + " must be > 0");
        }
    }
}
