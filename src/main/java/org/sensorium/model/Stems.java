package org.sensorium.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;
import org.sensorium.model.Layers.Linear;
import org.sensorium.config.Modality;
import org.sensorium.config.ModalitySpec;
import org.sensorium.config.ModalitySpecs;

/** One stem per modality: raw tensor in, (B, N_m, D) tokens out. */
final class Stems {
    private Stems() {}

    interface Stem {
        /** Tokens this stem produces for one sample. */
        int tokens();

        /**
         * Positions along time: tokens are laid out time-major, so each of these steps owns tokens() / steps()
         * consecutive tokens (a video's tubelet slice, a spectrogram's column of patches, one IMU window).
         * 0 for text, whose order is not a clock.
         */
        int steps();

        NDArray forward(NDArray input);
    }

    static Stem create(Modality m, ModalitySpecs specs, double clipSeconds, Params p, int width) {
        return switch (m) {
            case VIDEO -> new Tubelets(specs.video(), clipSeconds, p, width);
            case MOTION -> new Tubelets("motion", specs.motion().frames(clipSeconds), specs.motion().tubeletFrames(),
                    specs.motion().patch(), specs.motion().gridH(), specs.motion().gridW(), 2, p, width);
            case AUDIO -> specs.audio().waveform()
                    ? new WavePatches(specs.audio(), clipSeconds, p, width)
                    : new MelPatches(specs.audio(), clipSeconds, p, width);
            case TEXT -> new TokenEmbedding(specs.text(), p, width);
            case IMU -> new ImuPatches(specs.imu(), clipSeconds, p, width);
        };
    }

    /** Video (B, T, H, W, C) -> non-overlapping t x p x p tubelets -> linear (ViViT / VATT); also the motion field (C = 2). */
    static final class Tubelets implements Stem {
        private final int frames, t, p, height, width, channels;
        private final Linear proj;

        Tubelets(ModalitySpec.Video s, double clipSeconds, Params params, int d) {
            this("video", s.frames(clipSeconds), s.tubeletFrames(), s.patch(), s.height(), s.width(), 3, params, d);
        }

        Tubelets(String key, int frames, int t, int p, int height, int width, int channels, Params params, int d) {
            this.frames = frames;
            this.t = t;
            this.p = p;
            this.height = height;
            this.width = width;
            this.channels = channels;
            if (frames % t != 0) {
                throw new org.sensorium.config.ConfigException("modalities." + key + ".tubelet_frames",
                        "clip of " + frames + " frames is not a multiple of " + t);
            }
            proj = Linear.create(params, "stem." + key + ".proj", t * p * p * channels, d);
        }

        @Override
        public int tokens() {
            return frames / t * (height / p) * (width / p);
        }

        @Override
        public int steps() {
            return frames / t;
        }

        @Override
        public NDArray forward(NDArray x) {
            return proj.forward(patches(x));                                         // (B, N, D)
        }

        /** The tubelets' raw values, time-major as the tokens: (B, T, H, W, C) -> (B, N, t*p*p*C). */
        NDArray patches(NDArray x) {
            long b = x.getShape().get(0);
            return x.reshape(b, frames / t, t, height / p, p, width / p, p, channels) // (B, T/t, t, H/p, p, W/p, p, C)
                    .transpose(0, 1, 3, 5, 2, 4, 6, 7)                               // (B, T/t, H/p, W/p, t, p, p, C)
                    .reshape(b, tokens(), (long) t * p * p * channels);              // (B, N, t*p*p*C)
        }
    }

    /** Audio (B, F, M) log-mel -> p x p patches (time x mel) -> linear (AST / VATT). */
    static final class MelPatches implements Stem {
        private final int frames, mels, p;
        private final Linear proj;

        MelPatches(ModalitySpec.Audio s, double clipSeconds, Params params, int d) {
            frames = s.frames(clipSeconds);
            mels = s.melBins();
            p = s.patch();
            proj = Linear.create(params, "stem.audio.proj", p * p, d);
        }

        @Override
        public int tokens() {
            return frames / p * (mels / p);
        }

        @Override
        public int steps() {
            return frames / p;
        }

        @Override
        public NDArray forward(NDArray x) {
            long b = x.getShape().get(0);
            NDArray patches = x.reshape(b, frames / p, p, mels / p, p) // (B, F/p, p, M/p, p)
                    .transpose(0, 1, 3, 2, 4)                          // (B, F/p, M/p, p, p)
                    .reshape(b, tokens(), (long) p * p);               // (B, N, p*p)
            return proj.forward(patches);                              // (B, N, D)
        }
    }

    /** Audio (B, S) raw waveform -> non-overlapping 1-D patches of k samples -> linear (VATT). */
    static final class WavePatches implements Stem {
        private final int samples, k;
        private final Linear proj;

        WavePatches(ModalitySpec.Audio s, double clipSeconds, Params params, int d) {
            samples = s.samples(clipSeconds);
            k = s.waveformPatch();
            proj = Linear.create(params, "stem.audio.wave", k, d);
        }

        @Override
        public int tokens() {
            return samples / k;
        }

        @Override
        public int steps() {
            return tokens();
        }

        @Override
        public NDArray forward(NDArray x) {
            long b = x.getShape().get(0);
            return proj.forward(x.reshape(b, tokens(), k)); // (B, S) -> (B, S/k, k) -> (B, N, D)
        }
    }

    /** Text (B, L) token ids -> embedding rows (B, L, D). */
    static final class TokenEmbedding implements Stem {
        private final int length;
        private final NDArray table;

        TokenEmbedding(ModalitySpec.Text s, Params params, int d) {
            length = s.maxLength();
            table = params.normal("stem.text.embedding", 0.02f, s.vocabSize(), d);
        }

        @Override
        public int tokens() {
            return length;
        }

        @Override
        public int steps() {
            return 0;
        }

        @Override
        public NDArray forward(NDArray ids) {
            return Embedding.embedding(ids.toType(DataType.INT64, false), table, SparseFormat.DENSE).singletonOrThrow();
        }
    }

    /** IMU (B, W, C) -> windows of k samples (B, W/k, k*C) -> linear. */
    static final class ImuPatches implements Stem {
        private final int window, channels, k;
        private final Linear proj;

        ImuPatches(ModalitySpec.Imu s, double clipSeconds, Params params, int d) {
            window = s.window(clipSeconds);
            channels = s.channels().size();
            k = s.patch();
            if (window % k != 0) {
                throw new org.sensorium.config.ConfigException("modalities.imu.patch",
                        "window of " + window + " samples is not a multiple of " + k);
            }
            proj = Linear.create(params, "stem.imu.proj", k * channels, d);
        }

        @Override
        public int tokens() {
            return window / k;
        }

        @Override
        public int steps() {
            return tokens();
        }

        @Override
        public NDArray forward(NDArray x) {
            long b = x.getShape().get(0);
            return proj.forward(x.reshape(b, tokens(), (long) k * channels)); // (B, W/k, k*C) -> (B, N, D)
        }
    }
}
