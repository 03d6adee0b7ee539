package org.sensorium.modality;

import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.sensorium.config.Modality;
import org.sensorium.modality.imu.ImuAdapter;

/**
 * How long a sample's span is, so clips can start anywhere in it. A span with an end in the manifest
 * is end - start; a video/audio/motion span "to the end" asks FFmpeg for the container duration once per
 * file, an IMU span "to the end" reads the recording's last timestamp once per file (both cached for the
 * life of the JVM). Subtitle spans without an end stay unknown (NaN): they follow the other modalities,
 * or start at 0 when alone.
 *
 * <p>An IMU span must be known: otherwise an IMU-only sample (HMP, GoPro) always gives the clip at 0 s, the
 * two views of {@code two_view} are the same window and evaluation only ever sees a trial's first seconds.
 */
public final class Spans {
    private static final ConcurrentHashMap<Path, Double> CONTAINER_SECONDS = new ConcurrentHashMap<>();
    private static final ConcurrentHashMap<Path, Double> IMU_SECONDS = new ConcurrentHashMap<>();

    static {
        org.bytedeco.ffmpeg.global.avutil.av_log_set_level(org.bytedeco.ffmpeg.global.avutil.AV_LOG_FATAL); // no stream dumps
    }

    private Spans() {}

    /** The usable length of the sample in seconds: the shortest of its known spans; NaN when none is known. */
    public static double seconds(Recording e) {
        double span = Double.NaN;
        for (var s : e.sources().entrySet()) {
            double d = seconds(s.getKey(), s.getValue());
            if (!Double.isNaN(d)) {
                span = Double.isNaN(span) ? d : Math.min(span, d);
            }
        }
        return span;
    }

    public static double seconds(Modality m, Recording.Source s) {
        if (!Double.isNaN(s.end())) {
            return s.duration();
        }
        double end = switch (m) {
            case VIDEO, AUDIO, MOTION -> containerSeconds(s.path()); // motion is read from a video file
            case IMU -> IMU_SECONDS.computeIfAbsent(s.path().toAbsolutePath().normalize(), ImuAdapter::lastTimestamp);
            case TEXT -> Double.NaN;
        };
        return Math.max(0, end - s.start());
    }

    /** FFmpeg's estimate of a media file's duration; NaN when it has none or cannot be opened (the adapter reports why). */
    public static double containerSeconds(Path file) {
        return CONTAINER_SECONDS.computeIfAbsent(file.toAbsolutePath().normalize(), Spans::probe);
    }

    private static double probe(Path file) {
        if (Recording.unopenable(file) != null) { // a FIFO would block FFmpeg's open forever
            return Double.NaN;
        }
        try (FFmpegFrameGrabber g = new FFmpegFrameGrabber(file.toFile())) {
            g.start();
            long us = g.getLengthInTime();
            return us > 0 ? us / 1e6 : Double.NaN;
        } catch (Exception | UnsatisfiedLinkError ex) {
            return Double.NaN;
        }
    }
}
