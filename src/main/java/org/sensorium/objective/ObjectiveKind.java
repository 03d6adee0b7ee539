package org.sensorium.objective;

import org.sensorium.config.Objectives;

import java.util.ArrayList;
import java.util.List;
import org.sensorium.config.Config;
import org.sensorium.distributed.Collective;
import org.sensorium.model.SensoriumModel;

/**
 * Every objective Sensorium trains, in the order they are built and their terms summed. An exhaustive switch builds
 * each one from its config record ({@link Objectives.Settings}, which checks its own keys); a new objective fails
 * to compile until it is here.
 */
public enum ObjectiveKind {
    CONTRASTIVE("contrastive", null, "objectives.contrastive.weight=1"),
    CLUSTERING("clustering", "clustering/cross_modal_NMI", Alone.OFF, "objectives.clustering.weight=1"),
    // XDC's first iteration: clusters of the untrained audio encoder, k of them, are video's targets. Without video
    // augmentation: on the untrained encoder a random crop or +-20 % brightness/contrast moves a clip's embedding more
    // than the cluster signal does (docs/measured/pseudo-labels.md, session 12); the held-out measure decodes its clips as
    // training does, so its inputs are unaugmented too
    PSEUDO_LABELS("pseudo_labels", "pseudo_labels/accuracy", Alone.OFF, "objectives.pseudo_labels.weight=1",
            "objectives.pseudo_labels.modality=video", "objectives.pseudo_labels.k=" + ObjectiveKind.XDC_K,
            "modalities.video.crop_min_scale=1.0", "modalities.video.brightness=0", "modalities.video.contrast=0"),
    TWO_VIEW("two_view", "two_view/video/R@1", Alone.OFF, "objectives.two_view.weight=1"),
    MIL_NCE("mil_nce", null, Alone.OFF, "objectives.mil_nce.weight=1", "modalities.text.bag=4"),
    RELATIVE_SPEED("relative_speed", "relative_speed/accuracy", Alone.OFF, "objectives.relative_speed.weight=1"),
    MASKED_TOKENS("masked_tokens", "masked_tokens/video", Alone.OFF, "objectives.masked_tokens.weight=1"),
    // LV-MAE learns where segments differ in a predictable way: whole long recordings (8 s clips, 4 motions in one
    // order) cut into 4 segments of IMU, whose untrained embeddings already tell the motions apart
    MASKED_SEGMENTS("masked_segments", "masked_segments/imu", "data.synth_long=60", "data.clip_seconds=8.0",
            "data.modalities=[imu]", Alone.OFF, "objectives.masked_segments.weight=1", "objectives.masked_segments.modality=imu",
            "train.batch_size=16", "train.accumulate=1", "eval.pairs=[]"),
    KEYFRAME_CONTEXT("keyframe_context", "keyframe_context/augmented_look_R@1", Alone.OFF, "objectives.keyframe_context.weight=1"),
    // the future motion field needs recording left after the clip: 1 s clips of the 2 s recordings; the decoder
    // reads the clip's own motion field (objectives.motion_prediction.from), so motion is decoded too
    MOTION_PREDICTION("motion_prediction", "motion_prediction/mse", "data.clip_seconds=1.0",
            "data.modalities=[video,motion,audio,text,imu]", Alone.OFF, "objectives.motion_prediction.weight=1"),
    // long recordings of several activities in order: 60 recordings of 4 activities, 8 windows of 1 s each
    TEMPORAL_OT("temporal_ot", null, "data.synth_long=60", "data.clip_seconds=1.0", "data.modalities=[imu]", Alone.OFF,
            "objectives.temporal_ot.weight=1", "train.batch_size=8", "train.accumulate=1", "eval.pairs=[]"),
    // the text tower from scratch (the pretrained one is frozen); spans of each recording's subtitle document
    DECLUTR("declutr", "declutr/span_to_document_R@1", Alone.OFF, "objectives.declutr.weight=1", "modalities.text.tower=scratch"),
    // motion gives the labels only; video alone is classified, so the other modalities are not decoded. Centre crops:
    // the field is not cropped with the frames, so a random crop moves the region the labels name
    MOTION_STATISTICS("motion_statistics", "motion_statistics/accuracy", "data.modalities=[video,motion]", "eval.pairs=[]",
            "modalities.video.crop_min_scale=1.0", Alone.OFF, "objectives.motion_statistics.weight=1"),
    PIXEL_MAE("pixel_mae", "pixel_mae/mse", "data.modalities=[video]", "eval.pairs=[]", Alone.OFF,
            "objectives.pixel_mae.weight=1", "objectives.pixel_mae.contrastive_weight=0.1"),
    // DSM: the share of held-out clips whose motion-keeping positive is nearer than the scene-keeping negative (0.5 = no preference)
    DSM("dsm", "dsm/motion_nearer", Alone.OFF, "objectives.dsm.weight=1"),
    // BE erases a static background: clips drawn over 8 static textured scenes, each scene shared by clips of every
    // label; the measure: the share of held-out clips whose nearest other clip has their motion label
    BACKGROUND_ERASING("background_erasing", "background_erasing/scene_free_label_R@1", "data.synth_scenes=" + ObjectiveKind.BE_SCENES,
            Alone.OFF, "objectives.background_erasing.weight=1");

    /** XDC's k in the ablation: the clusters of the untrained audio encoder that pseudo_labels learns. */
    public static final int XDC_K = 16;

    /** The static scenes of Background Erasing's ablation data (data.synth_scenes). */
    public static final int BE_SCENES = 8;

    private final String key;
    private final String measure;
    private final List<String> alone;

    ObjectiveKind(String key, String measure, String... alone) {
        this.key = key;
        this.measure = measure;
        this.alone = List.of(alone);
    }

    /** Holds the override that switches the default objective off (an enum's constants come before its fields). */
    private static final class Alone {
        static final String OFF = "objectives.contrastive.weight=0";
    }

    /** The name under objectives.* in the config. */
    public String key() {
        return key;
    }

    /**
     * The --set overrides that train this objective alone on the built-in sample set (the ablation's row): the
     * others off, this one on, and the data it needs.
     */
    public List<String> alone() {
        return alone;
    }

    /** Whether the objective trains on data of its own (the long recordings, or the clips over static scenes), not the sample set's clips. */
    public boolean ownData() {
        return alone.stream().anyMatch(s -> s.startsWith("data.synth_long=") || s.startsWith("data.synth_scenes="));
    }

    /** What its own data is, for the ablation's table: "long recordings" or "static scenes"; null without own data. */
    public String ownDataName() {
        return !ownData() ? null : alone.stream().anyMatch(s -> s.startsWith("data.synth_scenes=")) ? "static scenes" : "long recordings";
    }

    /** The held-out measure that says whether this objective learns (before its first step, after its last); null for none. */
    public String measure() {
        return measure;
    }

    /**
     * The trivial answer the measure must beat, reported next to it: a held-out value the objective writes beside its
     * measure (key), or a constant, with what it is; null when none is defined. Two-view's retrieval measure writes its
     * chance 1/N.
     */
    public record Baseline(String key, double value, String what) {
        static Baseline of(String key, String what) {
            return new Baseline(key, Double.NaN, what);
        }

        static Baseline constant(double value, String what) {
            return new Baseline(null, value, what);
        }
    }

    public Baseline baseline() {
        return switch (this) {
            case CONTRASTIVE, MIL_NCE, TEMPORAL_OT -> null;
            case PSEUDO_LABELS -> Baseline.of("pseudo_labels/majority", "the largest cluster");
            case RELATIVE_SPEED -> Baseline.of("relative_speed/majority", "the most frequent speed class");
            case CLUSTERING -> Baseline.of("clustering/cross_modal_NMI_chance", "chance: clusters dealt to other samples");
            case TWO_VIEW -> Baseline.of("two_view/video/chance_R@1", "chance 1/N");
            case MASKED_TOKENS -> Baseline.constant(1.0, "each channel's mean");
            case MASKED_SEGMENTS -> Baseline.of("masked_segments/imu/visible_mean", "mean of the visible segments");
            case KEYFRAME_CONTEXT -> Baseline.of("keyframe_context/look_chance", "chance of the looks");
            case MOTION_PREDICTION -> Baseline.of("motion_prediction/mean_field_mse", "the mean field");
            case DECLUTR -> Baseline.of("declutr/chance_R@1", "chance");
            case MOTION_STATISTICS -> Baseline.of("motion_statistics/majority", "the most frequent label");
            case PIXEL_MAE -> Baseline.of("pixel_mae/zero_mse", "each patch's mean");
            case DSM -> Baseline.constant(0.5, "no preference");
            case BACKGROUND_ERASING -> Baseline.of("background_erasing/majority", "the most frequent label");
        };
    }

    /** This objective's config record. */
    public Objectives.Settings config(Config c) {
        Objectives o = c.objectives();
        return switch (this) {
            case CONTRASTIVE -> o.contrastive();
            case CLUSTERING -> o.clustering();
            case PSEUDO_LABELS -> o.pseudoLabels();
            case TWO_VIEW -> o.twoView();
            case MIL_NCE -> o.milNce();
            case RELATIVE_SPEED -> o.relativeSpeed();
            case MASKED_TOKENS -> o.maskedTokens();
            case MASKED_SEGMENTS -> o.maskedSegments();
            case KEYFRAME_CONTEXT -> o.keyframeContext();
            case MOTION_PREDICTION -> o.motionPrediction();
            case TEMPORAL_OT -> o.temporalOt();
            case DECLUTR -> o.declutr();
            case MOTION_STATISTICS -> o.motionStatistics();
            case PIXEL_MAE -> o.pixelMae();
            case DSM -> o.dsm();
            case BACKGROUND_ERASING -> o.backgroundErasing();
        };
    }

    /**
     * Builds this objective for the model. Objectives with parameters of their own (prototypes, heads, decoders)
     * create them in the model's params, so they are optimised and checkpointed with it; the masked objectives run
     * their own passes through the model (masked inputs, an EMA teacher of it).
     *
     * @param group the workers; contrastive negatives come from every rank's batch
     */
    public Objective build(Config c, SensoriumModel model, Collective group) {
        Objectives o = c.objectives();
        int e = c.model().embedDim();
        boolean local = c.dist().localLoss(); // gathered negatives: only this rank's rows of the logits
        return switch (this) {
            case CONTRASTIVE -> new Contrastive(o.contrastive().pairs(), group, e, local).withProjection(ProjectionHead.of(
                    o.contrastive().projection(), key, ProjectionHead.modalities(o.contrastive().pairs()), e, model.params()));
            case CLUSTERING -> new Clustering(o.clustering(), e, model.params());
            case PSEUDO_LABELS -> new PseudoLabels(o.pseudoLabels(), e, model.params());
            case TWO_VIEW -> new TwoView(o.twoView().modalities(), o.twoView().temperature(), group, e, local)
                    .withProjection(ProjectionHead.of(o.twoView().projection(), key, o.twoView().modalities(), e, model.params()));
            case MIL_NCE -> new MilNce(o.milNce().pairs(), group, e, local);
            case RELATIVE_SPEED -> new RelativeSpeed(o.relativeSpeed(), c.model().width(), model.params());
            case MASKED_TOKENS -> new MaskedTokens(c, model);
            case MASKED_SEGMENTS -> new MaskedSegments(c, model);
            case KEYFRAME_CONTEXT -> new KeyframeContext(o.keyframeContext().temperature(), group, e, local);
            case MOTION_PREDICTION -> MotionPrediction.of(c, model);
            case TEMPORAL_OT -> new TemporalOt(c, model.params());
            case DECLUTR -> new Declutr(o.declutr().minWords(), o.declutr().temperature());
            case MOTION_STATISTICS -> new MotionStatistics(c, c.model().width(), model.params());
            case PIXEL_MAE -> new PixelMae(c, model);
            case DSM -> new DecoupledSceneMotion(o.dsm(), model);
            case BACKGROUND_ERASING -> new BackgroundErasing(o.backgroundErasing(), c.modalities().video(), model);
        };
    }

    /**
     * The objectives the config switches on (weight above zero), in this enum's order; an objective at weight 0 is
     * never built. Call before building the optimizer: objectives may add parameters.
     */
    public static List<Objective.Weighted> enabled(Config config, SensoriumModel model, Collective group) {
        List<Objective.Weighted> list = new ArrayList<>();
        for (ObjectiveKind k : values()) {
            float w = k.config(config).weight();
            if (w > 0) {
                list.add(new Objective.Weighted(k.build(config, model, group), w));
            }
        }
        return list;
    }

    /** {@link #enabled(Config, SensoriumModel, Collective)} for one worker. */
    public static List<Objective.Weighted> enabled(Config config, SensoriumModel model) {
        return enabled(config, model, Collective.local());
    }

    /** What the objectives need decoded per sample, all together. */
    public static org.sensorium.data.Needs needs(List<Objective.Weighted> objectives) {
        org.sensorium.data.Needs n = org.sensorium.data.Needs.NONE;
        for (Objective.Weighted w : objectives) {
            n = n.and(w.objective().needs());
        }
        return n;
    }
}
