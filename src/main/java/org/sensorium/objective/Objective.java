package org.sensorium.objective;

import ai.djl.ndarray.NDArray;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.sensorium.config.Config;
import org.sensorium.data.Batch;
import org.sensorium.model.ModelOutput;
import org.sensorium.model.Params;
import org.sensorium.model.SensoriumModel;
import org.sensorium.data.Loader;
import org.sensorium.config.Modality;
import org.sensorium.modality.video.MotionAdapter;
import org.sensorium.modality.video.VideoAdapter;
import java.util.EnumSet;
import java.util.Set;

/** A training objective: reads the model's output and returns named scalar loss terms (unweighted). */
public interface Objective {

    /** Loss terms by name, e.g. "contrastive/video-text"; a term whose pairs are absent from the batch is left out. */
    Map<String, NDArray> losses(ModelOutput out, Batch batch);

    /**
     * Loss terms when the batch was also decoded with second views (two-view objectives); the others
     * ignore them. second and secondBatch are null when no objective asked for second views.
     */
    default Map<String, NDArray> losses(ModelOutput out, Batch batch, ModelOutput second, Batch secondBatch) {
        return losses(out, batch);
    }

    /**
     * What one micro-batch's forward passes give the objectives. The training loop calls {@link #losses(Views)};
     * an objective that needs only the main clips or the second views overrides one of the shorter forms.
     *
     * @param out the main clips' output, from batch
     * @param second the second views' output, from secondBatch; both null when no objective asked for second views
     * @param keyframes the output of keyframeBatch: each sample's key frame as a static video clip (context
     *     matching); both null when that objective is off or no sample of the micro-batch has a key frame
     * @param future each sample's motion field right after its clip as input MOTION (T', gridH, gridW, 2), present
     *     where the recording goes on long enough (motion prediction); null when off or no sample has one
     */
    record Views(ModelOutput out, Batch batch, ModelOutput second, Batch secondBatch, ModelOutput keyframes,
            Batch keyframeBatch, Batch future) {
        public Views(ModelOutput out, Batch batch) {
            this(out, batch, null, null, null, null, null);
        }
    }

    /** Loss terms of one micro-batch with every view decoded for it. */
    default Map<String, NDArray> losses(Views v) {
        return losses(v.out(), v.batch(), v.second(), v.secondBatch());
    }

    /** Named measurements of the last {@link #losses} call that are logged, not optimised (e.g. cluster usage). */
    default Map<String, Double> stats() {
        return Map.of();
    }

    /**
     * Called once after each applied optimizer step: an EMA teacher follows the student here.
     *
     * @param step 0-based index of the step just taken
     */
    default void afterStep(int step) {}

    /** Writes what the objective keeps besides its parameters (an EMA teacher) into a checkpoint folder being written. */
    default void save(Path checkpoint) throws IOException {}

    /** Restores what {@link #save} wrote; a checkpoint written while the objective was off has nothing, and it starts fresh. */
    default void load(Path checkpoint) throws IOException {}

    /**
     * Held-out measures on a batch of held-out samples, without dropout, e.g. a masked objective's
     * reconstruction error (masks from libtorch's generator: seed it for repeatable numbers). Empty for
     * objectives that have none; only {@link #measuresHeldOut} ones are asked.
     */
    default Map<String, NDArray> heldOut(Batch batch) {
        return Map.of();
    }

    default boolean measuresHeldOut() {
        return false;
    }

    /**
     * Whether {@link #losses} reads the model's output. The masked objectives run passes of their own
     * (masked inputs, the teacher) and get null; when no objective reads it, the loop skips the plain forward.
     */
    default boolean readsOutput() {
        return true;
    }

    /** An objective and the weight of each of its terms in the total loss. */
    record Weighted(Objective objective, float weight) {}

    /**
     * The objectives the config switches on (weight above zero); an objective at weight 0 is never
     * built. Objectives with parameters of their own (prototypes) create them in the model's params,
     * so they are optimised and checkpointed with it: call this before building the optimizer. The masked
     * objectives run their own passes through the model (masked inputs, an EMA teacher of it).
     */
    static List<Weighted> fromConfig(Config config, SensoriumModel model) {
        return fromConfig(config, model, org.sensorium.distributed.Collective.local());
    }

    /**
     * {@link #fromConfig(Config, SensoriumModel)} for one rank of a worker group: contrastive negatives come from
     * every rank's batch.
     *
     * @param group the workers; contrastive negatives come from every rank's batch
     */
    static List<Weighted> fromConfig(Config config, SensoriumModel model, org.sensorium.distributed.Collective group) {
        Params params = model.params();
        List<Weighted> list = new ArrayList<>();
        Config.Contrastive c = config.objectives().contrastive();
        if (c.weight() > 0) {
            list.add(new Weighted(new Contrastive(c.pairs(), group, config.model().embedDim()), c.weight()));
        }
        Config.Clustering k = config.objectives().clustering();
        if (k.weight() > 0) {
            list.add(new Weighted(new Clustering(k, config.model().embedDim(), params), k.weight()));
        }
        Config.MilNce mil = config.objectives().milNce();
        if (mil.weight() > 0) {
            list.add(new Weighted(new MilNce(mil.pairs(), group, config.model().embedDim()), mil.weight()));
        }
        Config.RelativeSpeed rs = config.objectives().relativeSpeed();
        if (rs.weight() > 0) {
            list.add(new Weighted(new RelativeSpeed(rs, config.model().width(), params), rs.weight()));
        }
        Config.TwoView v = config.objectives().twoView();
        if (v.weight() > 0) {
            list.add(new Weighted(new TwoView(v.modalities(), v.temperature(), group, config.model().embedDim()), v.weight()));
        }
        Config.PseudoLabels p = config.objectives().pseudoLabels();
        if (p.weight() > 0) {
            list.add(new Weighted(new PseudoLabels(p, config.model().embedDim(), params), p.weight()));
        }
        Config.TemporalOt tot = config.objectives().temporalOt();
        if (tot.weight() > 0) {
            list.add(new Weighted(new TemporalOt(config, params), tot.weight()));
        }
        Config.MaskedTokens mt = config.objectives().maskedTokens();
        if (mt.weight() > 0) {
            list.add(new Weighted(new MaskedTokens(config, model), mt.weight()));
        }
        Config.MaskedSegments ms = config.objectives().maskedSegments();
        if (ms.weight() > 0) {
            list.add(new Weighted(new MaskedSegments(config, model), ms.weight()));
        }
        Config.KeyframeContext kc = config.objectives().keyframeContext();
        if (kc.weight() > 0) {
            list.add(new Weighted(new KeyframeContext(kc.temperature(), group, config.model().embedDim()), kc.weight()));
        }
        Config.MotionPrediction mp = config.objectives().motionPrediction();
        if (mp.weight() > 0) {
            list.add(new Weighted(new MotionPrediction(mp.from(), model.steps(mp.from()), config.model().width(), mp.hidden(),
                    config.modalities().motion().inputShape(mp.horizonSeconds()), mp.pool(), params), mp.weight()));
        }
        return list;
    }

    /**
     * The second views the objectives want: the modalities of two-view contrastive, video for relative
     * speed (at the speeds it lists); the key frame of each clip for context matching; the motion field
     * after each clip for motion prediction; the windows of temporal OT. None when no such objective is on.
     */
    static Loader.SecondViews secondViews(Config config, List<Weighted> objectives) {
        Set<Modality> s = EnumSet.noneOf(Modality.class);
        List<Double> speeds = List.of(1.0);
        VideoAdapter keyframes = null;
        MotionAdapter future = null;
        double horizon = 0;
        int windows = 1;
        for (Weighted w : objectives) {
            if (w.objective() instanceof TwoView t) {
                s.addAll(t.modalities());
            }
            if (w.objective() instanceof RelativeSpeed) {
                s.add(Modality.VIDEO);
                speeds = config.objectives().relativeSpeed().speeds();
            }
            if (w.objective() instanceof KeyframeContext) {
                keyframes = new VideoAdapter(config.modalities().video(), config.data().clipSeconds());
            }
            if (w.objective() instanceof MotionPrediction) {
                horizon = config.objectives().motionPrediction().horizonSeconds();
                future = new MotionAdapter(config.modalities().motion(), horizon);
            }
            if (w.objective() instanceof TemporalOt t && t.windows() > 0) {
                windows = t.windows();
            }
        }
        return new Loader.SecondViews(s, speeds, windows, keyframes, future, horizon);
    }
}
