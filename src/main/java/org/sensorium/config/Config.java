package org.sensorium.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.ArrayList;
import java.util.List;

/**
 * The resolved configuration of a run: configs/defaults.yaml, then the model preset
 * configs/models/&lt;model.size&gt;.yaml, then the experiment file, then --set overrides. Every key is
 * documented in configs/defaults.yaml; each record checks its own values and names the key it rejects.
 */
public record Config(Run run, Data data, Model model, Train train, Objectives objectives, Eval eval, Dist dist,
        ModalitySpecs modalities) {

    public Config {
        for (ObjectiveConfig o : objectives.all()) {
            if (o.weight() > 0) {
                o.check(data, model, modalities);
            }
        }
    }

    /**
     * The config record of one objective: its weight (0 = off, not built), and the checks of its keys against the
     * rest of the run (which modalities are decoded, the model's depth, the modality specs), run only when it is on.
     */
    public interface ObjectiveConfig {
        float weight();

        /** @throws ConfigException naming the objective's key that the rest of the config cannot serve */
        default void check(Data data, Model model, ModalitySpecs modalities) {}
    }

    private static void decoded(String key, Modality m, List<Modality> modalities) {
        if (!modalities.contains(m)) {
            throw new ConfigException(key, m.key() + " is not in data.modalities " + modalities);
        }
    }

    private static void checkMaskedTokens(MaskedTokens t, List<Modality> modalities, int depth, int textBag) {
        for (Modality m : t.modalities()) {
            if (!modalities.contains(m)) {
                throw new ConfigException("objectives.masked_tokens.modalities", m.key() + " is not in data.modalities " + modalities);
            }
            if (m == Modality.TEXT && textBag > 1) {
                throw new ConfigException("objectives.masked_tokens.modalities",
                        "text comes as bags of " + textBag + " texts (modalities.text.bag): masking needs one text per sample");
            }
        }
        if (t.topKLayers() > depth) {
            throw new ConfigException("objectives.masked_tokens.top_k_layers", t.topKLayers() + " is more than model.depth=" + depth);
        }
    }

    private static void usesOnly(String key, List<Pair> pairs, List<Modality> modalities) {
        for (Pair p : pairs) {
            for (Modality m : List.of(p.a(), p.b())) {
                if (!modalities.contains(m)) {
                    throw new ConfigException(key, p + " uses " + m.key() + ", which is not in data.modalities " + modalities);
                }
            }
        }
    }

    /** run.*: naming, seeding and failure policy. */
    public record Run(String name, String dir, long seed, boolean strict) {}

    /** data.*: what to train on and how to feed it. */
    public record Data(String manifest, String cacheDir, int synthSamples, int synthLong, int synthSegments, long synthSeed,
            double clipSeconds, List<Modality> modalities, int loaderThreads, int prefetchBatches) {
        public Data {
            positive("data.synth_samples", synthSamples);
            if (synthLong < 0) {
                throw new ConfigException("data.synth_long", synthLong + " must be >= 0 (0 = the set of short samples)");
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
        }
    }

    /** model.*: trunk size and heads; presets in configs/models/. */
    public record Model(String size, int width, int depth, int heads, int mlpRatio, float dropout, float dropPath, int embedDim,
            String pool, float logitScaleInit, float logitScaleMax) {
        public Model {
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
            if (!(logitScaleInit > 0) || logitScaleInit > logitScaleMax) {
                throw new ConfigException("model.logit_scale_init", logitScaleInit + " must be in (0, logit_scale_max]");
            }
        }
    }

    /** train.*: optimisation. */
    public record Train(int steps, int batchSize, int accumulate, float lr, float minLr, int warmupSteps,
            float weightDecay, float beta1, float beta2, float eps, float clipGradNorm, int checkpointEvery,
            int keepCheckpoints, int logEvery, boolean progress) {
        public Train {
            if (steps < 0) {
                throw new ConfigException("train.steps", steps + " must be >= 0 (0: evaluate and checkpoint the untrained model)");
            }
            positive("train.batch_size", batchSize);
            positive("train.accumulate", accumulate);
            if (batchSize % accumulate != 0) {
                throw new ConfigException("train.accumulate", "batch_size " + batchSize + " is not divisible by " + accumulate);
            }
            if (!(lr > 0) || minLr < 0 || minLr > lr) {
                throw new ConfigException("train.min_lr", "needs 0 <= min_lr <= lr, got min_lr=" + minLr + " lr=" + lr);
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
        }

        public int microBatch() {
            return batchSize / accumulate;
        }
    }

    /** objectives.*: each objective is on when its weight is above zero. */
    public record Objectives(Contrastive contrastive, Clustering clustering, TwoView twoView, MilNce milNce,
            RelativeSpeed relativeSpeed, PseudoLabels pseudoLabels, TemporalOt temporalOt, MaskedTokens maskedTokens,
            MaskedSegments maskedSegments, KeyframeContext keyframeContext, MotionPrediction motionPrediction) {
        /** Every objective's config, in the order their checks run. */
        public List<ObjectiveConfig> all() {
            return List.of(contrastive, clustering, milNce, relativeSpeed, pseudoLabels, temporalOt, maskedTokens, maskedSegments,
                    keyframeContext, motionPrediction, twoView);
        }
    }

    /** objectives.keyframe_context.*: InfoNCE between each video clip and the key frame of its group of pictures. */
    public record KeyframeContext(float weight, float temperature) implements ObjectiveConfig {
        public KeyframeContext {
            if (weight < 0) {
                throw new ConfigException("objectives.keyframe_context.weight", weight + " must be >= 0");
            }
            positive("objectives.keyframe_context.temperature", temperature);
        }

        @Override
        public void check(Data data, Model model, ModalitySpecs modalities) {
            if (!data.modalities().contains(Modality.VIDEO)) {
                throw new ConfigException("objectives.keyframe_context.weight", "needs video in data.modalities " + data.modalities());
            }
        }
    }

    /**
     * objectives.motion_prediction.*: an MLP on the trunk tokens of the clip's last moment, in modality {@code from}
     * (video or motion), predicts the motion field after the clip.
     */
    public record MotionPrediction(float weight, Modality from, double horizonSeconds, int hidden, int pool) implements ObjectiveConfig {
        public MotionPrediction {
            if (weight < 0) {
                throw new ConfigException("objectives.motion_prediction.weight", weight + " must be >= 0");
            }
            if (from != Modality.VIDEO && from != Modality.MOTION) {
                throw new ConfigException("objectives.motion_prediction.from", from + " must be video or motion");
            }
            positive("objectives.motion_prediction.horizon_seconds", horizonSeconds);
            positive("objectives.motion_prediction.hidden", hidden);
            positive("objectives.motion_prediction.pool", pool);
        }

        @Override
        public void check(Data data, Model model, ModalitySpecs modalities) {
            if (!data.modalities().contains(from)) {
                throw new ConfigException("objectives.motion_prediction.from", from.key() + " is not in data.modalities "
                        + data.modalities() + ": add it, or predict from the other (video | motion)");
            }
            if (modalities.motion().frames(horizonSeconds) < 1) {
                throw new ConfigException("objectives.motion_prediction.horizon_seconds", horizonSeconds
                        + " s holds no motion field at modalities.motion.fps = " + modalities.motion().fps()
                        + " (needs at least half a field interval, 1 / (2 fps) s)");
            }
        }
    }

    /** objectives.contrastive.*: symmetric InfoNCE for each modality pair. */
    public record Contrastive(float weight, List<Pair> pairs) implements ObjectiveConfig {
        public Contrastive {
            if (weight < 0) {
                throw new ConfigException("objectives.contrastive.weight", weight + " must be >= 0");
            }
            if (weight > 0 && (pairs == null || pairs.isEmpty())) {
                throw new ConfigException("objectives.contrastive.pairs", "needs at least one pair like video-text");
            }
        }

        @Override
        public void check(Data data, Model model, ModalitySpecs modalities) {
            usesOnly("objectives.contrastive.pairs", pairs, data.modalities());
        }
    }

    /** objectives.clustering.targets: how a pair's Sinkhorn targets are formed (objective.Clustering). */
    public enum ClusterTargets {
        SWAPPED, JOINT;

        public static ClusterTargets parse(String s) {
            return switch (s.trim().toLowerCase(java.util.Locale.ROOT)) {
                case "swapped" -> SWAPPED;
                case "joint" -> JOINT;
                default -> throw new IllegalArgumentException("'" + s + "' is not swapped or joint");
            };
        }
    }

    /** objectives.clustering.*: online cross-modal clustering, swapped or joint prediction of Sinkhorn targets. */
    public record Clustering(float weight, List<Pair> pairs, int prototypes, double epsilon, int iterations,
            double temperature, int queue, ClusterTargets targets) implements ObjectiveConfig {
        public Clustering {
            if (weight < 0) {
                throw new ConfigException("objectives.clustering.weight", weight + " must be >= 0");
            }
            if (weight > 0 && (pairs == null || pairs.isEmpty())) {
                throw new ConfigException("objectives.clustering.pairs", "needs at least one pair like video-audio");
            }
            if (prototypes < 2) {
                throw new ConfigException("objectives.clustering.prototypes", prototypes + " must be >= 2");
            }
            positive("objectives.clustering.epsilon", epsilon);
            positive("objectives.clustering.iterations", iterations);
            positive("objectives.clustering.temperature", temperature);
            if (queue < 0) {
                throw new ConfigException("objectives.clustering.queue", queue + " must be >= 0");
            }
            if (targets == null) {
                throw new ConfigException("objectives.clustering.targets", "must be swapped or joint");
            }
        }

        @Override
        public void check(Data data, Model model, ModalitySpecs modalities) {
            usesOnly("objectives.clustering.pairs", pairs, data.modalities());
        }
    }

    /**
     * objectives.temporal_ot.*: temporal optimal transport (TOT): per clip, the frames of modality are
     * assigned to K ordered prototypes by Sinkhorn with a Gaussian temporal prior, plus a temporal
     * coherence term. Times are in seconds of the clip.
     */
    public record TemporalOt(float weight, Modality modality, int windows, int prototypes, double epsilon, int iterations,
            double rho, double sigma, double temperature, float coherenceWeight, double coherenceNear, double coherenceFar,
            double coherenceTemperature) implements ObjectiveConfig {
        public TemporalOt {
            if (weight < 0) {
                throw new ConfigException("objectives.temporal_ot.weight", weight + " must be >= 0");
            }
            if (modality == Modality.TEXT) {
                throw new ConfigException("objectives.temporal_ot.modality", "text has no time axis: use video, motion, audio or imu");
            }
            if (windows < 0 || windows == 1) {
                throw new ConfigException("objectives.temporal_ot.windows", windows + " must be 0 (frames = time steps of a clip) or >= 2");
            }
            if (prototypes < 2) {
                throw new ConfigException("objectives.temporal_ot.prototypes", prototypes + " must be >= 2");
            }
            positive("objectives.temporal_ot.epsilon", epsilon);
            positive("objectives.temporal_ot.iterations", iterations);
            if (!(rho >= 0)) {
                throw new ConfigException("objectives.temporal_ot.rho", rho + " must be >= 0 (0 = no temporal prior)");
            }
            positive("objectives.temporal_ot.sigma", sigma);
            positive("objectives.temporal_ot.temperature", temperature);
            if (!(coherenceWeight >= 0)) {
                throw new ConfigException("objectives.temporal_ot.coherence_weight", coherenceWeight + " must be >= 0 (0 = off)");
            }
            positive("objectives.temporal_ot.coherence_near", coherenceNear);
            if (!(coherenceFar >= coherenceNear)) {
                throw new ConfigException("objectives.temporal_ot.coherence_far",
                        coherenceFar + " must be >= coherence_near " + coherenceNear);
            }
            positive("objectives.temporal_ot.coherence_temperature", coherenceTemperature);
        }

        @Override
        public void check(Data data, Model model, ModalitySpecs modalities) {
            decoded("objectives.temporal_ot.modality", modality, data.modalities());
        }
    }

    /** objectives.two_view.*: SimCLR / CVRL contrastive between two clips of the same recording, per modality. */
    public record TwoView(float weight, List<Modality> modalities, float temperature) implements ObjectiveConfig {
        public TwoView {
            if (weight < 0) {
                throw new ConfigException("objectives.two_view.weight", weight + " must be >= 0");
            }
            if (weight > 0 && (modalities == null || modalities.isEmpty())) {
                throw new ConfigException("objectives.two_view.modalities", "needs at least one modality like video");
            }
            positive("objectives.two_view.temperature", temperature);
        }

        @Override
        public void check(Data data, Model model, ModalitySpecs modalities) {
            for (Modality m : modalities()) {
                decoded("objectives.two_view.modalities", m, data.modalities());
            }
        }
    }

    /** objectives.mil_nce.*: MIL-NCE between a modality and a bag of texts (modalities.text.bag > 1). */
    public record MilNce(float weight, List<Pair> pairs) implements ObjectiveConfig {
        public MilNce {
            if (weight < 0) {
                throw new ConfigException("objectives.mil_nce.weight", weight + " must be >= 0");
            }
            if (weight > 0 && (pairs == null || pairs.isEmpty())) {
                throw new ConfigException("objectives.mil_nce.pairs", "needs at least one pair like video-text");
            }
            for (Pair p : pairs == null ? List.<Pair>of() : pairs) {
                if (p.b() != Modality.TEXT) {
                    throw new ConfigException("objectives.mil_nce.pairs", p + ": the second modality must be text (the bag)");
                }
            }
        }

        @Override
        public void check(Data data, Model model, ModalitySpecs modalities) {
            usesOnly("objectives.mil_nce.pairs", pairs, data.modalities());
            if (modalities.text().bag() < 2) {
                throw new ConfigException("objectives.mil_nce.weight",
                        "MIL-NCE needs a bag of texts: set modalities.text.bag to 2 or more (it is " + modalities.text().bag() + ")");
            }
        }
    }

    /**
     * objectives.pseudo_labels.*: offline cross-modal clustering (XDC): modality's embedding predicts the
     * k clusters in file (written by {@code sensorium cluster}). The file itself is read, and its k checked,
     * when the objective is built.
     */
    public record PseudoLabels(float weight, String file, Modality modality, int k) implements ObjectiveConfig {
        public PseudoLabels {
            if (weight < 0) {
                throw new ConfigException("objectives.pseudo_labels.weight", weight + " must be >= 0");
            }
            if (weight > 0 && file.isBlank()) {
                throw new ConfigException("objectives.pseudo_labels.file", "needs a pseudo-label file written by `sensorium cluster`");
            }
            if (k < 2) {
                throw new ConfigException("objectives.pseudo_labels.k", k + " must be >= 2");
            }
        }

        @Override
        public void check(Data data, Model model, ModalitySpecs modalities) {
            decoded("objectives.pseudo_labels.modality", modality, data.modalities());
        }
    }

    /** objectives.relative_speed.*: RSPNet's relative playback speed and appearance terms on a second video clip. */
    public record RelativeSpeed(float weight, List<Double> speeds, float temperature) implements ObjectiveConfig {
        public RelativeSpeed {
            if (weight < 0) {
                throw new ConfigException("objectives.relative_speed.weight", weight + " must be >= 0");
            }
            if (speeds == null || speeds.isEmpty() || speeds.stream().anyMatch(s -> !(s > 0) || s > 8)) {
                throw new ConfigException("objectives.relative_speed.speeds", speeds + ": needs speeds in (0, 8], e.g. [0.5, 1.0, 2.0]");
            }
            positive("objectives.relative_speed.temperature", temperature);
        }

        @Override
        public void check(Data data, Model model, ModalitySpecs modalities) {
            if (!data.modalities().contains(Modality.VIDEO)) {
                throw new ConfigException("objectives.relative_speed.weight", "needs video in data.modalities " + data.modalities());
            }
        }
    }

    /**
     * objectives.masked_tokens.*: data2vec at the token level. A fraction of each listed modality's tokens is
     * replaced by a learned mask token; a linear head on the student's trunk outputs regresses, at those
     * positions, the average of an EMA teacher's top K block outputs computed on the unmasked input.
     */
    public record MaskedTokens(float weight, List<Modality> modalities, double maskRatio,
            @JsonProperty("top_k_layers") int topKLayers, // snake case of topKLayers would be top_klayers
            String targetNorm,
            float teacherMomentum, float teacherMomentumEnd, int teacherMomentumSteps) implements ObjectiveConfig {
        public MaskedTokens {
            if (weight < 0) {
                throw new ConfigException("objectives.masked_tokens.weight", weight + " must be >= 0");
            }
            if (weight > 0 && (modalities == null || modalities.isEmpty())) {
                throw new ConfigException("objectives.masked_tokens.modalities", "needs at least one modality like video");
            }
            ratioInOpenUnit("objectives.masked_tokens.mask_ratio", maskRatio);
            positive("objectives.masked_tokens.top_k_layers", topKLayers);
            if (!List.of("instance", "layer", "none").contains(targetNorm)) {
                throw new ConfigException("objectives.masked_tokens.target_norm", "'" + targetNorm + "' must be instance, layer or none");
            }
            momentum("objectives.masked_tokens.teacher_momentum", teacherMomentum);
            momentum("objectives.masked_tokens.teacher_momentum_end", teacherMomentumEnd);
            if (teacherMomentumSteps < 0) {
                throw new ConfigException("objectives.masked_tokens.teacher_momentum_steps", teacherMomentumSteps + " must be >= 0 (0 = fixed)");
            }
        }

        @Override
        public void check(Data data, Model model, ModalitySpecs modalities) {
            checkMaskedTokens(this, data.modalities(), model.depth(), modalities.text().bag());
        }
    }

    /**
     * objectives.masked_segments.*: LV-MAE. The clip of one modality is cut along time into S segments, each
     * embedded by the teacher encoder (EMA or frozen); a fraction of the segment embeddings is replaced by a
     * learned mask embedding and a small transformer of its own reconstructs them.
     */
    public record MaskedSegments(float weight, Modality modality, int segments, double maskRatio, String targetNorm,
            String encoder, float teacherMomentum, int decoderWidth, int decoderDepth, int decoderHeads) implements ObjectiveConfig {
        public MaskedSegments {
            if (weight < 0) {
                throw new ConfigException("objectives.masked_segments.weight", weight + " must be >= 0");
            }
            if (segments < 2) {
                throw new ConfigException("objectives.masked_segments.segments", segments + " must be >= 2");
            }
            ratioInOpenUnit("objectives.masked_segments.mask_ratio", maskRatio);
            if (!List.of("layer", "none").contains(targetNorm)) {
                throw new ConfigException("objectives.masked_segments.target_norm", "'" + targetNorm + "' must be layer or none");
            }
            if (!List.of("ema", "frozen").contains(encoder)) {
                throw new ConfigException("objectives.masked_segments.encoder", "'" + encoder + "' must be ema or frozen");
            }
            momentum("objectives.masked_segments.teacher_momentum", teacherMomentum);
            positive("objectives.masked_segments.decoder_width", decoderWidth);
            positive("objectives.masked_segments.decoder_depth", decoderDepth);
            positive("objectives.masked_segments.decoder_heads", decoderHeads);
            if (decoderWidth % decoderHeads != 0) {
                throw new ConfigException("objectives.masked_segments.decoder_width",
                        decoderWidth + " is not divisible by decoder_heads=" + decoderHeads);
            }
        }

        @Override
        public void check(Data data, Model model, ModalitySpecs modalities) {
            decoded("objectives.masked_segments.modality", modality, data.modalities());
            if (modality == Modality.TEXT) {
                throw new ConfigException("objectives.masked_segments.modality", "text has no time axis to cut into segments");
            }
        }
    }

    private static void ratioInOpenUnit(String key, double r) {
        if (!(r > 0 && r < 1)) {
            throw new ConfigException(key, r + " must be in (0, 1)");
        }
    }

    private static void momentum(String key, float m) {
        if (!(m >= 0 && m <= 1)) {
            throw new ConfigException(key, m + " must be in [0, 1] (1 = the teacher never moves)");
        }
    }

    /** eval.*: the held-out retrieval measured at the end of pretraining, and whether RUN/report.html is written then. */
    public record Eval(int batchSize, int clips, List<Pair> pairs, boolean atEnd, boolean report) {
        public Eval {
            positive("eval.batch_size", batchSize);
            positive("eval.clips", clips);
        }
    }

    /**
     * dist.*: data-parallel training across worker JVMs (`sensorium launch`, or a cluster launcher).
     *
     * @param iface the address workers listen on: loopback unless a network interface's address is given
     */
    public record Dist(double bucketMb, double timeoutSeconds, int hashEvery, @JsonProperty("interface") String iface) {
        public Dist {
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

    private static void positive(String key, double v) {
        if (!(v > 0)) {
            throw new ConfigException(key, v + " must be > 0");
        }
    }
}
