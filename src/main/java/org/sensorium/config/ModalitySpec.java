package org.sensorium.config;

import java.util.List;

/**
 * How raw signals of one modality become tensors: rates, sizes, patching, normalisation. One
 * record per modality, loaded from modalities/&lt;m&gt;.yaml (keys modalities.&lt;m&gt;.*). The clip length
 * is not here: it is data.clip_seconds, shared by all modalities, and every count below is derived
 * from it.
 */
public sealed interface ModalitySpec {

    /**
     * Video: frames at {@code fps}, resized (shorter side) and cropped to height x width, RGB in [0,1]
     * normalised with mean/std, cut into tubeletFrames x patch x patch tubelets. Training clips get one
     * augmentation for all their frames (CVRL's temporally consistent augmentation): a random crop
     * covering cropMinScale..1 of the resized frame's area, a horizontal flip if flip, brightness and
     * contrast factors in 1 +- brightness / contrast, and, with backgroundErasing above 0, one frame of
     * the clip mixed into every frame with a weight drawn from [0, backgroundErasing) (Wang et al.'s
     * background erasing: the static frame adds no motion). Evaluation clips are centre-cropped, unchanged.
     */
    record Video(double fps, int height, int width, int tubeletFrames, int patch, List<Double> mean, List<Double> std,
            double cropMinScale, boolean flip, double brightness, double contrast, double backgroundErasing, int stride)
            implements ModalitySpec {
        public Video(double fps, int height, int width, int tubeletFrames, int patch, List<Double> mean, List<Double> std,
                double cropMinScale, boolean flip, double brightness, double contrast) {
            this(fps, height, width, tubeletFrames, patch, mean, std, cropMinScale, flip, brightness, contrast, 0.0, 0);
        }

        public Video(double fps, int height, int width, int tubeletFrames, int patch, List<Double> mean, List<Double> std,
                double cropMinScale, boolean flip, double brightness, double contrast, double backgroundErasing) {
            this(fps, height, width, tubeletFrames, patch, mean, std, cropMinScale, flip, brightness, contrast, backgroundErasing, 0);
        }

        public Video {
            if (stride < 0) {
                throw new ConfigException("modalities.video.stride", stride + " must be >= 0 (0 = sample at fps)");
            }
            if (backgroundErasing < 0 || backgroundErasing >= 1) {
                throw new ConfigException("modalities.video.background_erasing", backgroundErasing + " must be in [0, 1) (0 = off)");
            }
            if (!(cropMinScale > 0 && cropMinScale <= 1)) {
                throw new ConfigException("modalities.video.crop_min_scale", cropMinScale + " must be in (0, 1] (1 = no random crop)");
            }
            if (brightness < 0 || brightness >= 1) {
                throw new ConfigException("modalities.video.brightness", brightness + " must be in [0, 1)");
            }
            if (contrast < 0 || contrast >= 1) {
                throw new ConfigException("modalities.video.contrast", contrast + " must be in [0, 1)");
            }
            positive("modalities.video.fps", fps);
            divisible("modalities.video.height", height, patch);
            divisible("modalities.video.width", width, patch);
            positive("modalities.video.tubelet_frames", tubeletFrames);
            rgb("modalities.video.mean", mean);
            rgb("modalities.video.std", std);
        }

        /** T: frames in a clip of the given length. */
        public int frames(double clipSeconds) {
            return (int) Math.round(clipSeconds * fps);
        }

        /** Input shape of one sample: (T, H, W, 3). */
        public long[] inputShape(double clipSeconds) {
            return new long[] {frames(clipSeconds), height, width, 3};
        }

        public int tokens(double clipSeconds) {
            return frames(clipSeconds) / tubeletFrames * (height / patch) * (width / patch);
        }
    }

    /**
     * Audio: mono waveform at sampleRate Hz. With input "logmel": a log-mel spectrogram with melBins
     * bands (window/hop in ms), cut into patch x patch patches (time x mel), as AST does. With input
     * "waveform": the raw samples in [-1, 1], cut into 1-D patches of waveformPatch samples, as VATT
     * does (128 samples = 8 ms at 16 kHz).
     */
    record Audio(int sampleRate, String input, int melBins, double windowMs, double hopMs, double fmin, double fmax,
            int patch, double mean, double std, int waveformPatch) implements ModalitySpec {
        /** The values of {@code input}. */
        public static final List<String> INPUTS = List.of("logmel", "waveform");

        public Audio {
            positive("modalities.audio.sample_rate", sampleRate);
            if (!INPUTS.contains(input)) {
                throw new ConfigException("modalities.audio.input", "'" + input + "' must be one of " + INPUTS);
            }
            divisible("modalities.audio.mel_bins", melBins, patch);
            positive("modalities.audio.window_ms", windowMs);
            positive("modalities.audio.hop_ms", hopMs);
            if (!(fmin >= 0) || fmin >= sampleRate / 2.0) {
                throw new ConfigException("modalities.audio.fmin", fmin + " must be in [0, sample_rate/2 " + sampleRate / 2.0 + ")");
            }
            if (!(fmax > fmin) || fmax > sampleRate / 2.0) {
                throw new ConfigException("modalities.audio.fmax", fmax + " must be in (modalities.audio.fmin " + fmin
                        + ", sample_rate/2 " + sampleRate / 2.0 + "]");
            }
            positive("modalities.audio.std", std);
            positive("modalities.audio.waveform_patch", waveformPatch);
        }

        public boolean waveform() {
            return input.equals("waveform");
        }

        public int windowSamples() {
            return (int) Math.round(windowMs * sampleRate / 1000.0);
        }

        public int hopSamples() {
            return (int) Math.round(hopMs * sampleRate / 1000.0);
        }

        /** F: spectrogram frames kept for a clip, rounded down to a multiple of the patch size. */
        public int frames(double clipSeconds) {
            int samples = (int) Math.round(clipSeconds * sampleRate);
            int all = (samples - windowSamples()) / hopSamples() + 1;
            return all / patch * patch;
        }

        /** S: waveform samples kept for a clip, rounded down to a multiple of waveformPatch. */
        public int samples(double clipSeconds) {
            return (int) Math.round(clipSeconds * sampleRate) / waveformPatch * waveformPatch;
        }

        /** Input shape of one sample: (F, M) log-mel, time-major, or (S) waveform. */
        public long[] inputShape(double clipSeconds) {
            return waveform() ? new long[] {samples(clipSeconds)} : new long[] {frames(clipSeconds), melBins};
        }

        public int tokens(double clipSeconds) {
            return waveform() ? samples(clipSeconds) / waveformPatch : frames(clipSeconds) / patch * (melBins / patch);
        }
    }

    /**
     * Text: tokenizer.json ("classpath:NAME" or a path), ids padded/truncated to maxLength. With bag
     * K above 1 a sample carries up to K texts (its cues and captions, one row each) for MIL-NCE.
     * The tower is either trained from scratch (the ids go through the shared trunk) or a pretrained
     * sentence encoder kept frozen ({@link Pretrained}): then a sample's text is that encoder's
     * sentence vector and tokenizer, maxLength and vocabSize are not used.
     */
    record Text(String tokenizer, int maxLength, int vocabSize, int bag, String tower, Pretrained pretrained)
            implements ModalitySpec {
        /** The values of {@code tower}. */
        public static final List<String> TOWERS = List.of("scratch", "pretrained");

        public Text(String tokenizer, int maxLength, int vocabSize) {
            this(tokenizer, maxLength, vocabSize, 1);
        }

        public Text(String tokenizer, int maxLength, int vocabSize, int bag) {
            this(tokenizer, maxLength, vocabSize, bag, "scratch", Pretrained.MINILM);
        }

        public Text {
            positive("modalities.text.bag", bag);
            if (tokenizer == null || tokenizer.isBlank()) {
                throw new ConfigException("modalities.text.tokenizer", "is empty");
            }
            positive("modalities.text.max_length", maxLength);
            positive("modalities.text.vocab_size", vocabSize);
            if (!TOWERS.contains(tower)) {
                throw new ConfigException("modalities.text.tower", "'" + tower + "' is not one of " + TOWERS);
            }
            if (tower.equals("pretrained") && pretrained.learnedPooling() && bag > 1) { // (the fields are not set yet)
                throw new ConfigException("modalities.text.pretrained.pooling", "learned pooling takes one text per sample, not bags of " + bag);
            }
        }

        /** True when the text is a frozen pretrained encoder's sentence vector. */
        public boolean isPretrained() {
            return tower.equals("pretrained");
        }

        /**
         * Input shape of one sample: (L) token ids, or (K, L) with a bag of K texts; (W) or (K, W) sentence vectors
         * with a pretrained tower; (L, W) token states with its learned pooling (L = max_length, padded).
         */
        public long[] inputShape() {
            if (isPretrained() && pretrained.learnedPooling()) {
                return new long[] {maxLength, pretrained.width()};
            }
            int row = isPretrained() ? pretrained.width() : maxLength;
            return bag == 1 ? new long[] {row} : new long[] {bag, row};
        }

        /**
         * A pretrained sentence encoder, frozen: an ONNX file taking input_ids, attention_mask (and
         * token_type_ids if it declares them) and giving token states (1, L, width) first, with its
         * HuggingFace tokenizer.json. Its sentence vector is the pooled token states (mean over the
         * valid tokens, or the first token), L2-normalised if normalize; with pooling "learned" the token
         * states themselves are the input and the model pools them with a trained attention query. A trained projection
         * (linear: width -> model.embed_dim; none: the vector itself, needs embed_dim = width) puts it
         * in the shared space. Outputs are cached by (model file, tokenizer file, settings, text).
         */
        public record Pretrained(String model, String tokenizer, int width, int maxLength, String pooling,
                boolean normalize, String projection, int cacheEntries) {
            public static final List<String> POOLINGS = List.of("mean", "cls", "learned");
            public static final List<String> PROJECTIONS = List.of("linear", "none");
            /** all-MiniLM-L6-v2 (sentence-transformers), fp32 ONNX, as Maven Central ships it. */
            public static final Pretrained MINILM = new Pretrained("classpath:all-minilm-l6-v2.onnx",
                    "classpath:all-minilm-l6-v2-tokenizer.json", 384, 256, "mean", true, "linear", 1_000_000);

            /** True when the model pools the token states itself (a trained attention query). */
            public boolean learnedPooling() {
                return pooling.equals("learned");
            }

            public Pretrained {
                if (model == null || model.isBlank()) {
                    throw new ConfigException("modalities.text.pretrained.model", "is empty");
                }
                if (tokenizer == null || tokenizer.isBlank()) {
                    throw new ConfigException("modalities.text.pretrained.tokenizer", "is empty");
                }
                positive("modalities.text.pretrained.width", width);
                positive("modalities.text.pretrained.max_length", maxLength);
                positive("modalities.text.pretrained.cache_entries", cacheEntries);
                if (!POOLINGS.contains(pooling)) {
                    throw new ConfigException("modalities.text.pretrained.pooling", "'" + pooling + "' is not one of " + POOLINGS);
                }
                if (pooling.equals("learned") && !projection.equals("linear")) {
                    throw new ConfigException("modalities.text.pretrained.projection", "learned pooling needs the linear projection");
                }
                if (!PROJECTIONS.contains(projection)) {
                    throw new ConfigException("modalities.text.pretrained.projection", "'" + projection + "' is not one of " + PROJECTIONS);
                }
            }
        }
    }

    /**
     * IMU: the named channels (accelerometer in m/s^2, gyroscope in rad/s), optionally low-pass
     * filtered at lowpassHz (0 = off; 2nd-order Butterworth, forward-backward, before resampling),
     * resampled to rateHz, normalised ("scale": divided by accelScale / gyroScale; "zscore": per
     * window and channel (x - mean) / max(std, 1e-6)), cut into patches of patch samples.
     */
    record Imu(double rateHz, List<String> channels, int patch, double accelScale, double gyroScale,
            double lowpassHz, String normalize, boolean rotate, double scale, double jitter) implements ModalitySpec {
        /** The values of {@code normalize}. */
        public static final List<String> NORMALIZE = List.of("scale", "zscore");

        /** Without training augmentation. */
        public Imu(double rateHz, List<String> channels, int patch, double accelScale, double gyroScale,
                double lowpassHz, String normalize) {
            this(rateHz, channels, patch, accelScale, gyroScale, lowpassHz, normalize, false, 0.0, 0.0);
        }

        public Imu {
            if (!(scale >= 0 && scale < 1)) {
                throw new ConfigException("modalities.imu.scale", scale + " must be in [0, 1) (0 = off)");
            }
            if (!(jitter >= 0) || Double.isInfinite(jitter)) {
                throw new ConfigException("modalities.imu.jitter", jitter + " must be >= 0 (0 = off)");
            }
            positive("modalities.imu.rate_hz", rateHz);
            if (channels == null || channels.size() < 3 || channels.size() > 6) {
                throw new ConfigException("modalities.imu.channels", "needs 3 to 6 channel names, got " + channels);
            }
            positive("modalities.imu.patch", patch);
            positive("modalities.imu.accel_scale", accelScale);
            positive("modalities.imu.gyro_scale", gyroScale);
            if (!(lowpassHz >= 0) || Double.isInfinite(lowpassHz)) {
                throw new ConfigException("modalities.imu.lowpass_hz", lowpassHz + " must be 0 (off) or a cut-off in Hz > 0");
            }
            if (!NORMALIZE.contains(normalize)) {
                throw new ConfigException("modalities.imu.normalize", "'" + normalize + "' must be one of " + NORMALIZE);
            }
        }

        /** W: samples in a clip. */
        public int window(double clipSeconds) {
            return (int) Math.round(clipSeconds * rateHz);
        }

        /** Input shape of one sample: (W, C). */
        public long[] inputShape(double clipSeconds) {
            return new long[] {window(clipSeconds), channels.size()};
        }

        public int tokens(double clipSeconds) {
            return window(clipSeconds) / patch;
        }
    }

    /**
     * Motion: the motion-vector field of the video file (see CompressedVideo), sampled at fps like the
     * video's frames, pooled on a gridH x gridW grid per frame, in frame widths/heights per frame
     * divided by scale, cut into tubeletFrames x patch x patch tubelets of 2 channels (x, y).
     */
    record Motion(double fps, int gridH, int gridW, int tubeletFrames, int patch, double scale) implements ModalitySpec {
        public Motion {
            positive("modalities.motion.fps", fps);
            divisible("modalities.motion.grid_h", gridH, patch);
            divisible("modalities.motion.grid_w", gridW, patch);
            positive("modalities.motion.tubelet_frames", tubeletFrames);
            positive("modalities.motion.scale", scale);
        }

        public int frames(double clipSeconds) {
            return (int) Math.round(clipSeconds * fps);
        }

        /** Input shape of one sample: (T, gridH, gridW, 2). */
        public long[] inputShape(double clipSeconds) {
            return new long[] {frames(clipSeconds), gridH, gridW, 2};
        }
    }

    // One overload per type, so a message shows the value as the key's type prints it: an integer key's 0 as "0",
    // not "0.0", and a float key's -0.1 as "-0.1", not its widening to double.
    private static void positive(String key, int v) {
        if (v <= 0) {
            throw new ConfigException(key, v + " must be > 0");
        }
    }

    private static void positive(String key, float v) {
        if (!(v > 0)) {
            throw new ConfigException(key, v + " must be > 0");
        }
    }

    private static void positive(String key, double v) {
        if (!(v > 0)) {
            throw new ConfigException(key, v + " must be > 0");
        }
    }

    private static void divisible(String key, int v, int by) {
        if (v <= 0 || by <= 0 || v % by != 0) {
            throw new ConfigException(key, v + " must be a positive multiple of the patch size " + by);
        }
    }

    private static void rgb(String key, List<Double> v) {
        if (v == null || v.size() != 3) {
            throw new ConfigException(key, "needs 3 values (R, G, B), got " + v);
        }
    }
}
