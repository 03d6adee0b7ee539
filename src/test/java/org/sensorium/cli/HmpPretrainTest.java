package org.sensorium.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.config.Json;

/**
 * configs/hmp-imu.yaml on the real HMP trials (README, "HMP"): two-view IMU pretraining used to collapse to
 * NT-Xent's flat value ln(2n - 1) (every embedding the same). 150 steps of a smaller trunk must stay well below it
 * and find a held-out trial's second window more often than before the first step.
 */
class HmpPretrainTest {

    @Test
    void twoViewOnHmpLearnsInsteadOfCollapsing(@TempDir Path dir) throws Exception {
        Object[] r = MainTest.cli(List.of("pretrain", "--config", "configs/hmp-imu.yaml", "--set", "run.dir=" + dir, "--set", "run.name=hmp",
                "--set", "train.steps=150", "--set", "train.warmup_steps=5", "--set", "model.depth=1", "--set", "train.progress=false",
                "--set", "eval.report=false"));
        assertEquals(0, r[0], (String) r[2]);
        Map<String, Object> summary = Json.read(dir.resolve("hmp/summary.json"));
        double flat = Math.log(2 * 64 - 1);                                  // batch 64 in one micro-batch: ln 127
        double loss = ((Number) summary.get("final_loss")).doubleValue();
        assertTrue(loss < flat - 1, "final loss " + loss + " against the collapsed " + flat);
        Map<?, ?> r1 = (Map<?, ?>) ((Map<?, ?>) summary.get("held_out")).get("two_view/imu/R@1");
        double start = ((Number) r1.get("start")).doubleValue(), end = ((Number) r1.get("end")).doubleValue();
        assertTrue(start < 0.5, "two different windows of a trial are not the same window: R@1 at step 0 " + start);
        assertTrue(end > start, "held-out two-view R@1 " + start + " -> " + end);
    }
}
