package org.sensorium.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.sensorium.model.Layers;

/**
 * The two pretext losses of multiple-choice video QA (Kim et al. 2021, "Self-supervised pre-training and
 * contrastive representation learning for multiple-choice video QA"), on the encoders' unit embeddings of b items:
 * v the moment's video, s its subtitles (zero without), q the question alone, m "question [MASK]..." (the correct
 * answer's words masked), t_k "question answer_k" for the K answers, y the correct answer, tau a temperature.
 * <pre>
 *   question prediction (the answer task turned into predicting the item's question from its context):
 *     c_i = unit(v_i + s_i),  S_ij = c_i . q_j / tau                       (b, b)
 *     S_ij = -inf for j != i asking the same question text (not a negative)
 *     L_qp = -1/b sum_i log softmax(S_i)_i
 *   masked-answer contrastive (the masked input against the item's K inputs; the unmasked correct one is the positive):
 *     a_i = unit(v_i + s_i + m_i),  p_ik = unit(v_i + s_i + t_ik),  T_ik = a_i . p_ik / tau    (b, K)
 *     L_ma = -1/b sum_i log softmax(T_i)_{y_i}
 * </pre>
 * Not an objective of pretraining: `sensorium qa` runs them on its train items before the fusion head.
 */
public final class QaPretext {
    private static final float MASKED = -1e9f;

    private QaPretext() {}

    /**
     * L_qp: context (b, E) = v + s, questions (b, E); sameQuestion[i][j] true where items i and j ask the same text.
     *
     * @return () the mean over the b items
     */
    public static NDArray questionPrediction(NDArray context, NDArray questions, boolean[][] sameQuestion, float temperature) {
        NDManager m = context.getManager();
        int b = (int) context.getShape().get(0);
        float[] mask = new float[b * b];                                            // (b, b): -inf on same-question others
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < b; j++) {
                mask[i * b + j] = i != j && sameQuestion[i][j] ? MASKED : 0;
            }
        }
        NDArray s = Layers.scale(unit(context).matMul(unit(questions).transpose()), 1 / temperature) // (b, b)
                .add(m.create(mask).reshape(b, b));
        return Layers.scale(s.logSoftmax(1).mul(m.eye(b)).sum(), -1f / b);
    }

    /**
     * L_ma: context (b, E) = v + s, masked (b, E) the masked question's embedding, answers (b, K, E), correct b indices.
     *
     * @return () the mean over the b items
     */
    public static NDArray maskedAnswer(NDArray context, NDArray masked, NDArray answers, int[] correct, float temperature) {
        long b = answers.getShape().get(0), k = answers.getShape().get(1), e = answers.getShape().get(2);
        NDArray a = unit(context.add(masked)).reshape(b, 1, e);                      // (b, 1, E)
        NDArray p = unit(answers.add(context.reshape(b, 1, e)));                     // (b, K, E)
        NDArray t = Layers.scale(a.mul(p).sum(new int[] {2}), 1 / temperature);       // (b, K)
        NDArray onehot = context.getManager().create(correct).oneHot((int) k);       // (b, K)
        return Layers.scale(t.logSoftmax(1).mul(onehot).sum(), -1f / b);
    }

    /** Rows scaled to unit length over the last axis: (..., E) -> (..., E). */
    static NDArray unit(NDArray x) {
        int last = x.getShape().dimension() - 1;
        return x.div(x.mul(x).sum(new int[] {last}, true).add(x.getManager().create(1e-12f)).sqrt());
    }
}
