package org.sensorium.objective;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.sensorium.config.Config;
import org.sensorium.config.Modality;
import org.sensorium.model.Layers.Linear;
import org.sensorium.model.ModelOutput;
import org.sensorium.model.Params;

/**
 * SimCLR's nonlinear projection head (Chen et al. 2020, section 4.2), one per modality, owned by the objective whose
 * loss reads it:
 * <pre>
 *   g(z) = unit( W2 ReLU(W1 z + b1) + b2 )      z (B, E) the model's unit embedding, W1, W2 (E, E)
 * </pre>
 * The loss compares g(z); evaluation, retrieval and embed read z itself, the representation before the head, which
 * SimCLR found better than g(z) for downstream tasks (the head may discard what the loss does not need). Its
 * parameters are objective parameters ("objective.&lt;owner&gt;.projection.&lt;modality&gt;.*"), so a model built without the
 * objective (embed, export) neither has nor needs them.
 */
public final class ProjectionHead {
    private final Map<Modality, Linear[]> layers = new EnumMap<>(Modality.class); // per modality {W1 b1, W2 b2}

    private ProjectionHead() {}

    /** The identity: the loss reads the embeddings themselves (projection: none). */
    public static ProjectionHead none() {
        return new ProjectionHead();
    }

    /**
     * The head the config names: none, or mlp (hidden width E, as SimCLR keeps the hidden layer the size of its input).
     *
     * @param owner the objective's key, e.g. two_view: parameters objective.two_view.projection.video.0.weight ...
     */
    public static ProjectionHead of(String kind, String owner, Collection<Modality> modalities, int embedDim, Params params) {
        ProjectionHead h = new ProjectionHead();
        if (kind.equals("mlp")) {
            for (Modality m : modalities) {
                String name = "objective." + owner + ".projection." + m.key();
                h.layers.put(m, new Linear[] {Linear.create(params, name + ".0", embedDim, embedDim),
                        Linear.create(params, name + ".1", embedDim, embedDim)});
            }
        }
        return h;
    }

    /** The modalities of the pairs, each once, in the pairs' order (contrastive's heads). */
    static List<Modality> modalities(List<Config.Pair> pairs) {
        return pairs.stream().flatMap(p -> Stream.of(p.a(), p.b())).distinct().toList();
    }

    /** The output with each modality that has a head projected, g(z) (B, E) unit rows; tokens and the rest as they were. */
    public ModelOutput apply(ModelOutput out) {
        if (layers.isEmpty() || out == null) {
            return out;
        }
        Map<Modality, NDArray> projected = new EnumMap<>(out.embeddings());
        layers.forEach((m, l) -> {
            if (projected.containsKey(m)) {
                projected.put(m, project(projected.get(m), l[0], l[1]));
            }
        });
        return new ModelOutput(out.tokens(), projected, out.logitScale(), out.bags(), out.bagValid());
    }

    /** g(z) = unit(W2 ReLU(W1 z + b1) + b2): z (B, E) -> (B, E). */
    static NDArray project(NDArray z, Linear first, Linear second) {
        NDArray y = second.forward(Activation.relu(first.forward(z)));                 // (B, E)
        return y.div(y.square().sum(new int[] {1}, true).add(1e-12f).sqrt());
    }
}
