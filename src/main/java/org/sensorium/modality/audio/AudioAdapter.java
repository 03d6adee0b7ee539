package org.sensorium.modality.audio;

import org.sensorium.modality.Recording;
import be.tarsos.dsp.util.fft.FFT;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.bytedeco.javacv.Frame;
import org.sensorium.modality.BadInputException;
import org.sensorium.modality.Clip;
import org.sensorium.modality.Item;
import org.sensorium.config.Modality;
import org.sensorium.modality.ModalityAdapter;
import org.sensorium.config.ModalitySpec;

/**
 * The sound track of any container FFmpeg reads, resampled by FFmpeg to spec.sampleRate mono float,
 * cut to [source.start + clip.start, + clip.seconds] (zeros past the end), as a log-mel spectrogram:
 * periodic Hann window of spec.windowSamples(), hop spec.hopSamples(), power spectrum of a
 * zero-padded power-of-two FFT, {@link MelFilterbank}, then (log(mel + 1e-6) - mean) / std.
 * Output (F, M) = (spec.frames(clip seconds), spec.melBins), time-major; or, with input "waveform",
 * the mono samples themselves, (S) = (spec.samples(clip seconds)).
 */
public final class AudioAdapter implements ModalityAdapter {
    static final double EPS = 1e-6;

    static {
        avutil.av_log_set_level(avutil.AV_LOG_FATAL);
    }

    private final ModalitySpec.Audio spec;
    private final double clipSeconds;
    private final int fftSize;
    private final float[] window;
    private final MelFilterbank mel;

    public AudioAdapter(ModalitySpec.Audio spec, double clipSeconds) {
        this.spec = spec;
        this.clipSeconds = clipSeconds;
        this.fftSize = Integer.highestOneBit(spec.windowSamples() - 1) << 1;
        this.window = hann(spec.windowSamples());
        this.mel = new MelFilterbank(spec.sampleRate(), fftSize, spec.melBins(), spec.fmin(), spec.fmax());
    }

    @Override
    public Modality modality() {
        return Modality.AUDIO;
    }

    /** (F, M). */
    @Override
    public long[] inputShape() {
        return spec.inputShape(clipSeconds);
    }

    /** Nothing is drawn: a clip's log-mel (or waveform) depends only on the recording and the clip's span. */
    @Override
    public boolean drawsFromSeed() {
        return false;
    }

    public MelFilterbank filterbank() {
        return mel;
    }

    @Override
    public Item load(Recording entry, Clip clip) throws BadInputException {
        Recording.Source src = entry.sources().get(Modality.AUDIO);
        Path file = src.path();
        String why = Recording.unopenable(file);
        if (why != null) {
            throw bad(entry, file, why);
        }
        double t0 = src.start() + clip.start();
        double seconds = Double.isNaN(src.end()) ? clip.seconds() : Math.min(clip.seconds(), src.end() - t0);
        float[] wave = new float[(int) Math.round(clip.seconds() * spec.sampleRate())];
        try {
            int wanted = (int) Math.round(Math.max(0, seconds) * spec.sampleRate());
            long decoded = decode(file, t0, wave, wanted);
            if (decoded == NO_TRACK) {
                throw bad(entry, file, "no audio track");
            }
            if (decoded == 0 && wanted > 0) {
                throw bad(entry, file, "no audio samples at or after " + t0 + " s (file shorter than the span, or truncated)");
            }
        } catch (BadInputException e) {
            throw e;
        } catch (Exception e) {
            throw bad(entry, file, ModalityAdapter.decodeFailure(file, e).replace("cannot decode", "cannot decode audio"));
        }
        float[] values = spec.waveform()
                ? java.util.Arrays.copyOf(wave, spec.samples(clip.seconds()))
                : logMel(wave, spec.frames(clip.seconds()));
        return new Item(values, spec.inputShape(clip.seconds()), null);
    }

    /** {@link #decode}'s answer for a file without an audio stream. */
    private static final long NO_TRACK = -1;

    /**
     * Fills wave[0 .. wanted) with mono samples from t0 seconds on; the first decoded block's timestamp
     * anchors the position (seeks land near, not on, t0). Returns the samples decoded (0 when the
     * stream ends before t0), or {@link #NO_TRACK} when the file has no audio.
     */
    private long decode(Path file, double t0, float[] wave, int wanted) throws Exception {
        try (FFmpegFrameGrabber g = new FFmpegFrameGrabber(file.toFile())) {
            g.setSampleRate(spec.sampleRate());
            g.setAudioChannels(1);
            g.setSampleFormat(avutil.AV_SAMPLE_FMT_FLT);
            g.start();
            if (!g.hasAudio()) {
                return NO_TRACK;
            }
            if (t0 > 0) {
                g.setTimestamp(Math.round(t0 * 1e6));
            }
            long pos = Long.MIN_VALUE; // index in wave of the next decoded sample
            long start = 0;
            for (Frame f; pos < wanted && (f = g.grabSamples()) != null; ) {
                if (f.samples == null) {
                    continue;
                }
                if (pos == Long.MIN_VALUE) {
                    pos = Math.round((f.timestamp / 1e6 - t0) * spec.sampleRate());
                    start = Math.max(0, pos);
                }
                pos = copy((FloatBuffer) f.samples[0], wave, pos, wanted);
            }
            return pos == Long.MIN_VALUE ? 0 : Math.max(0, Math.min(pos, wanted) - start);
        }
    }

    private static long copy(FloatBuffer in, float[] wave, long pos, int wanted) {
        int n = in.remaining();
        for (int i = 0; i < n; i++, pos++) {
            if (pos >= 0 && pos < wanted) {
                wave[(int) pos] = in.get(in.position() + i);
            }
        }
        return pos;
    }

    /**
     * Normalised log-mel spectrogram of a mono waveform at spec.sampleRate: frame f covers samples
     * [f * hop, f * hop + window), zeros past the end. Returns (frames, M) flattened, time-major.
     */
    public float[] logMel(float[] wave, int frames) {
        int m = spec.melBins();
        int hop = spec.hopSamples();
        FFT fft = new FFT(fftSize); // per call: the transform keeps scratch state
        float[] buf = new float[fftSize];
        float[] power = new float[fftSize / 2 + 1];
        float[] out = new float[frames * m];
        for (int f = 0; f < frames; f++) {
            java.util.Arrays.fill(buf, 0f);
            for (int i = 0; i < window.length && f * hop + i < wave.length; i++) {
                buf[i] = wave[f * hop + i] * window[i];
            }
            fft.forwardTransform(buf);
            powerSpectrum(buf, power);
            mel.apply(power, out, f * m);
        }
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) ((Math.log(out[i] + EPS) - spec.mean()) / spec.std());
        }
        return out;
    }

    /** |X_k|^2 for k = 0 .. n/2 from TarsosDSP's packed real FFT: [Re0, Re(n/2), Re1, Im1, Re2, Im2, ...]. */
    private static void powerSpectrum(float[] packed, float[] power) {
        int half = packed.length / 2;
        power[0] = packed[0] * packed[0];
        power[half] = packed[1] * packed[1];
        for (int k = 1; k < half; k++) {
            power[k] = packed[2 * k] * packed[2 * k] + packed[2 * k + 1] * packed[2 * k + 1];
        }
    }

    /** Periodic Hann window (as torch.hann_window), (N). */
    private static float[] hann(int n) {
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = (float) (0.5 - 0.5 * Math.cos(2 * Math.PI * i / n));
        }
        return w;
    }

    private static BadInputException bad(Recording entry, Path file, String reason) {
        return new BadInputException(entry.where() + ": " + file + ": " + String.valueOf(reason).replaceAll("\\s+", " ").trim());
    }
}
