package org.sensorium.modality.audio;

/**
 * Triangular mel filters on the HTK mel scale, mel(f) = 2595 log10(1 + f / 700). Band b rises from
 * edge b to its centre (edge b+1) and falls to edge b+2; the bands+2 edges are equally spaced in mel
 * from fmin to fmax. Weights peak at 1 (no area normalisation). Written here rather than taken from
 * TarsosDSP, whose filterbank leaves the last band's centre at 0 Hz. Immutable, thread-safe.
 */
public final class MelFilterbank {
    private final int bins;
    private final double[] edgesHz;
    private final float[][] weights; // (M, K) with K = fftSize / 2 + 1 frequency bins
    private final int[] first;       // first non-zero bin of each band
    private final int[] last;        // last non-zero bin of each band (inclusive)

    /**
     * @param sampleRate Hz of the signal
     * @param fftSize FFT length (the power spectrum has fftSize / 2 + 1 bins, bin k at k * sampleRate / fftSize Hz)
     * @param bands M, number of mel bands
     * @param fminHz lower edge of the first band
     * @param fmaxHz upper edge of the last band, at most sampleRate / 2
     */
    public MelFilterbank(int sampleRate, int fftSize, int bands, double fminHz, double fmaxHz) {
        if (bands <= 0 || fminHz < 0 || fmaxHz <= fminHz || fmaxHz > sampleRate / 2.0) {
            throw new IllegalArgumentException("bad mel filterbank: bands=" + bands + " fmin=" + fminHz + " fmax=" + fmaxHz
                    + " sampleRate=" + sampleRate);
        }
        this.bins = fftSize / 2 + 1;
        this.edgesHz = new double[bands + 2];
        double lo = hzToMel(fminHz);
        double step = (hzToMel(fmaxHz) - lo) / (bands + 1);
        for (int i = 0; i < edgesHz.length; i++) {
            edgesHz[i] = melToHz(lo + i * step);
        }
        this.weights = new float[bands][bins];
        this.first = new int[bands];
        this.last = new int[bands];
        for (int b = 0; b < bands; b++) {
            fillBand(b, sampleRate / (double) fftSize);
        }
    }

    private void fillBand(int b, double hzPerBin) {
        double left = edgesHz[b];
        double centre = edgesHz[b + 1];
        double right = edgesHz[b + 2];
        first[b] = bins;
        last[b] = -1;
        for (int k = 0; k < bins; k++) {
            double f = k * hzPerBin;
            double w = Math.max(0, Math.min((f - left) / (centre - left), (right - f) / (right - centre)));
            if (w > 0) {
                weights[b][k] = (float) w;
                first[b] = Math.min(first[b], k);
                last[b] = k;
            }
        }
    }

    public static double hzToMel(double hz) {
        return 2595.0 * Math.log10(1.0 + hz / 700.0);
    }

    public static double melToHz(double mel) {
        return 700.0 * (Math.pow(10.0, mel / 2595.0) - 1.0);
    }

    public int bands() {
        return weights.length;
    }

    /** Centre frequency of each band in Hz, (M), increasing. */
    public double[] centresHz() {
        double[] c = new double[bands()];
        System.arraycopy(edgesHz, 1, c, 0, c.length);
        return c;
    }

    /** Lower edge of band b in Hz (its weight is 0 there). */
    public double lowerHz(int b) {
        return edgesHz[b];
    }

    /** Upper edge of band b in Hz (its weight is 0 there). */
    public double upperHz(int b) {
        return edgesHz[b + 2];
    }

    /** Mel energies (M) of one power spectrum (K = fftSize / 2 + 1), written to out[offset .. offset + M). */
    public void apply(float[] power, float[] out, int offset) {
        for (int b = 0; b < weights.length; b++) {
            double sum = 0;
            for (int k = first[b]; k <= last[b]; k++) {
                sum += weights[b][k] * power[k];
            }
            out[offset + b] = (float) sum;
        }
    }
}
