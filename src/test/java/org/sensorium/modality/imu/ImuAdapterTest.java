package org.sensorium.modality.imu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.data.BadInputException;
import org.sensorium.data.Clip;
import org.sensorium.data.Item;
import org.sensorium.modality.Fixtures;
import org.sensorium.modality.Modality;

class ImuAdapterTest {
    @TempDir Path dir;
    private final ImuAdapter imu = new ImuAdapter(Fixtures.IMU, 2.0);

    /** 100 Hz for 3 s, columns shuffled: ax = t (m/s^2), gz = 2t (rad/s), az = 9.81, others 0. */
    private Path ramp() throws IOException {
        StringBuilder sb = new StringBuilder("gz,t,ay,ax,az,gx,gy,extra\n");
        for (int i = 0; i <= 300; i++) {
            double t = i / 100.0;
            sb.append(String.format(Locale.ROOT, "%s,%s,0,%s,9.81,0,0,x%n", 2 * t, t, t));
        }
        return Files.writeString(dir.resolve("ramp.csv"), sb);
    }

    @Test
    void resamplesALinearRampTo50Hz() throws Exception {
        Item it = imu.load(Fixtures.entry(Modality.IMU, ramp(), 0.5, Double.NaN), new Clip(0.25, 2.0, false, 0));
        assertArrayEquals(new long[] {100, 6}, it.shape());
        float[] v = it.values();
        for (int i = 0; i < 100; i++) {
            double t = 0.75 + i * 0.02; // 0.75 .. 2.73 s, inside the 0..3 s recording
            assertEquals(t / 9.81, v[i * 6], 1e-6, "ax at " + t);
            assertEquals(0.0, v[i * 6 + 1], 1e-9);
            assertEquals(1.0, v[i * 6 + 2], 1e-6);
            assertEquals(2 * t / 3.14159, v[i * 6 + 5], 1e-6, "gz at " + t);
        }
    }

    @Test
    void clampsToTheRecordingEnds() throws Exception {
        // from 2.5 s: 2.50, 2.52, ..., 2.98, 3.00, then t > 3 s clamps to the last sample (ax = 3)
        float[] v = imu.load(Fixtures.entry(Modality.IMU, ramp()), new Clip(2.5, 2.0, false, 0)).values();
        assertEquals(2.98 / 9.81, v[24 * 6], 1e-6);
        assertEquals(3.0 / 9.81, v[25 * 6], 1e-6);
        assertEquals(3.0 / 9.81, v[99 * 6], 1e-6);
    }

    @Test
    void nanAndNonMonotonicTimeNameTheLine() throws IOException {
        String header = "t,ax,ay,az,gx,gy,gz\n";
        Path nan = Files.writeString(dir.resolve("nan.csv"), header + "0,0,0,0,0,0,0\n0.01,0,NaN,0,0,0,0\n");
        assertBad("manifest.jsonl:7 (id=t1): " + nan + ": line 3: column 'ay': not finite (NaN)", nan);
        Path back = Files.writeString(dir.resolve("back.csv"), header + "0,0,0,0,0,0,0\n0.02,0,0,0,0,0,0\n0.01,0,0,0,0,0,0\n");
        assertBad("manifest.jsonl:7 (id=t1): " + back + ": line 4: time 0.01 is not after the previous 0.02", back);
        Path missing = Files.writeString(dir.resolve("missing.csv"), "t,ax,ay,az\n0,0,0,0\n1,0,0,0\n");
        assertBad("manifest.jsonl:7 (id=t1): " + missing + ": line 1: header has no column 'gx' (found [t, ax, ay, az])",
                missing);
    }

    private void assertBad(String message, Path file) {
        BadInputException e = assertThrows(BadInputException.class,
                () -> imu.load(Fixtures.entry(Modality.IMU, file), new Clip(0, 2, false, 0)));
        assertEquals(message, e.getMessage());
    }
}
