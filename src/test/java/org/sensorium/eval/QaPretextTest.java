package org.sensorium.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.sensorium.objective.GradCheck;

class QaPretextTest {
    private static final boolean[][] DISTINCT = {{true, false}, {false, true}};

    @Test
    void questionPredictionWorkedByHand() {
        try (NDManager m = NDManager.newBaseManager()) {
            // contexts and questions the two unit axes, tau 1: S = I, each row -log(e / (e + 1)) = log(1 + e^-1)
            NDArray eye = m.eye(2);
            assertEquals(Math.log(1 + Math.exp(-1)), QaPretext.questionPrediction(eye, eye, DISTINCT, 1f).getFloat(), 1e-6);
            // tau 0.5 doubles the logits: log(1 + e^-2); lengths do not matter (unit rows)
            assertEquals(Math.log(1 + Math.exp(-2)), QaPretext.questionPrediction(eye.mul(m.create(3f)), eye, DISTINCT, 0.5f).getFloat(), 1e-6);
            // both items ask the same text: the other column is no negative, softmax over one column, loss 0
            boolean[][] same = {{true, true}, {true, true}};
            assertEquals(0, QaPretext.questionPrediction(eye, eye, same, 1f).getFloat(), 1e-6);
        }
    }

    @Test
    void maskedAnswerWorkedByHand() {
        try (NDManager m = NDManager.newBaseManager()) {
            // one item, E = 2: context (1, 0), masked (1, 0) -> a = (1, 0); answers t_k = (0, 0), (-1, 1), (-2, 0)
            // -> p = unit((1, 0)), unit((0, 1)), unit((-1, 0)) -> T = [1, 0, -1] at tau 1;
            // correct 0: -log(e / (e + 1 + e^-1)) = log(1 + e^-1 + e^-2)
            NDArray context = m.create(new float[] {1, 0}, new Shape(1, 2));
            NDArray answers = m.create(new float[] {0, 0, -1, 1, -2, 0}, new Shape(1, 3, 2));
            float l = QaPretext.maskedAnswer(context, context, answers, new int[] {0}, 1f).getFloat();
            assertEquals(Math.log(1 + Math.exp(-1) + Math.exp(-2)), l, 1e-6);
            // correct 2 (the opposite direction): -log(e^-1 / (e + 1 + e^-1)) = 2 + log(1 + e^-1 + e^-2)
            float wrong = QaPretext.maskedAnswer(context, context, answers, new int[] {2}, 1f).getFloat();
            assertEquals(2 + Math.log(1 + Math.exp(-1) + Math.exp(-2)), wrong, 1e-6);
        }
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        float[] ctx = {0.3f, -0.2f, 0.5f, 0.1f, 0.4f, -0.6f};            // (2, 3)
        float[] q = {0.2f, 0.7f, -0.1f, -0.5f, 0.3f, 0.2f};              // (2, 3)
        float[] ans = {0.1f, 0.2f, 0.3f, -0.3f, 0.5f, 0.1f, 0.6f, -0.2f, 0.1f,
                       0.2f, -0.4f, 0.3f, 0.5f, 0.5f, -0.1f, -0.2f, 0.1f, 0.4f}; // (2, 3, 3)
        GradCheck.check(x -> QaPretext.questionPrediction(x, x.getManager().create(q, new Shape(2, 3)), DISTINCT, 0.5f),
                ctx, new Shape(2, 3), 2e-3);
        GradCheck.check(x -> QaPretext.questionPrediction(x.getManager().create(ctx, new Shape(2, 3)), x, DISTINCT, 0.5f),
                q, new Shape(2, 3), 2e-3);
        GradCheck.check(x -> QaPretext.maskedAnswer(x, x.getManager().create(q, new Shape(2, 3)),
                x.getManager().create(ans, new Shape(2, 3, 3)), new int[] {1, 2}, 0.5f), ctx, new Shape(2, 3), 2e-3);
        GradCheck.check(x -> QaPretext.maskedAnswer(x.getManager().create(ctx, new Shape(2, 3)), x.getManager().create(q, new Shape(2, 3)),
                x, new int[] {1, 2}, 0.5f), ans, new Shape(2, 3, 3), 2e-3);
    }

    @Test
    void heldOutQuestionR1WorkedByHand() {
        // questions q0 = (1, 0), q1 = (0, 1), q2 = (-1, 0); four items asking 0, 1, 1, 2
        float[][] questions = {{1, 0}, {0, 1}, {-1, 0}};
        float[][] context = {
            {2, 0.5f},    // nearest q0 (cos 0.97): its own, a hit
            {0.1f, 1},    // nearest q1: a hit
            {1, 0.2f},    // nearest q0, asks q1: a miss
            {-1, -0.5f},  // nearest q2 (cos 0.89 against -0.45 and -0.89): a hit
        };
        QaPretext.QuestionR1 r = QaPretext.questionR1(context, questions, new int[] {0, 1, 1, 2});
        assertEquals(0.75, r.r1(), 1e-9);                           // 3 of 4 items
        assertEquals((1 + 0.5 + 1) / 3.0, r.balancedR1(), 1e-9);    // q0 1/1, q1 1/2, q2 1/1
        assertEquals(1 / 3.0, r.chance(), 1e-9);                   // 3 distinct questions
        assertEquals(0.5, r.frequent(), 1e-9);                     // q1 is asked by 2 of 4
        assertArrayEquals(new double[] {1, 0.5, 1}, r.hitRate(), 1e-9);          // per question
        assertArrayEquals(new double[] {0.5, 0.25, 0.25}, r.named(), 1e-9);      // items 0 and 2 name q0, 1 q1, 3 q2
    }

    @Test
    void genericQuestionsLeftOutAboveTheShare() {
        // six items: "a" asked 3 times (share 1/2), "c" twice (1/3), "b" once (1/6)
        List<String> asked = List.of("a", "a", "b", "a", "c", "c");
        // share 0.25: more than 1.5 items -> "a" and "c" are left out, only "b" stays
        assertArrayEquals(new boolean[] {true, true, false, true, true, true}, QaPretext.generic(asked, 0.25));
        // share 0.4: more than 2.4 items -> "a" only
        assertArrayEquals(new boolean[] {true, true, false, true, false, false}, QaPretext.generic(asked, 0.4));
        // share 0.5: "a" is asked of exactly 3 = 0.5 x 6, not more: nothing is left out; nor at 1
        assertArrayEquals(new boolean[6], QaPretext.generic(asked, 0.5));
        assertArrayEquals(new boolean[6], QaPretext.generic(asked, 1));
        // the sample set's shape: "what moved?" is half of all items, each object question one of 8 x 1/16
        List<String> sample = new java.util.ArrayList<>();
        for (int i = 0; i < 8; i++) {
            sample.addAll(List.of("what moved?", "which way does object " + i + " move?"));
        }
        boolean[] left = QaPretext.generic(sample, 0.25);
        for (int i = 0; i < sample.size(); i++) {
            assertEquals(i % 2 == 0, left[i], sample.get(i));
        }
        assertThrows(IllegalArgumentException.class, () -> QaPretext.generic(asked, 0));
    }

    @Test
    void heldOutMaskedAccuracyWorkedByHand() {
        float[][] context = {{1, 0}, {0, 1}};
        float[][] masked = {{0, 1}, {1, 0}};
        float[][][] answers = {
            {{0, 1}, {0, -1}},       // c + m = (1, 1); c + t0 = (1, 1) cos 1, c + t1 = (1, -1) cos 0: picks 0, right
            {{-1, 0}, {1, 0.5f}},    // c + m = (1, 1); c + t0 = (-1, 1) cos 0, c + t1 = (1, 1.5) cos 0.98: picks 1, wrong
        };
        assertEquals(0.5, QaPretext.maskedAccuracy(context, masked, answers, new int[] {0, 0}), 1e-9);
        assertEquals(1.0, QaPretext.maskedAccuracy(context, masked, answers, new int[] {0, 1}), 1e-9);
    }

    @Test
    void hitsAndBalancedR1ByHand() {
        // questions the unit axes; c0 = (2, 1) is nearest q0 (cosine 0.894 against 0.447): asks q0, a hit;
        // c1 = (1, 3) is nearest q1 but asks q0: a miss; c2 = (0, -1): cosine 0 with q0, -1 with q1, names q0, asks q1: a miss
        float[][] questions = {{1, 0}, {0, 1}}, contexts = {{2, 1}, {1, 3}, {0, -1}};
        int[] asked = {0, 0, 1};
        assertArrayEquals(new boolean[] {true, false, false}, QaPretext.hits(contexts, questions, asked));
        // hits T F T: q0's rate 1/2, q1's 1/1 -> balanced (0.5 + 1) / 2 = 0.75 (micro would be 2/3)
        assertEquals(0.75, QaPretext.balanced(new boolean[] {true, false, true}, asked, new int[] {0, 1, 2}), 1e-12);
        // picking item 0 twice and item 2: q0 1, q1 1 -> 1
        assertEquals(1.0, QaPretext.balanced(new boolean[] {true, false, true}, asked, new int[] {0, 0, 2}), 1e-12);
    }

    @Test
    void bootstrapIntervalsOfBalancedR1() {
        // 10 items ask q0, all missed; 10 ask q1, all hit: any resample holding both questions has balanced R@1
        // (0 + 1) / 2 = 0.5 whatever it draws, so the interval is [0.5, 0.5]
        int[] asked = new int[20];
        boolean[] hit = new boolean[20];
        for (int i = 10; i < 20; i++) {
            asked[i] = 1;
            hit[i] = true;
        }
        QaPretext.Interval flat = QaPretext.balancedR1Interval(null, hit, asked, 1000, 5);
        assertEquals(0.5, flat.value(), 1e-12);
        assertEquals(0.5, flat.lo(), 1e-12);
        assertEquals(0.5, flat.hi(), 1e-12);
        // the same hits before and after: the paired change is 0 in every resample
        QaPretext.Interval none = QaPretext.balancedR1Interval(hit, hit, asked, 1000, 5);
        assertEquals(0, none.lo(), 1e-12);
        assertEquals(0, none.hi(), 1e-12);
        // after hits every q0 item too: change (1 + 1) / 2 - 0.5 = 0.5 in every resample
        boolean[] all = new boolean[20];
        java.util.Arrays.fill(all, true);
        QaPretext.Interval up = QaPretext.balancedR1Interval(hit, all, asked, 1000, 5);
        assertEquals(0.5, up.value(), 1e-12);
        assertEquals(0.5, up.lo(), 1e-12);
        // q1 half hit (items 10-14): value (0 + 0.5) / 2 = 0.25, and the interval now has room around it
        for (int i = 15; i < 20; i++) {
            hit[i] = false;
        }
        QaPretext.Interval mixed = QaPretext.balancedR1Interval(null, hit, asked, 1000, 5);
        assertEquals(0.25, mixed.value(), 1e-12);
        assertTrue(mixed.lo() < 0.25 && mixed.hi() > 0.25 && mixed.lo() >= 0 && mixed.hi() <= 0.5, mixed.toString());
        assertEquals(mixed, QaPretext.balancedR1Interval(null, hit, asked, 1000, 5), "seeded: the same interval twice");
    }

    @Test
    void spreadPicksEveryFourthRecordingWithAllItsItems() {
        // 8 recordings a..h, two items each (a, a, b, b, ...): share 0.25 picks r = 3 and 7 (floor(4/4) > floor(3/4),
        // floor(8/4) > floor(7/4)), i.e. d and h, items 6, 7, 14, 15
        List<String> rec = new java.util.ArrayList<>();
        for (char c = 'a'; c <= 'h'; c++) {
            rec.add(String.valueOf(c));
            rec.add(String.valueOf(c));
        }
        boolean[] picked = QaPretext.spread(rec, 0.25);
        for (int i = 0; i < 16; i++) {
            assertEquals(i == 6 || i == 7 || i == 14 || i == 15, picked[i], "item " + i);
        }
        // share 0.5: r = 1, 3, 5, 7 (b d f h); share 0: none
        assertEquals(8, java.util.stream.IntStream.range(0, 16).filter(i -> QaPretext.spread(rec, 0.5)[i]).count());
        assertTrue(QaPretext.spread(rec, 0.5)[2] && !QaPretext.spread(rec, 0.5)[0]);
        assertEquals(0, java.util.stream.IntStream.range(0, 16).filter(i -> QaPretext.spread(rec, 0)[i]).count());
    }
}
