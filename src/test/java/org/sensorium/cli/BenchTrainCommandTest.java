package org.sensorium.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** `sensorium bench train` end to end on the tiny preset, two timed steps, without the peer. */
class BenchTrainCommandTest {

    @Test
    void tinyTwoStepsPrintsItsRows() {
        Object[] r = MainTest.cli(List.of("bench", "train", "--preset", "tiny", "--batch", "8", "--steps", "2", "--warmup", "1",
                "--profile-steps", "1", "--peak-reps", "2", "--no-peer"));
        assertEquals(0, r[0], r[1] + "\n" + r[2]);
        String out = (String) r[1];
        for (String row : List.of("bench train: preset tiny", "step time", "samples/s", "model FLOPs per step", "achieved",
                "matmul peak", "PyTorch peer           not run (--no-peer)", "model FLOP/s / fp32 matmul peak", "forward video",
                "forward imu", "backward", "gradient norms (clipping)", "optimizer (AdamW)")) {
            assertTrue(out.contains(row), row + " missing in:\n" + out);
        }
        assertTrue(out.contains("batch 8 = 2 micro-batches of 4"), out);
    }

    @Test
    void anObjectiveThatNeedsSecondViewsIsRefusedByName() {
        Object[] r = MainTest.cli(List.of("bench", "train", "--steps", "1", "--warmup", "0", "--no-peer", "--set", "objectives.two_view.weight=1"));
        assertEquals(2, r[0], r[1] + "\n" + r[2]);
        assertTrue(((String) r[2]).contains("objectives"), (String) r[2]);
    }
}
