package org.sensorium.modality.imu;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.commons.math3.analysis.interpolation.LinearInterpolator;
import org.apache.commons.math3.analysis.polynomials.PolynomialSplineFunction;
import org.sensorium.data.BadInputException;
import org.sensorium.data.Clip;
import org.sensorium.data.Item;
import org.sensorium.data.ManifestEntry;
import org.sensorium.modality.Modality;
import org.sensorium.modality.ModalityAdapter;
import org.sensorium.modality.ModalitySpec;

/**
 * IMU recordings as CSV: a header naming a time column {@code t} (seconds, strictly increasing) and
 * the spec's channels in any order (accelerations a* in m/s^2, angular rates g* in rad/s); other
 * columns are ignored. Each channel is linearly interpolated at spec.rateHz over
 * [source.start + clip.start, + clip.seconds] (times outside the recording clamp to its ends) and
 * divided by spec.accelScale (a*) or spec.gyroScale (g*). Output (W, C).
 */
public final class ImuAdapter implements ModalityAdapter {
    private static final String TIME = "t";

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

    /** A recording: times (N) and, per spec channel, values (C, N). */
    record Recording(double[] t, double[][] channels) {}

    @Override
    public Item load(ManifestEntry entry, Clip clip) throws BadInputException {
        ManifestEntry.Source src = entry.sources().get(Modality.IMU);
        Recording rec;
        try {
            rec = read(src.path());
        } catch (NoSuchFileException e) {
            throw new BadInputException(entry.where() + ": " + src.path() + ": no such file", e);
        } catch (IOException e) {
            throw new BadInputException(entry.where() + ": " + src.path() + ": " + e.getMessage(), e);
        }
        double t0 = src.start() + clip.start();
        double last = Double.isNaN(src.end()) ? rec.t[rec.t.length - 1] : Math.min(src.end(), rec.t[rec.t.length - 1]);
        return new Item(resample(rec, t0, last, spec.window(clip.seconds())), spec.inputShape(clip.seconds()), null);
    }

    /** (W, C): channel c at time t0 + i / rate, clamped to [first sample, last], divided by its scale. */
    private float[] resample(Recording rec, double t0, double last, int w) {
        int channels = spec.channels().size();
        float[] out = new float[w * channels];
        LinearInterpolator li = new LinearInterpolator();
        double first = rec.t[0];
        for (int c = 0; c < channels; c++) {
            PolynomialSplineFunction f = li.interpolate(rec.t, rec.channels[c]);
            double scale = scale(spec.channels().get(c));
            for (int i = 0; i < w; i++) {
                double t = Math.max(first, Math.min(last, t0 + i / spec.rateHz()));
                out[i * channels + c] = (float) (f.value(t) / scale);
            }
        }
        return out;
    }

    private double scale(String channel) {
        return switch (channel.charAt(0)) {
            case 'a' -> spec.accelScale();
            case 'g' -> spec.gyroScale();
            default -> 1.0;
        };
    }

    /**
     * Parses the CSV. Throws IOException with a one-line reason naming the line: missing columns, a
     * short row, a value that is not a finite number, time not strictly increasing, fewer than 2 rows.
     */
    Recording read(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        int h = 0;
        while (h < lines.size() && lines.get(h).isBlank()) {
            h++;
        }
        if (h == lines.size()) {
            throw new IOException("empty file");
        }
        int[] cols = columns(lines.get(h).replace("\uFEFF", ""), h + 1);
        List<double[]> rows = new ArrayList<>();
        for (int i = h + 1; i < lines.size(); i++) {
            if (!lines.get(i).isBlank()) {
                rows.add(row(lines.get(i), i + 1, cols, rows.isEmpty() ? Double.NEGATIVE_INFINITY : rows.get(rows.size() - 1)[0]));
            }
        }
        if (rows.size() < 2) {
            throw new IOException("needs at least 2 samples, found " + rows.size());
        }
        return transpose(rows);
    }

    /** Column index of t, then of each spec channel. */
    private int[] columns(String header, int lineNo) throws IOException {
        List<String> names = Arrays.stream(header.split(",")).map(String::trim).toList();
        int[] cols = new int[spec.channels().size() + 1];
        for (int c = 0; c < cols.length; c++) {
            String name = c == 0 ? TIME : spec.channels().get(c - 1);
            cols[c] = names.indexOf(name);
            if (cols[c] < 0) {
                throw new IOException("line " + lineNo + ": header has no column '" + name + "' (found " + names + ")");
            }
        }
        return cols;
    }

    /** (1 + C) values of one row: t, then the channels. */
    private double[] row(String line, int lineNo, int[] cols, double prevT) throws IOException {
        String[] fields = line.split(",", -1);
        double[] v = new double[cols.length];
        for (int c = 0; c < cols.length; c++) {
            String name = c == 0 ? TIME : spec.channels().get(c - 1);
            if (cols[c] >= fields.length) {
                throw new IOException("line " + lineNo + ": no value for column '" + name + "'");
            }
            try {
                v[c] = Double.parseDouble(fields[cols[c]].trim());
            } catch (NumberFormatException e) {
                throw new IOException("line " + lineNo + ": column '" + name + "': not a number '" + fields[cols[c]].trim() + "'");
            }
            if (!Double.isFinite(v[c])) {
                throw new IOException("line " + lineNo + ": column '" + name + "': not finite (" + v[c] + ")");
            }
        }
        if (!(v[0] > prevT)) {
            throw new IOException("line " + lineNo + ": time " + v[0] + " is not after the previous " + prevT);
        }
        return v;
    }

    private static Recording transpose(List<double[]> rows) {
        int n = rows.size();
        int channels = rows.get(0).length - 1;
        double[] t = new double[n];
        double[][] ch = new double[channels][n];
        for (int i = 0; i < n; i++) {
            t[i] = rows.get(i)[0];
            for (int c = 0; c < channels; c++) {
                ch[c][i] = rows.get(i)[c + 1];
            }
        }
        return new Recording(t, ch);
    }
}
