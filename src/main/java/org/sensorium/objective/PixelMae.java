package org.sensorium.objective;

import org.sensorium.config.Pretexts;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.Map;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.config.Modality;
import org.sensorium.config.Objectives;
import org.sensorium.data.Batch;
import org.sensorium.model.Layers;
import org.sensorium.model.Layers.Linear;
import org.sensorium.model.Params;
import org.sensorium.model.SensoriumModel;
import org.sensorium.model.Transformer;

/**
 * Siamese masked autoencoding of pixels (SiamMAE, Gupta et al. 2023; CropMAE, Eymaël et al. 2024) with
 * CrossVideoMAE's cross-view term (2025). Two views of one video clip: its first tubelet slice (token time step 0,
 * t frames) and a later one (step gap, or the last); each is G = (H/p)(W/p) patches of P = t p p 3 values, cut as
 * the video stem cuts them. The first is encoded whole, the second with only a few patches visible, each on its
 * own through the model's encoder (stem, positions, trunk: {@link SensoriumModel#encodeTokens}); a small decoder of
 * the objective's own sees both and predicts the second view's masked patches:
 * <pre>
 *   mask   = MAE random masking of round(ratio * G) of view 2's G patches            (n, G), the same count per row
 *   z1     = encoder(view 1, all G patches)                                          (n, G, D)
 *   z2     = encoder(view 2, its V = G - masked visible patches)                     (n, V, D)
 *   u      = [in(z1) ; in(z2) at its patches, mask token elsewhere] + positions      (n, 2G, Dd)
 *   x_hat  = out(decoder(u)) at view 2's rows                                        (n, G, P)
 *   y      = view 2's patches, each normalised over its P values (MAE's norm_pix)   (n, G, P)
 *   L_mse  = mean over masked patches of mean_P (x_hat - y)^2
 *   L_nce  = contrastive_weight * symmetric InfoNCE(unit(mean z1), unit(mean z2)) / tau, batch negatives
 * </pre>
 * SiamMAE cross-attends from the second frame to the first; here one self-attention transformer over both views'
 * rows does the same reading and more (view 1's rows also see view 2's). SiamMAE's two frames are t-frame tubelet
 * slices here, as the stem cuts the clip. n counts the samples with video.
 */
public final class PixelMae implements Objective {
    static final String NAME = "pixel_mae";

    private final Pretexts.PixelMae cfg;
    private final SensoriumModel model;
    private final int steps, grid, second; // S time steps, G patches per step, the second view's step
    private final Linear in, out;           // D -> Dd, Dd -> P
    private final NDArray maskToken;        // (1, 1, Dd)
    private final NDArray positions;        // (1, 2G, Dd): view 1's patches, then view 2's
    private final Transformer decoder;
    private final float temperature;

    /** @throws ConfigException when the clip has one time step, gap is past its last, or the ratio masks no patch */
    public PixelMae(Config c, SensoriumModel model) {
        this.cfg = c.objectives().pixelMae();
        this.model = model;
        this.steps = model.steps(Modality.VIDEO);
        if (steps < 2) {
            throw new ConfigException("objectives.pixel_mae.weight", "a video clip of " + steps + " token time step has no second view");
        }
        if (cfg.gap() >= steps) {
            throw new ConfigException("objectives.pixel_mae.gap", cfg.gap() + " is past the clip's last token time step " + (steps - 1));
        }
        this.second = cfg.gap() == 0 ? steps - 1 : cfg.gap();
        this.grid = model.tokens(Modality.VIDEO) / steps;
        if (Math.round(cfg.maskRatio() * grid) < 1) {
            throw new ConfigException("objectives.pixel_mae.mask_ratio", cfg.maskRatio() + " of " + grid + " patches masks none");
        }
        var video = c.modalities().video();
        int p = video.tubeletFrames() * video.patch() * video.patch() * 3; // P, one tubelet's values
        int dd = cfg.decoderWidth();
        Params params = model.params();
        in = Linear.create(params, "objective.pixel_mae.in", c.model().width(), dd);
        maskToken = params.embedding("objective.pixel_mae.mask", 0.02f, 1, 1, dd);
        positions = params.embedding("objective.pixel_mae.pos", 0.02f, 1, 2L * grid, dd);
        decoder = new Transformer(params, "objective.pixel_mae.decoder", dd, cfg.decoderDepth(), cfg.decoderHeads(), 4, 0f, 0f);
        out = Linear.create(params, "objective.pixel_mae.out", dd, p);
        this.temperature = cfg.temperature();
    }

    @Override
    public boolean readsOutput() {
        return false;
    }

    @Override
    public Map<String, NDArray> losses(Step step) {
        return terms(step.batch(), true, false);
    }

    /**
     * The held-out error (masks from libtorch's generator, seeded by the caller), next to two baselines: every
     * masked patch predicted as its per-patch mean (zero_mse: 0 of the normalised targets) and as view 1's patch at
     * the same position (copy_mse: the scene did not move).
     */
    @Override
    public Map<String, Double> measure(HeldOut h) throws InterruptedException {
        return h.meanOverCentred(this::heldOut);
    }

    /** The terms on a batch without dropout, with the baselines. */
    public Map<String, NDArray> heldOut(Batch batch) {
        return terms(batch, false, true);
    }

    private Map<String, NDArray> terms(Batch batch, boolean training, boolean baselines) {
        Map<String, NDArray> terms = new LinkedHashMap<>();
        if (!batch.inputs().containsKey(Modality.VIDEO)) {
            return terms;
        }
        boolean[] keep = batch.present(Modality.VIDEO);
        int n = Contrastive.count(keep);
        if (n == 0) {
            return terms;
        }
        NDArray x = Contrastive.rows(batch.input(Modality.VIDEO), keep);                       // (n, T, H, W, 3)
        NDManager m = x.getManager();
        boolean[] all = new boolean[n];
        java.util.Arrays.fill(all, true);
        Masking.Drawn drawn = Masking.draw(m, n, grid, null, all, cfg.maskRatio());           // (n, G)
        float[] mask = drawn.mask().toFloatArray();
        int visible = grid - drawn.count() / n;
        NDArray first = m.create(range(n, 0, grid, null, grid), new Shape(n, grid));        // view 1's token indices
        NDArray seen = m.create(range(n, second * grid, grid, mask, visible), new Shape(n, visible)); // view 2's visible ones
        NDArray slot = m.create(slots(mask, n, grid), new Shape(n, grid));                     // view 2's patch -> its visible row
        NDArray z1 = model.encodeTokens(x, Modality.VIDEO, first, training);                 // (n, G, D)
        NDArray z2 = model.encodeTokens(x, Modality.VIDEO, seen, training);                  // (n, V, D)
        NDArray patches = model.patches(Modality.VIDEO, x);                                   // (n, N, P)
        NDArray y = Masking.layerNorm(view(patches, second));                                // (n, G, P)
        NDArray predicted = decode(z1, z2, drawn.mask(), slot, training);                    // (n, G, P)
        terms.put(NAME + "/mse", Masking.mse(predicted, y, drawn.mask(), drawn.count()));
        if (cfg.contrastiveWeight() > 0 && n > 1) {
            NDArray scale = m.create(1f / temperature);
            NDArray nce = Contrastive.infoNce(unit(z1.mean(new int[] {1})), unit(z2.mean(new int[] {1})), scale);
            terms.put(NAME + "/contrastive", Layers.scale(nce, cfg.contrastiveWeight()));
        }
        if (baselines) {
            terms.put(NAME + "/zero_mse", Masking.mse(y.zerosLike(), y, drawn.mask(), drawn.count()));
            terms.put(NAME + "/copy_mse", Masking.mse(Masking.layerNorm(view(patches, 0)), y, drawn.mask(), drawn.count()));
        }
        return terms;
    }

    /**
     * The decoder: z1 (n, G, D), z2 (n, V, D), mask (n, G) 1 = masked, slot (n, G) int64 the row of z2 holding each
     * visible patch of view 2 (any row for a masked one) -> view 2's predicted patches (n, G, P).
     */
    NDArray decode(NDArray z1, NDArray z2, NDArray mask, NDArray slot, boolean training) {
        NDArray h2 = in.forward(z2);                                                          // (n, V, Dd)
        long dd = h2.getShape().get(2);
        NDArray placed = h2.gather(slot.expandDims(2).repeat(2, dd), 1);                     // (n, G, Dd)
        NDArray w = mask.expandDims(2);                                                       // (n, G, 1)
        NDArray view2 = placed.mul(w.neg().add(1f)).add(w.mul(maskToken));                  // masked rows -> mask token
        NDArray u = NDArrays.concat(new NDList(in.forward(z1), view2), 1).add(positions);    // (n, 2G, Dd)
        NDArray decoded = decoder.forward(u, null, training);                                 // (n, 2G, Dd)
        return out.forward(decoded.get(":, " + grid + ":, :"));                               // (n, G, Dd) -> (n, G, P)
    }

    /** The patches of token time step s: (n, N, P) -> (n, G, P). */
    private NDArray view(NDArray patches, int s) {
        return patches.get(":, " + (s * grid) + ":" + ((s + 1) * grid) + ", :");
    }

    /**
     * Per row, the token indices from + j of the patches j the mask leaves visible (mask null: every patch), k of
     * them: n x k int64 values.
     */
    static long[] range(int n, int from, int g, float[] mask, int k) {
        long[] out = new long[n * k];
        for (int i = 0; i < n; i++) {
            int r = 0;
            for (int j = 0; j < g; j++) {
                if (mask == null || mask[i * g + j] == 0f) {
                    out[i * k + r++] = from + j;
                }
            }
        }
        return out;
    }

    /** Per row, for each patch j, the rank of j among the visible patches (0 for a masked one): n x G int64. */
    static long[] slots(float[] mask, int n, int g) {
        long[] out = new long[n * g];
        for (int i = 0; i < n; i++) {
            int r = 0;
            for (int j = 0; j < g; j++) {
                out[i * g + j] = mask[i * g + j] == 0f ? r++ : 0;
            }
        }
        return out;
    }

    /** Rows divided by their L2 norm: (n, D) -> (n, D). */
    private static NDArray unit(NDArray e) {
        return e.div(e.square().sum(new int[] {1}, true).add(1e-12f).sqrt());
    }
}
