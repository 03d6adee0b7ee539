package org.sensorium.eval;

import org.sensorium.modality.Recording;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.sensorium.data.ManifestEntry;
import org.sensorium.config.Modality;

class TemporalSegmentationTest {
    static final ManifestEntry E = new ManifestEntry("r", "test", null, null,
            Map.of(Modality.IMU, new Recording.Source(Path.of("r.csv"), 0, 8.0)), List.of(),
            List.of(new ManifestEntry.Segment(0, 8, "a")), Path.of("m.jsonl"), 1);

    @Test
    void tilesCoverTheRecordingOnceEach() {
        // 8 s in clips of 3 s: [0, 3) and [3, 6) back to back, then [5, 8) whose frames count from 6 s.
        List<TemporalSegmentation.Job> t = TemporalSegmentation.tiles(E, 8.0, 3.0, 1);
        assertEquals(3, t.size());
        assertEquals(List.of(0.0, 3.0, 5.0), t.stream().map(j -> j.clips().get(0).start()).toList());
        assertEquals(List.of(0.0, 3.0, 6.0), t.stream().map(TemporalSegmentation.Job::countFrom).toList());
        assertEquals(2, TemporalSegmentation.tiles(E, 8.0, 4.0, 1).size());     // an exact fit leaves no remainder
        assertEquals(1, TemporalSegmentation.tiles(E, Double.NaN, 3.0, 1).size()); // unknown span: one clip at 0
    }

    @Test
    void windowsAreTheMiddlesOfEqualParts() {
        // 8 s, clips of 2 s: starts may lie in [0, 6], cut in 3 parts of 2 s: windows start at 1, 3, 5.
        TemporalSegmentation.Job j = TemporalSegmentation.windows(E, 3, 2.0, 1);
        assertEquals(List.of(1.0, 3.0, 5.0), j.clips().stream().map(c -> c.start()).toList());
        assertEquals(0.0, j.countFrom());
    }
}
