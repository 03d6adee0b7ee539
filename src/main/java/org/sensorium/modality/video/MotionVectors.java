package org.sensorium.modality.video;

import static org.bytedeco.ffmpeg.global.avutil.AV_FRAME_DATA_MOTION_VECTORS;
import static org.bytedeco.ffmpeg.global.avutil.av_frame_get_side_data;
import static org.bytedeco.ffmpeg.global.avutil.av_get_picture_type_char;
import static org.sensorium.modality.video.Decoder.AV_FRAME_FLAG_KEY;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.ffmpeg.avutil.AVFrame;
import org.bytedeco.ffmpeg.avutil.AVFrameSideData;
import org.sensorium.modality.video.CompressedVideo.MotionField;

/**
 * The steps behind {@link CompressedVideo#motion}: sample frames as {@link VideoAdapter} does, sum each frame's
 * exported block vectors (AV_FRAME_DATA_MOTION_VECTORS side data) onto the grid by overlap area, split by reference
 * direction, then divide by the distance to the reference picture in frames.
 */
final class MotionVectors {
    /*
     * AVMotionVector (libavutil/motion_vector.h), read straight from the side data buffer in native byte
     * order: int32 source, uint8 w, uint8 h, int16 src_x, src_y, dst_x, dst_y, uint64 flags, int32 motion_x,
     * int32 motion_y, uint16 motion_scale, padded to 40 bytes. CompressedVideoTest checks these against the
     * presets' AVMotionVector (Loader.sizeof / offsetof).
     */
    static final int MV_BYTES = 40;
    static final int MV_SOURCE = 0;
    static final int MV_W = 4;
    static final int MV_H = 5;
    static final int MV_DST_X = 10;
    static final int MV_DST_Y = 12;
    static final int MV_MOTION_X = 24;
    static final int MV_MOTION_Y = 28;
    static final int MV_MOTION_SCALE = 32;

    /** Frames decoded past the last sampled one to find the future references of its B-frames (H.264 allows 16 B-frames in a row). */
    private static final int LOOKAHEAD = 17;

    private MotionVectors() {}

    /**
     * The motion field of {@code count} frames sampled at {@code fps} from {@code t0}, decoding on from where d was
     * seeked to (see {@link CompressedVideo#motion}).
     *
     * @return the field, or null when no frame was decoded (d.lastError then tells whether FFmpeg failed)
     */
    static MotionField read(Decoder d, double t0, double end, int count, double fps, int gridH, int gridW) {
        List<Decoded> frames = new ArrayList<>(); // display order from the key frame before t0
        int[] chosen = sample(d, frames, t0, end, count, fps, gridH, gridW);
        if (chosen == null) {
            return null;
        }
        readAhead(d, frames, chosen[count - 1], gridH, gridW);
        return assemble(frames, chosen, gridH, gridW);
    }

    /** One decoded frame, kept in display order. */
    private record Decoded(
            int index,          // position in display order since the seek
            double time,        // seconds
            char type,          // 'I', 'P', 'B', ...
            boolean key,
            long decodeOrder,   // AVFrame.pkt_pos: its packet's byte offset; packets are stored in decode order. -1 if unknown.
                                // (Deprecated in FFmpeg 7, gone in 8: then pass a counter via AVPacket.opaque + COPY_OPAQUE.)
            boolean hasVectors,
            double cellArea,    // pixels in one grid cell
            double[] past,      // (gridH, gridW, 3): sum of area * dx / width, area * dy / height, area; past references
            double[] future) {} // the same for future references

    /**
     * Decodes frames into {@code frames} until every target time has its nearest frame (VideoAdapter's rule).
     *
     * @return (T) index into frames of each target's frame, or null when no frame was decoded
     */
    private static int[] sample(Decoder d, List<Decoded> frames, double t0, double end, int count, double fps,
            int gridH, int gridW) {
        int[] chosen = new int[count];
        int prev = -1;
        double prevT = Double.NEGATIVE_INFINITY;
        int i = 0;
        while (i < count && d.next()) {
            Decoded cur = pool(d, frames.size(), gridH, gridW);
            frames.add(cur);
            double t = cur.time();
            if (t > end && prev >= 0) {
                break;
            }
            for (; i < count && t >= t0 + i / fps; i++) {
                double target = t0 + i / fps;
                chosen[i] = prev >= 0 && target - prevT < t - target ? prev : cur.index();
            }
            prev = cur.index();
            prevT = t;
        }
        if (prev < 0) {
            return null;
        }
        for (; i < count; i++) {
            chosen[i] = prev;
        }
        return chosen;
    }

    /**
     * When the last sampled frame is a B-frame, decodes on until a frame that is not a B-frame follows it in display
     * order: every future reference of a sampled frame is then in the list.
     */
    private static void readAhead(Decoder d, List<Decoded> frames, int last, int gridH, int gridW) {
        if (frames.get(last).type() != 'B') {
            return;
        }
        for (int n = frames.size() - 1; n <= last || frames.get(n).type() == 'B'; n++) {
            if (n - last >= LOOKAHEAD || !d.next()) {
                return;
            }
            frames.add(pool(d, frames.size(), gridH, gridW));
        }
    }

    /** The decoder's current frame with its motion vectors summed per cell, split by reference direction. */
    private static Decoded pool(Decoder d, int index, int gridH, int gridW) {
        AVFrame f = d.frame;
        int width = f.width();
        int height = f.height();
        double[] past = new double[gridH * gridW * 3];
        double[] future = new double[gridH * gridW * 3];
        int vectors = 0;
        AVFrameSideData sd = av_frame_get_side_data(f, AV_FRAME_DATA_MOTION_VECTORS);
        if (sd != null && !sd.isNull() && sd.size() > 0) {
            if (sd.size() % MV_BYTES != 0) {
                // not bad input: the FFmpeg build's struct differs from the layout checked in CompressedVideoTest
                throw new IllegalStateException("motion vector side data of " + sd.size() + " bytes is not a multiple of "
                        + MV_BYTES + ": AVMotionVector changed size");
            }
            ByteBuffer b = sd.data().capacity(sd.size()).asByteBuffer().order(ByteOrder.nativeOrder());
            vectors = (int) (sd.size() / MV_BYTES);
            for (int k = 0; k < vectors; k++) {
                addBlock(b, k * MV_BYTES, width, height, gridH, gridW, past, future);
            }
        }
        char type = (char) av_get_picture_type_char(f.pict_type());
        return new Decoded(index, d.time(), type, (f.flags() & AV_FRAME_FLAG_KEY) != 0, f.pkt_pos(), vectors > 0,
                width * (double) height / (gridW * gridH), past, future);
    }

    /**
     * Adds the block record at {@code at} to every cell its destination rectangle (dst_x, dst_y is its centre, w x h
     * pixels) overlaps, weighted by the overlap's area in pixels.
     */
    private static void addBlock(ByteBuffer b, int at, int width, int height, int gridH, int gridW, double[] past, double[] future) {
        int scale = b.getShort(at + MV_MOTION_SCALE) & 0xFFFF;
        if (scale == 0) {
            return;
        }
        int w = b.get(at + MV_W) & 0xFF, h = b.get(at + MV_H) & 0xFF;
        double x0 = b.getShort(at + MV_DST_X) - w / 2.0, y0 = b.getShort(at + MV_DST_Y) - h / 2.0;
        double cellW = width / (double) gridW, cellH = height / (double) gridH;
        double vx = b.getInt(at + MV_MOTION_X) / (double) scale / width;   // src - dst, frame widths
        double vy = b.getInt(at + MV_MOTION_Y) / (double) scale / height;
        double[] sums = b.getInt(at + MV_SOURCE) < 0 ? past : future;
        for (int gy = Math.max(0, (int) Math.floor(y0 / cellH)); gy < gridH && gy * cellH < y0 + h; gy++) {
            double oy = Math.min(y0 + h, (gy + 1) * cellH) - Math.max(y0, gy * cellH);
            for (int gx = Math.max(0, (int) Math.floor(x0 / cellW)); gx < gridW && gx * cellW < x0 + w; gx++) {
                double area = oy * (Math.min(x0 + w, (gx + 1) * cellW) - Math.max(x0, gx * cellW));
                if (area > 0) {
                    int c = (gy * gridW + gx) * 3;
                    sums[c] += area * vx;
                    sums[c + 1] += area * vy;
                    sums[c + 2] += area;
                }
            }
        }
    }

    /** The (T, gridH, gridW, 2) field and per-frame flags of the chosen frames. */
    private static MotionField assemble(List<Decoded> frames, int[] chosen, int gridH, int gridW) {
        int count = chosen.length;
        int cells = gridH * gridW;
        float[] field = new float[count * cells * 2];
        double[] times = new double[count];
        char[] types = new char[count];
        boolean[] key = new boolean[count];
        boolean[] intra = new boolean[count];
        float[] coverage = new float[count * cells];
        for (int t = 0; t < count; t++) {
            Decoded f = frames.get(chosen[t]);
            double past = referenceDistance(frames, f.index(), -1);
            double future = referenceDistance(frames, f.index(), +1);
            for (int c = 0; c < cells; c++) {
                double area = f.past()[c * 3 + 2] + f.future()[c * 3 + 2];
                coverage[t * cells + c] = (float) Math.min(1, area / f.cellArea()); // a bi-predicted block counts twice
                if (area > 0) {
                    // velocity = (dst - src) / distance from a past reference, (src - dst) / distance from a future one
                    field[(t * cells + c) * 2] = (float) ((-f.past()[c * 3] / past + f.future()[c * 3] / future) / area);
                    field[(t * cells + c) * 2 + 1] = (float) ((-f.past()[c * 3 + 1] / past + f.future()[c * 3 + 1] / future) / area);
                }
            }
            times[t] = f.time();
            types[t] = f.type();
            key[t] = f.key();
            intra[t] = !f.hasVectors();
        }
        return new MotionField(count, gridH, gridW, field, times, types, key, intra, coverage);
    }

    /**
     * Frames between frame k and the picture it predicts from in direction dir (-1 past, +1 future).
     *
     * <p>FFmpeg's AVMotionVector.source is only -1 or +1 (its header: "XXX: set exact relative ref frame reference
     * instead of a +/- 1 direction"), so dividing by |source| would leave a P-frame of an IBBBP stream with four
     * frames of motion and its B-frames with one. Instead the reference is taken to be the nearest frame in that
     * direction that was decoded before frame k and can be referenced: I- and P-frames, and a B-frame decoded
     * before an earlier-displayed B-frame (the middle of a B-pyramid, as x264 encodes by default). This holds for
     * IPPP, IBBP and pyramid GOPs; vectors pointing to an older reference (H.264 multi-reference) are counted as
     * if they pointed to this one. When the decode order is unknown (no packet positions), the distance is 1.
     */
    private static int referenceDistance(List<Decoded> frames, int k, int dir) {
        long order = frames.get(k).decodeOrder();
        if (order < 0) {
            return 1;
        }
        for (int j = k + dir; j >= 0 && j < frames.size(); j += dir) {
            Decoded r = frames.get(j);
            if (r.decodeOrder() >= 0 && r.decodeOrder() < order && canBeReference(frames, j)) {
                return Math.abs(j - k);
            }
        }
        return 1;
    }

    /** Not a B-frame, or a B-frame that some earlier-displayed B-frame of the same run was decoded after. */
    private static boolean canBeReference(List<Decoded> frames, int j) {
        Decoded r = frames.get(j);
        if (r.type() != 'B') {
            return true;
        }
        for (int i = j - 1; i >= 0 && frames.get(i).type() == 'B'; i--) {
            if (frames.get(i).decodeOrder() > r.decodeOrder()) {
                return true;
            }
        }
        return false;
    }
}
