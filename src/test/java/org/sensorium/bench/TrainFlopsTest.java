package org.sensorium.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigLoader;
import org.sensorium.config.Modality;

/** The analytic FLOP count on the tiny preset with two modalities, worked out by hand. */
class TrainFlopsTest {

    /**
     * Tiny preset: D = 128, depth 3, mlp_ratio 4, E = 128. Batch 4 as 2 micro-batches of b = 2. IMU: 2 s at 50 Hz,
     * 6 channels, windows of 10 samples: N = 10 tokens of P = 60 values. Scratch text: L = 24 ids, a lookup. One pair.
     * <pre>
     *   per token per block, projections 8 D^2 = 131072, MLP 4 r D^2 = 262144; scores per sequence per block 4 N^2 D
     *   imu, one sample:  stem 2*10*60*128 = 153600;  projections 3*10*131072 = 3932160;  MLP 3*10*262144 = 7864320;
     *                     scores 3*4*100*128 = 153600;  head 2*128*128 = 32768
     *   text, one sample: stem 0;  projections 3*24*131072 = 9437184;  MLP 3*24*262144 = 18874368;
     *                     scores 3*4*576*128 = 884736;  head 32768
     *   micro-batch (b = 2): stems 307200, projections 26738688, scores 2076672, MLP 53477376, heads 131072,
     *                     loss 2*2*2*128 = 1024;  forward 82732032
     *   step: 3 x 82732032 x 2 micro-batches = 496392192
     * </pre>
     */
    @Test
    void tinyImuTextByHand() {
        Config cfg = ConfigLoader.load(null, List.of("model.size=tiny", "data.modalities=[imu,text]", "objectives.contrastive.pairs=[imu-text]",
                "modalities.text.tower=scratch", "train.batch_size=4", "train.accumulate=2")).config();
        TrainFlops.Count c = TrainFlops.of(cfg, Map.of(Modality.IMU, 10, Modality.TEXT, 24));
        assertEquals(307200, c.stems());
        assertEquals(26738688, c.attentionProjections());
        assertEquals(2076672, c.attentionScores());
        assertEquals(53477376, c.mlp());
        assertEquals(131072, c.heads());
        assertEquals(1024, c.losses());
        assertEquals(496392192, c.step());
    }

    /** A pretrained text tower: text skips the trunk; its head projects W = 384 to E: 2 * 384 * 128 = 98304 a sample. */
    @Test
    void pretrainedTextIsItsProjectionOnly() {
        Config cfg = ConfigLoader.load(null, List.of("model.size=tiny", "data.modalities=[imu,text]", "objectives.contrastive.pairs=[imu-text]",
                "modalities.text.tower=pretrained", "train.batch_size=4", "train.accumulate=2")).config();
        TrainFlops.Count c = TrainFlops.of(cfg, Map.of(Modality.IMU, 10));
        assertEquals(2 * 32768 + 2 * 98304, c.heads());
        assertEquals(2 * 153600, c.stems());
        assertEquals(3 * (2 * (153600 + 3932160 + 7864320 + 153600 + 32768) + 2 * 98304 + 1024) * 2, c.step());
    }
}
