package org.sensorium.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.config.ModalitySpec;
import org.sensorium.model.Layers.Linear;
import org.sensorium.config.Modality;

/**
 * VATT-style modality-agnostic model: for each modality, stem -> + positional and modality
 * embeddings -> shared trunk -> head (pool, project to E, L2-normalise). With a pretrained text
 * tower (modalities.text.tower = pretrained) text arrives as the frozen encoder's sentence vectors
 * (B, W) and skips stem and trunk: its head only projects them into E (ImageBind, LiT).
 */
public final class SensoriumModel implements AutoCloseable {
    private final Config.Model cfg;
    private final Params params;
    private final Map<Modality, Stems.Stem> stems = new EnumMap<>(Modality.class);
    private final Map<Modality, NDArray> positions = new EnumMap<>(Modality.class); // (1, N_m, D)
    private final Map<Modality, NDArray> modalityEmbeddings = new EnumMap<>(Modality.class); // (1, 1, D)
    private final Map<Modality, NDArray> clsTokens = new EnumMap<>(Modality.class); // (1, 1, D), pool = cls
    private final Transformer trunk;
    private final Map<Modality, Linear> heads = new EnumMap<>(Modality.class);
    private final NDArray logLogitScale; // ()
    private final int textBag; // K texts per sample (modalities.text.bag); 1 = no bag
    private final boolean sentenceText; // text is a frozen tower's sentence vectors (B, W), not ids
    private NDArray textQuery; // (W, 1): learned pooling of the frozen tower's token states, or null

    public SensoriumModel(Config config, NDManager manager) {
        this.cfg = config.model();
        this.params = new Params(manager, config.run().seed());
        this.textBag = config.modalities().text().bag();
        this.sentenceText = config.modalities().text().isPretrained();
        int d = cfg.width();
        List<Modality> modalities = config.activeModalities();
        for (Modality m : modalities) {
            if (m == Modality.TEXT && sentenceText) {
                continue; // no stem, positions or trunk: the frozen tower did that work
            }
            Stems.Stem stem = Stems.create(m, config.modalities(), config.data().clipSeconds(), params, d);
            stems.put(m, stem);
            positions.put(m, params.embedding("pos." + m.key(), 0.02f, 1, stem.tokens(), d));
            modalityEmbeddings.put(m, params.embedding("modality." + m.key(), 0.02f, 1, 1, d));
            if (cfg.pool().equals("cls")) {
                clsTokens.put(m, params.embedding("cls." + m.key(), 0.02f, 1, 1, d));
            }
        }
        trunk = new Transformer(params, "trunk", d, cfg.depth(), cfg.heads(), cfg.mlpRatio(), cfg.dropout(), cfg.dropPath());
        for (Modality m : modalities) {
            if (m == Modality.TEXT && sentenceText) {
                sentenceHead(config.modalities().text().pretrained());
            } else {
                heads.put(m, Linear.create(params, "head." + m.key(), d, cfg.embedDim()));
            }
        }
        logLogitScale = params.constant("logit_scale", (float) Math.log(cfg.logitScaleInit()));
    }

    /** The pretrained text tower's projection W -> E ("head.text"), or none when the vectors are used as they are. */
    private void sentenceHead(ModalitySpec.Text.Pretrained p) {
        if (p.learnedPooling()) { // zero at start: softmax weights all tokens alike, i.e. the encoder's mean pooling
            textQuery = params.constant("pool.text.query", 0f, p.width(), 1);
        }
        if (p.projection().equals("linear")) {
            heads.put(Modality.TEXT, Linear.create(params, "head.text", p.width(), cfg.embedDim()));
        } else if (p.width() != cfg.embedDim()) {
            throw new ConfigException("modalities.text.pretrained.projection",
                    "none needs model.embed_dim = modalities.text.pretrained.width, but they are " + cfg.embedDim() + " and " + p.width());
        }
    }

    public Params params() {
        return params;
    }

    /** Tokens of modality m per sample (N_m), CLS not counted. */
    public int tokens(Modality m) {
        return stems.get(m).tokens();
    }

    /** Positions of modality m along time (tokens are time-major); 0 for text. See {@link Stems.Stem#steps}. */
    public int steps(Modality m) {
        return stems.get(m).steps();
    }

    /** Each position table along time (pos.&lt;m&gt;, text has none) -> its tokens per time step. */
    public Map<String, Integer> tokensPerStep() {
        Map<String, Integer> per = new java.util.LinkedHashMap<>();
        stems.forEach((m, stem) -> {
            if (stem.steps() > 0) {
                per.put("pos." + m.key(), stem.tokens() / stem.steps());
            }
        });
        return per;
    }

    public int depth() {
        return trunk.depth();
    }

    /**
     * Runs every modality of the inputs through its stem, the shared trunk and its head.
     *
     * @param inputs per modality (B, ...) in its stem's input shape
     * @param valids per modality with padding (text): (B, N_m) boolean token mask; absent when every token is valid
     */
    public ModelOutput forward(Map<Modality, NDArray> inputs, Map<Modality, NDArray> valids, boolean training) {
        Map<Modality, NDArray> tokens = new EnumMap<>(Modality.class);
        Map<Modality, NDArray> embeddings = new EnumMap<>(Modality.class);
        Map<Modality, NDArray> bags = new EnumMap<>(Modality.class);
        Map<Modality, NDArray> bagValid = new EnumMap<>(Modality.class);
        NDManager step = null;
        for (Modality m : new EnumMap<>(inputs).keySet()) { // in the enum's order, whatever map was given
            NDArray x = inputs.get(m);
            step = x.getManager();
            NDArray valid = valids.get(m);                                           // (B, N) or null
            int k = m == Modality.TEXT ? textBag : 1;
            long b = x.getShape().get(0);
            if (k > 1) { // a bag of K texts per sample: each text is one sequence of the trunk
                x = x.reshape(b * k, -1);                                             // (B, K, L) -> (B*K, L)
                valid = valid.reshape(b * k, -1);                                     // (B, K*L) -> (B*K, L)
            }
            NDArray rowsValid = valid; // which texts of a bag are present, before a CLS token makes every row valid
            NDArray h = null, e;
            if (m == Modality.TEXT && sentenceText) {
                if (textQuery != null) {
                    x = attentionPool(x, valid);                                      // (B, L, W) -> (B, W)
                    valid = null;
                }
                e = unit(heads.containsKey(m) ? heads.get(m).forward(x) : x);         // (B, W) -> (B, E), or (B*K, E)
            } else {
                h = stems.get(m).forward(x)                                           // (B, N, D)
                        .add(positions.get(m)).add(modalityEmbeddings.get(m));
                h = DropToken.apply(h, m, valid, cfg.dropToken(), training);        // (B, N', D), N' = N - dropped
                if (clsTokens.containsKey(m)) {
                    h = prependCls(h, m);                                             // (B, 1+N, D)
                    valid = valid == null ? null : prependTrue(valid);
                }
                h = trunk.forward(h, valid, training);                                // (B, N, D)
                e = head(m, h, valid);                                                // (B, E), or (B*K, E)
            }
            if (k > 1) {
                NDArray rowValid = rowsValid.toType(DataType.FLOAT32, false).sum(new int[] {1}).gt(0)
                        .reshape(b, k);                                               // (B, K) texts present
                NDArray bag = e.reshape(b, k, -1);                                    // (B, K, E)
                bags.put(m, bag);
                bagValid.put(m, rowValid);
                NDArray w = rowValid.toType(DataType.FLOAT32, false).expandDims(2);  // (B, K, 1)
                NDArray mean = bag.mul(w).sum(new int[] {1});                         // (B, E) sum of the bag
                e = unit(mean);                                                       // its direction
                h = h == null ? null : h.reshape(b, -1, h.getShape().get(h.getShape().dimension() - 1)); // (B, K*N, D)
            }
            if (h != null) { // a pretrained text tower has no trunk tokens
                tokens.put(m, h);
            }
            embeddings.put(m, e);
        }
        NDArray scale = step == null ? null
                : step.zeros(new ai.djl.ndarray.types.Shape()).add(logLogitScale).exp().clip(0f, cfg.logitScaleMax());
        return new ModelOutput(tokens, embeddings, scale, bags, bagValid);
    }

    /**
     * data2vec's student: modality m with the tokens where mask is 1 replaced by a learned mask token
     * before the positional embedding is added (so the trunk knows where each masked token sits),
     * through the trunk.
     *
     * @param mask (B, N) float, 1 = masked
     * @param maskToken (1, 1, D)
     * @return (B, N, D) trunk outputs after the final norm, CLS dropped
     */
    public NDArray maskedTokens(NDArray input, NDArray valid, Modality m, NDArray mask, NDArray maskToken, boolean training) {
        NDArray h = stems.get(m).forward(singleSequence(input, m));                  // (B, N, D)
        NDArray w = mask.expandDims(2);                                               // (B, N, 1)
        h = h.mul(w.neg().add(1f)).add(w.mul(maskToken));                             // masked rows -> mask token
        h = trunk.forward(embedded(m, h, positions.get(m)), withCls(m, valid), training);
        return dropCls(m, h);
    }

    /** data2vec's teacher: the residual stream after every trunk block for modality m, unmasked, CLS dropped: depth x (B, N, D). */
    public List<NDArray> blockOutputs(NDArray input, NDArray valid, Modality m, boolean training) {
        NDArray h = embedded(m, stems.get(m).forward(singleSequence(input, m)), positions.get(m));
        return trunk.blockOutputs(h, withCls(m, valid), training).stream().map(x -> dropCls(m, x)).toList();
    }

    /**
     * LV-MAE's segment embeddings: the clip of modality m cut along time into S equal segments, each
     * encoded on its own as a short clip (stem, the positions of the clip's first N/S tokens, trunk,
     * head), so that a segment's embedding says what it shows and not where in the clip it sits.
     *
     * @return (B, S, E) unit-norm
     * @throws IllegalArgumentException when m has padding or no time axis, or S does not divide its time steps
     */
    public NDArray segmentEmbeddings(NDArray input, NDArray valid, Modality m, int segments, boolean training) {
        Stems.Stem stem = stems.get(m);
        if (stem == null) {
            throw new IllegalArgumentException(m.key() + " has no stem (a pretrained text tower)");
        }
        if (valid != null || stem.steps() == 0 || stem.steps() % segments != 0) {
            throw new IllegalArgumentException(m.key() + " (" + stem.steps() + " time steps) cannot be cut into " + segments + " segments");
        }
        NDArray h = stem.forward(input);                                              // (B, N, D)
        long b = h.getShape().get(0), n = h.getShape().get(1), d = h.getShape().get(2), per = n / segments;
        h = h.reshape(b * segments, per, d);                                          // (B*S, N/S, D): whole time steps
        NDArray pos = positions.get(m).get(new NDIndex(":, :" + per + ", :"));       // (1, N/S, D)
        pos.attach(h.getManager()); // a slice of a parameter is born in the parameters' manager: the step owns it
        h = trunk.forward(embedded(m, h, pos), null, training);                       // (B*S, [1+]N/S, D)
        return head(m, h, null).reshape(b, segments, -1);                             // (B*S, E) -> (B, S, E)
    }

    /**
     * The raw tubelets of a video or motion clip, time-major in the order of its tokens (the pixels a masked
     * autoencoder reconstructs): (B, T, H, W, C) -> (B, N, t*p*p*C).
     *
     * @throws IllegalArgumentException when m is not cut into tubelets
     */
    public NDArray patches(Modality m, NDArray input) {
        if (!(stems.get(m) instanceof Stems.Tubelets t)) {
            throw new IllegalArgumentException(m.key() + " is not cut into tubelets");
        }
        return t.patches(input);
    }

    /**
     * MAE's encoder on a subset of tokens: modality m's stem tokens with their positions, only those at index
     * (each sample its own K token indices), through the trunk; the other tokens are not seen at all.
     *
     * @param index (B, K) int64 token indices in [0, N)
     * @return (B, K, D) trunk outputs after the final norm, CLS dropped
     */
    public NDArray encodeTokens(NDArray input, Modality m, NDArray index, boolean training) {
        NDArray h = stems.get(m).forward(singleSequence(input, m)).add(positions.get(m)); // (B, N, D)
        long d = h.getShape().get(2);
        NDArray at = index.expandDims(2).repeat(2, d);                                    // (B, K, D)
        h = h.gather(at, 1).add(modalityEmbeddings.get(m));                               // (B, K, D)
        h = clsTokens.containsKey(m) ? prependCls(h, m) : h;
        return dropCls(m, trunk.forward(h, null, training));
    }

    /** Stem tokens (B, N, D) + positions (1, N, D) + modality embedding, with the CLS token first when pool = cls. */
    private NDArray embedded(Modality m, NDArray h, NDArray pos) {
        h = h.add(pos).add(modalityEmbeddings.get(m));
        return clsTokens.containsKey(m) ? prependCls(h, m) : h;
    }

    private NDArray withCls(Modality m, NDArray valid) {
        return valid != null && clsTokens.containsKey(m) ? prependTrue(valid) : valid;
    }

    private NDArray dropCls(Modality m, NDArray h) {
        return clsTokens.containsKey(m) ? h.get(":, 1:, :") : h;
    }

    /** The input of m when each sample is one sequence (not a bag of K texts). */
    private NDArray singleSequence(NDArray input, Modality m) {
        if (m == Modality.TEXT && sentenceText) {
            throw new IllegalArgumentException("text comes from a frozen pretrained tower (modalities.text.tower): it has no tokens to mask");
        }
        if (m == Modality.TEXT && textBag > 1) {
            throw new IllegalArgumentException("text comes as bags of " + textBag + " (modalities.text.bag): not one sequence per sample");
        }
        return input;
    }

    private NDArray prependCls(NDArray h, Modality m) {
        long b = h.getShape().get(0), d = h.getShape().get(2);
        NDArray cls = h.getManager().zeros(new ai.djl.ndarray.types.Shape(b, 1, d)).add(clsTokens.get(m)); // (B, 1, D)
        return NDArrays.concat(new ai.djl.ndarray.NDList(cls, h), 1);
    }

    private static NDArray prependTrue(NDArray valid) {
        long b = valid.getShape().get(0);
        NDArray t = valid.getManager().ones(new ai.djl.ndarray.types.Shape(b, 1), DataType.BOOLEAN);
        return NDArrays.concat(new ai.djl.ndarray.NDList(t, valid), 1);
    }

    /** Pool (CLS token, or mean over valid tokens), project to E, L2-normalise: (B, N, D) -> (B, E). */
    private NDArray head(Modality m, NDArray h, NDArray valid) {
        NDArray pooled;
        if (clsTokens.containsKey(m)) {
            pooled = h.get(":, 0, :");                                                // (B, D)
        } else if (valid == null) {
            pooled = h.mean(new int[] {1});                                           // (B, D)
        } else {
            NDArray w = valid.toType(DataType.FLOAT32, false).expandDims(2);         // (B, N, 1)
            // At least 1 in the denominator: a sample without text has no valid token (it is masked out of every loss).
            pooled = h.mul(w).sum(new int[] {1}).div(w.sum(new int[] {1}).maximum(1f)); // (B, D)
        }
        return unit(heads.get(m).forward(pooled));                                    // (B, E)
    }

    /**
     * Pools a frozen tower's token states with the learned query q: weights softmax(h_t . q) over the valid
     * tokens, then the weighted sum, L2-normalised. (B, L, W), valid (B, L) -> (B, W).
     */
    private NDArray attentionPool(NDArray h, NDArray valid) {
        NDArray scores = h.matMul(textQuery).squeeze(2);                              // (B, L)
        NDArray pad = valid.toType(DataType.FLOAT32, false).neg().add(1f).mul(-1e9f); // 0 where valid, -1e9 at padding
        NDArray w = scores.add(pad).softmax(1).expandDims(2);                         // (B, L, 1)
        return unit(h.mul(w).sum(new int[] {1}));                                     // (B, W)
    }

    /** Rows divided by their L2 norm: (B, E) -> (B, E). */
    private static NDArray unit(NDArray e) {
        return e.div(e.square().sum(new int[] {1}, true).add(1e-12f).sqrt());
    }

    @Override
    public void close() {
        params.close();
    }
}
