package org.sensorium.model;

import ai.djl.ndarray.NDArray;
import java.util.EnumMap;
import java.util.Map;
import org.sensorium.config.Modality;

/**
 * What the model gives the objectives, per modality present in the batch.
 *
 * @param tokens (B, N_m, D) trunk outputs
 * @param embeddings (B, E) unit-norm embeddings in the shared space
 * @param logitScale () exp of the learnable temperature, clamped at model.logit_scale_max
 * @param bags for a modality with a bag of K texts per sample (modalities.text.bag): (B, K, E) unit
 *     embeddings of each text; the modality's embedding is then the direction of their sum
 * @param bagValid (B, K) booleans: which texts of the bag exist
 */
public record ModelOutput(Map<Modality, NDArray> tokens, Map<Modality, NDArray> embeddings, NDArray logitScale,
        Map<Modality, NDArray> bags, Map<Modality, NDArray> bagValid) {
    public ModelOutput {
        tokens = copy(tokens);
        embeddings = copy(embeddings);
        bags = copy(bags);
        bagValid = copy(bagValid);
    }

    public ModelOutput(Map<Modality, NDArray> tokens, Map<Modality, NDArray> embeddings, NDArray logitScale) {
        this(tokens, embeddings, logitScale, Map.of(), Map.of());
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
