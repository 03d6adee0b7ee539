package org.sensorium.objective;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class MilNceTest {

    @Test
    void bagsByHand() {
        // v0 = e1, v1 = e2; bag 0 = (e1, e2), bag 1 = (e2, absent); scale 1.
        // S[0] = [[1, 0], [0, -]], S[1] = [[0, 1], [1, -]].
        // clip 0: lse{1, 0, 0} - lse{1, 0} = log((e + 2) / (e + 1)); clip 1: lse{0, 1, 1} - 1 = log(1 + 2e) - 1.
        // bag 0: lse{1, 0, 0, 1} - lse{1, 0} = log 2;             bag 1: lse{0, 1} - 1 = log(1 + e) - 1.
        double e = Math.E;
        double expected = 0.25 * (Math.log((e + 2) / (e + 1)) + Math.log(1 + 2 * e) - 1 + Math.log(2) + Math.log(1 + e) - 1);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray v = m.create(new float[][] {{1, 0}, {0, 1}});
            NDArray t = m.create(new float[] {1, 0, 0, 1, 0, 1, 0, 0}, new Shape(2, 2, 2));
            NDArray valid = m.create(new boolean[] {true, true, true, false}, new Shape(2, 2));
            assertEquals(expected, MilNce.milNce(v, t, valid, m.create(1f)).getFloat(), 1e-6);
        }
    }

    @Test
    void oneTextPerBagIsSymmetricInfoNce() {
        SplittableRandom r = new SplittableRandom(4);
        float[] a = new float[5 * 3], b = new float[5 * 3];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) r.nextGaussian();
            b[i] = (float) r.nextGaussian();
        }
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray va = unit(m.create(a, new Shape(5, 3)));
            NDArray vb = unit(m.create(b, new Shape(5, 3)));
            NDArray scale = m.create(7f);
            float mil = MilNce.milNce(va, vb.reshape(5, 1, 3), m.ones(new Shape(5, 1), ai.djl.ndarray.types.DataType.BOOLEAN), scale).getFloat();
            assertEquals(Contrastive.infoNce(va, vb, scale).getFloat(), mil, 1e-5);
        }
    }

    private static NDArray unit(NDArray x) {
        return x.div(x.norm(new int[] {1}, true));
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        // 3 clips, bags of 2 (the last text of bag 2 absent), E = 2; the gradient with respect to the clips
        float[] v = {0.6f, 0.8f, -1f, 0f, 0.28f, -0.96f};
        float[] t = {1, 0, 0.6f, 0.8f, 0, 1, -0.8f, 0.6f, 0.8f, -0.6f, 0, 0};
        GradCheck.check(x -> {
            NDManager m = x.getManager();
            return MilNce.milNce(x, m.create(t, new Shape(3, 2, 2)),
                    m.create(new boolean[] {true, true, true, true, true, false}, new Shape(3, 2)), m.create(3f));
        }, v, new Shape(3, 2), 2e-3);
    }
}
