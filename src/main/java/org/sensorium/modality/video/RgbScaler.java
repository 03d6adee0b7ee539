package org.sensorium.modality.video;

import static org.bytedeco.ffmpeg.global.avutil.AV_PIX_FMT_RGB24;
import static org.bytedeco.ffmpeg.global.avutil.av_frame_alloc;
import static org.bytedeco.ffmpeg.global.avutil.av_frame_free;
import static org.bytedeco.ffmpeg.global.avutil.av_frame_get_buffer;
import static org.bytedeco.ffmpeg.global.swscale.SWS_BILINEAR;
import static org.bytedeco.ffmpeg.global.swscale.sws_freeContext;
import static org.bytedeco.ffmpeg.global.swscale.sws_getCachedContext;
import static org.bytedeco.ffmpeg.global.swscale.sws_scale;
import static org.sensorium.modality.video.Decoder.check;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.bytedeco.ffmpeg.avutil.AVFrame;
import org.bytedeco.ffmpeg.swscale.SwsContext;
import org.bytedeco.javacpp.DoublePointer;
import org.sensorium.modality.video.CompressedVideo.Crop;

/**
 * Decoded frames to RGB24 cut as a {@link Crop} says: scaled (bilinear) from the decoder's pixel format to the size
 * that covers the crop zoom times over, keeping the aspect ratio, then cut. Keeps one scaler and one RGB frame for
 * all the frames of a call (remade when a frame's size or format changes).
 */
final class RgbScaler implements AutoCloseable {
    private final Crop crop;
    private SwsContext sws;
    private AVFrame rgb;

    RgbScaler(Crop crop) {
        this.crop = crop;
    }

    /** (crop.height, crop.width, 3) bytes. */
    byte[] convert(AVFrame src) throws IOException {
        int height = crop.height(), width = crop.width();
        double s = crop.zoom() * Math.max(width / (double) src.width(), height / (double) src.height());
        int coverW = Math.max(width, (int) Math.round(src.width() * s));
        int coverH = Math.max(height, (int) Math.round(src.height() * s));
        sws = sws_getCachedContext(sws, src.width(), src.height(), src.format(), coverW, coverH, AV_PIX_FMT_RGB24,
                SWS_BILINEAR, null, null, (DoublePointer) null);
        if (sws == null || sws.isNull()) {
            throw new IOException("sws_getContext: cannot convert pixel format " + src.format() + " to RGB24");
        }
        if (rgb == null || rgb.width() != coverW || rgb.height() != coverH) {
            if (rgb != null) {
                av_frame_free(rgb);
            }
            rgb = av_frame_alloc();
            rgb.format(AV_PIX_FMT_RGB24).width(coverW).height(coverH);
            check(av_frame_get_buffer(rgb, 0), "av_frame_get_buffer");
        }
        sws_scale(sws, src.data(), src.linesize(), 0, src.height(), rgb.data(), rgb.linesize());
        int stride = rgb.linesize(0);
        ByteBuffer buf = rgb.data(0).capacity((long) stride * coverH).asByteBuffer();
        int y0 = (int) Math.round(crop.fy() * (coverH - height));
        int x0 = (int) Math.round(crop.fx() * (coverW - width));
        byte[] out = new byte[height * width * 3];
        for (int y = 0; y < height; y++) {
            buf.get((y0 + y) * stride + x0 * 3, out, y * width * 3, width * 3);
        }
        return out;
    }

    @Override
    public void close() {
        if (sws != null) {
            sws_freeContext(sws);
        }
        if (rgb != null) {
            av_frame_free(rgb);
        }
    }
}
