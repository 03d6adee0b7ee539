package org.sensorium.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.sensorium.config.ConfigException;

/** --pretext-train and --pretext-measure-every of `sensorium qa`. */
class QaPretextPhaseTest {

    @Test
    void headsTrainsTheProjectionHeadsOnly() {
        var heads = QaPretextPhase.trains("heads");
        assertTrue(heads.test("head.video.weight"));
        assertTrue(heads.test("head.text.bias"));
        assertFalse(heads.test("trunk.0.attn.qkv.weight"));
        assertFalse(heads.test("stem.video.proj.weight"));
        assertFalse(heads.test("pos.video"));
        assertNull(QaPretextPhase.trains("all"), "all: no filter");
    }

    @Test
    void badOptionsNameTheirFlag() {
        var e = assertThrows(ConfigException.class, () -> new QaPretextPhase.Settings(10, 1e-4f, 0.1f, 1f, 0.25f, "trunk", false, 0, 0f, false));
        assertTrue(e.getMessage().contains("--pretext-train"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> new QaPretextPhase.Settings(10, 1e-4f, 0.1f, 1f, 0.25f, "all", false, -1, 0f, false));
        assertTrue(e.getMessage().contains("--pretext-measure-every"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> new QaPretextPhase.Settings(10, 1e-4f, 0.1f, 1f, 0.25f, "all", false, 0, 1f, false));
        assertTrue(e.getMessage().contains("--pretext-inner-share"), e.getMessage());
    }

    @Test
    void cosineScheduleWarmsUpThenDecaysToZero() {
        // 40 steps: warm-up ceil(0.05 * 40) = 2 steps (lr/2, lr), then cos over the 38 steps left: step 21 is halfway (lr/2), step 40 would be 0
        var s = new QaPretextPhase.Settings(40, 1e-3f, 0.1f, 1f, 0.25f, "all", false, 0, 0f, true).schedule();
        assertEquals(5e-4f, s.at(0), 1e-9f);
        assertEquals(1e-3f, s.at(1), 1e-9f);
        assertEquals(1e-3f, s.at(2), 1e-9f);
        assertEquals(5e-4f, s.at(21), 1e-9f);
        assertEquals(1e-3f * 0.5 * (1 + Math.cos(Math.PI * 37 / 38)), s.at(39), 1e-9f);
        var constant = new QaPretextPhase.Settings(40, 1e-3f, 0.1f, 1f, 0.25f).schedule();
        for (int step : new int[] {0, 1, 21, 39}) {
            assertEquals(1e-3f, constant.at(step), 1e-9f);
        }
    }
}
