package org.sensorium.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.config.Json;

/** `sensorium bench train` end to end on the tiny preset, two timed steps, without the peer. */
class BenchTrainCommandTest {

    @Test
    void tinyTwoStepsPrintsItsRows(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("train.json");
        Object[] r = MainTest.cli(List.of("bench", "train", "--preset", "tiny", "--batch", "8", "--steps", "2", "--warmup", "1",
                "--profile-steps", "1", "--peak-reps", "2", "--no-peer", "--out", json.toString()));
        assertEquals(0, r[0], r[1] + "\n" + r[2]);
        String out = (String) r[1];
        for (String row : List.of("bench train: preset tiny", "step time", "samples/s", "model FLOPs per step", "achieved",
                "matmul peak", "PyTorch peer           not run (--no-peer)", "model FLOP/s / fp32 matmul peak", "forward video",
                "forward imu", "backward", "gradient norms (clipping)", "optimizer (AdamW)")) {
            assertTrue(out.contains(row), row + " missing in:\n" + out);
        }
        assertTrue(out.contains("batch 8 = 2 micro-batches of 4"), out);
        Map<String, Object> written = Json.read(json);
        assertEquals(2, ((List<?>) written.get("step_s")).size());
        assertEquals(2, ((List<?>) written.get("peak_matmul_s")).size());
        assertTrue(((Map<?, ?>) written.get("phases_s")).containsKey("backward"), written.toString());
    }

    @Test
    void anObjectiveThatNeedsSecondViewsIsRefusedByName() {
        Object[] r = MainTest.cli(List.of("bench", "train", "--steps", "1", "--warmup", "0", "--no-peer", "--set", "objectives.two_view.weight=1"));
        assertEquals(2, r[0], r[1] + "\n" + r[2]);
        assertTrue(((String) r[2]).contains("objectives"), (String) r[2]);
    }
}
