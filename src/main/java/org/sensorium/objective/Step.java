package org.sensorium.objective;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import ai.djl.ndarray.NDManager;
import org.sensorium.config.Modality;
import org.sensorium.data.Batch;
import org.sensorium.data.Batch.Extra;
import org.sensorium.model.ModelOutput;
import org.sensorium.model.SensoriumModel;

/**
 * What one micro-batch gives the objectives: the main clips' batch and the model's output on it, and, per extra
 * an objective asked for ({@link org.sensorium.data.Needs}), the batch of that extra and, for extras that are
 * inputs (second views, key frames), the model's output on it. An extra no sample of the micro-batch has is absent.
 *
 * @param out the main clips' output; null when no objective reads it (the masked objectives run passes of their own)
 */
public record Step(Batch batch, ModelOutput out, Map<Extra, Pass> extras) {

    /** An extra's batch (same samples, same order as the main batch) and the output on it (null for a target). */
    public record Pass(Batch batch, ModelOutput out) {}

    public Step {
        Map<Extra, Pass> copy = new EnumMap<>(Extra.class);
        copy.putAll(extras);
        extras = copy;
    }

    /** A step with the main clips only. */
    public Step(Batch batch, ModelOutput out) {
        this(batch, out, Map.of());
    }

    /** The batch of extra e, or null when no sample has it. */
    public Batch batch(Extra e) {
        Pass p = extras.get(e);
        return p == null ? null : p.batch();
    }

    /** The model's output on extra e, or null when no sample has it or it is a target. */
    public ModelOutput out(Extra e) {
        Pass p = extras.get(e);
        return p == null ? null : p.out();
    }

    /**
     * Collates a micro-batch and runs the passes the objectives read, in a fixed order so that dropout draws replay:
     * the main clips (when some objective reads them), then each extra that is an input, in {@link Extra}'s order;
     * targets (the future motion field) are only collated.
     *
     * @param shapes input shape of one sample for every modality of the run
     */
    public static Step forward(SensoriumModel model, NDManager sm, List<Batch.Decoded> decoded, Map<Modality, long[]> shapes,
            boolean readsOutput, boolean training) {
        Batch batch = Batch.collate(sm, decoded, shapes);
        ModelOutput out = readsOutput ? model.forward(batch.inputs(), batch.valid(), training) : null;
        Map<Extra, Pass> extras = new EnumMap<>(Extra.class);
        for (Extra e : Extra.values()) {
            Batch b = Batch.collate(sm, decoded, e); // same samples, same order
            if (b != null) {
                extras.put(e, new Pass(b, e.input() ? model.forward(b.inputs(), b.valid(), training) : null));
            }
        }
        return new Step(batch, out, extras);
    }
}
