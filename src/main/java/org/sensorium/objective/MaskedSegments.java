package org.sensorium.objective;

import org.sensorium.config.Objectives;

import ai.djl.ndarray.NDArray;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.data.Batch;
import org.sensorium.model.EmaTeacher;
import org.sensorium.model.Layers.Linear;
import org.sensorium.model.ModelOutput;
import org.sensorium.model.Params;
import org.sensorium.model.SensoriumModel;
import org.sensorium.model.Transformer;
import org.sensorium.config.Modality;

/**
 * LV-MAE (long-video masked-embedding autoencoder) on one modality:
 * <pre>
 *   z      = teacher segment embeddings: the clip cut along time into S segments,   (B, S, E) no gradient
 *            each encoded alone (see SensoriumModel.segmentEmbeddings)
 *   y      = LN(z) (no gain) when target_norm = layer, else z                        (B, S, E)
 *   mask   = round(ratio * S) segments per sample                                     (B, S)
 *   ybar   = mean of the sample's visible rows of y                                   (B, 1, E)
 *   y_hat  = ybar + out(decoder(in(y) with masked rows := mask embedding, + positions)) (B, S, E)
 *   L      = mean over masked segments of mean_E (y_hat - y)^2
 * </pre>
 * What a segment is: the generated recordings are as long as one clip, so the "long recording" is the
 * clip itself (data.clip_seconds) and a segment is a run of whole token time steps: with the default
 * video spec, 2 s at 4 fps in tubelets of 2 frames, S = 4 gives segments of 0.5 s (one tubelet slice of
 * 16 tokens). With a longer data.clip_seconds the same code cuts longer recordings. The teacher is an
 * EMA of the encoder or, with encoder = frozen, the encoder as it was when the objective started: LV-MAE
 * trains on a frozen pretrained encoder's embeddings, which here means switching this objective on at
 * --resume of a contrastive run, or starting a run on other data (long recordings, 8 s clips) from one with
 * model.init_from. No gradient reaches the encoder; this objective trains its decoder.
 *
 * <p>The decoder predicts a masked segment as its change from the mean of the visible ones, the trivial answer
 * it has to beat: where the segments of a recording barely differ (video on the built-in sets, under 1% of the
 * targets' variance) a decoder that rebuilt the whole embedding stayed above that mean, this one ties it; where
 * they differ by position (IMU on the long recordings, and video there with a frozen contrastively pretrained
 * encoder) both end far below it (docs/measured/objectives.md, Masked embedding; docs/measured/video-pretexts.md, LV-MAE on video with a frozen pretrained encoder).
 */
public final class MaskedSegments implements TeacherObjective {
    static final String FILE = "teacher-masked_segments.ndlist";

    private final Objectives.MaskedSegments cfg;
    private final Modality modality;
    private final EmaTeacher teacher;
    private final float momentum;
    private final Linear in, out;             // E -> decoder width -> E
    private final NDArray maskEmbedding;       // (1, 1, Dd)
    private final NDArray positions;           // (1, S, Dd)
    private final Transformer decoder;

    /** @throws ConfigException when S does not divide the modality's time steps or masks none or all of them */
    public MaskedSegments(Config config, SensoriumModel student) {
        this.cfg = config.objectives().maskedSegments();
        this.modality = cfg.modality();
        int s = cfg.segments(), steps = student.steps(modality);
        if (steps == 0 || steps % s != 0) {
            throw new ConfigException("objectives.masked_segments.segments",
                    s + " does not divide the " + steps + " token time steps of a " + modality.key() + " clip");
        }
        long masked = Math.round(cfg.maskRatio() * s);
        if (masked < 1 || masked > s - 1) {
            throw new ConfigException("objectives.masked_segments.mask_ratio",
                    cfg.maskRatio() + " of " + s + " segments masks " + masked + ": needs 1 to " + (s - 1));
        }
        int e = config.model().embedDim(), dd = cfg.decoderWidth();
        Params p = student.params();
        in = Linear.create(p, "objective.masked_segments.in", e, dd);
        maskEmbedding = p.embedding("objective.masked_segments.mask", 0.02f, 1, 1, dd);
        positions = p.embedding("objective.masked_segments.pos", 0.02f, 1, s, dd);
        decoder = new Transformer(p, "objective.masked_segments.decoder", dd, cfg.decoderDepth(), cfg.decoderHeads(), 4, 0f, 0f);
        out = Linear.create(p, "objective.masked_segments.out", dd, e);
        teacher = new EmaTeacher(config, student);
        momentum = cfg.encoder().equals("frozen") ? 1f : cfg.teacherMomentum();
    }

    @Override
    public Map<String, NDArray> losses(Step step) {
        return losses(step.out(), step.batch());
    }

    /** The terms of one micro-batch's main clips and their output. */
    public Map<String, NDArray> losses(ModelOutput ignored, Batch batch) {
        return terms(batch, true, false);
    }

    /** The held-out loss, and next to it the error of predicting each masked segment as the mean of the sample's visible ones. */
    @Override
    public Map<String, Double> measure(HeldOut h) throws InterruptedException {
        return h.meanOverCentred(this::heldOut);
    }

    /** The terms on a held-out batch, without dropout (masks from libtorch's generator: seed it for repeatable numbers). */
    public Map<String, NDArray> heldOut(Batch batch) {
        return terms(batch, false, true);
    }

    private Map<String, NDArray> terms(Batch batch, boolean training, boolean baseline) {
        Map<String, NDArray> terms = new LinkedHashMap<>();
        if (!batch.inputs().containsKey(modality)) {
            return terms;
        }
        NDArray x = batch.input(modality);
        Masking.Drawn drawn = Masking.draw(x.getManager(), x.getShape().get(0), cfg.segments(), null,
                batch.present(modality), cfg.maskRatio());
        if (drawn.count() == 0) {
            return terms;
        }
        NDArray z = teacher.model().segmentEmbeddings(batch.input(modality), batch.valid(modality), modality, cfg.segments(), false);   // (B, S, E)
        NDArray y = cfg.targetNorm().equals("layer") ? Masking.layerNorm(z) : z;                  // (B, S, E)
        String name = "masked_segments/" + modality.key();
        terms.put(name, Masking.mse(reconstruct(y, drawn.mask(), training), y, drawn.mask(), drawn.count()));
        if (baseline) {
            terms.put(name + "/visible_mean", Masking.mse(visibleMean(y, drawn.mask()), y, drawn.mask(), drawn.count()));
        }
        return terms;
    }

    /**
     * The decoder: y (B, S, E) with the rows where mask (B, S) is 1 replaced by the mask embedding -> the visible
     * mean plus the decoder's change from it (B, S, E).
     */
    NDArray reconstruct(NDArray y, NDArray mask, boolean training) {
        NDArray w = mask.expandDims(2);                                           // (B, S, 1)
        NDArray h = in.forward(y);                                                // (B, S, Dd)
        h = h.mul(w.neg().add(1f)).add(w.mul(maskEmbedding)).add(positions);     // masked rows -> mask embedding
        NDArray change = out.forward(decoder.forward(h, null, training));         // (B, S, Dd) -> (B, S, E)
        return visibleMean(y, mask).add(change);
    }

    /** Every segment predicted as the mean of its sample's visible segments: y (B, S, E), mask (B, S) -> (B, S, E). */
    static NDArray visibleMean(NDArray y, NDArray mask) {
        NDArray seen = mask.neg().add(1f).expandDims(2);                          // (B, S, 1)
        NDArray mean = y.mul(seen).sum(new int[] {1}, true).div(seen.sum(new int[] {1}, true).maximum(1f)); // (B, 1, E)
        return y.zerosLike().add(mean);
    }

    @Override
    public void afterStep(int step) {
        teacher.update(momentum);
    }

    @Override
    public EmaTeacher teacher() {
        return teacher;
    }

    @Override
    public String teacherFile() {
        return FILE;
    }
}
