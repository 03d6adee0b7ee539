package org.sensorium.modality.imu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.modality.BadInputException;
import org.sensorium.modality.Clip;
import org.sensorium.modality.Item;
import org.sensorium.modality.Fixtures;
import org.sensorium.config.Modality;
import org.sensorium.config.ModalitySpec;
import org.sensorium.modality.imu.ImuReaders.Channel;
import org.sensorium.modality.imu.ImuReaders.Signals;

class ImuReadersTest {
    private static final List<String> ALL = List.of("ax", "ay", "az", "gx", "gy", "gz");
    private static final ModalitySpec.Imu ACCEL_ONLY =
            new ModalitySpec.Imu(50.0, List.of("ax", "ay", "az"), 10, 9.81, 3.14159, 0.0, "scale");
    private static final Path WALK = Fixtures.shared("imu/hmp/Walk/Accelerometer-2011-03-24-09-51-07-walk-f1.txt");

    @TempDir Path dir;

    @Test
    void hmpDecodesCodesToMetresPerSecondSquaredAt32Hz() throws IOException {
        Path f = Files.writeString(dir.resolve("a.txt"), "0 63 31\n0 63 31\n");
        Signals r = ImuReaders.read(f, List.of("ax", "ay", "az"));
        assertEquals(-1.5 * 9.81, r.channels().get(0).v()[0], 1e-12);
        assertEquals(1.5 * 9.81, r.channels().get(1).v()[0], 1e-12);
        assertEquals((-1.5 + 31.0 / 63 * 3) * 9.81, r.channels().get(2).v()[1], 1e-12); // -0.0714 g
        assertArrayEquals(new double[] {0, 1 / 32.0}, r.channels().get(0).t());
    }

    @Test
    void realHmpTrialLoadsWithThreeChannels() throws BadInputException {
        Item it = new ImuAdapter(ACCEL_ONLY, 2.0).load(Fixtures.entry(Modality.IMU, WALK).recording(), new Clip(0, 2, false, 0));
        assertArrayEquals(new long[] {100, 3}, it.shape());
        for (float v : it.values()) {
            assertTrue(Math.abs(v) <= 1.5f + 1e-6f, "within +-1.5 g: " + v);
        }
    }

    @Test
    void hmpBadValuesNameTheLine() throws IOException {
        Path big = Files.writeString(dir.resolve("big.txt"), "1 2 3\n1 64 3\n");
        assertBad(ACCEL_ONLY, big, "line 2: value 64 outside 0..63");
        Path frac = Files.writeString(dir.resolve("frac.txt"), "1 2 3\n\n1 2 3.5\n");
        assertBad(ACCEL_ONLY, frac, "line 3: not an integer '3.5'");
    }

    @Test
    void hmpHasNoGyroscope() {
        assertBad(Fixtures.IMU, WALK,
                "HMP recording has no channel gx, gy, gz (it has ax, ay, az; set modalities.imu.channels=[ax,ay,az])");
    }

    @Test
    void unknownExtensionIsBadInput() throws IOException {
        Path f = Files.writeString(dir.resolve("a.json"), "{}");
        assertBad(Fixtures.IMU, f, "unknown IMU format (expected .csv, .txt (HMP) or .raw (GoPro GPMF))");
    }

    @Test
    void goProHero7And11AreAbout200HzAndSeeGravity() throws IOException {
        // hero7 has no STMP (one second per payload) and moves hard (mean |a| 11.8, median 9.0);
        // hero11 is timed by STMP and nearly still (mean |a| 10.0)
        check(ImuReaders.read(Fixtures.shared("imu/gopro/hero7.raw"), ALL), 17.0, 0.25);
        check(ImuReaders.read(Fixtures.shared("imu/gopro/hero11.raw"), ALL), 10.6, 0.05);
    }

    /** About 200 Hz over about the given duration, finite values, mean |a| within a fraction of 9.81. */
    private static void check(Signals r, double seconds, double tolerance) {
        Channel ax = r.channels().get(0);
        int n = ax.t().length;
        assertTrue(n > 0.8 * 200 * seconds && n < 1.2 * 200 * seconds, "samples " + n);
        assertTrue(Math.abs(ax.t()[n - 1] - seconds) < 1.0, "duration " + ax.t()[n - 1]);
        double mean = 0;
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int c = 0; c < 3; c++) {
                s += r.channels().get(c).v()[i] * r.channels().get(c).v()[i];
            }
            mean += Math.sqrt(s) / n;
        }
        assertEquals(9.81, mean, tolerance * 9.81, "mean |a|");
        r.channels().forEach(c -> assertTrue(Arrays.stream(c.v()).allMatch(Double::isFinite), c.name()));
    }

    @Test
    void goProLoadsThroughTheAdapter() throws BadInputException {
        Item it = new ImuAdapter(Fixtures.IMU, 2.0)
                .load(Fixtures.entry(Modality.IMU, Fixtures.shared("imu/gopro/hero11.raw")).recording(), new Clip(1, 2, false, 0));
        assertArrayEquals(new long[] {100, 6}, it.shape());
    }

    @Test
    void truncatedGoProNamesTheOffset() throws IOException {
        byte[] head = Arrays.copyOf(Files.readAllBytes(Fixtures.shared("imu/gopro/hero7.raw")), 1000);
        Path cut = Files.write(dir.resolve("cut.raw"), head);
        // the first DEVC declares 1 x 3988 payload bytes; 1000 - 8 are left
        assertBad(Fixtures.IMU, cut, "truncated KLV 'DEVC' at byte 0: needs 3988 payload bytes, 992 left");
    }

    @Test
    void lowpassAtOrAboveNyquistIsBadInput() {
        ModalitySpec.Imu spec = new ModalitySpec.Imu(50.0, List.of("ax", "ay", "az"), 10, 9.81, 3.14159, 16.0, "scale");
        assertBad(spec, WALK, "lowpass_hz 16.0 must be below half the recording's rate (ax at 32.0 Hz)");
    }

    /**
     * Untrusted lines are named, never echoed: a 100 kB header line with a control character and HTML, a bad
     * number in a 100 kB row, a 100 kB HMP value and a 100 kB column name each give a short one-line reason.
     */
    @Test
    void hugeHostileLinesGiveShortOneLineReasons() throws IOException {
        String header = "t,ax,<script>\u0007alert(1)</script>" + "y".repeat(100_000) + ",az";
        Path csv = Files.writeString(dir.resolve("hostile.csv"), header + "\n0,0,0,0\n1,0,0,0\n");
        String m = badReason(ACCEL_ONLY, csv);
        assertShortOneLine(m);
        assertTrue(m.startsWith("line 1: header has no column 'ay' (it has 4 columns: t, ax, <script>?alert"), m);

        Path value = Files.writeString(dir.resolve("value.csv"), "t,ax,ay,az\n0,0,0,0\n1,x\u001b[2J" + "x".repeat(100_000) + ",0,0\n");
        m = badReason(ACCEL_ONLY, value);
        assertShortOneLine(m);
        assertTrue(m.startsWith("line 3: column 'ax': not a number 'x?[2Jxxx"), m);

        Path hmp = Files.writeString(dir.resolve("value.txt"), "1 2 3\n1 2 9\u0007" + "9".repeat(100_000) + "\n");
        m = badReason(ACCEL_ONLY, hmp);
        assertShortOneLine(m);
        assertTrue(m.startsWith("line 2: not an integer '9?999"), m);

        Path name = Files.writeString(dir.resolve("name.csv"), "t,n\u0007" + "n".repeat(100_000) + "\n0,x\n1,2\n");
        m = assertThrows(IOException.class, () -> ImuAdapter.channels(name)).getMessage();
        assertShortOneLine(m);
        assertTrue(m.startsWith("line 2: column 'n?nnn"), m);
    }

    /** Under 300 characters, no control character (so one line). */
    private static void assertShortOneLine(String m) {
        assertTrue(m.length() < 300 && m.codePoints().noneMatch(Character::isISOControl),
                m.length() + " characters: " + m.substring(0, Math.min(m.length(), 300)));
    }

    /** The reason the adapter gives after its "manifest line: file: " prefix. */
    private String badReason(ModalitySpec.Imu spec, Path file) {
        BadInputException e = assertThrows(BadInputException.class,
                () -> new ImuAdapter(spec, 2.0).load(Fixtures.entry(Modality.IMU, file).recording(), new Clip(0, 2, false, 0)));
        String prefix = "manifest.jsonl:7 (id=t1): " + file + ": ";
        assertTrue(e.getMessage().startsWith(prefix), e.getMessage().substring(0, Math.min(e.getMessage().length(), 300)));
        return e.getMessage().substring(prefix.length());
    }

    private void assertBad(ModalitySpec.Imu spec, Path file, String reason) {
        BadInputException e = assertThrows(BadInputException.class,
                () -> new ImuAdapter(spec, 2.0).load(Fixtures.entry(Modality.IMU, file).recording(), new Clip(0, 2, false, 0)));
        assertEquals("manifest.jsonl:7 (id=t1): " + file + ": " + reason, e.getMessage());
    }
}
