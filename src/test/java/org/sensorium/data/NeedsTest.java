package org.sensorium.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.sensorium.config.Modality;

class NeedsTest {

    @Test
    void theUnionTakesEverySecondViewTheSpeedsThatAreNotOneTheMostWindowsAndEitherContext() {
        Needs twoView = Needs.ofSecondViews(Set.of(Modality.IMU), List.of(1.0));
        Needs speed = Needs.ofSecondViews(Set.of(Modality.VIDEO), List.of(0.5, 1.0, 2.0));
        Needs all = twoView.and(speed).and(Needs.ofWindows(8)).and(Needs.ofKeyframes()).and(Needs.ofFutureMotion(0.25));
        assertEquals(Set.of(Modality.IMU, Modality.VIDEO), all.secondViews());
        assertEquals(List.of(0.5, 1.0, 2.0), all.speeds());           // RSPNet's speeds win over [1]
        assertEquals(List.of(0.5, 1.0, 2.0), speed.and(twoView).speeds()); // in either order
        assertEquals(8, all.windows());
        assertTrue(all.keyframes());
        assertEquals(0.25, all.futureSeconds());
        assertEquals(Needs.NONE, Needs.NONE.and(Needs.NONE));
        assertFalse(Needs.NONE.keyframes());
        assertThrows(IllegalArgumentException.class, () -> Needs.ofWindows(0));
    }
}
