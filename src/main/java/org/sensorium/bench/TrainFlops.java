package org.sensorium.bench;

import java.util.Arrays;
import java.util.Map;
import org.sensorium.config.Config;
import org.sensorium.config.Modality;
import org.sensorium.config.ModalitySpec;

/**
 * The model FLOPs of one pretraining step, counted analytically from the config (written out here, not read from
 * the model, so the benchmark checks the model against an independent count). Matrix products only, 2 FLOPs per
 * multiply-add, as model FLOPs utilisation is usually counted (PaLM, appendix B): norms, softmax, GELU and the
 * optimizer's element-wise work are left out, and a token embedding (a lookup) costs nothing. Backward is counted as
 * twice the forward, so a step is 3 x forward x micro-batches.
 * <pre>
 *   per sequence of n tokens, per block:  QKV + output projection 8 n D^2,  scores Q K^T and weights x V 4 n^2 D,
 *                                         MLP 4 r n D^2 (r = mlp_ratio)
 *   stem (patches of P values): 2 n P D;  head: 2 D E (a pretrained text tower's projection: 2 W E)
 *   contrastive pair over b samples: 2 b^2 E (one logits product; the transposed loss reuses it)
 * </pre>
 */
public final class TrainFlops {
    private TrainFlops() {}

    /**
     * Forward FLOPs of one micro-batch by part, and the step's total.
     *
     * @param step 3 x the sum of the parts x micro-batches
     */
    public record Count(double stems, double attentionProjections, double attentionScores, double mlp, double heads,
            double losses, double step) {
        double forward() {
            return stems + attentionProjections + attentionScores + mlp + heads + losses;
        }
    }

    /**
     * @param tokens per modality that goes through the trunk, its tokens per sequence N_m (the stem's, CLS not counted)
     * @throws IllegalArgumentException when an active modality other than a pretrained text tower's has no tokens
     */
    public static Count of(Config cfg, Map<Modality, Integer> tokens) {
        Config.Model model = cfg.model();
        long b = cfg.train().microBatch();
        double d = model.width(), e = model.embedDim();
        boolean cls = model.pool().equals("cls");
        double stems = 0, proj = 0, scores = 0, mlp = 0, heads = 0;
        ModalitySpec.Text text = cfg.modalities().text();
        for (Modality m : cfg.activeModalities()) {
            int bag = m == Modality.TEXT ? text.bag() : 1;
            double seqs = (double) b * bag; // sequences of the trunk (a bag's texts are one sequence each)
            if (m == Modality.TEXT && text.isPretrained()) {
                double w = text.pretrained().width();
                if (text.pretrained().learnedPooling()) {
                    heads += seqs * 2 * 2 * text.pretrained().maxLength() * w; // scores h q and the weighted sum
                }
                heads += text.pretrained().projection().equals("linear") ? seqs * 2 * w * e : 0;
                continue;
            }
            Integer n0 = tokens.get(m);
            if (n0 == null) {
                throw new IllegalArgumentException(m.key() + ": no token count");
            }
            long perSample = Arrays.stream(cfg.modalities().inputShape(m, cfg.data().clipSeconds())).reduce(1, (x, y) -> x * y);
            double patch = m == Modality.TEXT ? 0 : (double) perSample / n0; // values per token; text is a lookup
            double n = n0 + (cls ? 1 : 0);
            stems += seqs * 2 * n0 * patch * d;
            proj += seqs * model.depth() * 8 * n * d * d;
            scores += seqs * model.depth() * 4 * n * n * d;
            mlp += seqs * model.depth() * 4 * model.mlpRatio() * n * d * d;
            heads += seqs * 2 * d * e;
        }
        double losses = 0;
        if (cfg.objectives().contrastive().weight() > 0) {
            for (Config.Pair p : cfg.objectives().contrastive().pairs()) {
                if (cfg.activeModalities().contains(p.a()) && cfg.activeModalities().contains(p.b())) {
                    losses += 2.0 * b * b * e;
                }
            }
        }
        double forward = stems + proj + scores + mlp + heads + losses;
        return new Count(stems, proj, scores, mlp, heads, losses, 3 * forward * cfg.train().accumulate());
    }
}
