package org.sensorium.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import org.sensorium.config.Config.Data;
import org.sensorium.config.Config.Model;
import org.sensorium.config.Config.Pair;

/**
 * objectives.*: one record per objective, each on when its weight is above zero; each record checks its own keys,
 * and, through {@link Settings#check}, what it needs from the rest of the run. Adding an objective adds its record
 * here, to {@link #all}, and its keys to configs/defaults.yaml.
 */
public record Objectives(Contrastive contrastive, Clustering clustering, TwoView twoView, MilNce milNce,
        RelativeSpeed relativeSpeed, PseudoLabels pseudoLabels, TemporalOt temporalOt, MaskedTokens maskedTokens,
        MaskedSegments maskedSegments, KeyframeContext keyframeContext, MotionPrediction motionPrediction,
        Pretexts.Declutr declutr, Pretexts.MotionStatistics motionStatistics, Pretexts.PixelMae pixelMae, Pretexts.Dsm dsm,
        Pretexts.BackgroundErasing backgroundErasing) {
    /** Every objective's config, in the order their checks run. */
    public List<Settings> all() {
        return List.of(contrastive, clustering, milNce, relativeSpeed, pseudoLabels, temporalOt, maskedTokens, maskedSegments,
                keyframeContext, motionPrediction, twoView, declutr, motionStatistics, pixelMae, dsm,
                backgroundErasing);
    }

    /**
     * The config record of one objective: its weight (0 = off, not built), and the checks of its keys against the
     * rest of the run (which modalities are decoded, the model's depth, the modality specs), run only when it is on.
     */
    public interface Settings {
        float weight();

        /** @throws ConfigException naming the objective's key that the rest of the config cannot serve */
        default void check(Data data, Model model, ModalitySpecs modalities) {}
    }

    /** objectives.keyframe_context.*: InfoNCE between each video clip and the key frame of its group of pictures. */
    public record KeyframeContext(float weight, float temperature) implements Settings {
        public KeyframeContext {
            if (weight < 0) {
                throw new ConfigException("objectives.keyframe_context.weight", weight + " must be >= 0");
            }
            Config.positive("objectives.keyframe_context.temperature", temperature);
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
    public record MotionPrediction(float weight, Modality from, double horizonSeconds, int hidden, int pool, String read)
            implements Settings {
        public MotionPrediction {
            if (weight < 0) {
                throw new ConfigException("objectives.motion_prediction.weight", weight + " must be >= 0");
            }
            if (from != Modality.VIDEO && from != Modality.MOTION) {
                throw new ConfigException("objectives.motion_prediction.from", from + " must be video or motion");
            }
            Config.positive("objectives.motion_prediction.horizon_seconds", horizonSeconds);
            Config.positive("objectives.motion_prediction.hidden", hidden);
            Config.positive("objectives.motion_prediction.pool", pool);
            if (!read.equals("mean") && !read.equals("all")) {
                throw new ConfigException("objectives.motion_prediction.read", read + " must be mean or all");
            }
        }

        @Override
        public void check(Data data, Model model, ModalitySpecs modalities) {
            if (!data.modalities().contains(from)) {
                throw new ConfigException("objectives.motion_prediction.from", from.key() + " is not in data.modalities "
                        + data.modalities() + ": add it, or predict from the other (video | motion)");
            }
            if (from == Modality.VIDEO && model.dropToken() > 0) { // it reads the tokens of the clip's last time step
                throw new ConfigException("objectives.motion_prediction.from", "video needs every video token: model.drop_token is "
                        + model.dropToken() + " (set it to 0, or predict from motion)");
            }
            if (modalities.motion().frames(horizonSeconds) < 1) {
                throw new ConfigException("objectives.motion_prediction.horizon_seconds", horizonSeconds
                        + " s holds no motion field at modalities.motion.fps = " + modalities.motion().fps()
                        + " (needs at least half a field interval, 1 / (2 fps) s)");
            }
        }
    }

    /** objectives.contrastive.*: symmetric InfoNCE for each modality pair. */
    public record Contrastive(float weight, List<Pair> pairs, String projection) implements Settings {
        public Contrastive {
            Objectives.projection("objectives.contrastive.projection", projection);
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
            double temperature, int queue, ClusterTargets targets) implements Settings {
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
            Config.positive("objectives.clustering.epsilon", epsilon);
            Config.positive("objectives.clustering.iterations", iterations);
            Config.positive("objectives.clustering.temperature", temperature);
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
            double coherenceTemperature) implements Settings {
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
            Config.positive("objectives.temporal_ot.epsilon", epsilon);
            Config.positive("objectives.temporal_ot.iterations", iterations);
            if (!(rho >= 0)) {
                throw new ConfigException("objectives.temporal_ot.rho", rho + " must be >= 0 (0 = no temporal prior)");
            }
            Config.positive("objectives.temporal_ot.sigma", sigma);
            Config.positive("objectives.temporal_ot.temperature", temperature);
            if (!(coherenceWeight >= 0)) {
                throw new ConfigException("objectives.temporal_ot.coherence_weight", coherenceWeight + " must be >= 0 (0 = off)");
            }
            Config.positive("objectives.temporal_ot.coherence_near", coherenceNear);
            if (!(coherenceFar >= coherenceNear)) {
                throw new ConfigException("objectives.temporal_ot.coherence_far",
                        coherenceFar + " must be >= coherence_near " + coherenceNear);
            }
            Config.positive("objectives.temporal_ot.coherence_temperature", coherenceTemperature);
        }

        @Override
        public void check(Data data, Model model, ModalitySpecs modalities) {
            decoded("objectives.temporal_ot.modality", modality, data.modalities());
            if (windows == 0 && model.dropToken() > 0 && (modality == Modality.VIDEO || modality == Modality.AUDIO)) {
                throw new ConfigException("objectives.temporal_ot.windows", "0 reads every time step's tokens of "
                        + modality.key() + ", which model.drop_token " + model.dropToken() + " drops (set it to 0)");
            }
        }
    }

    /** objectives.two_view.*: SimCLR / CVRL contrastive between two clips of the same recording, per modality. */
    public record TwoView(float weight, List<Modality> modalities, float temperature, String projection) implements Settings {
        public TwoView {
            Objectives.projection("objectives.two_view.projection", projection);
            if (weight < 0) {
                throw new ConfigException("objectives.two_view.weight", weight + " must be >= 0");
            }
            if (weight > 0 && (modalities == null || modalities.isEmpty())) {
                throw new ConfigException("objectives.two_view.modalities", "needs at least one modality like video");
            }
            Config.positive("objectives.two_view.temperature", temperature);
        }

        @Override
        public void check(Data data, Model model, ModalitySpecs modalities) {
            for (Modality m : modalities()) {
                decoded("objectives.two_view.modalities", m, data.modalities());
            }
        }
    }

    /** objectives.mil_nce.*: MIL-NCE between a modality and a bag of texts (modalities.text.bag > 1). */
    public record MilNce(float weight, List<Pair> pairs) implements Settings {
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
    public record PseudoLabels(float weight, String file, Modality modality, int k, boolean standardise, float momentum)
            implements Settings {
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
            if (!(momentum > 0 && momentum <= 1)) {
                throw new ConfigException("objectives.pseudo_labels.momentum", momentum + " must be in (0, 1]");
            }
        }

        @Override
        public void check(Data data, Model model, ModalitySpecs modalities) {
            decoded("objectives.pseudo_labels.modality", modality, data.modalities());
        }
    }

    /** objectives.relative_speed.*: RSPNet's relative playback speed and appearance terms on a second video clip. */
    public record RelativeSpeed(float weight, List<Double> speeds, float temperature) implements Settings {
        public RelativeSpeed {
            if (weight < 0) {
                throw new ConfigException("objectives.relative_speed.weight", weight + " must be >= 0");
            }
            if (speeds == null || speeds.isEmpty() || speeds.stream().anyMatch(s -> !(s > 0) || s > 8)) {
                throw new ConfigException("objectives.relative_speed.speeds", speeds + ": needs speeds in (0, 8], e.g. [0.5, 1.0, 2.0]");
            }
            Config.positive("objectives.relative_speed.temperature", temperature);
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
            float teacherMomentum, float teacherMomentumEnd, int teacherMomentumSteps) implements Settings {
        public MaskedTokens {
            if (weight < 0) {
                throw new ConfigException("objectives.masked_tokens.weight", weight + " must be >= 0");
            }
            if (weight > 0 && (modalities == null || modalities.isEmpty())) {
                throw new ConfigException("objectives.masked_tokens.modalities", "needs at least one modality like video");
            }
            ratioInOpenUnit("objectives.masked_tokens.mask_ratio", maskRatio);
            Config.positive("objectives.masked_tokens.top_k_layers", topKLayers);
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
            checkMaskedTokens(this, data.modalities(), model.depth(), modalities.text());
        }
    }

    /**
     * objectives.masked_segments.*: LV-MAE. The clip of one modality is cut along time into S segments, each
     * embedded by the teacher encoder (EMA or frozen); a fraction of the segment embeddings is replaced by a
     * learned mask embedding and a small transformer of its own reconstructs them.
     */
    public record MaskedSegments(float weight, Modality modality, int segments, double maskRatio, String targetNorm,
            String encoder, float teacherMomentum, int decoderWidth, int decoderDepth, int decoderHeads) implements Settings {
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
            decoder("objectives.masked_segments", decoderWidth, decoderDepth, decoderHeads);
        }

        @Override
        public void check(Data data, Model model, ModalitySpecs modalities) {
            decoded("objectives.masked_segments.modality", modality, data.modalities());
            if (modality == Modality.TEXT) {
                throw new ConfigException("objectives.masked_segments.modality", "text has no time axis to cut into segments");
            }
        }
    }

    private static void momentum(String key, float m) {
        if (!(m >= 0 && m <= 1)) {
            throw new ConfigException(key, m + " must be in [0, 1] (1 = the teacher never moves)");
        }
    }

    static void decoded(String key, Modality m, List<Modality> modalities) {
        if (!modalities.contains(m)) {
            throw new ConfigException(key, m.key() + " is not in data.modalities " + modalities);
        }
    }

    private static void checkMaskedTokens(MaskedTokens t, List<Modality> modalities, int depth, ModalitySpec.Text text) {
        for (Modality m : t.modalities()) {
            if (!modalities.contains(m)) {
                throw new ConfigException("objectives.masked_tokens.modalities", m.key() + " is not in data.modalities " + modalities);
            }
            if (m == Modality.TEXT && text.bag() > 1) {
                throw new ConfigException("objectives.masked_tokens.modalities",
                        "text comes as bags of " + text.bag() + " texts (modalities.text.bag): masking needs one text per sample");
            }
            if (m == Modality.TEXT && text.isPretrained()) {
                throw new ConfigException("objectives.masked_tokens.modalities",
                        "text comes from a frozen pretrained tower (modalities.text.tower): it has no tokens to mask");
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

    /** SimCLR's projection head before the loss: none (the loss reads the embeddings) or mlp (objective.ProjectionHead). */
    private static void projection(String key, String p) {
        if (!"none".equals(p) && !"mlp".equals(p)) {
            throw new ConfigException(key, "'" + p + "' must be none or mlp");
        }
    }

    /** A small transformer decoder's shape under prefix: width, depth and heads positive, width divisible by heads. */
    static void decoder(String prefix, int width, int depth, int heads) {
        Config.positive(prefix + ".decoder_width", width);
        Config.positive(prefix + ".decoder_depth", depth);
        Config.positive(prefix + ".decoder_heads", heads);
        if (width % heads != 0) {
            throw new ConfigException(prefix + ".decoder_width", width + " is not divisible by decoder_heads=" + heads);
        }
    }

    static void ratioInOpenUnit(String key, double r) {
        if (!(r > 0 && r < 1)) {
            throw new ConfigException(key, r + " must be in (0, 1)");
        }
    }
}
