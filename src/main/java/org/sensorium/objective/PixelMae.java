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
import org.sensorium.model.ClipOps;
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
 * <p>
 * views: crops is CropMAE's variant: both views come from the clip's first slice (t frames), each a random crop of
 * it (area 0.3 to 1 of the frame, aspect 3/4 to 4/3: {@link VideoViews#box}) resized bilinearly back to H x W
 * ({@link ClipOps#cropped}), the second reconstructed from the first; each sits at time step 0 of its own copy of
 * the clip, so the encoder gives both the same positions. Training crops come from libtorch's generator (seeded per
 * step), held-out ones from a fixed seed and the clip's id. CropMAE masks 0.985 of the second crop; at the default 16
 * patches per slice that is 15, as 0.95 is (one patch always stays visible).
 * <pre>
 *   x1, x2 = clip with slice 0 replaced by crop 1, crop 2 of slice 0                   (n, T, H, W, 3) each
 *   z1     = encoder(x1, step 0's G patches); z2 = encoder(x2, step 0's visible V)    (n, G, D), (n, V, D)
 *   y      = x2's step 0 patches, per-patch normalised                                 (n, G, P)
 * </pre>
 */
public final class PixelMae implements Objective {
    static final String NAME = "pixel_mae";
    /** The seed of the held-out crops (views: crops), mixed with each clip's id. */
    static final long HELD_OUT_CROPS = 0x5eed_c2095L;

    private final Pretexts.PixelMae cfg;
    private final SensoriumModel model;
    private final int steps, grid, second; // S time steps, G patches per step, the second view's step
    private final int tubelet, height, width; // t frames per slice, H x W pixels (views: crops)
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
        if (steps < 2 && !cfg.crops()) {
            throw new ConfigException("objectives.pixel_mae.weight", "a video clip of " + steps + " token time step has no second view");
        }
        if (cfg.gap() >= steps && !cfg.crops()) {
            throw new ConfigException("objectives.pixel_mae.gap", cfg.gap() + " is past the clip's last token time step " + (steps - 1));
        }
        this.second = cfg.gap() == 0 || cfg.gap() >= steps ? steps - 1 : cfg.gap();
        this.grid = model.tokens(Modality.VIDEO) / steps;
        if (Math.round(cfg.maskRatio() * grid) < 1) {
            throw new ConfigException("objectives.pixel_mae.mask_ratio", cfg.maskRatio() + " of " + grid + " patches masks none");
        }
        var video = c.modalities().video();
        this.tubelet = video.tubeletFrames();
        this.height = video.height();
        this.width = video.width();
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
     * the same position (copy_mse: the scene did not move; frames only: two crops do not share positions).
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
        NDArray x1 = x, x2 = x;                                                               // the clips the views are cut from
        int s2 = second;                                                                      // view 2's time step in x2
        if (cfg.crops()) {                                                                    // both views at step 0 of their clips
            ClipOps.Box[][] boxes = training ? drawnBoxes(m, n) : heldOutBoxes(ids(batch.ids(), keep));
            x1 = withFirstSlice(x, ClipOps.cropped(firstSlice(x), boxes[0]));             // (n, T, H, W, 3)
            x2 = withFirstSlice(x, ClipOps.cropped(firstSlice(x), boxes[1]));             // (n, T, H, W, 3)
            s2 = 0;
        }
        boolean[] all = new boolean[n];
        java.util.Arrays.fill(all, true);
        Masking.Drawn drawn = Masking.draw(m, n, grid, null, all, cfg.maskRatio());           // (n, G)
        float[] mask = drawn.mask().toFloatArray();
        int visible = grid - drawn.count() / n;
        NDArray first = m.create(range(n, 0, grid, null, grid), new Shape(n, grid));        // view 1's token indices
        NDArray seen = m.create(range(n, s2 * grid, grid, mask, visible), new Shape(n, visible)); // view 2's visible ones
        NDArray slot = m.create(slots(mask, n, grid), new Shape(n, grid));                     // view 2's patch -> its visible row
        NDArray z1 = model.encodeTokens(x1, Modality.VIDEO, first, training);                // (n, G, D)
        NDArray z2 = model.encodeTokens(x2, Modality.VIDEO, seen, training);                 // (n, V, D)
        NDArray patches = model.patches(Modality.VIDEO, x2);                                  // (n, N, P)
        NDArray y = Masking.layerNorm(view(patches, s2));                                    // (n, G, P)
        NDArray predicted = decode(z1, z2, drawn.mask(), slot, training);                    // (n, G, P)
        terms.put(NAME + "/mse", Masking.mse(predicted, y, drawn.mask(), drawn.count()));
        if (cfg.contrastiveWeight() > 0 && n > 1) {
            NDArray scale = m.create(1f / temperature);
            NDArray nce = Contrastive.infoNce(unit(z1.mean(new int[] {1})), unit(z2.mean(new int[] {1})), scale);
            terms.put(NAME + "/contrastive", Layers.scale(nce, cfg.contrastiveWeight()));
        }
        if (baselines) {
            terms.put(NAME + "/zero_mse", Masking.mse(y.zerosLike(), y, drawn.mask(), drawn.count()));
            if (!cfg.crops()) { // two crops of one frame share no pixel positions: no copy baseline
                terms.put(NAME + "/copy_mse", Masking.mse(Masking.layerNorm(view(patches, 0)), y, drawn.mask(), drawn.count()));
            }
        }
        return terms;
    }

    /** The first tubelet slice of every clip: (n, T, H, W, 3) -> (n, t, H, W, 3). */
    private NDArray firstSlice(NDArray x) {
        return x.get(":, :" + tubelet);
    }

    /** The clip with its first slice replaced: x (n, T, H, W, 3), slice (n, t, H, W, 3) -> (n, T, H, W, 3). */
    private NDArray withFirstSlice(NDArray x, NDArray slice) {
        return steps == 1 ? slice : NDArrays.concat(new NDList(slice, x.get(":, " + tubelet + ":")), 1);
    }

    /** Training crops: two boxes per clip from libtorch's generator, which the training loop seeds per step. [view][clip] */
    private ClipOps.Box[][] drawnBoxes(NDManager m, int n) {
        float[] u = m.randomUniform(0f, 1f, new Shape(n, 2, 4)).toFloatArray();              // (n, 2 views, 4 draws)
        ClipOps.Box[][] boxes = new ClipOps.Box[2][n];
        for (int i = 0; i < n; i++) {
            for (int v = 0; v < 2; v++) {
                int o = (i * 2 + v) * 4;
                boxes[v][i] = VideoViews.box(u[o], u[o + 1], u[o + 2], u[o + 3], height, width);
            }
        }
        return boxes;
    }

    /**
     * Held-out crops: fixed per clip, drawn from HELD_OUT_CROPS and the clip's id alone, so the measure before the
     * first step and after the last (and of every seed) reads the same crops. [view][clip]
     */
    ClipOps.Box[][] heldOutBoxes(java.util.List<String> ids) {
        ClipOps.Box[][] boxes = new ClipOps.Box[2][ids.size()];
        for (int i = 0; i < ids.size(); i++) {
            java.util.SplittableRandom r = new java.util.SplittableRandom(HELD_OUT_CROPS ^ ids.get(i).hashCode());
            for (int v = 0; v < 2; v++) {
                boxes[v][i] = VideoViews.box((float) r.nextDouble(), (float) r.nextDouble(), (float) r.nextDouble(),
                        (float) r.nextDouble(), height, width);
            }
        }
        return boxes;
    }

    /** The ids of the kept rows. */
    private static java.util.List<String> ids(java.util.List<String> ids, boolean[] keep) {
        java.util.List<String> out = new java.util.ArrayList<>();
        for (int i = 0; i < keep.length; i++) {
            if (keep[i]) {
                out.add(ids.get(i));
            }
        }
        return out;
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
