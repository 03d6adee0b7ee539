package org.sensorium.objective;

import org.sensorium.config.Objectives;

import ai.djl.ndarray.NDArray;
import java.io.IOException;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sensorium.config.Config;
import org.sensorium.data.Batch;
import org.sensorium.model.EmaTeacher;
import org.sensorium.model.Layers.Linear;
import org.sensorium.model.ModelOutput;
import org.sensorium.model.Params;
import org.sensorium.model.SensoriumModel;
import org.sensorium.config.Modality;

/**
 * data2vec (Baevski et al. 2022) at the token level, per listed modality m:
 * <pre>
 *   mask   = MAE random masking of round(ratio * N) valid tokens per sample      (B, N)
 *   h_s    = trunk(stem(x) with masked tokens := mask token, + positions)        (B, N, D) student
 *   y      = 1/K sum_{top K blocks l} norm(teacher block l (x))                   (B, N, D) no gradient
 *   L_m    = mean over masked tokens of mean_D (W h_s + b - y)^2
 * </pre>
 * The teacher is an {@link EmaTeacher}: an EMA of the whole encoder (stems, positions, trunk), run in
 * eval mode on the unmasked input; it moves after every optimizer step with a momentum ramped linearly
 * from teacher_momentum to teacher_momentum_end (data2vec's schedule). Targets are the residual stream
 * after each block (data2vec reads the FFN output before its residual; the stream is what our blocks
 * return, and normalising each layer removes most of the difference in scale). Plain squared error:
 * data2vec's smooth L1 with its beta only matters far from the targets, and the MSE of normalised
 * targets reads directly (1 = predicting the per-channel mean).
 *
 * <p>The student's masked pass is an extra trunk pass of its own (the unmasked forward serves the
 * other objectives), so this objective combines with contrastive without changing its inputs.
 * Logged per modality: the loss, and target_var, the teacher's averaged top-K output variance over
 * the masked tokens before normalisation (near 0 = the teacher collapsed).
 */
public final class MaskedTokens implements TeacherObjective {
    static final String FILE = "teacher-masked_tokens.ndlist";

    private final Objectives.MaskedTokens cfg;
    private final SensoriumModel student;
    private final EmaTeacher teacher;
    private final Map<Modality, NDArray> maskTokens = new EnumMap<>(Modality.class); // (1, 1, D) each
    private final Map<Modality, Linear> heads = new EnumMap<>(Modality.class);       // D -> D regression
    private final Map<String, Double> stats = new LinkedHashMap<>();

    public MaskedTokens(Config config, SensoriumModel student) {
        this.cfg = config.objectives().maskedTokens();
        this.student = student;
        int d = config.model().width();
        Params p = student.params();
        for (Modality m : cfg.modalities()) {
            maskTokens.put(m, p.embedding("objective.masked_tokens." + m.key() + ".mask", 0.02f, 1, 1, d));
            heads.put(m, Linear.create(p, "objective.masked_tokens." + m.key() + ".head", d, d));
        }
        this.teacher = new EmaTeacher(config, student);
    }

    /** Ignores out: the student's masked pass is this objective's own. */
    @Override
    public Map<String, NDArray> losses(Step step) {
        return losses(step.out(), step.batch());
    }

    /** The terms of one micro-batch's main clips and their output. */
    public Map<String, NDArray> losses(ModelOutput out, Batch batch) {
        return terms(batch, true);
    }

    @Override
    public Map<String, Double> measure(HeldOut h) throws InterruptedException {
        return h.meanOverCentred(this::heldOut);
    }

    /** The terms on a held-out batch, without dropout (masks from libtorch's generator: seed it for repeatable numbers). */
    public Map<String, NDArray> heldOut(Batch batch) {
        return terms(batch, false);
    }

    private Map<String, NDArray> terms(Batch batch, boolean training) {
        stats.clear();
        Map<String, NDArray> terms = new LinkedHashMap<>();
        for (Modality m : cfg.modalities()) {
            if (!batch.inputs().containsKey(m)) {
                continue;
            }
            NDArray x = batch.input(m);
            long b = x.getShape().get(0), n = student.tokens(m);
            Masking.Drawn drawn = Masking.draw(x.getManager(), b, n, batch.valid(m), batch.present(m), cfg.maskRatio());
            if (drawn.count() == 0) {
                continue;
            }
            List<NDArray> blocks = teacher.model().blockOutputs(batch.input(m), batch.valid(m), m, false);                             // depth x (B, N, D)
            NDArray target = averagedTopK(blocks, batch.valid(m), true);                                      // (B, N, D)
            NDArray h = student.maskedTokens(batch.input(m), batch.valid(m), m, drawn.mask(), maskTokens.get(m), training);            // (B, N, D)
            NDArray pred = heads.get(m).forward(h);                                                           // (B, N, D)
            terms.put("masked_tokens/" + m.key(), Masking.mse(pred, target, drawn.mask(), drawn.count()));
            stats.put("masked_tokens/" + m.key() + "/target_var",
                    maskedVariance(averagedTopK(blocks, batch.valid(m), false), drawn.mask(), drawn.count()));
        }
        return terms;
    }

    /** The mean of the top K block outputs, each normalised by target_norm when normalise is set. */
    private NDArray averagedTopK(List<NDArray> blocks, NDArray valid, boolean normalise) {
        NDArray sum = null;
        for (NDArray y : blocks.subList(blocks.size() - cfg.topKLayers(), blocks.size())) {
            NDArray z = !normalise ? y : switch (cfg.targetNorm()) {
                case "instance" -> Masking.instanceNorm(y, valid);
                case "layer" -> Masking.layerNorm(y);
                default -> y;
            };
            sum = sum == null ? z : sum.add(z);
        }
        return sum.div(cfg.topKLayers());
    }

    /** Per channel variance over the masked positions, averaged over channels: y (B, N, D), mask (B, N). */
    static double maskedVariance(NDArray y, NDArray mask, int count) {
        NDArray w = mask.expandDims(2);                                          // (B, N, 1)
        NDArray mean = y.mul(w).sum(new int[] {0, 1}).div(count);               // (D)
        return y.sub(mean).square().mul(w).sum(new int[] {0, 1}).div(count).mean().getFloat();
    }

    @Override
    public Map<String, Double> stats() {
        return Map.copyOf(stats);
    }

    /** data2vec's schedule: linear from teacher_momentum to teacher_momentum_end over the ramp, then constant. */
    static float momentum(Objectives.MaskedTokens c, int step) {
        if (c.teacherMomentumSteps() == 0) {
            return c.teacherMomentum();
        }
        float f = Math.min(1f, step / (float) c.teacherMomentumSteps());
        return c.teacherMomentum() + f * (c.teacherMomentumEnd() - c.teacherMomentum());
    }

    @Override
    public void afterStep(int step) {
        teacher.update(momentum(cfg, step));
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
