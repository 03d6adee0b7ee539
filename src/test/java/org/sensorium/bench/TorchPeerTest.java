package org.sensorium.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigLoader;

/**
 * The PyTorch peer builds a model of Sensorium's parameter count for the same config (it exits when the counts
 * differ) and runs a step; skipped without a python3 that has torch ($SENSORIUM_PYTHON, /usr/bin/python3).
 */
class TorchPeerTest {

    private static TorchPeer.Outcome peer(String python, List<String> sets) throws Exception {
        Config cfg = ConfigLoader.load(null, sets).config();
        TrainBench.Options o = new TrainBench.Options(1, 0, 1, 0, 1, null);
        return TorchPeer.run(python, cfg, TrainBench.run(cfg, o), o);
    }

    @Test
    void thePeerMatchesOurParameterCountWithEitherTextTower() throws Exception {
        String python = TorchPeer.python();
        assumeTrue(python != null, "no python3 with torch here");
        // The scratch tower at the tiny preset: 4,677,121 parameters, the shared replica's count.
        TorchPeer.Outcome s = peer(python, List.of("modalities.text.tower=scratch", "train.batch_size=4"));
        assertNull(s.why(), s.why());
        assertEquals(1, s.stepSeconds().size());
        TorchPeer.Outcome p = peer(python, List.of("train.batch_size=4", "model.dropout=0.1", "model.drop_path=0.1"));
        assertNull(p.why(), p.why());
    }

    @Test
    void aVariantTheReplicaLacksIsNamed() {
        Config cfg = ConfigLoader.load(null, List.of("model.pool=cls")).config();
        assertTrue(TorchPeer.unsupported(cfg).contains("model.pool cls"));
    }
}
