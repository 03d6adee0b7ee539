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
import org.sensorium.modality.Modality;
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
        Params params = model.params();
        List<Weighted> list = new ArrayList<>();
        Config.Contrastive c = config.objectives().contrastive();
        if (c.weight() > 0) {
            list.add(new Weighted(new Contrastive(c.pairs()), c.weight()));
        }
        Config.Clustering k = config.objectives().clustering();
        if (k.weight() > 0) {
            list.add(new Weighted(new Clustering(k, config.model().embedDim(), params), k.weight()));
        }
        Config.MilNce mil = config.objectives().milNce();
        if (mil.weight() > 0) {
            list.add(new Weighted(new MilNce(mil.pairs()), mil.weight()));
        }
        Config.RelativeSpeed rs = config.objectives().relativeSpeed();
        if (rs.weight() > 0) {
            list.add(new Weighted(new RelativeSpeed(rs, config.model().embedDim(), params), rs.weight()));
        }
        Config.TwoView v = config.objectives().twoView();
        if (v.weight() > 0) {
            list.add(new Weighted(new TwoView(v.modalities(), v.temperature()), v.weight()));
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
        return list;
    }

    /**
     * The second views the objectives want: the modalities of two-view contrastive, video for relative
     * speed (at the speeds it lists); none when neither is on. Temporal OT on windows asks for its windows.
     */
    static Loader.SecondViews secondViews(Config config, List<Weighted> objectives) {
        Set<Modality> s = EnumSet.noneOf(Modality.class);
        List<Double> speeds = List.of(1.0);
        for (Weighted w : objectives) {
            if (w.objective() instanceof TwoView t) {
                s.addAll(t.modalities());
            }
            if (w.objective() instanceof RelativeSpeed) {
                s.add(Modality.VIDEO);
                speeds = config.objectives().relativeSpeed().speeds();
            }
        }
        int windows = 1;
        for (Weighted w : objectives) {
            if (w.objective() instanceof TemporalOt t && t.windows() > 0) {
                windows = t.windows();
            }
        }
        return new Loader.SecondViews(s, speeds, windows);
    }
}
