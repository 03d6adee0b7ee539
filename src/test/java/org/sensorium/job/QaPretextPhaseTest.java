package org.sensorium.job;

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
        var e = assertThrows(ConfigException.class, () -> new QaPretextPhase.Settings(10, 1e-4f, 0.1f, 1f, 0.25f, "trunk", false, 0, 0f));
        assertTrue(e.getMessage().contains("--pretext-train"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> new QaPretextPhase.Settings(10, 1e-4f, 0.1f, 1f, 0.25f, "all", false, -1, 0f));
        assertTrue(e.getMessage().contains("--pretext-measure-every"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> new QaPretextPhase.Settings(10, 1e-4f, 0.1f, 1f, 0.25f, "all", false, 0, 1f));
        assertTrue(e.getMessage().contains("--pretext-inner-share"), e.getMessage());
    }
}
