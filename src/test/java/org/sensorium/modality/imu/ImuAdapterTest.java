package org.sensorium.modality.imu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.modality.BadInputException;
import org.sensorium.modality.Clip;
import org.sensorium.modality.Item;
import org.sensorium.modality.Fixtures;
import org.sensorium.config.Modality;
import org.sensorium.config.ModalitySpec;

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
        Item it = imu.load(Fixtures.entry(Modality.IMU, ramp(), 0.5, Double.NaN).recording(), new Clip(0.25, 2.0, false, 0));
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
        float[] v = imu.load(Fixtures.entry(Modality.IMU, ramp()).recording(), new Clip(2.5, 2.0, false, 0)).values();
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
        assertBad("manifest.jsonl:7 (id=t1): " + missing + ": line 1: header has no column 'gx' (it has 4 columns: t, ax, ay, az)",
                missing);
    }

    @Test
    void aClipOverAGapIsBadInputAClipElsewhereIsNot() throws Exception {
        // 100 Hz from 0 to 3 s, nothing from 3.00 s to 4.50 s, then 100 Hz again to 8 s
        StringBuilder sb = new StringBuilder("t,ax,ay,az,gx,gy,gz\n");
        for (int i = 0; i <= 800; i++) {
            if (i <= 300 || i >= 450) {
                sb.append(i / 100.0).append(",1,0,0,0,0,0\n");
            }
        }
        Path gappy = Files.writeString(dir.resolve("gappy.csv"), sb);
        BadInputException e = assertThrows(BadInputException.class,
                () -> imu.load(Fixtures.entry(Modality.IMU, gappy).recording(), new Clip(2.0, 2, false, 0)));
        assertEquals("manifest.jsonl:7 (id=t1): " + gappy + ": gap of 1.500 s in ax between samples at 3.000 s and 4.500 s"
                + " (median spacing 0.0100 s) inside the clip [2.000, 4.000) s", e.getMessage());
        assertEquals(100 * 6, imu.load(Fixtures.entry(Modality.IMU, gappy).recording(), new Clip(0.5, 2, false, 0)).values().length);
        assertEquals(100 * 6, imu.load(Fixtures.entry(Modality.IMU, gappy).recording(), new Clip(5.0, 2, false, 0)).values().length);
    }

    /** 1 Hz (amplitude 1) + 12 Hz (amplitude 1) at 100 Hz for 10 s, through a 4 Hz low-pass. */
    @Test
    void lowpassKeeps1HzCuts12HzWithoutDelay() {
        double fs = 100;
        double[] x = new double[1000];
        for (int i = 0; i < x.length; i++) {
            x[i] = Math.sin(2 * Math.PI * i / fs) + Math.sin(2 * Math.PI * 12 * i / fs);
        }
        double[] y = ImuAdapter.filtfilt(x, fs, 4.0);
        // |H(1 Hz)|^2 ~ 0.996 and |H(12 Hz)|^2 ~ 0.01 for a 2nd-order Butterworth run twice
        assertEquals(1.0, amplitude(y, 1, fs), 0.05);
        assertTrue(amplitude(y, 12, fs) < 0.1, "12 Hz left: " + amplitude(y, 12, fs));
        // sin(2 pi t) peaks at t = 4.25 s, sample 425; zero phase keeps it there
        assertEquals(425, argmax(y, 400, 500), 1);
    }

    /** Amplitude of the f Hz component over the middle 4 s (whole periods of 1 and 12 Hz). */
    private static double amplitude(double[] y, double f, double fs) {
        double s = 0;
        double c = 0;
        for (int i = 300; i < 700; i++) {
            s += y[i] * Math.sin(2 * Math.PI * f * i / fs);
            c += y[i] * Math.cos(2 * Math.PI * f * i / fs);
        }
        return 2.0 / 400 * Math.hypot(s, c);
    }

    private static int argmax(double[] y, int from, int to) {
        int best = from;
        for (int i = from; i < to; i++) {
            best = y[i] > y[best] ? i : best;
        }
        return best;
    }

    @Test
    void constantSignalPassesTheFilterUnchanged() {
        double[] y = ImuAdapter.filtfilt(new double[] {9.81, 9.81, 9.81, 9.81}, 32, 5);
        for (double v : y) {
            assertEquals(9.81, v, 1e-9);
        }
    }

    @Test
    void zscoreGivesMeanZeroStdOnePerChannel() throws Exception {
        ModalitySpec.Imu spec = new ModalitySpec.Imu(50.0, List.of("ax", "ay", "az"), 10, 9.81, 3.14159, 5.0, "zscore");
        Path walk = Fixtures.shared("imu/hmp/Walk/Accelerometer-2011-03-24-09-51-07-walk-f1.txt");
        float[] v = new ImuAdapter(spec, 4.0).load(Fixtures.entry(Modality.IMU, walk).recording(), new Clip(1, 4, false, 0)).values();
        for (int c = 0; c < 3; c++) {
            double mean = 0;
            double sq = 0;
            for (int i = 0; i < 200; i++) {
                mean += v[i * 3 + c] / 200.0;
                sq += v[i * 3 + c] * v[i * 3 + c] / 200.0;
            }
            assertEquals(0.0, mean, 1e-5, "mean of channel " + c);
            assertEquals(1.0, Math.sqrt(sq - mean * mean), 1e-5, "std of channel " + c);
        }
    }

    @Test
    void zscoreOfAConstantChannelIsZeroNotNaN() throws Exception {
        ModalitySpec.Imu spec = new ModalitySpec.Imu(50.0, Fixtures.IMU.channels(), 10, 9.81, 3.14159, 0.0, "zscore");
        float[] v = new ImuAdapter(spec, 2.0).load(Fixtures.entry(Modality.IMU, ramp()).recording(), new Clip(0, 2, false, 0)).values();
        for (int i = 0; i < 100; i++) {
            assertEquals(0.0f, v[i * 6 + 2], 1e-6f, "az = 9.81 constant, std floored at 1e-6");
        }
    }

    @Test
    void newKeysAreValidated() {
        org.sensorium.config.ConfigException e = assertThrows(org.sensorium.config.ConfigException.class,
                () -> new ModalitySpec.Imu(50.0, Fixtures.IMU.channels(), 10, 9.81, 3.14159, -1.0, "scale"));
        assertTrue(e.getMessage().contains("modalities.imu.lowpass_hz"), e.getMessage());
        e = assertThrows(org.sensorium.config.ConfigException.class,
                () -> new ModalitySpec.Imu(50.0, Fixtures.IMU.channels(), 10, 9.81, 3.14159, 0.0, "minmax"));
        assertTrue(e.getMessage().contains("modalities.imu.normalize"), e.getMessage());
    }

    private void assertBad(String message, Path file) {
        BadInputException e = assertThrows(BadInputException.class,
                () -> imu.load(Fixtures.entry(Modality.IMU, file).recording(), new Clip(0, 2, false, 0)));
        assertEquals(message, e.getMessage());
    }

    private static ModalitySpec.Imu augmented(boolean rotate, double scale, double jitter) {
        ModalitySpec.Imu s = Fixtures.IMU;
        return new ModalitySpec.Imu(s.rateHz(), s.channels(), s.patch(), s.accelScale(), s.gyroScale(), s.lowpassHz(), s.normalize(),
                rotate, scale, jitter);
    }

    @Test
    void aRandomRotationTurnsAccelerationAndRateTogetherAndKeepsTheirLengths() throws Exception {
        // The ramp: a = (t, 0, 9.81) / 9.81, g = (0, 0, 2t) / pi. A rotation keeps |a|, |g| and a . g at every sample.
        ImuAdapter rotating = new ImuAdapter(augmented(true, 0, 0), 2.0);
        var e = Fixtures.entry(Modality.IMU, ramp(), 0.5, Double.NaN);
        float[] plain = rotating.load(e.recording(), new Clip(0.25, 2.0, false, 9)).values(); // evaluation: never augmented
        assertArrayEquals(imu.load(e.recording(), new Clip(0.25, 2.0, false, 9)).values(), plain);
        float[] turned = rotating.load(e.recording(), new Clip(0.25, 2.0, true, 9)).values();
        float[] again = rotating.load(e.recording(), new Clip(0.25, 2.0, true, 9)).values();
        assertArrayEquals(turned, again); // the same seed, the same rotation
        boolean moved = false;
        for (int t = 0; t < 100; t++) {
            int o = t * 6;
            assertEquals(norm(plain, o), norm(turned, o), 1e-5);
            assertEquals(norm(plain, o + 3), norm(turned, o + 3), 1e-5);
            assertEquals(dot(plain, o, o + 3), dot(turned, o, o + 3), 1e-5);
            moved |= Math.abs(plain[o + 2] - turned[o + 2]) > 1e-3;
        }
        assertTrue(moved, "the rotation left az where it was");
        double[][] r = ImuAdapter.randomRotation(new java.util.SplittableRandom(3));
        double det = r[0][0] * (r[1][1] * r[2][2] - r[1][2] * r[2][1]) - r[0][1] * (r[1][0] * r[2][2] - r[1][2] * r[2][0])
                + r[0][2] * (r[1][0] * r[2][1] - r[1][1] * r[2][0]);
        assertEquals(1.0, det, 1e-12); // a rotation, not a reflection
    }

    @Test
    void scalingMultipliesTheWholeWindowByOneFactorAndJitterAddsNoise() throws Exception {
        var e = Fixtures.entry(Modality.IMU, ramp(), 0.5, Double.NaN);
        float[] plain = imu.load(e.recording(), new Clip(0.25, 2.0, false, 4)).values();
        float[] scaled = new ImuAdapter(augmented(false, 0.5, 0), 2.0).load(e.recording(), new Clip(0.25, 2.0, true, 4)).values();
        double factor = scaled[2] / plain[2]; // az = 1 everywhere
        assertTrue(factor >= 0.5 && factor <= 1.5 && Math.abs(factor - 1) > 1e-6, "factor " + factor);
        for (int i = 0; i < plain.length; i++) {
            assertEquals(plain[i] * factor, scaled[i], 1e-5);
        }
        float[] noisy = new ImuAdapter(augmented(false, 0, 0.1), 2.0).load(e.recording(), new Clip(0.25, 2.0, true, 4)).values();
        double sq = 0;
        for (int i = 0; i < plain.length; i++) {
            sq += (noisy[i] - plain[i]) * (noisy[i] - plain[i]);
        }
        assertEquals(0.1, Math.sqrt(sq / plain.length), 0.01); // 600 draws of sigma 0.1
        assertThrows(org.sensorium.config.ConfigException.class, () -> augmented(false, 1.0, 0));
        assertThrows(org.sensorium.config.ConfigException.class, () -> augmented(false, 0, -0.1));
    }

    private static double norm(float[] x, int o) {
        return Math.sqrt(dot(x, o, o));
    }

    private static double dot(float[] x, int a, int b) {
        return (double) x[a] * x[b] + (double) x[a + 1] * x[b + 1] + (double) x[a + 2] * x[b + 2];
    }
}
