package org.sensorium.objective;

import org.sensorium.modality.Recording;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.sensorium.modality.Clip;
import org.sensorium.data.Loader;
import org.sensorium.data.ManifestEntry;
import org.sensorium.config.Modality;

class TwoViewTest {

    @Test
    void ntXentByHand() {
        // Z = [e1, e2, e1, e2], tau = 1. Row 0 of Z Z^T without itself: (e2, e1, e2) -> (0, 1, 0); its positive
        // (the other view, index 2) scores 1: -log(e / (1 + e + 1)) = log(2 + e) - 1 = 0.551445. Every row alike.
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray z = m.create(new float[][] {{1, 0}, {0, 1}});
            assertEquals(Math.log(2 + Math.E) - 1, TwoView.ntXent(z, z, 1f).getFloat(), 1e-6);
            // tau = 0.5 doubles every score: -log(e^2 / (1 + e^2 + 1)) = log(2 + e^2) - 2 = 0.230939
            assertEquals(Math.log(2 + Math.exp(2)) - 2, TwoView.ntXent(z, z, 0.5f).getFloat(), 1e-6);
        }
    }

    @Test
    void secondClipGapsFallLinearly() {
        // span 10 s, clip 2 s: slack 8. From a first clip at 0 the second starts at the gap g itself, with
        // CDF F(g) = 1 - (1 - g/8)^2: F(4) = 3/4, F(2) = 7/16.
        ManifestEntry e = new ManifestEntry("v", "train", null,
                Map.of(Modality.IMU, new Recording.Source(Path.of("v.csv"), 0, 10)), List.of(), Path.of("m.jsonl"), 1);
        Clip first = new Clip(0, 2, true, 1);
        int n = 20000, under4 = 0, under2 = 0;
        for (int s = 0; s < n; s++) {
            double start = Loader.secondClip(e, first, s, 2.0, 1.0).start();
            under4 += start < 4 ? 1 : 0;
            under2 += start < 2 ? 1 : 0;
        }
        assertEquals(0.75, under4 / (double) n, 0.01);
        assertEquals(7 / 16.0, under2 / (double) n, 0.01);
        // from the middle the second clip goes either way and stays inside the span
        Clip middle = new Clip(4, 2, true, 1);
        for (int s = 0; s < 200; s++) {
            double start = Loader.secondClip(e, middle, s, 2.0, 1.0).start();
            assertEquals(true, start >= 0 && start <= 8, "start " + start);
        }
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        float[] z1 = {0.6f, 0.8f, -1f, 0f, 0.28f, -0.96f};
        float[] z2 = {0.8f, 0.6f, -0.6f, 0.8f, 0f, -1f};
        GradCheck.check(x -> TwoView.ntXent(x, x.getManager().create(z2, new ai.djl.ndarray.types.Shape(3, 2)), 0.5f),
                z1, new ai.djl.ndarray.types.Shape(3, 2), 2e-3);
    }
}
