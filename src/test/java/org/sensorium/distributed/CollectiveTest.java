package org.sensorium.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class CollectiveTest {

    @Test
    void oneWorkerGetsItsOwnInputBackFromEveryCollective() {
        try (Collective c = Collective.local()) {
            assertEquals(0, c.rank());
            assertEquals(1, c.worldSize());
            float[] x = {1f, -2f, 3f};
            c.allReduce(x);
            assertArrayEquals(new float[] {1f, -2f, 3f}, x);          // the sum over one rank
            float[][] all = c.allGather(x);
            assertEquals(1, all.length);
            assertArrayEquals(x, all[0]);
            x[0] = 9f;
            assertEquals(1f, all[0][0]);                                // a copy, not the caller's array
            assertArrayEquals(new byte[] {4, 2}, c.broadcastBytes(new byte[] {4, 2}, 0));
            assertArrayEquals(new byte[][] {{7}}, c.allGatherBytes(new byte[] {7}));
            c.barrier();
            assertEquals(0.0, c.takeSeconds());
        }
    }
}
