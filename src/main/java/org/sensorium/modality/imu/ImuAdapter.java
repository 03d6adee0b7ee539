package org.sensorium.modality.imu;

import org.sensorium.modality.Recording;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.List;
import java.util.Locale;
import org.apache.commons.math3.analysis.interpolation.LinearInterpolator;
import org.apache.commons.math3.analysis.polynomials.PolynomialSplineFunction;
import org.sensorium.modality.BadInputException;
import org.sensorium.modality.Clip;
import org.sensorium.modality.Item;
import org.sensorium.config.Modality;
import org.sensorium.modality.ModalityAdapter;
import org.sensorium.config.ModalitySpec;
import org.sensorium.modality.imu.ImuReaders.Channel;

/**
 * IMU recordings: CSV, HMP text or GoPro GPMF, chosen by extension (see {@link ImuReaders}), giving
 * the spec's channels (accelerations a* in m/s^2, angular rates g* in rad/s) with timestamps. Each
 * channel is optionally low-pass filtered (spec.lowpassHz, {@link #filtfilt}) at its own rate, then
 * linearly interpolated at spec.rateHz over [source.start + clip.start, + clip.seconds] (times
 * outside the recording clamp to its ends), then normalised: "scale" divides by spec.accelScale (a*)
 * or spec.gyroScale (g*); "zscore" maps each channel of the window to (x - mean) / max(std, 1e-6).
 * A clip overlapping a gap in the recording is bad input ({@link #gapIn}). A training clip is then
 * augmented from its seed ({@link #augment}: rotation, magnitude scaling, jitter). Output (W, C).
 */
public final class ImuAdapter implements ModalityAdapter {
    /** Floor of the per-window standard deviation in zscore normalisation. */
    static final double STD_FLOOR = 1e-6;
    /** Neighbouring samples further apart than this many median spacings are a gap. */
    static final double GAP_FACTOR = 5.0;

    private final ModalitySpec.Imu spec;
    private final double clipSeconds;

    public ImuAdapter(ModalitySpec.Imu spec, double clipSeconds) {
        this.spec = spec;
        this.clipSeconds = clipSeconds;
    }

    @Override
    public Modality modality() {
        return Modality.IMU;
    }

    /** (W, C). */
    @Override
    public long[] inputShape() {
        return spec.inputShape(clipSeconds);
    }

    /**
     * The channels a recording has (e.g. ax, ay, az for HMP), after reading and checking all of it.
     *
     * @throws IOException with a one-line reason when the file is not a usable IMU recording
     */
    public static java.util.List<String> channels(java.nio.file.Path file) throws IOException {
        return ImuReaders.channelNames(file);
    }

    /**
     * The last sample time of a recording in seconds on its own clock (HMP: (N - 1) / 32), the end of an
     * IMU span "to the end of the file"; NaN when the file cannot be read (loading it reports why).
     */
    public static double lastTimestamp(java.nio.file.Path file) {
        if (Recording.unopenable(file) != null) { // a FIFO would block the read
            return Double.NaN;
        }
        try {
            List<String> names = ImuReaders.channelNames(file);
            double[] t = ImuReaders.read(file, names.subList(0, 1)).channels().get(0).t();
            return t[t.length - 1];
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    /** Only the augmentations draw (rotation, scaling, jitter); without them a clip depends on its span alone. */
    @Override
    public boolean drawsFromSeed() {
        return spec.rotate() || spec.scale() > 0 || spec.jitter() > 0;
    }

    @Override
    public Item load(Recording entry, Clip clip) throws BadInputException {
        Recording.Source src = entry.sources().get(Modality.IMU);
        String where = entry.where() + ": " + src.path() + ": ";
        ImuReaders.Signals rec;
        String why = Recording.unopenable(src.path());
        if (why != null) {
            throw new BadInputException(where + why);
        }
        try {
            rec = ImuReaders.read(src.path(), spec.channels());
        } catch (NoSuchFileException e) {
            throw new BadInputException(where + "no such file", e);
        } catch (IOException e) {
            throw new BadInputException(where + e.getMessage(), e);
        }
        double t0 = src.start() + clip.start();
        for (Channel ch : rec.channels()) {
            String gap = gapIn(ch, t0, t0 + clip.seconds());
            if (gap != null) {
                throw new BadInputException(where + gap);
            }
        }
        int w = spec.window(clip.seconds());
        int channels = spec.channels().size();
        float[] out = new float[w * channels];
        for (int c = 0; c < channels; c++) {
            double[] v = resample(filtered(rec.channels().get(c), where), src, t0, w);
            normalise(v, spec.channels().get(c));
            for (int i = 0; i < w; i++) {
                out[i * channels + c] = (float) v[i];
            }
        }
        if (clip.train()) {
            augment(out, spec, new java.util.SplittableRandom(clip.seed()));
        }
        return new Item(out, spec.inputShape(clip.seconds()), null);
    }

    /**
     * Training augmentation of a (W, C) window in place, as in Um et al. 2017 (wearable-sensor data
     * augmentation): with spec.rotate one uniformly random rotation R (a random unit quaternion) maps
     * every (ax, ay, az) and every (gx, gy, gz) triple to R x, as if the sensor had been strapped on
     * turned; every value is multiplied by one factor from 1 +- spec.scale; Gaussian noise of
     * spec.jitter is added. Channels that are not a full a* or g* triple are not rotated.
     */
    static void augment(float[] x, ModalitySpec.Imu spec, java.util.SplittableRandom r) {
        int c = spec.channels().size();
        int w = x.length / c;
        if (spec.rotate()) {
            double[][] rot = randomRotation(r);
            for (String prefix : new String[] {"a", "g"}) {
                int ix = spec.channels().indexOf(prefix + "x"), iy = spec.channels().indexOf(prefix + "y"),
                        iz = spec.channels().indexOf(prefix + "z");
                if (ix < 0 || iy < 0 || iz < 0) {
                    continue;
                }
                for (int t = 0; t < w; t++) {
                    double vx = x[t * c + ix], vy = x[t * c + iy], vz = x[t * c + iz];
                    x[t * c + ix] = (float) (rot[0][0] * vx + rot[0][1] * vy + rot[0][2] * vz);
                    x[t * c + iy] = (float) (rot[1][0] * vx + rot[1][1] * vy + rot[1][2] * vz);
                    x[t * c + iz] = (float) (rot[2][0] * vx + rot[2][1] * vy + rot[2][2] * vz);
                }
            }
        }
        double factor = 1 + (2 * r.nextDouble() - 1) * spec.scale();
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (x[i] * factor + (spec.jitter() > 0 ? spec.jitter() * gaussian(r) : 0));
        }
    }

    /** A rotation matrix drawn uniformly: the unit quaternion of four standard normals (Shoemake). */
    static double[][] randomRotation(java.util.SplittableRandom r) {
        double w = gaussian(r), a = gaussian(r), b = gaussian(r), d = gaussian(r);
        double n = Math.sqrt(w * w + a * a + b * b + d * d);
        w /= n;
        a /= n;
        b /= n;
        d /= n;
        return new double[][] {
            {1 - 2 * (b * b + d * d), 2 * (a * b - d * w), 2 * (a * d + b * w)},
            {2 * (a * b + d * w), 1 - 2 * (a * a + d * d), 2 * (b * d - a * w)},
            {2 * (a * d - b * w), 2 * (b * d + a * w), 1 - 2 * (a * a + b * b)}};
    }

    private static double gaussian(java.util.SplittableRandom r) { // Box-Muller
        return Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
    }

    /**
     * A gap is two neighbouring samples more than {@link #GAP_FACTOR} times the channel's median
     * spacing apart (dropped packets, a paused logger). Interpolating across one would invent a
     * straight line, so a clip that overlaps a gap is bad input; clips elsewhere in the recording
     * are fine. Returns the reason for the first gap overlapping [from, to), or null.
     */
    static String gapIn(Channel ch, double from, double to) {
        double[] t = ch.t();
        double[] dt = new double[t.length - 1];
        for (int i = 0; i < dt.length; i++) {
            dt[i] = t[i + 1] - t[i];
        }
        double[] sorted = dt.clone();
        java.util.Arrays.sort(sorted);
        double median = sorted[sorted.length / 2];
        for (int i = 0; i < dt.length; i++) {
            if (dt[i] > GAP_FACTOR * median && t[i] < to && t[i + 1] > from) {
                return String.format(Locale.ROOT, "gap of %.3f s in %s between samples at %.3f s and %.3f s (median spacing %.4f s)"
                        + " inside the clip [%.3f, %.3f) s", dt[i], ch.name(), t[i], t[i + 1], median, from, to);
            }
        }
        return null;
    }

    /** The channel after the optional low-pass filter; a cut-off at or above its Nyquist rate is bad input. */
    private Channel filtered(Channel ch, String where) throws BadInputException {
        if (spec.lowpassHz() == 0) {
            return ch;
        }
        double fs = ch.rateHz();
        if (!(spec.lowpassHz() < fs / 2)) {
            throw new BadInputException(where + "lowpass_hz " + spec.lowpassHz() + " must be below half the recording's rate ("
                    + ch.name() + " at " + String.format(Locale.ROOT, "%.1f", fs) + " Hz)");
        }
        return new Channel(ch.name(), ch.t(), filtfilt(ch.v(), fs, spec.lowpassHz()));
    }

    /** (W): the channel at t0 + i / rate, clamped to [first sample, min(source end, last sample)]. */
    private double[] resample(Channel ch, Recording.Source src, double t0, int w) {
        double first = ch.t()[0];
        double last = ch.t()[ch.t().length - 1];
        if (!Double.isNaN(src.end())) {
            last = Math.max(first, Math.min(src.end(), last));
        }
        PolynomialSplineFunction f = new LinearInterpolator().interpolate(ch.t(), ch.v());
        double[] out = new double[w];
        for (int i = 0; i < w; i++) {
            out[i] = f.value(Math.max(first, Math.min(last, t0 + i / spec.rateHz())));
        }
        return out;
    }

    /** In place: "scale" divides by the channel's scale; "zscore" standardises over the window. */
    private void normalise(double[] v, String channel) {
        if (spec.normalize().equals("zscore")) {
            zscore(v);
            return;
        }
        double scale = switch (channel.charAt(0)) {
            case 'a' -> spec.accelScale();
            case 'g' -> spec.gyroScale();
            default -> 1.0;
        };
        for (int i = 0; i < v.length; i++) {
            v[i] /= scale;
        }
    }

    /** In place: (x - mean) / max(std, {@link #STD_FLOOR}), population std. */
    static void zscore(double[] v) {
        double mean = 0;
        for (double x : v) {
            mean += x / v.length;
        }
        double var = 0;
        for (double x : v) {
            var += (x - mean) * (x - mean) / v.length;
        }
        double std = Math.max(Math.sqrt(var), STD_FLOOR);
        for (int i = 0; i < v.length; i++) {
            v[i] = (v[i] - mean) / std;
        }
    }

    /**
     * Zero-phase low-pass: a 2nd-order Butterworth biquad (bilinear transform with pre-warping, Q =
     * 1/sqrt 2) run forward, then backward over the result, so the magnitude response is squared
     * (-6 dB at fc) and the phase cancels (no delay). Each pass starts in the steady state of its first
     * input value, so a constant signal passes unchanged and the ends do not ring from zero.
     *
     * @param x samples (N), uniformly spaced
     * @param fs their rate in Hz
     * @param fc cut-off in Hz, 0 &lt; fc &lt; fs / 2
     * @return filtered samples (N)
     */
    static double[] filtfilt(double[] x, double fs, double fc) {
        double w0 = 2 * Math.PI * fc / fs;
        double alpha = Math.sin(w0) / (2 * Math.sqrt(0.5));
        double cos = Math.cos(w0);
        double a0 = 1 + alpha;
        double[] b = {(1 - cos) / 2 / a0, (1 - cos) / a0, (1 - cos) / 2 / a0};
        double[] a = {-2 * cos / a0, (1 - alpha) / a0};
        double[] y = reverse(biquad(x, b, a));
        return reverse(biquad(y, b, a));
    }

    /** Direct form II transposed, state initialised to the steady state for a constant x[0]. */
    private static double[] biquad(double[] x, double[] b, double[] a) {
        double[] y = new double[x.length];
        if (x.length == 0) {
            return y;
        }
        double z2 = (b[2] - a[1]) * x[0];
        double z1 = (b[1] - a[0]) * x[0] + z2;
        for (int i = 0; i < x.length; i++) {
            y[i] = b[0] * x[i] + z1;
            z1 = b[1] * x[i] - a[0] * y[i] + z2;
            z2 = b[2] * x[i] - a[1] * y[i];
        }
        return y;
    }

    private static double[] reverse(double[] x) {
        double[] r = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            r[i] = x[x.length - 1 - i];
        }
        return r;
    }
}
