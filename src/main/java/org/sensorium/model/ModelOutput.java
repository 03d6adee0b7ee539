package org.sensorium.model;

import ai.djl.ndarray.NDArray;
import java.util.EnumMap;
import java.util.Map;
import org.sensorium.modality.Modality;

/**
 * What the model gives the objectives, per modality present in the batch.
 *
 * @param tokens (B, N_m, D) trunk outputs
 * @param embeddings (B, E) unit-norm embeddings in the shared space
 * @param logitScale () exp of the learnable temperature, clamped at model.logit_scale_max
 */
public record ModelOutput(Map<Modality, NDArray> tokens, Map<Modality, NDArray> embeddings, NDArray logitScale) {
    public ModelOutput {
        tokens = copy(tokens);
        embeddings = copy(embeddings);
    }

    private static Map<Modality, NDArray> copy(Map<Modality, NDArray> m) {
        Map<Modality, NDArray> c = new EnumMap<>(Modality.class);
        c.putAll(m);
        return c;
    }

    public NDArray embedding(Modality m) {
        NDArray e = embeddings.get(m);
        if (e == null) {
            throw new IllegalArgumentException("no " + m.key() + " embeddings in this output");
        }
        return e;
    }
}
