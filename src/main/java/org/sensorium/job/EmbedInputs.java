package org.sensorium.job;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.config.Modality;
import org.sensorium.data.FolderManifest;
import org.sensorium.data.LabelCaptions;
import org.sensorium.data.Manifest;
import org.sensorium.data.ManifestEntry;
import org.sensorium.modality.BadInputException;
import org.sensorium.modality.Recording;
import org.sensorium.modality.SkipLog;
import org.sensorium.modality.Spans;
import org.sensorium.modality.text.Subtitles;

/**
 * What {@code embed} reads, as manifest entries the loader decodes like any other: the samples of a manifest, or one
 * entry per file named on the command line, holding the modalities its file carries and the run embeds.
 */
final class EmbedInputs {
    /** A file named on the command line is entry "input:N" of this pseudo-manifest, for messages. */
    static final Path ARGUMENTS = Path.of("input");
    /** --split value for every split but train: the samples a run's held-out table is computed on. */
    static final String HELD_OUT = "held-out";

    private EmbedInputs() {}

    /**
     * The manifest's samples of the split (every line when split is null; {@link #HELD_OUT}: all but train). A
     * run's own manifest gets data.label_captions, as its held-out evaluation does.
     *
     * @throws org.sensorium.data.ManifestException naming the file and line of a bad line
     * @throws ConfigException naming --split when no line has that split
     */
    static List<ManifestEntry> manifest(Path manifest, String split, Config.Data data) throws IOException {
        List<ManifestEntry> all = Manifest.read(manifest);
        if (!data.labelCaptions().isBlank() && Files.isSameFile(manifest, Manifest.forRun(data))) {
            all = LabelCaptions.forRun(data, all).entries();
        }
        if (split == null) {
            return all;
        }
        List<ManifestEntry> kept = all.stream()
                .filter(e -> split.equals(HELD_OUT) ? !e.split().equals("train") : e.split().equals(split)).toList();
        if (kept.isEmpty()) {
            Set<String> splits = new TreeSet<>();
            all.forEach(e -> splits.add(e.split()));
            throw new ConfigException("--split", manifest + " has no sample of split '" + split + "' (its splits: "
                    + String.join(", ", splits) + "; " + HELD_OUT + " = every split but train)");
        }
        return kept;
    }

    /**
     * One entry per usable file (id: the path as given), with the modalities of wanted its file carries: a video file
     * its video, its sound track and its motion vectors, an audio file its sound, a subtitle file (.srt, .vtt) its text
     * over the span from 0 to the end of its last cue, an IMU file (.csv, HMP .txt, GoPro .raw/.bin/.gpmf) its signals.
     * A file that is missing, of an unknown type or without any wanted modality is skipped into skips.
     */
    static List<ManifestEntry> files(List<Path> files, Set<Modality> wanted, SkipLog skips) {
        List<ManifestEntry> out = new ArrayList<>();
        for (int i = 0; i < files.size(); i++) {
            Path f = files.get(i);
            String where = ARGUMENTS + ":" + (i + 1) + " (id=" + f + "): " + f + ": ";
            try {
                Map<Modality, Recording.Source> sources = sources(f, wanted, where);
                out.add(new ManifestEntry(f.toString(), "input", null, sources, List.of(), ARGUMENTS, i + 1));
            } catch (BadInputException e) {
                skips.skip(f.toString(), e);
            }
        }
        return out;
    }

    private static Map<Modality, Recording.Source> sources(Path f, Set<Modality> wanted, String where) throws BadInputException {
        String missing = Recording.unopenable(f);
        if (missing != null) {
            throw new BadInputException(where + missing);
        }
        String name = f.getFileName().toString();
        String ext = name.substring(name.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT);
        Set<Modality> has = EnumSet.noneOf(Modality.class);
        double end = Double.NaN; // to the end of the file
        if (FolderManifest.VIDEO_EXT.contains(ext)) {
            has.addAll(streams(f));
        } else if (FolderManifest.AUDIO_EXT.contains(ext)) {
            has.add(Modality.AUDIO);
        } else if (FolderManifest.SUBTITLE_EXT.contains(ext)) {
            has.add(Modality.TEXT);
            end = lastCueEnd(f, where);
        } else if (FolderManifest.IMU_EXT.contains(ext) || ext.equals("txt")) {
            has.add(Modality.IMU);
        } else {
            throw new BadInputException(where + (name.indexOf('.') < 0 ? "no file extension" : "unknown file type '." + ext + "'")
                    + " (not video, audio, subtitles or IMU)");
        }
        Map<Modality, Recording.Source> sources = new EnumMap<>(Modality.class);
        for (Modality m : has) {
            if (wanted.contains(m)) {
                sources.put(m, new Recording.Source(f, 0, end));
            }
        }
        if (sources.isEmpty()) {
            throw new BadInputException(where + "has " + keys(has) + ", none of the modalities embedded: " + keys(wanted));
        }
        return sources;
    }

    /**
     * What a video-container file holds: video and motion when it has a picture, audio when it has a sound track;
     * video alone when FFmpeg cannot open it, so that the video adapter reports why.
     */
    private static Set<Modality> streams(Path f) {
        Spans.containerSeconds(f); // FFmpeg's log level is set there, before any stream is opened
        try (FFmpegFrameGrabber g = new FFmpegFrameGrabber(f.toFile())) {
            g.start();
            Set<Modality> has = EnumSet.noneOf(Modality.class);
            if (g.hasVideo() && g.getImageWidth() > 0) {
                has.add(Modality.VIDEO);
                has.add(Modality.MOTION);
            }
            if (g.hasAudio() && g.getAudioChannels() > 0) {
                has.add(Modality.AUDIO);
            }
            return has.isEmpty() ? EnumSet.of(Modality.VIDEO) : has;
        } catch (Exception | UnsatisfiedLinkError e) {
            return EnumSet.of(Modality.VIDEO);
        }
    }

    /** The end of a subtitle file's last cue in seconds: a subtitle file alone spans its dialogue. */
    private static double lastCueEnd(Path f, String where) throws BadInputException {
        try {
            return Subtitles.read(f).stream().mapToDouble(Subtitles.Cue::end).max().orElse(Double.NaN);
        } catch (IOException e) {
            throw new BadInputException(where + e.getMessage(), e);
        }
    }

    private static String keys(Set<Modality> ms) {
        return ms.stream().map(Modality::key).toList().toString();
    }
}
