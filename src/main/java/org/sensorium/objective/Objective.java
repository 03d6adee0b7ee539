package org.sensorium.objective;

import ai.djl.ndarray.NDArray;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.sensorium.data.Needs;
import org.sensorium.eval.TemporalSegmentation;

/**
 * A training objective: declares what it needs decoded besides each sample's main clip, reads one {@link Step},
 * returns named scalar loss terms (unweighted), and owns its state (teacher, queue, prototypes) and its held-out
 * measure. {@link ObjectiveKind} builds the ones a config switches on.
 */
public interface Objective {

    /** What the loader must decode per sample for this objective besides the main clip. */
    default Needs needs() {
        return Needs.NONE;
    }

    /**
     * Whether {@link #losses} reads the main clips' output. The masked objectives run passes of their own (masked
     * inputs, the teacher); when no objective reads it, the loop skips the plain forward pass.
     */
    default boolean readsOutput() {
        return true;
    }

    /** Loss terms by name, e.g. "contrastive/video-text"; a term whose pairs are absent from the step is left out. */
    Map<String, NDArray> losses(Step step);

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
     * The objective's own held-out measures (reconstruction error, two-view R@1, speed accuracy, ...), taken before
     * the run's first step and after its last on the held-out samples h decodes; empty for objectives that have none.
     */
    default Map<String, Double> measure(HeldOut h) throws InterruptedException {
        return Map.of();
    }

    /** The temporal segmenter of held-out long recordings this objective trains, or null when it trains none. */
    default TemporalSegmentation.Segmenter segmenter() {
        return null;
    }

    /** An objective and the weight of each of its terms in the total loss. */
    record Weighted(Objective objective, float weight) {}
}
