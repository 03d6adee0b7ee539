package org.sensorium.modality.video;

import org.sensorium.modality.Recording;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.bytedeco.ffmpeg.global.avutil;
import org.sensorium.modality.BadInputException;
import org.sensorium.modality.Clip;
import org.sensorium.modality.Item;
import org.sensorium.config.Modality;
import org.sensorium.modality.ModalityAdapter;
import org.sensorium.config.ModalitySpec;

/**
 * Video clips decoded by FFmpeg's libavcodec ({@link CompressedVideo#clip}): T = spec.frames(clip seconds) frames sampled at spec.fps
 * (clip.speed / spec.fps seconds apart: a clip at speed 2 plays twice as fast), or with spec.stride N
 * every N-th frame at the source's frame rate (clip.speed * N / source fps apart), from source.start +
 * clip.start, each the decoded frame nearest in time to its target (the last
 * frame repeats when the video is shorter). Only the sampled frames are converted: swscale takes them
 * from the decoder's YUV straight to RGB at the size whose shorter side fits (enlarged for a random
 * crop when training), then H x W is cropped (centred for evaluation). Output (T, H, W, 3),
 * RGB, (x/255 - mean[c]) / std[c]. A training clip draws one {@link Augment} from its seed and applies
 * it to every frame, so motion between frames is left intact (CVRL).
 */
public final class VideoAdapter implements ModalityAdapter {
    private static final int RGB = 3;

    static {
        // FFmpeg prints decoder chatter (e.g. h264 slices after a seek) to stderr; failures reach us as exceptions.
        avutil.av_log_set_level(avutil.AV_LOG_FATAL);
    }

    private final ModalitySpec.Video spec;
    private final double clipSeconds;

    public VideoAdapter(ModalitySpec.Video spec, double clipSeconds) {
        this.spec = spec;
        this.clipSeconds = clipSeconds;
    }

    @Override
    public Modality modality() {
        return Modality.VIDEO;
    }

    /** (T, H, W, 3). */
    @Override
    public long[] inputShape() {
        return spec.inputShape(clipSeconds);
    }

    @Override
    public Item load(Recording entry, Clip clip) throws BadInputException {
        Recording.Source src = entry.sources().get(Modality.VIDEO);
        Path file = src.path();
        String why = Recording.unopenable(file);
        if (why != null) {
            throw bad(entry, file, why);
        }
        double t0 = src.start() + clip.start();
        double end = Double.isNaN(src.end()) ? Double.POSITIVE_INFINITY : src.end();
        Augment aug = clip.train() ? Augment.draw(spec, new SplittableRandom(clip.seed())) : Augment.NONE;
        byte[][] frames;
        try {
            frames = CompressedVideo.clip(file, t0, end, spec.frames(clip.seconds()), fps -> step(spec, fps, clip.speed()),
                    new CompressedVideo.Crop(spec.height(), spec.width(), aug.zoom(), aug.fx(), aug.fy()));
        } catch (BadInputException e) {
            throw new BadInputException(entry.where() + ": " + e.getMessage(), e);
        }
        if (aug.flip()) {
            java.util.Map<byte[], byte[]> mirrored = new java.util.IdentityHashMap<>(); // repeated frames are one array
            for (int i = 0; frames != null && i < frames.length; i++) {
                frames[i] = mirrored.computeIfAbsent(frames[i], f -> mirror(f, spec.height(), spec.width()));
            }
        }
        if (frames == null) {
            throw bad(entry, file, "no video frames at or after " + t0 + " s");
        }
        return new Item(normalise(frames, aug), spec.inputShape(clip.seconds()), null);
    }

    /**
     * The key frame of the clip's group of pictures ({@link CompressedVideo#gopKeyframe}: the last key frame at or
     * before the clip's start, within the sample's span, else the first one inside the clip) as a static clip: the
     * image repeated over the T frames of a clip (I3D's inflation of an image into a video), so the video stem
     * encodes it. A training key frame gets an augmentation of its own (drawn from a stream split off clip.seed),
     * as SimCLR's two views do: with the clip's own draw, brightness and zoom alone would tell which key frame
     * belongs to which clip (measured: 95% in-batch matches, held-out retrieval below the untrained model's).
     *
     * @return (T, H, W, 3), or null when the span has no key frame up to the clip's end
     */
    public Item keyframeClip(Recording entry, Clip clip) throws BadInputException {
        Recording.Source src = entry.sources().get(Modality.VIDEO);
        double t0 = src.start() + clip.start();
        double end = Math.min(Double.isNaN(src.end()) ? Double.POSITIVE_INFINITY : src.end(), t0 + clip.seconds() * clip.speed());
        Augment aug = clip.train() ? Augment.draw(spec, new SplittableRandom(clip.seed()).split()) : Augment.NONE;
        CompressedVideo.Keyframe key;
        try {
            key = CompressedVideo.gopKeyframe(src.path(), t0, src.start(), end,
                    new CompressedVideo.Crop(spec.height(), spec.width(), aug.zoom(), aug.fx(), aug.fy()));
        } catch (BadInputException e) {
            throw new BadInputException(entry.where() + ": " + e.getMessage(), e);
        }
        if (key == null) {
            return null;
        }
        byte[][] frames = new byte[spec.frames(clip.seconds())][];
        java.util.Arrays.fill(frames, aug.flip() ? mirror(key.rgb(), spec.height(), spec.width()) : key.rgb());
        return new Item(normalise(frames, aug), spec.inputShape(clip.seconds()), null);
    }

    /**
     * One clip's augmentation.
     *
     * @param zoom the resized frame is zoom times the size that just covers H x W (1 / sqrt(area scale))
     * @param fx where the crop sits horizontally, 0 = left edge, 1 = right edge (0.5 = centred)
     * @param fy the same vertically
     * @param flip mirror left-right
     * @param brightness multiplies pixel values in [0, 1]
     * @param contrast scales the distance from mid-grey
     * @param erase weight of the static frame mixed into every frame (background erasing; 0 = off)
     * @param eraseFrame which frame is the static one, as a fraction of the clip (0 = first)
     */
    record Augment(double zoom, double fx, double fy, boolean flip, double brightness, double contrast,
            double erase, double eraseFrame) {
        static final Augment NONE = new Augment(1, 0.5, 0.5, false, 1, 1, 0, 0);

        static Augment draw(ModalitySpec.Video s, SplittableRandom r) {
            double area = s.cropMinScale() + r.nextDouble() * (1 - s.cropMinScale());
            return new Augment(1 / Math.sqrt(area), r.nextDouble(), r.nextDouble(), s.flip() && r.nextBoolean(),
                    1 + (2 * r.nextDouble() - 1) * s.brightness(), 1 + (2 * r.nextDouble() - 1) * s.contrast(),
                    r.nextDouble() * s.backgroundErasing(), r.nextDouble());
        }
    }

    /**
     * Seconds between sampled frames: speed / fps, or with a stride N, speed * N / the source's frame
     * rate (a source that reports no rate is sampled at fps, as if there were no stride).
     */
    static double step(ModalitySpec.Video spec, double sourceFps, double speed) {
        if (spec.stride() > 0 && sourceFps > 0 && Double.isFinite(sourceFps)) {
            return speed * spec.stride() / sourceFps;
        }
        return speed / spec.fps();
    }

    private static byte[] mirror(byte[] img, int h, int w) {
        byte[] out = new byte[img.length];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                System.arraycopy(img, (y * w + x) * RGB, out, (y * w + (w - 1 - x)) * RGB, RGB);
            }
        }
        return out;
    }

    /** (T, H, W, 3) floats: (x / 255 - mean[c]) / std[c]. */
    private float[] normalise(byte[][] frames, Augment aug) {
        float[] lut = new float[256 * RGB]; // (byte value, channel) -> normalised value
        for (int v = 0; v < 256; v++) {
            double x = Math.min(1, Math.max(0, ((v / 255.0 - 0.5) * aug.contrast() + 0.5) * aug.brightness()));
            for (int c = 0; c < RGB; c++) {
                lut[v * RGB + c] = (float) ((x - spec.mean().get(c)) / spec.std().get(c));
            }
        }
        int per = frames[0].length;
        float[] out = new float[frames.length * per];
        for (int t = 0; t < frames.length; t++) {
            for (int k = 0; k < per; k++) {
                out[t * per + k] = lut[(frames[t][k] & 0xFF) * RGB + k % RGB];
            }
        }
        if (aug.erase() > 0) { // x_t <- (1 - w) x_t + w x_s for one static frame s (normalisation is affine, so mixing after it is the same)
            int s = Math.min(frames.length - 1, (int) (aug.eraseFrame() * frames.length));
            float[] still = java.util.Arrays.copyOfRange(out, s * per, (s + 1) * per);
            float w = (float) aug.erase();
            for (int t = 0; t < frames.length; t++) {
                for (int k = 0; k < per; k++) {
                    out[t * per + k] = (1 - w) * out[t * per + k] + w * still[k];
                }
            }
        }
        return out;
    }

    private static BadInputException bad(Recording entry, Path file, String reason) {
        return new BadInputException(entry.where() + ": " + file + ": " + oneLine(reason));
    }

    static String oneLine(String s) {
        return String.valueOf(s).replaceAll("\\s*[\\r\\n]+\\s*", " ").trim();
    }
}
