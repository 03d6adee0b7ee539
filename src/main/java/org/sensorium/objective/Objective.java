package org.sensorium.objective;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.sensorium.config.Config;
import org.sensorium.data.Batch;
import org.sensorium.model.ModelOutput;
import org.sensorium.model.Params;

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

    /** An objective and the weight of each of its terms in the total loss. */
    record Weighted(Objective objective, float weight) {}

    /**
     * The objectives the config switches on (weight above zero); an objective at weight 0 is never
     * built. Objectives with parameters of their own (prototypes) create them in the model's params,
     * so they are optimised and checkpointed with it: call this before building the optimizer.
     */
    static List<Weighted> fromConfig(Config config, Params params) {
        List<Weighted> list = new ArrayList<>();
        Config.Contrastive c = config.objectives().contrastive();
        if (c.weight() > 0) {
            list.add(new Weighted(new Contrastive(c.pairs()), c.weight()));
        }
        Config.Clustering k = config.objectives().clustering();
        if (k.weight() > 0) {
            list.add(new Weighted(new Clustering(k, config.model().embedDim(), params), k.weight()));
        }
        Config.TwoView v = config.objectives().twoView();
        if (v.weight() > 0) {
            list.add(new Weighted(new TwoView(v.modalities(), v.temperature()), v.weight()));
        }
        Config.PseudoLabels p = config.objectives().pseudoLabels();
        if (p.weight() > 0) {
            list.add(new Weighted(new PseudoLabels(p, config.model().embedDim(), params), p.weight()));
        }
        return list;
    }

    /** The modalities some objective wants second views of (empty: decode one view only). */
    static java.util.Set<org.sensorium.modality.Modality> secondViews(List<Weighted> objectives) {
        java.util.Set<org.sensorium.modality.Modality> s = java.util.EnumSet.noneOf(org.sensorium.modality.Modality.class);
        for (Weighted w : objectives) {
            if (w.objective() instanceof TwoView t) {
                s.addAll(t.modalities());
            }
        }
        return s;
    }
}
