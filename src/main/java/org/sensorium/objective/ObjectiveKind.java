package org.sensorium.objective;

import java.util.ArrayList;
import java.util.List;
import org.sensorium.config.Config;
import org.sensorium.distributed.Collective;
import org.sensorium.model.SensoriumModel;

/**
 * Every objective Sensorium trains, in the order they are built and their terms summed. An exhaustive switch builds
 * each one from its config record ({@link Config.ObjectiveConfig}, which checks its own keys); a new objective fails
 * to compile until it is here.
 */
public enum ObjectiveKind {
    CONTRASTIVE("contrastive", null),
    CLUSTERING("clustering", "clustering/cross_modal_NMI"),
    PSEUDO_LABELS("pseudo_labels", "pseudo_labels/accuracy"),
    TWO_VIEW("two_view", "two_view/video/R@1"),
    MIL_NCE("mil_nce", null),
    RELATIVE_SPEED("relative_speed", "relative_speed/accuracy"),
    MASKED_TOKENS("masked_tokens", "masked_tokens/video"),
    MASKED_SEGMENTS("masked_segments", "masked_segments/video"),
    KEYFRAME_CONTEXT("keyframe_context", "keyframe_context/augmented_look_R@1"),
    MOTION_PREDICTION("motion_prediction", "motion_prediction/mse"),
    TEMPORAL_OT("temporal_ot", null);

    private final String key;
    private final String measure;

    ObjectiveKind(String key, String measure) {
        this.key = key;
        this.measure = measure;
    }

    /** The name under objectives.* in the config. */
    public String key() {
        return key;
    }

    /** The held-out measure that says whether this objective learns (before its first step, after its last); null for none. */
    public String measure() {
        return measure;
    }

    /** This objective's config record. */
    public Config.ObjectiveConfig config(Config c) {
        Config.Objectives o = c.objectives();
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
        Config.Objectives o = c.objectives();
        int e = c.model().embedDim();
        return switch (this) {
            case CONTRASTIVE -> new Contrastive(o.contrastive().pairs(), group, e);
            case CLUSTERING -> new Clustering(o.clustering(), e, model.params());
            case PSEUDO_LABELS -> new PseudoLabels(o.pseudoLabels(), e, model.params());
            case TWO_VIEW -> new TwoView(o.twoView().modalities(), o.twoView().temperature(), group, e);
            case MIL_NCE -> new MilNce(o.milNce().pairs(), group, e);
            case RELATIVE_SPEED -> new RelativeSpeed(o.relativeSpeed(), c.model().width(), model.params());
            case MASKED_TOKENS -> new MaskedTokens(c, model);
            case MASKED_SEGMENTS -> new MaskedSegments(c, model);
            case KEYFRAME_CONTEXT -> new KeyframeContext(o.keyframeContext().temperature(), group, e);
            case MOTION_PREDICTION -> MotionPrediction.of(c, model);
            case TEMPORAL_OT -> new TemporalOt(c, model.params());
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
