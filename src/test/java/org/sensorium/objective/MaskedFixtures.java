package org.sensorium.objective;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigLoader;
import org.sensorium.data.Batch;
import org.sensorium.config.Modality;

/** A tiny video + IMU model for the masked objectives' tests, and random batches for it. */
final class MaskedFixtures {
    private MaskedFixtures() {}

    /**
     * Width 8, 2 heads, 2 blocks, E = 4. Video: 2 s at 2 fps = 4 frames of 16x16, tubelets 2x8x8 -> 2 time
     * steps x 4 = 8 tokens. IMU: 2 s at 4 Hz = 8 samples, patches of 2 -> 4 tokens.
     */
    static Config tiny(String... extra) {
        List<String> sets = new ArrayList<>(List.of("model.width=8", "model.heads=2", "model.depth=2", "model.embed_dim=4",
                "data.modalities=[video, imu]", "objectives.contrastive.pairs=[imu-video]", "eval.pairs=[imu-video]",
                "modalities.video.height=16", "modalities.video.width=16", "modalities.video.fps=2.0",
                "modalities.imu.rate_hz=4.0", "modalities.imu.patch=2",
                "objectives.masked_tokens.modalities=[video, imu]", "objectives.masked_tokens.top_k_layers=2",
                "objectives.masked_segments.segments=2", "objectives.masked_segments.decoder_width=8",
                "objectives.masked_segments.decoder_depth=1", "objectives.masked_segments.decoder_heads=2"));
        sets.addAll(List.of(extra));
        return ConfigLoader.load(null, sets).config();
    }

    /** B samples of N(0, 1) inputs; present[m] as given (null = every sample has m). */
    static Batch batch(NDManager m, Config c, int b, long seed, Map<Modality, boolean[]> presence) {
        SplittableRandom r = new SplittableRandom(seed);
        Map<Modality, NDArray> inputs = new EnumMap<>(Modality.class);
        Map<Modality, boolean[]> present = new EnumMap<>(Modality.class);
        for (Modality mod : c.activeModalities()) {
            long[] one = c.modalities().inputShape(mod, c.data().clipSeconds());
            long[] shape = new long[one.length + 1];
            shape[0] = b;
            System.arraycopy(one, 0, shape, 1, one.length);
            float[] v = new float[(int) new Shape(shape).size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) r.nextGaussian();
            }
            inputs.put(mod, m.create(v, new Shape(shape)));
            boolean[] all = new boolean[b];
            java.util.Arrays.fill(all, true);
            present.put(mod, presence.getOrDefault(mod, all));
        }
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < b; i++) {
            ids.add("s" + i);
        }
        return new Batch(ids, Collections.nCopies(b, null), inputs, present, Map.of());
    }
}
