package org.sensorium.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.sensorium.config.Modality;

/** ELo's search: its label-free score by hand, the weights it draws and mutates, and which trial ranks first. */
class EvolveTest {

    @Test
    void zipfKlByHand() {
        // sizes 2, 1, 1 (s = 1): p = (1/2, 1/4, 1/4); H = 1 + 1/2 + 1/3 = 11/6, q = (6/11, 3/11, 2/11);
        // KL = 1/2 ln(11/12) + 1/4 ln(11/12) + 1/4 ln(11/8) = 3/4 (-0.0870114) + 1/4 (0.3184537) = 0.0143548
        assertEquals(0.0143548, Evolve.zipfKl(new int[] {1, 2, 1}, 1.0), 1e-6);
        // sizes already Zipf: 6, 3, 2 of 11 is exactly q
        assertEquals(0.0, Evolve.zipfKl(new int[] {2, 6, 3}, 1.0), 1e-12);
        // an empty cluster adds nothing: p = (1, 0), q = (2/3, 1/3), KL = ln(3/2)
        assertEquals(Math.log(1.5), Evolve.zipfKl(new int[] {0, 4}, 1.0), 1e-12);
        // one cluster holding everything is far from Zipf; equal clusters are not Zipf either
        assertTrue(Evolve.zipfKl(new int[] {8, 0, 0, 0}, 1.0) > Evolve.zipfKl(new int[] {2, 2, 2, 2}, 1.0));
    }

    @Test
    void drawsAreLogUniformInTheirRangeAndMutationsStayClamped() {
        Map<String, Double> a = Evolve.draw(List.of("contrastive", "two_view"), new SplittableRandom(3));
        assertEquals(a, Evolve.draw(List.of("contrastive", "two_view"), new SplittableRandom(3)));
        a.values().forEach(w -> assertTrue(w >= Evolve.LOW && w <= Evolve.HIGH, a.toString()));
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 0; i < 200; i++) {
            Evolve.mutate(Map.of("x", 9.5, "y", 0.011), r).values()
                    .forEach(w -> assertTrue(w >= Evolve.MIN && w <= Evolve.MAX, String.valueOf(w)));
        }
        assertNotEquals(a, Evolve.mutate(a, new SplittableRandom(7)));
    }

    @Test
    void theRankingFollowsTheFitnessDirectionAndPutsNanLast() {
        Evolve.Trial low = trial(0.1), high = trial(0.5), nan = trial(Double.NaN);
        Evolve.Options zipf = options("zipf", false), r1 = options("mean_r1", false), error = options("masked_segments/video", true);
        assertEquals(List.of(low, high, nan), List.of(nan, high, low).stream().sorted(Evolve.ranking(zipf)).toList());
        assertEquals(List.of(high, low, nan), List.of(nan, low, high).stream().sorted(Evolve.ranking(r1)).toList());
        assertEquals(List.of(low, high, nan), List.of(high, nan, low).stream().sorted(Evolve.ranking(error)).toList());
    }

    private static Evolve.Trial trial(double fitness) {
        return new Evolve.Trial(0, "t" + fitness, Map.of("contrastive", 1.0), Path.of("r"), fitness, fitness, fitness);
    }

    private static Evolve.Options options(String fitness, boolean minimise) {
        return new Evolve.Options(null, List.of(), 1, 2, 1, fitness, minimise, Modality.VIDEO, 8, 1.0, 1, null);
    }
}
