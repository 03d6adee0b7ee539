package org.sensorium.modality.video;

import static org.bytedeco.ffmpeg.global.avcodec.AVDISCARD_NONKEY;
import static org.bytedeco.ffmpeg.global.avcodec.AV_PKT_FLAG_KEY;
import static org.bytedeco.ffmpeg.global.avcodec.av_packet_alloc;
import static org.bytedeco.ffmpeg.global.avcodec.av_packet_free;
import static org.bytedeco.ffmpeg.global.avcodec.av_packet_unref;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_alloc_context3;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_find_decoder;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_free_context;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_get_name;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_open2;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_parameters_to_context;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_receive_frame;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_send_packet;
import static org.bytedeco.ffmpeg.global.avformat.AVSEEK_FLAG_BACKWARD;
import static org.bytedeco.ffmpeg.global.avformat.av_find_best_stream;
import static org.bytedeco.ffmpeg.global.avformat.av_read_frame;
import static org.bytedeco.ffmpeg.global.avformat.av_seek_frame;
import static org.bytedeco.ffmpeg.global.avformat.avformat_close_input;
import static org.bytedeco.ffmpeg.global.avformat.avformat_find_stream_info;
import static org.bytedeco.ffmpeg.global.avformat.avformat_open_input;
import static org.bytedeco.ffmpeg.global.avutil.AVERROR_EAGAIN;
import static org.bytedeco.ffmpeg.global.avutil.AVERROR_EOF;
import static org.bytedeco.ffmpeg.global.avutil.AVMEDIA_TYPE_VIDEO;
import static org.bytedeco.ffmpeg.global.avutil.AV_LOG_FATAL;
import static org.bytedeco.ffmpeg.global.avutil.AV_NOPTS_VALUE;
import static org.bytedeco.ffmpeg.global.avutil.av_dict_free;
import static org.bytedeco.ffmpeg.global.avutil.av_dict_set;
import static org.bytedeco.ffmpeg.global.avutil.av_frame_alloc;
import static org.bytedeco.ffmpeg.global.avutil.av_frame_free;
import static org.bytedeco.ffmpeg.global.avutil.av_frame_unref;
import static org.bytedeco.ffmpeg.global.avutil.av_log_set_level;
import static org.bytedeco.ffmpeg.global.avutil.av_q2d;
import static org.bytedeco.ffmpeg.global.avutil.av_strerror;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.ffmpeg.avcodec.AVCodec;
import org.bytedeco.ffmpeg.avcodec.AVCodecContext;
import org.bytedeco.ffmpeg.avcodec.AVPacket;
import org.bytedeco.ffmpeg.avformat.AVFormatContext;
import org.bytedeco.ffmpeg.avformat.AVStream;
import org.bytedeco.ffmpeg.avutil.AVDictionary;
import org.bytedeco.ffmpeg.avutil.AVFrame;
import org.bytedeco.ffmpeg.avutil.AVRational;
import org.bytedeco.javacpp.PointerPointer;
import org.sensorium.modality.BadInputException;
import org.sensorium.modality.ModalityAdapter;

/**
 * The demuxer and video decoder of one call, through the avformat/avcodec presets directly; close() frees every
 * native struct. Never shared between threads. Also the FFmpeg error text every {@link CompressedVideo} call reports
 * its failures with, naming the file.
 */
final class Decoder implements AutoCloseable {
    /** AV_FRAME_FLAG_KEY of libavutil/frame.h (1 << 1); a macro the presets do not map. */
    static final int AV_FRAME_FLAG_KEY = 1 << 1;

    static {
        // h264 reports broken slices (box.mp4 has some) and seeks on stderr; failures reach us as return codes.
        av_log_set_level(AV_LOG_FATAL);
    }

    private final boolean keyPacketsOnly;
    private AVFormatContext fmt;
    private AVCodecContext ctx;
    private AVPacket pkt;
    AVFrame frame;
    private int stream;
    private double timeBase;       // seconds per timestamp unit
    private double frameDuration;  // seconds, from the average frame rate; 0 if unknown
    private double lastTime = Double.NaN;
    private boolean draining;
    int lastError;                 // the last FFmpeg error met while reading or decoding (0 if none)
    int framesOut;

    private Decoder(boolean keyPacketsOnly) {
        this.keyPacketsOnly = keyPacketsOnly;
    }

    /**
     * @param exportMvs ask the decoder for motion vectors (flags2=+export_mvs)
     * @param keyOnly decode key frames only: skip_frame = nokey, and only key packets are sent
     */
    static Decoder open(Path file, boolean exportMvs, boolean keyOnly) throws IOException {
        Decoder d = new Decoder(keyOnly);
        try {
            d.init(file, exportMvs);
            return d;
        } catch (IOException | RuntimeException e) {
            d.close();
            throw e;
        }
    }

    private void init(Path file, boolean exportMvs) throws IOException {
        fmt = new AVFormatContext(null);
        check(avformat_open_input(fmt, file.toString(), null, null), "avformat_open_input");
        check(avformat_find_stream_info(fmt, (PointerPointer<?>) null), "avformat_find_stream_info");
        stream = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, (PointerPointer<?>) null, 0);
        if (stream < 0) {
            throw new NoVideoTrack();
        }
        AVStream st = fmt.streams(stream);
        AVCodec codec = avcodec_find_decoder(st.codecpar().codec_id());
        if (codec == null || codec.isNull()) {
            throw new IOException("no decoder for codec " + avcodec_get_name(st.codecpar().codec_id()).getString());
        }
        ctx = avcodec_alloc_context3(codec);
        if (ctx == null || ctx.isNull()) {
            throw new IOException("avcodec_alloc_context3 failed");
        }
        check(avcodec_parameters_to_context(ctx, st.codecpar()), "avcodec_parameters_to_context");
        if (keyPacketsOnly) {
            ctx.skip_frame(AVDISCARD_NONKEY);
        }
        AVDictionary opts = new AVDictionary(null);
        try {
            av_dict_set(opts, "threads", "1", 0); // the loader's threads decode files in parallel
            if (exportMvs) {
                av_dict_set(opts, "flags2", "+export_mvs", 0);
            }
            check(avcodec_open2(ctx, codec, opts), "avcodec_open2");
        } finally {
            av_dict_free(opts);
        }
        pkt = av_packet_alloc();
        frame = av_frame_alloc();
        if (pkt == null || pkt.isNull() || frame == null || frame.isNull()) {
            throw new IOException("out of memory allocating a packet or frame");
        }
        timeBase = av_q2d(st.time_base());
        AVRational rate = st.avg_frame_rate();
        frameDuration = rate.num() > 0 && rate.den() > 0 ? rate.den() / (double) rate.num() : 0;
    }

    /** Positions the demuxer on the key frame at or before t seconds; decoding starts from the file's start if that fails. */
    void seek(double t) {
        if (t > 0) {
            av_seek_frame(fmt, stream, (long) Math.floor(t / timeBase), AVSEEK_FLAG_BACKWARD);
        }
    }

    /** Decodes until the next frame in display order is in {@link #frame} (true) or the stream has ended (false). */
    boolean next() {
        av_frame_unref(frame);
        while (true) {
            int r = avcodec_receive_frame(ctx, frame);
            if (r >= 0) {
                framesOut++;
                lastTime = frameTime();
                return true;
            }
            if (r != AVERROR_EAGAIN() || draining) {
                if (r != AVERROR_EOF && r != AVERROR_EAGAIN()) {
                    lastError = r;
                }
                return false;
            }
            feed();
        }
    }

    /** Sends the next packet of the video stream to the decoder, or starts draining it at the end of the file. */
    private void feed() {
        while (true) {
            int r = av_read_frame(fmt, pkt);
            if (r < 0) {
                if (r != AVERROR_EOF) {
                    lastError = r; // a read error (truncated file) ends the stream, as the end of the file does
                }
                avcodec_send_packet(ctx, null);
                draining = true;
                return;
            }
            try {
                boolean wanted = !keyPacketsOnly || (pkt.flags() & AV_PKT_FLAG_KEY) != 0;
                if (pkt.stream_index() == stream && wanted) {
                    r = avcodec_send_packet(ctx, pkt);
                    if (r < 0) {
                        lastError = r; // a corrupt packet is skipped, as the ffmpeg command line skips it
                    }
                    return;
                }
            } finally {
                av_packet_unref(pkt);
            }
        }
    }

    /** The stream's average frame rate in frames per second; 0 when it is unknown. */
    double frameRate() {
        return frameDuration > 0 ? 1 / frameDuration : 0;
    }

    /** The current frame's timestamp in seconds. */
    double time() {
        return lastTime;
    }

    /** Best-effort timestamp (what JavaCV reports), else pts, else one frame after the previous frame. */
    private double frameTime() {
        long ts = frame.best_effort_timestamp();
        if (ts == AV_NOPTS_VALUE) {
            ts = frame.pts();
        }
        if (ts != AV_NOPTS_VALUE) {
            return ts * timeBase;
        }
        return Double.isNaN(lastTime) ? 0 : lastTime + frameDuration;
    }

    @Override
    public void close() {
        if (frame != null) {
            av_frame_free(frame);
        }
        if (pkt != null) {
            av_packet_free(pkt);
        }
        if (ctx != null) {
            avcodec_free_context(ctx);
        }
        if (fmt != null && !fmt.isNull()) {
            avformat_close_input(fmt);
        }
    }

    // ---- errors ----

    static void requireFile(Path file) throws BadInputException {
        String why = org.sensorium.modality.Recording.unopenable(file);
        if (why != null) {
            throw new BadInputException(file + ": " + why);
        }
    }

    /** The container opened but holds no picture stream (e.g. an audio file); said as VideoAdapter says it. */
    private static final class NoVideoTrack extends IOException {
        NoVideoTrack() {
            super("no video track");
        }
    }

    static BadInputException bad(Path file, IOException e) {
        String reason = e instanceof NoVideoTrack ? e.getMessage() : ModalityAdapter.decodeFailure(file, e);
        return new BadInputException(file + ": " + VideoAdapter.oneLine(reason), e);
    }

    /** Nothing decoded: FFmpeg's last error if there was one, else the clip starts after the last frame. */
    static BadInputException noFrames(Path file, Decoder d, double t0) {
        if (d.lastError != 0) {
            return bad(file, new IOException(errorText(d.lastError)));
        }
        return new BadInputException(file + ": no video frames at or after " + t0 + " s");
    }

    static void check(int code, String what) throws IOException {
        if (code < 0) {
            throw new IOException(what + ": " + errorText(code));
        }
    }

    /** FFmpeg's text for an AVERROR code. */
    static String errorText(int code) {
        byte[] buf = new byte[256];
        av_strerror(code, buf, buf.length);
        int n = 0;
        while (n < buf.length && buf[n] != 0) {
            n++;
        }
        return new String(buf, 0, n, StandardCharsets.UTF_8);
    }
}
