package org.sensorium.data;

import static org.sensorium.data.FolderFiles.extension;
import static org.sensorium.data.FolderFiles.reason;
import static org.sensorium.data.FolderFiles.utf8;
import static org.sensorium.data.FolderManifest.AUDIO_EXT;
import static org.sensorium.data.FolderManifest.IMU_EXT;
import static org.sensorium.data.FolderManifest.SUBTITLE_EXT;
import static org.sensorium.data.FolderManifest.VIDEO_EXT;
import static org.sensorium.modality.BadInputException.excerpt;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.bytedeco.javacv.Frame;
import org.sensorium.modality.ModalityAdapter;
import org.sensorium.modality.imu.ImuAdapter;
import org.sensorium.modality.text.Subtitles;

/** The files of one group by role; a file that cannot be used, or a second file for a taken role, is skipped. */
final class FolderRoles {
    /** Frames read at most while looking for the first frame of each stream a file should have. */
    private static final int PROBE_FRAMES = 500;

    Path video, audio, subtitle, transcript, imu;
    boolean videoHasAudio;
    String transcriptText;

    private final FolderFiles files;
    private final Map<String, Integer> imuChannels;

    /** @param imuChannels counts IMU files per set of channels; each IMU file taken adds one */
    private FolderRoles(FolderFiles files, Map<String, Integer> imuChannels) {
        this.files = files;
        this.imuChannels = imuChannels;
    }

    /**
     * The group's files by extension: video, audio, subtitles, a .txt transcript when a video or audio file
     * shares the base name (else the .txt is an HMP IMU trial), IMU; anything else is skipped.
     */
    static FolderRoles of(List<Path> group, FolderFiles files, Map<String, Integer> imuChannels) {
        FolderRoles r = new FolderRoles(files, imuChannels);
        boolean media = group.stream().map(f -> extension(f.getFileName().toString()))
                .anyMatch(e -> VIDEO_EXT.contains(e) || AUDIO_EXT.contains(e));
        for (Path f : group) {
            String ext = extension(f.getFileName().toString());
            if (VIDEO_EXT.contains(ext)) {
                r.video(f);
            } else if (AUDIO_EXT.contains(ext)) {
                r.audio(f);
            } else if (SUBTITLE_EXT.contains(ext)) {
                r.subtitle(f);
            } else if (ext.equals("txt") && media) {
                r.transcript(f);
            } else if (IMU_EXT.contains(ext) || ext.equals("txt")) {
                r.imu(f);
            } else {
                files.skip(f, ext.isEmpty() ? "no file extension (not a recording)"
                        : "unknown file type '." + ext + "' (not video, audio, subtitles, transcript or IMU)");
            }
        }
        return r;
    }

    void video(Path f) {
        if (taken(f, video, "video")) {
            return;
        }
        Probe p = probe(f, true);
        if (p == null) {
            return;
        }
        if (p.video) {
            video = f;
            videoHasAudio = p.audio;
        } else if (p.audio) {
            audio(f); // a video container holding only sound
        } else {
            files.skip(f, "no video or audio stream");
        }
    }

    void audio(Path f) {
        if (taken(f, audio, "audio")) {
            return;
        }
        Probe p = probe(f, false);
        if (p == null) {
            return;
        }
        if (p.audio) {
            audio = f;
        } else {
            files.skip(f, "no audio track");
        }
    }

    void subtitle(Path f) {
        if (taken(f, subtitle, "subtitles")) {
            return;
        }
        try {
            Subtitles.read(f);
            subtitle = f;
        } catch (IOException e) {
            files.skip(f, reason(e));
        }
    }

    void transcript(Path f) {
        try {
            String text = utf8(f).replaceAll("\\s+", " ").trim();
            if (text.isEmpty()) {
                files.skip(f, "empty transcript");
            } else {
                transcript = f;
                transcriptText = text;
            }
        } catch (IOException e) {
            files.skip(f, reason(e));
        }
    }

    void imu(Path f) {
        if (taken(f, imu, "IMU")) {
            return;
        }
        try {
            imuChannels.merge(excerpt(String.join(",", ImuAdapter.channels(f)), 80), 1, Integer::sum); // a CSV header's own names
            imu = f;
        } catch (IOException e) {
            String ext = extension(f.getFileName().toString());
            String format = switch (ext) {
                case "csv" -> "an IMU CSV";
                case "txt" -> "an HMP trial";
                case "raw", "bin", "gpmf" -> "a GoPro GPMF stream";
                default -> "an IMU recording";
            };
            files.skip(f, "not " + format + ": " + reason(e));
        }
    }

    private boolean taken(Path f, Path current, String role) {
        if (current != null) {
            files.skip(f, current.getFileName() + " is already this sample's " + role + " (one file per role and base name)");
            return true;
        }
        return false;
    }

    /** Which streams a media file has; null (and a skip) when FFmpeg cannot open it or decode their first frames. */
    private record Probe(boolean video, boolean audio) {}

    private Probe probe(Path f, boolean wantVideo) {
        try (FFmpegFrameGrabber g = new FFmpegFrameGrabber(f.toFile())) {
            g.start();
            boolean video = wantVideo && g.hasVideo() && g.getImageWidth() > 0;
            boolean audio = g.hasAudio() && g.getAudioChannels() > 0;
            boolean sawImage = false;
            boolean sawSamples = false;
            Frame fr;
            for (int i = 0; i < PROBE_FRAMES && (video && !sawImage || audio && !sawSamples) && (fr = g.grab()) != null; i++) {
                sawImage |= fr.image != null;
                sawSamples |= fr.samples != null;
            }
            if (video && !sawImage) {
                files.skip(f, "no decodable video frame");
                return null;
            }
            if (audio && !sawSamples && !video) {
                files.skip(f, "no decodable audio samples");
                return null;
            }
            return new Probe(video, audio && sawSamples);
        } catch (Exception e) {
            files.skip(f, ModalityAdapter.decodeFailure(f, e));
            return null;
        }
    }
}
