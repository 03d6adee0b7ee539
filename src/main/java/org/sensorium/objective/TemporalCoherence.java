package org.sensorium.objective;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.sensorium.model.Layers;

/**
 * Temporal optimal transport's coherence term (Kumar et al. 2022): frames near in time are pulled together and
 * frames far apart pushed away, an InfoNCE per anchor frame over its temporal neighbourhood. Shapes: G sequences,
 * T frames, E embedding width.
 */
final class TemporalCoherence {
    private TemporalCoherence() {}

    /**
     * The temporal coherence InfoNCE: z (G, T, E) unit frames; per sequence pos/neg (T, T) 0/1 masks and
     * anchors (T) 0/1 (one set for all sequences when given once) -> the mean over sequences' anchors of
     * -log(sum_pos e^{sim/tau} / sum_{pos+neg} e^{sim/tau}).
     */
    static NDArray coherence(NDArray z, float[][][] pos, float[][][] neg, float[][] anchors, double tau) {
        NDManager m = z.getManager();
        long n = z.getShape().get(0);
        int t = pos[0].length;
        float[][][] offPos = new float[pos.length][t][t], offAll = new float[pos.length][t][t];
        for (int g = 0; g < pos.length; g++) {
            for (int i = 0; i < t; i++) {
                for (int j = 0; j < t; j++) {
                    offPos[g][i][j] = pos[g][i][j] > 0 ? 0f : -1e9f;
                    offAll[g][i][j] = pos[g][i][j] > 0 || neg[g][i][j] > 0 ? 0f : -1e9f;
                }
            }
        }
        NDArray sim = Layers.scale(z.matMul(z.transpose(0, 2, 1)), (float) (1 / tau)); // (G, T, T)
        NDArray lsePos = logSumExp(sim.add(cube(m, offPos)));                        // (G, T)
        NDArray lseAll = logSumExp(sim.add(cube(m, offAll)));                        // (G, T)
        NDArray w = m.create(anchors);                                               // (G, T) or (1, T)
        float count = (anchors.length == 1 ? n : 1) * TemporalOt.sum(anchors);
        return Layers.scale(lseAll.sub(lsePos).mul(w).sum(), 1f / count);
    }

    private static NDArray cube(NDManager m, float[][][] x) {
        int a = x.length, b = x[0].length, c = x[0][0].length;
        float[] flat = new float[a * b * c];
        for (int i = 0; i < a; i++) {
            for (int j = 0; j < b; j++) {
                System.arraycopy(x[i][j], 0, flat, (i * b + j) * c, c);
            }
        }
        return m.create(flat, new ai.djl.ndarray.types.Shape(a, b, c));
    }

    /** The same with one set of masks for every sequence. */
    static NDArray coherence(NDArray z, float[][] pos, float[][] neg, float[] anchors, double tau) {
        return coherence(z, new float[][][] {pos}, new float[][][] {neg}, new float[][] {anchors}, tau);
    }

    /** log sum exp over the last axis: (n, T, T) -> (n, T). */
    private static NDArray logSumExp(NDArray x) {
        NDArray max = x.max(new int[] {2}, true).stopGradient();
        return x.sub(max).exp().sum(new int[] {2}).log().add(max.squeeze(2));
    }

    /** {positives, negatives} (T, T) of frames spaced frameSeconds apart. */
    static float[][][] windows(int t, double frameSeconds, double near, double far) {
        double[] times = new double[t];
        for (int i = 0; i < t; i++) {
            times[i] = i * frameSeconds;
        }
        return windows(times, near, far);
    }

    /** {positives, negatives} (T, T) of frames at these times: other frames within near seconds; frames more than far seconds away. */
    static float[][][] windows(double[] times, double near, double far) {
        int t = times.length;
        float[][] pos = new float[t][t], neg = new float[t][t];
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < t; j++) {
                double gap = Math.abs(times[i] - times[j]);
                pos[i][j] = i != j && gap <= near + 1e-9 ? 1f : 0f;
                neg[i][j] = gap > far + 1e-9 ? 1f : 0f;
            }
        }
        return new float[][][] {pos, neg};
    }

    static float[] anchors(float[][] pos, float[][] neg) {
        float[] a = new float[pos.length];
        for (int i = 0; i < a.length; i++) {
            a[i] = TemporalOt.sum(pos[i]) > 0 && TemporalOt.sum(neg[i]) > 0 ? 1f : 0f;
        }
        return a;
    }
}
