package org.sensorium.modality.video;

import static org.bytedeco.ffmpeg.global.avutil.av_frame_alloc;
import static org.bytedeco.ffmpeg.global.avutil.av_frame_free;
import static org.bytedeco.ffmpeg.global.avutil.av_frame_ref;
import static org.bytedeco.ffmpeg.global.avutil.av_frame_unref;
import static org.sensorium.modality.video.Decoder.AV_FRAME_FLAG_KEY;
import static org.sensorium.modality.video.Decoder.bad;
import static org.sensorium.modality.video.Decoder.check;
import static org.sensorium.modality.video.Decoder.errorText;
import static org.sensorium.modality.video.Decoder.noFrames;
import static org.sensorium.modality.video.Decoder.requireFile;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleUnaryOperator;
import org.bytedeco.ffmpeg.avutil.AVFrame;
import org.sensorium.modality.BadInputException;

/**
 * Compressed-domain video: the motion vectors FFmpeg exports as frame side data (decoder option
 * flags2=+export_mvs, AV_FRAME_DATA_MOTION_VECTORS), pooled into a coarse motion field per frame
 * ({@link MotionVectors}), and the key frames as RGB images ({@link RgbScaler}). Both seek to the key frame
 * at or before the clip start and decode from there, through the avformat/avcodec presets directly
 * ({@link Decoder}).
 *
 * <p>Frames are sampled as in {@link VideoAdapter}: target i of T is t0 + i / fps, served by the
 * decoded frame nearest in time (best-effort timestamps, as JavaCV reports them); the last frame
 * repeats when the video ends first; frames after {@code end} are not used.
 *
 * <p>Motion field units and signs: a cell holds the velocity of the picture content whose blocks
 * land in it, in frame widths (x) and frame heights (y) per frame interval, x positive to the right
 * and y positive downwards (image rows), so a shape moving right gives x &gt; 0 and one moving up
 * gives y &lt; 0, at any resolution.
 *
 * <p>Every call opens its own demuxer and decoder and frees them before it returns: calls are
 * independent and may run on several loader threads at once.
 */
public final class CompressedVideo {
    /** Timestamps this close (seconds) are the same instant: pts / time base rounding. */
    private static final double TIME_EPS = 1e-6;

    private CompressedVideo() {}

    /**
     * Motion fields of T sampled frames.
     *
     * @param field (T, gridH, gridW, 2) mean block velocity (x, y) per cell, in frame widths / heights per frame
     *     interval, x right and y down: the mean over the blocks overlapping the cell, weighted by the overlap's
     *     area; 0 in cells no block with a vector overlaps (see coverage), and everywhere in intra frames
     * @param times (T) timestamp in seconds of the frame each field comes from
     * @param pictureTypes (T) FFmpeg's picture type letter of that frame: 'I', 'P', 'B', ...
     * @param key (T) that frame is a key frame
     * @param intra (T) that frame carries no motion vectors (intra coded), so its field is zero
     * @param coverage (T, gridH, gridW) the share of each cell's area covered by blocks with a vector, in [0, 1]: 0
     *     where the encoder coded every block intra (no measurement there, not a still scene), 1 where it predicted
     *     the whole cell (a skipped block of still background counts: its vector is a measured 0)
     */
    public record MotionField(int frames, int gridH, int gridW, float[] field, double[] times, char[] pictureTypes,
            boolean[] key, boolean[] intra, float[] coverage) {
        public MotionField {
            if (field.length != frames * gridH * gridW * 2 || times.length != frames || pictureTypes.length != frames
                    || key.length != frames || intra.length != frames || coverage.length != frames * gridH * gridW) {
                throw new IllegalArgumentException("a motion field of " + frames + " frames of " + gridH + "x" + gridW + " has arrays of other sizes");
            }
        }

        /** (T, gridH, gridW, 2). */
        public long[] shape() {
            return new long[] {frames, gridH, gridW, 2};
        }

        /** Component c (0 = x, 1 = y) of cell (gy, gx) of frame t. */
        public float at(int t, int gy, int gx, int c) {
            return field[((t * gridH + gy) * gridW + gx) * 2 + c];
        }
    }

    /**
     * One key frame.
     *
     * @param time its timestamp in seconds
     * @param rgb (H, W, 3) RGB bytes, row-major
     */
    public record Keyframe(double time, byte[] rgb) {}

    /**
     * Where a key frame's image is cut, as {@link VideoAdapter} cuts a clip's frames: the frame is scaled (bilinear)
     * to cover height x width zoom times over, keeping its aspect ratio, and the crop sits at fx of the room left
     * horizontally and fy vertically (0.5, 0.5: centred).
     */
    public record Crop(int height, int width, double zoom, double fx, double fy) {
        public Crop {
            if (height <= 0 || width <= 0 || !(zoom >= 1) || !(fx >= 0 && fx <= 1) || !(fy >= 0 && fy <= 1)) {
                throw new IllegalArgumentException("needs height, width > 0, zoom >= 1, fx and fy in [0, 1]: " + this);
            }
        }

        /** Just covering height x width, cut in the centre (evaluation clips). */
        public static Crop centre(int height, int width) {
            return new Crop(height, width, 1, 0.5, 0.5);
        }
    }

    /**
     * The pooled motion field of {@code count} frames sampled at {@code fps} from {@code t0}.
     *
     * <p>Each exported block vector (motion_x / motion_scale = src - dst, in pixels) becomes a velocity:
     * minus the vector for a past reference (FFmpeg's source &lt; 0), the vector for a future one (source &gt; 0,
     * B-frames), divided by the distance to the reference in frames (see {@link MotionVectors#referenceDistance})
     * and by the frame's width or height. A cell's value is the mean over the blocks whose destination rectangle
     * (w x h around dst_x, dst_y) overlaps it, each weighted by the overlap's area; a block predicted from both
     * directions counts once per direction. (A 16 x 16 macroblock thus fills the 2 x 2 cells of an 8 x 8 grid on a
     * 64 x 64 frame it covers, not only the cell its centre falls in.)
     *
     * @param t0 clip start in seconds (stream time, as the frames' timestamps)
     * @param end frames later than this (seconds) are not sampled; +infinity for none
     * @throws BadInputException naming the file and the reason when it cannot be opened or decoded, has no
     *     video track or no frame at or after t0
     */
    public static MotionField motion(Path file, double t0, double end, int count, double fps, int gridH, int gridW)
            throws BadInputException {
        if (!Double.isFinite(t0) || count <= 0 || !(fps > 0) || gridH <= 0 || gridW <= 0) {
            throw new IllegalArgumentException("t0 must be finite and count, fps, gridH, gridW > 0: t0 " + t0 + ", count " + count
                    + ", fps " + fps + ", grid " + gridH + "x" + gridW);
        }
        requireFile(file);
        try (Decoder d = Decoder.open(file, true, false)) {
            d.seek(t0);
            MotionField field = MotionVectors.read(d, t0, end, count, fps, gridH, gridW);
            if (field == null) {
                throw noFrames(file, d, t0);
            }
            return field;
        } catch (IOException e) {
            throw bad(file, e);
        }
    }

    /**
     * Up to {@code max} key frames displayed in [t0, end], as RGB images of height x width: scaled (bilinear)
     * so that the frame just covers height x width, keeping its aspect ratio, then cropped in the centre,
     * as {@link VideoAdapter} prepares evaluation clips. Only key packets are decoded (skip_frame = nokey).
     * The list is empty when no key frame falls in the window.
     *
     * @throws BadInputException naming the file and the reason when it cannot be opened, has no video track or
     *     nothing in it decodes
     */
    public static List<Keyframe> keyframes(Path file, double t0, double end, int max, int height, int width)
            throws BadInputException {
        if (max <= 0 || height <= 0 || width <= 0) {
            throw new IllegalArgumentException("max, height and width must be > 0: " + max + ", " + height + ", " + width);
        }
        requireFile(file);
        try (Decoder d = Decoder.open(file, false, true)) {
            d.seek(t0);
            List<Keyframe> out = new ArrayList<>();
            while (out.size() < max && d.next()) {
                double t = d.time();
                if (t > end) {
                    break;
                }
                if (t >= t0 && (d.frame.flags() & AV_FRAME_FLAG_KEY) != 0) {
                    out.add(new Keyframe(t, toRgb(d.frame, Crop.centre(height, width))));
                }
            }
            if (d.lastError != 0 && out.isEmpty() && d.framesOut == 0) {
                throw new IOException(errorText(d.lastError));
            }
            return out;
        } catch (IOException e) {
            throw bad(file, e);
        }
    }

    /**
     * The key frame a clip starting at {@code t0} is coded against: the last key frame displayed at or before t0 (the
     * I-frame of the group of pictures the clip starts in), unless it is earlier than {@code notBefore} (the start of
     * the sample's span: a key frame of another part of the recording is not this clip's context); then the first
     * key frame in (t0, end]; null when there is none. The image is cut as crop says.
     *
     * @throws BadInputException naming the file and the reason when it cannot be opened, has no video track or
     *     nothing in it decodes
     */
    public static Keyframe gopKeyframe(Path file, double t0, double notBefore, double end, Crop crop)
            throws BadInputException {
        requireFile(file);
        try (Decoder d = Decoder.open(file, false, true)) {
            d.seek(t0); // to the key frame at or before t0 (from the file's start if the demuxer cannot seek)
            Keyframe before = null;
            while (d.next()) {
                double t = d.time();
                if ((d.frame.flags() & AV_FRAME_FLAG_KEY) == 0) {
                    continue;
                }
                if (t <= t0 + TIME_EPS) {
                    before = t >= notBefore - TIME_EPS ? new Keyframe(t, toRgb(d.frame, crop)) : null;
                } else {
                    return before != null ? before : t <= end ? new Keyframe(t, toRgb(d.frame, crop)) : null;
                }
            }
            if (d.lastError != 0 && d.framesOut == 0) {
                throw new IOException(errorText(d.lastError));
            }
            return before;
        } catch (IOException e) {
            throw bad(file, e);
        }
    }

    /**
     * The RGB frames of a clip ({@link VideoAdapter}'s decoding): {@code count} images cut as crop says, the i-th the
     * decoded frame displayed nearest to t0 + i * step seconds, step = stepOf(the stream's average frame rate, 0 when
     * unknown). Frames displayed after {@code end} are not used; when the video ends first, its last frame repeats.
     * Decodes from the key frame at or before t0 and converts only the frames it picks (bilinear scaling of the
     * decoder's own pixel format straight to the covering size).
     *
     * @return (count) images of crop.height x crop.width x 3 bytes (repeated images are the same array), or null when
     *     no frame is displayed at or after t0
     * @throws BadInputException naming the file and the reason when it cannot be opened or decoded or has no video track
     */
    public static byte[][] clip(Path file, double t0, double end, int count, DoubleUnaryOperator stepOf, Crop crop)
            throws BadInputException {
        requireFile(file);
        AVFrame prev = av_frame_alloc(); // a reference to the previous decoded frame, a candidate for the next target
        try (Decoder d = Decoder.open(file, false, false); RgbScaler rgb = new RgbScaler(crop)) {
            double step = stepOf.applyAsDouble(d.frameRate());
            d.seek(t0);
            byte[][] out = new byte[count][];
            boolean hasPrev = false;
            double prevT = Double.NEGATIVE_INFINITY;
            byte[] prevRgb = null;
            int i = 0;
            while (i < count && d.next()) {
                double t = d.time();
                if (t > end && hasPrev) {
                    break;
                }
                byte[] curRgb = null;
                for (; i < count && t >= t0 + i * step; i++) {
                    double target = t0 + i * step;
                    if (hasPrev && target - prevT < t - target) {
                        out[i] = prevRgb != null ? prevRgb : (prevRgb = rgb.convert(prev));
                    } else {
                        out[i] = curRgb != null ? curRgb : (curRgb = rgb.convert(d.frame));
                    }
                }
                av_frame_unref(prev);
                check(av_frame_ref(prev, d.frame), "av_frame_ref");
                hasPrev = true;
                prevT = t;
                prevRgb = curRgb;
            }
            if (!hasPrev && d.lastError != 0) {
                throw new IOException(errorText(d.lastError));
            }
            if (i == 0) {
                return null;
            }
            for (; i < count; i++) {
                out[i] = prevRgb != null ? prevRgb : (prevRgb = rgb.convert(prev));
            }
            return out;
        } catch (IOException e) {
            throw bad(file, e);
        } finally {
            av_frame_free(prev);
        }
    }

    /** The video stream's average frame rate in frames per second, 0 when the container does not say. */
    public static double frameRate(Path file) throws BadInputException {
        requireFile(file);
        try (Decoder d = Decoder.open(file, false, false)) {
            return d.frameRate();
        } catch (IOException e) {
            throw bad(file, e);
        }
    }

    /**
     * Plain decoding of the frames {@link #motion} decodes, without exporting motion vectors: the baselines that
     * `sensorium bench data` times (motion() against it; it against the FFmpeg command line's -f null, and with
     * {@code rgb} each frame also converted to RGB24 at its own size, against -pix_fmt rgb24). Seeks as motion()
     * does and decodes up to the first frame after {@code end} (+infinity: the whole file).
     *
     * @return the number of frames decoded
     */
    public static int decodeFrames(Path file, double t0, double end, boolean rgb) throws BadInputException {
        requireFile(file);
        RgbScaler converter = null;
        try (Decoder d = Decoder.open(file, false, false)) {
            d.seek(t0);
            int n = 0;
            while (d.next()) {
                if (rgb) {
                    if (converter == null) {
                        converter = new RgbScaler(new Crop(d.frame.height(), d.frame.width(), 1, 0.5, 0.5));
                    }
                    converter.convert(d.frame);
                }
                n++;
                if (d.time() > end) {
                    break;
                }
            }
            if (n == 0) {
                throw noFrames(file, d, t0);
            }
            return n;
        } catch (IOException e) {
            throw bad(file, e);
        } finally {
            if (converter != null) {
                converter.close();
            }
        }
    }

    /** (height, width, 3) RGB bytes of the frame, cut as crop says. */
    private static byte[] toRgb(AVFrame src, Crop crop) throws IOException {
        try (RgbScaler rgb = new RgbScaler(crop)) {
            return rgb.convert(src);
        }
    }
}
