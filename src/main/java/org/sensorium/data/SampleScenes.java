package org.sensorium.data;

import static org.sensorium.data.SampleSetGenerator.SIZE;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The static scenes of the scene variant of the sample set ({@link SampleSetGenerator#generateScenes}): S textured
 * SIZE x SIZE RGB backgrounds drawn from the seed (stripes, a checkerboard, a two-colour gradient, soft blobs, in turn),
 * and per sample the scene it is drawn over, drawn from its own generator so that it is independent of the motion
 * label (the label is i % 8; the scene is a nuisance shared by clips of different labels). A scene is the same in every
 * frame of its clip: Background Erasing's "static background".
 */
final class SampleScenes {
    /** The largest scene count data.synth_scenes takes. */
    static final int MAX = 64;
    private static final long SALT = 0x5CE7E5L;

    private SampleScenes() {}

    /** One scene: its name (kind-index, in the manifest's attributes) and its pixels, RGB row-major (SIZE * SIZE * 3). */
    record Scene(String name, byte[] rgb) {
        int r(int x, int y) {
            return rgb[(y * SIZE + x) * 3] & 0xff;
        }

        int g(int x, int y) {
            return rgb[(y * SIZE + x) * 3 + 1] & 0xff;
        }

        int b(int x, int y) {
            return rgb[(y * SIZE + x) * 3 + 2] & 0xff;
        }
    }

    /** The S scenes of a set: scene j is of kind j % 4 with its colours, period and orientation drawn from (seed, j). */
    static List<Scene> scenes(int count, long seed) {
        if (count < 1 || count > MAX) {
            throw new IllegalArgumentException("scenes must be in [1, " + MAX + "], got " + count);
        }
        SplittableRandom root = new SplittableRandom(seed ^ SALT);
        List<Scene> out = new ArrayList<>(count);
        for (int j = 0; j < count; j++) {
            SplittableRandom r = root.split();
            int[] a = colour(r), b = colour(r);
            byte[] rgb = new byte[SIZE * SIZE * 3];
            String kind;
            switch (j % 4) {
                case 0 -> { // stripes of period p pixels along x, y or a diagonal
                    kind = "stripes";
                    int p = 6 + r.nextInt(11), dir = r.nextInt(3);
                    fill(rgb, (x, y) -> ((dir == 0 ? x : dir == 1 ? y : x + y) % p) < p / 2 ? a : b);
                }
                case 1 -> { // checkerboard of c-pixel cells
                    kind = "checkerboard";
                    int c = 4 + r.nextInt(9);
                    fill(rgb, (x, y) -> (x / c + y / c) % 2 == 0 ? a : b);
                }
                case 2 -> { // linear gradient from a to b along x or y
                    kind = "gradient";
                    boolean alongX = r.nextBoolean();
                    fill(rgb, (x, y) -> mix(a, b, (alongX ? x : y) / (double) (SIZE - 1)));
                }
                default -> { // three soft blobs of colour b (and a third colour) on a
                    kind = "blobs";
                    int[] c3 = colour(r);
                    double[][] blobs = new double[3][];
                    for (int k = 0; k < 3; k++) {
                        blobs[k] = new double[] {r.nextDouble(SIZE), r.nextDouble(SIZE), 6 + r.nextDouble(8)};
                    }
                    fill(rgb, (x, y) -> {
                        int[] px = a;
                        for (int k = 0; k < 3; k++) {
                            double dx = x - blobs[k][0], dy = y - blobs[k][1];
                            double w = Math.exp(-(dx * dx + dy * dy) / (2 * blobs[k][2] * blobs[k][2]));
                            px = mix(px, k == 1 ? c3 : b, w);
                        }
                        return px;
                    });
                }
            }
            out.add(new Scene(String.format(Locale.ROOT, "%s-%d", kind, j), rgb));
        }
        return List.copyOf(out);
    }

    /** The scene of each of the first n samples, uniform over [0, count), from a generator of its own (not the plan's). */
    static int[] assign(int n, int count, long seed) {
        SplittableRandom root = new SplittableRandom(seed ^ (SALT << 1));
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = root.split().nextInt(count);
        }
        return out;
    }

    private interface Pixel {
        int[] at(int x, int y);
    }

    private static void fill(byte[] rgb, Pixel p) {
        for (int y = 0; y < SIZE; y++) {
            for (int x = 0; x < SIZE; x++) {
                int[] c = p.at(x, y);
                int i = (y * SIZE + x) * 3;
                rgb[i] = (byte) c[0];
                rgb[i + 1] = (byte) c[1];
                rgb[i + 2] = (byte) c[2];
            }
        }
    }

    /** A colour of channels in [30, 225]: never the shapes' saturated extremes, never black or white. */
    private static int[] colour(SplittableRandom r) {
        return new int[] {30 + r.nextInt(196), 30 + r.nextInt(196), 30 + r.nextInt(196)};
    }

    private static int[] mix(int[] a, int[] b, double w) {
        return new int[] {(int) Math.round(a[0] + (b[0] - a[0]) * w), (int) Math.round(a[1] + (b[1] - a[1]) * w),
                (int) Math.round(a[2] + (b[2] - a[2]) * w)};
    }
}
