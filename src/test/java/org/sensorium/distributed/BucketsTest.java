package org.sensorium.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import ai.djl.ndarray.NDManager;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.sensorium.model.Params;

class BucketsTest {
    @Test
    void parametersArePackedInCreationOrderUpToTheBucketSize() {
        try (NDManager m = NDManager.newBaseManager(); Params p = new Params(m, 1)) {
            p.normal("a", 0.02f, 4, 4);   // 16 floats
            p.constant("b", 0f, 8);       // 8
            p.normal("c", 0.02f, 40);     // 40: larger than a bucket, alone
            p.constant("d", 1f, 2);       // 2
            assertEquals(List.of(List.of("a", "b"), List.of("c"), List.of("d")), DataParallel.buckets(p.all(), 24));
            assertEquals(List.of(List.of("a", "b", "c", "d")), DataParallel.buckets(p.all(), 1000));
            // a group of one changes nothing and checks nothing
            DataParallel dp = new DataParallel(Collective.local(), p::all, 25, 1);
            dp.broadcastParameters();
            assertNull(dp.checkReplicas(1));
            assertEquals(2, dp.sum(2.0, 3.0).length);
            assertEquals(16, dp.hash().length());
        }
    }
}
