package org.sensorium.data;

import org.sensorium.modality.BadInputException;
import org.sensorium.modality.Item;
import org.sensorium.modality.Clip;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.sensorium.config.Modality;
import org.sensorium.modality.ModalityAdapter;
import org.sensorium.config.ModalitySpec;
import org.sensorium.config.ModalitySpecs;
import org.sensorium.modality.text.TextAdapter;

/**
 * What the adapters make of one manifest entry ({@code sensorium data inspect}): per modality the input
 * shape and value statistics, the text and its tokens, and one picture: the video frames as a strip
 * (de-normalised), the log-mel spectrogram as a heat map (time on x, low bands at the bottom), the text,
 * and the IMU channels as lines over time.
 *
 * <p>The picture is {@link #WIDTH} pixels wide; its height is {@link #HEADER} plus, per modality of the
 * entry in enum order (video, audio, text, imu), {@link #VIDEO}, {@link #PLOT}, {@link #TEXT} or
 * {@link #PLOT}, or {@link #FAILED} for a modality whose recording could not be used.
 */
public final class Inspector {
    public static final int WIDTH = 1000;
    public static final int HEADER = 40;
    public static final int VIDEO = 180;
    public static final int PLOT = 260;
    public static final int TEXT = 70;
    public static final int FAILED = 30;

    private static final int MARGIN = 10;
    private static final int LEFT = 70;      // room for the y-axis labels of a plot
    private static final int TITLE = 22;
    private static final Color[] LINES = {new Color(31, 119, 180), new Color(255, 127, 14), new Color(44, 160, 44),
        new Color(214, 39, 40), new Color(148, 103, 189), new Color(140, 86, 75)};
    /** Heat-map colours from low to high (dark blue, purple, red, orange, pale yellow). */
    private static final int[][] HEAT = {{0, 0, 40}, {100, 0, 130}, {220, 40, 40}, {250, 160, 0}, {255, 255, 200}};

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private Inspector() {}

    /** min, max, mean, std (population) of the finite values; nan and zero are fractions of all values. */
    public record Stats(double min, double max, double mean, double std, double nan, double zero) {
        /** Over v[offset], v[offset + stride], ... */
        public static Stats of(float[] v, int offset, int stride) {
            double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY, sum = 0, sq = 0;
            int n = 0, finite = 0, nan = 0, zero = 0;
            for (int i = offset; i < v.length; i += stride, n++) {
                double x = v[i];
                if (Double.isNaN(x)) {
                    nan++;
                    continue;
                }
                zero += x == 0 ? 1 : 0;
                if (Double.isFinite(x)) {
                    finite++;
                    min = Math.min(min, x);
                    max = Math.max(max, x);
                    sum += x;
                    sq += x * x;
                }
            }
            double mean = finite == 0 ? Double.NaN : sum / finite;
            double std = finite == 0 ? Double.NaN : Math.sqrt(Math.max(0, sq / finite - mean * mean));
            return new Stats(finite == 0 ? Double.NaN : min, finite == 0 ? Double.NaN : max, mean, std,
                    n == 0 ? 0 : (double) nan / n, n == 0 ? 0 : (double) zero / n);
        }
    }

    /** One modality of the entry: the adapter's item, or why it failed; for text also the string and its tokens. */
    public record Part(Modality modality, Item item, String failure, String text, List<String> tokens) {}

    /** The entry, the clip the adapters cut, and one part per modality inspected. */
    public record Report(ManifestEntry entry, Clip clip, Map<Modality, Part> parts) {
        public boolean ok() {
            return parts.values().stream().allMatch(p -> p.failure() == null);
        }
    }

    /** Runs every given adapter whose modality the entry has; a broken recording becomes a failed part, not an exception. */
    public static Report run(ManifestEntry e, Clip clip, Map<Modality, ModalityAdapter> adapters) {
        Map<Modality, Part> parts = new EnumMap<>(Modality.class);
        for (Map.Entry<Modality, ModalityAdapter> a : adapters.entrySet()) {
            Modality m = a.getKey();
            if (!e.has(m)) {
                continue;
            }
            try {
                Item item = a.getValue().load(e.recording(), clip);
                if (a.getValue() instanceof TextAdapter t) {
                    String text = t.text(e.recording(), clip);
                    parts.put(m, new Part(m, item, null, text, t.tokens(text)));
                } else {
                    parts.put(m, new Part(m, item, null, null, List.of()));
                }
            } catch (BadInputException ex) {
                parts.put(m, new Part(m, null, ex.getMessage(), null, List.of()));
            }
        }
        return new Report(e, clip, parts);
    }

    /** The printed report: the entry, the clip, a table of shapes and statistics (IMU per channel too), the text and its tokens. */
    public static String render(Report r, ModalitySpecs specs) {
        ManifestEntry e = r.entry();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "sample %s (%s:%d): split %s, label %s, subject %s%n", e.id(), e.manifest().getFileName(),
                e.line(), e.split(),
                orDash(e.label()), orDash(e.subject())));
        sb.append(String.format(Locale.ROOT, "evaluation clip: %.2f s .. %.2f s of the sample's span%n", r.clip().start(),
                r.clip().start() + r.clip().seconds()));
        sb.append(String.format("%-9s %-16s %9s %9s %9s %9s %6s %6s%n", "modality", "shape", "min", "max", "mean", "std", "nan", "zero"));
        for (Part p : r.parts().values()) {
            String name = p.modality().key();
            if (p.failure() != null) {
                sb.append(String.format("%-9s FAILED: %s%n", name, p.failure()));
            } else if (p.modality() == Modality.TEXT) {
                if (specs.text().isPretrained()) { // the frozen tower's vector (or token states): statistics, like a signal
                    sb.append(row(name, shape(p.item().shape()), Stats.of(p.item().values(), 0, 1)));
                } else {
                    long valid = countValid(p.item());
                    sb.append(String.format("%-9s %-16s %d of %d tokens valid%n", name, shape(p.item().shape()), valid,
                            p.item().values().length));
                }
                sb.append("  text:   \"").append(p.text()).append("\"\n");
                sb.append("  tokens: ").append(String.join(" ", p.tokens())).append('\n');
            } else {
                sb.append(row(name, shape(p.item().shape()), Stats.of(p.item().values(), 0, 1)));
                if (p.modality() == Modality.IMU) {
                    List<String> channels = specs.imu().channels();
                    for (int c = 0; c < channels.size(); c++) {
                        sb.append(row("  " + channels.get(c), "(" + p.item().shape()[0] + ")",
                                Stats.of(p.item().values(), c, channels.size())));
                    }
                }
            }
        }
        return sb.toString().stripTrailing();
    }

    private static String row(String name, String shape, Stats s) {
        return String.format(Locale.ROOT, "%-9s %-16s %9.3f %9.3f %9.3f %9.3f %6.3f %6.3f%n", name, shape, s.min(), s.max(), s.mean(),
                s.std(), s.nan(), s.zero());
    }

    private static long countValid(Item item) {
        long n = 0;
        for (boolean v : item.valid()) {
            n += v ? 1 : 0;
        }
        return n;
    }

    private static String shape(long[] shape) {
        return Arrays.stream(shape).mapToObj(Long::toString).collect(Collectors.joining(", ", "(", ")"));
    }

    private static String orDash(String s) {
        return s == null ? "-" : s;
    }

    /** The picture (see the class comment for its size). */
    public static BufferedImage picture(Report r, ModalitySpecs specs) {
        int height = HEADER;
        for (Part p : r.parts().values()) {
            height += panelHeight(p);
        }
        BufferedImage img = new BufferedImage(WIDTH, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, height);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
            g.setColor(Color.BLACK);
            ManifestEntry e = r.entry();
            g.drawString(String.format(Locale.ROOT, "%s   split %s   label %s   clip %.2f-%.2f s", e.id(), e.split(), orDash(e.label()),
                    r.clip().start(), r.clip().start() + r.clip().seconds()), MARGIN, 26);
            int y = HEADER;
            for (Part p : r.parts().values()) {
                g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
                g.setColor(Color.BLACK);
                if (p.failure() != null) {
                    g.setColor(new Color(180, 0, 0));
                    g.drawString(p.modality().key() + ": " + p.failure(), MARGIN, y + 20);
                } else {
                    switch (p.modality()) {
                        case VIDEO -> video(g, y, p.item(), specs.video());
                        case AUDIO -> spectrogram(g, y, p.item(), specs.audio());
                        case TEXT -> text(g, y, p);
                        case IMU -> imu(g, y, p.item(), specs.imu());
                        case MOTION -> motion(g, y, p.item(), specs.motion());
                    }
                }
                y += panelHeight(p);
            }
        } finally {
            g.dispose();
        }
        return img;
    }

    private static int panelHeight(Part p) {
        if (p.failure() != null) {
            return FAILED;
        }
        return switch (p.modality()) {
            case VIDEO, MOTION -> VIDEO;
            case AUDIO, IMU -> PLOT;
            case TEXT -> TEXT;
        };
    }

    /** (T, H, W, 3) normalised frames side by side, each (x * std + mean) * 255, scaled to fit, with its time. */
    private static void video(Graphics2D g, int y0, Item item, ModalitySpec.Video spec) {
        long[] s = item.shape();
        int t = (int) s[0], h = (int) s[1], w = (int) s[2];
        g.drawString(String.format(Locale.ROOT, "video: %d frames at %.1f fps, %d x %d, de-normalised", t, spec.fps(), w, h),
                MARGIN, y0 + 16);
        int gap = 4;
        int maxH = VIDEO - TITLE - 24;
        double cellW = Math.min((WIDTH - 2.0 * MARGIN - gap * (t - 1)) / t, maxH * (double) w / h);
        int cw = Math.max(1, (int) cellW);
        int ch = Math.max(1, (int) Math.round(cw * (double) h / w));
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
        int labelEvery = Math.max(1, (int) Math.ceil(50.0 / (cw + gap)));
        for (int f = 0; f < t; f++) {
            BufferedImage frame = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int rgb = 0;
                    for (int c = 0; c < 3; c++) {
                        double v = item.values()[((f * h + y) * w + x) * 3 + c] * spec.std().get(c) + spec.mean().get(c);
                        rgb = rgb << 8 | (int) Math.round(255 * Math.max(0, Math.min(1, v)));
                    }
                    frame.setRGB(x, y, rgb);
                }
            }
            int x0 = MARGIN + f * (cw + gap);
            g.drawImage(frame, x0, y0 + TITLE, cw, ch, null);
            if (f % labelEvery == 0) {
                g.drawString(String.format(Locale.ROOT, "%.2f s", f / spec.fps()), x0, y0 + TITLE + ch + 14);
            }
        }
    }

    /** (F, M) log-mel as a heat map: frame f at x, band m at y (band 0 at the bottom). */
    private static void spectrogram(Graphics2D g, int y0, Item item, ModalitySpec.Audio spec) {
        int frames = (int) item.shape()[0], bands = (int) item.shape()[1];
        Stats s = Stats.of(item.values(), 0, 1);
        g.drawString(String.format(Locale.ROOT, "audio: log-mel, %d frames x %d bands (hop %.0f ms), normalised values %.2f .. %.2f",
                frames, bands, spec.hopMs(), s.min(), s.max()), MARGIN, y0 + 16);
        BufferedImage heat = new BufferedImage(frames, bands, BufferedImage.TYPE_INT_RGB);
        double range = s.max() > s.min() ? s.max() - s.min() : 1;
        for (int f = 0; f < frames; f++) {
            for (int m = 0; m < bands; m++) {
                float v = item.values()[f * bands + m];
                heat.setRGB(f, bands - 1 - m, Float.isNaN(v) ? 0xFFFFFF : heat((v - s.min()) / range));
            }
        }
        Box box = plotBox(y0);
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
        g.drawImage(heat, box.x, box.y, box.w, box.h, null);
        axes(g, box, 0, frames * spec.hopMs() / 1000.0, "time in clip (s)", 0, bands, "mel band");
    }

    /** (W, C) channels as lines over time, one colour each, with a legend. */
    /** (T, gh, gw, 2) fields side by side, one arrow per cell (scaled so the longest spans a cell). */
    private static void motion(Graphics2D g, int y0, Item item, ModalitySpec.Motion spec) {
        long[] s = item.shape();
        int t = (int) s[0], gh = (int) s[1], gw = (int) s[2];
        float[] v = item.values();
        double longest = 1e-9;
        for (int i = 0; i < v.length; i += 2) {
            longest = Math.max(longest, Math.hypot(v[i], v[i + 1]));
        }
        g.drawString(String.format(Locale.ROOT, "motion: %d fields at %.1f fps, %d x %d cells, longest arrow %.3f frame widths/frame",
                t, spec.fps(), gw, gh, longest * spec.scale()), MARGIN, y0 + 16);
        int gap = 4;
        int maxH = VIDEO - TITLE - 24;
        int cw = (int) Math.min((WIDTH - 2.0 * MARGIN - gap * (t - 1)) / t, maxH * (double) gw / gh);
        int ch = (int) Math.round(cw * (double) gh / gw);
        double cell = (double) cw / gw;
        for (int f = 0; f < t; f++) {
            int x0 = MARGIN + f * (cw + gap);
            g.setColor(new Color(235, 235, 235));
            g.fillRect(x0, y0 + TITLE, cw, ch);
            g.setColor(new Color(0, 70, 160));
            for (int y = 0; y < gh; y++) {
                for (int x = 0; x < gw; x++) {
                    int i = ((f * gh + y) * gw + x) * 2;
                    double cx = x0 + (x + 0.5) * cell, cy = y0 + TITLE + (y + 0.5) * cell;
                    double dx = v[i] / longest * cell * 0.9, dy = v[i + 1] / longest * cell * 0.9;
                    g.drawLine((int) Math.round(cx), (int) Math.round(cy), (int) Math.round(cx + dx), (int) Math.round(cy + dy));
                    g.fillOval((int) Math.round(cx + dx) - 1, (int) Math.round(cy + dy) - 1, 3, 3);
                }
            }
            g.setColor(Color.BLACK);
            g.drawString(String.format(Locale.ROOT, "%.2f s", f / spec.fps()), x0, y0 + TITLE + ch + 14);
        }
    }

    private static void imu(Graphics2D g, int y0, Item item, ModalitySpec.Imu spec) {
        int w = (int) item.shape()[0], c = (int) item.shape()[1];
        g.drawString(String.format(Locale.ROOT, "imu: %d samples at %.0f Hz, %d channels (normalize: %s)", w, spec.rateHz(), c,
                spec.normalize()), MARGIN, y0 + 16);
        Stats s = Stats.of(item.values(), 0, 1);
        double lo = s.min(), hi = s.max();
        if (!(hi > lo)) {
            lo -= 1;
            hi += 1;
        }
        double pad = (hi - lo) * 0.05;
        lo -= pad;
        hi += pad;
        Box box = plotBox(y0);
        g.setStroke(new BasicStroke(1.3f));
        for (int ch = 0; ch < c; ch++) {
            g.setColor(LINES[ch % LINES.length]);
            int px = -1, py = -1;
            for (int i = 0; i < w; i++) {
                float v = item.values()[i * c + ch];
                if (Float.isNaN(v)) {
                    px = -1;
                    continue;
                }
                int x = box.x + (int) Math.round(w == 1 ? 0 : i * (box.w - 1.0) / (w - 1));
                int y = box.y + box.h - 1 - (int) Math.round((v - lo) / (hi - lo) * (box.h - 1));
                if (px >= 0) {
                    g.drawLine(px, py, x, y);
                }
                px = x;
                py = y;
            }
            int lx = WIDTH - MARGIN - (c - ch) * 50; // legend in the title row, right-aligned
            g.fillRect(lx, y0 + 10, 14, 3);
            g.drawString(spec.channels().get(ch), lx + 18, y0 + 16);
        }
        g.setStroke(new BasicStroke(1f));
        axes(g, box, 0, w / spec.rateHz(), "time in clip (s)", lo, hi, "value (normalised)");
    }

    /** The text the adapter tokenised and its tokens, cut to the picture's width. */
    private static void text(Graphics2D g, int y0, Part p) {
        FontMetrics fm = g.getFontMetrics();
        g.drawString(fit(fm, "text: \"" + p.text() + "\""), MARGIN, y0 + 20);
        g.drawString(fit(fm, "tokens (" + p.tokens().size() + "): " + String.join(" ", p.tokens())), MARGIN, y0 + 42);
    }

    private static String fit(FontMetrics fm, String s) {
        if (fm.stringWidth(s) <= WIDTH - 2 * MARGIN) {
            return s;
        }
        while (!s.isEmpty() && fm.stringWidth(s + " ...") > WIDTH - 2 * MARGIN) {
            s = s.substring(0, s.length() - 1);
        }
        return s + " ...";
    }

    /** The plot area of a {@link #PLOT} panel starting at y0. */
    private record Box(int x, int y, int w, int h) {}

    private static Box plotBox(int y0) {
        return new Box(LEFT, y0 + TITLE + 6, WIDTH - LEFT - 2 * MARGIN, PLOT - TITLE - 6 - 44);
    }

    /** Frame, ticks at 1, 2 or 5 times a power of ten, tick labels and axis titles. */
    private static void axes(Graphics2D g, Box b, double x0, double x1, String xTitle, double y0, double y1, String yTitle) {
        g.setColor(Color.BLACK);
        g.drawRect(b.x, b.y, b.w - 1, b.h - 1);
        FontMetrics fm = g.getFontMetrics();
        for (double v : ticks(x0, x1)) {
            int x = b.x + (int) Math.round((v - x0) / (x1 - x0) * (b.w - 1));
            g.drawLine(x, b.y + b.h - 1, x, b.y + b.h + 3);
            String label = label(v);
            g.drawString(label, x - fm.stringWidth(label) / 2, b.y + b.h + 16);
        }
        g.drawString(xTitle, b.x + (b.w - fm.stringWidth(xTitle)) / 2, b.y + b.h + 34);
        for (double v : ticks(y0, y1)) {
            int y = b.y + b.h - 1 - (int) Math.round((v - y0) / (y1 - y0) * (b.h - 1));
            g.drawLine(b.x - 4, y, b.x, y);
            String label = label(v);
            g.drawString(label, b.x - 6 - fm.stringWidth(label), y + 4);
        }
        Graphics2D r = (Graphics2D) g.create();
        r.rotate(-Math.PI / 2);
        r.drawString(yTitle, -(b.y + (b.h + fm.stringWidth(yTitle)) / 2), MARGIN + 10);
        r.dispose();
    }

    /** Round values within [lo, hi], about five of them. */
    static List<Double> ticks(double lo, double hi) {
        if (!(hi > lo)) {
            return List.of(lo);
        }
        double raw = (hi - lo) / 5;
        double p = Math.pow(10, Math.floor(Math.log10(raw)));
        double step = raw / p < 1.5 ? p : raw / p < 3.5 ? 2 * p : raw / p < 7.5 ? 5 * p : 10 * p;
        List<Double> out = new ArrayList<>();
        for (long k = (long) Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) {
            out.add(k == 0 ? 0.0 : k * step);
        }
        return out;
    }

    private static String label(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e6 ? Long.toString(Math.round(v)) : String.format(Locale.ROOT, "%.2f", v)
                .replaceAll("0+$", "").replaceAll("\\.$", "");
    }

    /** RGB of t in [0, 1] on the {@link #HEAT} ramp. */
    static int heat(double t) {
        double x = Math.max(0, Math.min(1, t)) * (HEAT.length - 1);
        int i = Math.min(HEAT.length - 2, (int) x);
        double f = x - i;
        int rgb = 0;
        for (int c = 0; c < 3; c++) {
            rgb = rgb << 8 | (int) Math.round(HEAT[i][c] + f * (HEAT[i + 1][c] - HEAT[i][c]));
        }
        return rgb;
    }
}
