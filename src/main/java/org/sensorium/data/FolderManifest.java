package org.sensorium.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.bytedeco.javacv.Frame;
import org.sensorium.config.ConfigException;
import org.sensorium.config.Modality;
import org.sensorium.modality.ModalityAdapter;
import org.sensorium.modality.imu.ImuAdapter;
import org.sensorium.modality.text.Subtitles;

/**
 * Builds a manifest (data-manifests/README.md) from a folder of recordings: {@code sensorium data from-folder}.
 *
 * <p>Files that share a folder and a base name (the name without its last extension) make one sample,
 * with at most one file per role:
 * <ul>
 *   <li>video: {@link #VIDEO_EXT} with a decodable video stream; its audio track, if it has one, is the
 *       sample's audio unless the group also has an audio file;
 *   <li>audio: {@link #AUDIO_EXT} with a decodable audio stream;
 *   <li>text: a subtitle file (.srt, .vtt) as the text recording; a transcript (.txt beside a video or
 *       audio file) as the caption, else the line of a folder's CMU Sphinx transcription file
 *       ({@code transcription} or {@code *.transcription}: lines {@code <s> words </s> (fileid)}) naming
 *       the base name, else with captionsFromNames the base name itself ("Front_Center" -&gt; "Front Center");
 *   <li>imu: .csv, .raw / .bin / .gpmf (GoPro), and .txt (HMP) when no video or audio file shares its base
 *       name; read in full with {@link ImuAdapter#channels}.
 * </ul>
 * Every recording is probed (FFmpeg opens it and decodes one frame of each stream used; IMU and subtitle
 * files are parsed), so a file that cannot be used is skipped with one line naming it and the reason,
 * never an exception. Ids are the group's path relative to the folder, sanitised; samples come sorted by
 * id, so the same folder always gives the same manifest. An HMP file name
 * ({@code Accelerometer-<date>-<time>-<activity>-<volunteer>}) gives the sample's subject.
 */
public final class FolderManifest {
    public static final Set<String> VIDEO_EXT = Set.of("mp4", "m4v", "mkv", "mov", "avi", "webm", "mpg", "mpeg", "ts", "flv",
            "wmv", "3gp", "ogv");
    public static final Set<String> AUDIO_EXT = Set.of("wav", "mp3", "flac", "ogg", "oga", "opus", "m4a", "aac");
    static final Set<String> SUBTITLE_EXT = Set.of("srt", "vtt");
    static final Set<String> IMU_EXT = Set.of("csv", "raw", "bin", "gpmf");
    /** HMP trial names (Bruno et al. 2013, MANUAL.txt): Accelerometer-[START_TIME]-[HMP]-[VOLUNTEER]. */
    static final Pattern HMP_NAME = Pattern.compile("Accelerometer-\\d{4}(?:-\\d{2}){5}-[A-Za-z_]+-([a-z]+\\d+)");
    private static final Pattern SPHINX_LINE = Pattern.compile("^\\s*(.*?)\\s*\\(([^()]+)\\)\\s*$");
    private static final Pattern ID_UNSAFE = Pattern.compile("[^A-Za-z0-9._/-]");
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Frames read at most while looking for the first frame of each stream a file should have. */
    private static final int PROBE_FRAMES = 500;

    static {
        avutil.av_log_set_level(avutil.AV_LOG_FATAL);
    }

    /**
     * @param split the split of every sample ("train", "val" or "test")
     * @param labelsFromFolders the label is the name of the file's folder (torchvision's ImageFolder)
     * @param captionsFromNames with no transcript, the caption is the base name with '_' and '-' as spaces
     * @param testSubjects samples whose subject is one of these go to "test" whatever the split
     * @param trainFraction above 0: a stratified split, per label (samples without one form a group of their own)
     *     round(fraction x n) samples, at least 1 and at most n - 1 when n &gt;= 2, drawn with splitSeed go to
     *     "train", the others keep the split; 0 = off
     * @param splitSeed seed of that draw (each label's draw is seeded with splitSeed and the label)
     */
    public record Options(String split, boolean labelsFromFolders, boolean captionsFromNames, Set<String> testSubjects,
            double trainFraction, long splitSeed) {
        public Options {
            if (!Set.of("train", "val", "test").contains(split)) {
                throw new ConfigException("--split", "'" + split + "' is not train, val or test");
            }
            if (!(trainFraction >= 0 && trainFraction < 1)) {
                throw new ConfigException("--train-fraction", trainFraction + " must be in [0, 1) (0 = every sample in --split)");
            }
            if (trainFraction > 0 && split.equals("train")) {
                throw new ConfigException("--train-fraction", "the samples not drawn for train keep --split, so give --split val or test");
            }
            testSubjects = Set.copyOf(testSubjects);
        }

        public Options(String split, boolean labelsFromFolders, boolean captionsFromNames, Set<String> testSubjects) {
            this(split, labelsFromFolders, captionsFromNames, testSubjects, 0, 0);
        }
    }

    /** A file that is not in the manifest: its path relative to the folder, and why. */
    public record Skip(String file, String reason) {
        @Override
        public String toString() {
            return file + ": " + reason;
        }
    }

    /**
     * The manifest lines (JSON, sorted by id) and what happened to every file.
     *
     * @param modalities samples carrying each modality key (text: a subtitle file or captions)
     * @param splits samples per split
     * @param imuChannels IMU files per set of channels ("ax,ay,az")
     */
    public record Result(List<String> lines, int filesSeen, int filesUsed, List<Skip> skipped,
            Map<String, Integer> modalities, Map<String, Integer> splits, Map<String, Integer> imuChannels,
            Set<String> labels, Set<String> subjects) {}

    private final Path dir;
    private final Path manifestDir;
    private final Options options;
    private final List<Skip> skipped = new ArrayList<>();
    private final Map<String, Integer> modalities = new LinkedHashMap<>();
    private final Map<String, Integer> splits = new TreeMap<>();
    private final Map<String, Integer> imuChannels = new TreeMap<>();
    private final Set<String> labels = new TreeSet<>();
    private final Set<String> subjects = new TreeSet<>();
    private int used;

    private FolderManifest(Path dir, Path manifestDir, Options options) {
        this.dir = dir.toAbsolutePath().normalize();
        this.manifestDir = manifestDir.toAbsolutePath().normalize();
        this.options = options;
        for (Modality m : Modality.values()) {
            modalities.put(m.key(), 0);
        }
    }

    /**
     * Scans dir (recursively, following links, skipping hidden files and folders).
     *
     * @param manifestDir uris are written relative to this folder (where the manifest goes)
     * @param exclude a file not to scan (the manifest being written), or null
     * @throws ConfigException when dir is not a folder or a test subject names no sample
     */
    public static Result scan(Path dir, Path manifestDir, Path exclude, Options options) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new ConfigException("DIR", dir + ": no such folder");
        }
        return new FolderManifest(dir, manifestDir, options).run(exclude);
    }

    private Result run(Path exclude) throws IOException {
        List<Path> files = list(exclude);
        Map<String, Transcription> transcriptions = new HashMap<>(); // folder -> its transcription file
        Map<String, List<Path>> groups = new TreeMap<>();           // "folder/base" -> files
        for (Path f : files) {
            String name = f.getFileName().toString();
            if (name.equals("transcription") || extension(name).equals("transcription")) {
                readTranscription(f, transcriptions);
            } else {
                groups.computeIfAbsent(key(folder(f), base(name)), k -> new ArrayList<>()).add(f);
            }
        }
        Map<String, String> ids = new HashMap<>(); // id -> the group that took it
        List<ObjectNode> samples = new ArrayList<>();
        for (Map.Entry<String, List<Path>> g : groups.entrySet()) {
            String id = ID_UNSAFE.matcher(g.getKey()).replaceAll("_");
            String taken = ids.putIfAbsent(id, g.getKey());
            if (taken != null) {
                g.getValue().forEach(f -> skip(f, "its sample id '" + id + "' is already taken by " + taken));
                continue;
            }
            List<Path> group = g.getValue();
            Path first = group.get(0);
            ObjectNode s = sample(id, folder(first), base(first.getFileName().toString()), group,
                    transcriptions.get(folder(first)));
            if (s != null) {
                samples.add(s);
            }
        }
        for (Transcription t : transcriptions.values()) {
            if (t.used == 0) {
                skip(t.file, "transcription names no recording in its folder");
            } else {
                used++;
            }
        }
        checkTestSubjects();
        samples.sort((a, b) -> a.get("id").asText().compareTo(b.get("id").asText()));
        if (options.trainFraction > 0) {
            stratify(samples);
        }
        List<String> lines = new ArrayList<>();
        for (ObjectNode s : samples) {
            lines.add(JSON.writeValueAsString(s));
        }
        skipped.sort((a, b) -> a.file().compareTo(b.file()));
        return new Result(lines, files.size(), used, List.copyOf(skipped), Map.copyOf(modalities), Map.copyOf(splits),
                Map.copyOf(imuChannels), Set.copyOf(labels), Set.copyOf(subjects));
    }

    /**
     * The stratified split: per label, the samples in id order are shuffled (Fisher-Yates, seeded with splitSeed
     * and the label's String hash, so adding a class does not reshuffle the others) and the first
     * round(fraction x n), clamped to [1, n - 1] for n &gt;= 2, go to train. Test subjects stay in test.
     */
    private void stratify(List<ObjectNode> samples) {
        Map<String, List<ObjectNode>> byLabel = new TreeMap<>();
        for (ObjectNode s : samples) {
            boolean heldSubject = s.has("subject") && options.testSubjects.contains(s.get("subject").asText());
            if (!heldSubject) {
                byLabel.computeIfAbsent(s.has("label") ? s.get("label").asText() : "", k -> new ArrayList<>()).add(s);
            }
        }
        for (Map.Entry<String, List<ObjectNode>> g : byLabel.entrySet()) {
            List<ObjectNode> group = new ArrayList<>(g.getValue());
            java.util.SplittableRandom r = new java.util.SplittableRandom(options.splitSeed * 31 + g.getKey().hashCode());
            for (int i = group.size() - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                group.set(i, group.set(j, group.get(i)));
            }
            int n = group.size();
            int train = n < 2 ? (int) Math.round(options.trainFraction * n)
                    : Math.max(1, Math.min(n - 1, (int) Math.round(options.trainFraction * n)));
            for (int i = 0; i < train; i++) {
                splits.merge(group.get(i).get("split").asText(), -1, Integer::sum);
                group.get(i).put("split", "train");
                splits.merge("train", 1, Integer::sum);
            }
        }
    }

    /** Every regular file under dir, sorted, without hidden ones and without exclude; unreadable folders are skips. */
    private List<Path> list(Path exclude) throws IOException {
        Path skipFile = exclude == null ? null : exclude.toAbsolutePath().normalize();
        List<Path> out = new ArrayList<>();
        Files.walkFileTree(dir, EnumSet.of(FileVisitOption.FOLLOW_LINKS), Integer.MAX_VALUE, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes a) {
                return !d.equals(dir) && hidden(d) ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes a) {
                if (a.isRegularFile() && !hidden(f) && !f.toAbsolutePath().normalize().equals(skipFile)) {
                    out.add(f.toAbsolutePath().normalize());
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path f, IOException e) {
                skipped.add(new Skip(relative(f), "cannot read: " + e.getClass().getSimpleName() + " " + e.getMessage()));
                return FileVisitResult.CONTINUE;
            }
        });
        out.sort(null);
        return out;
    }

    /** One sample from the files sharing a folder and base name, or null (each file then skipped with its reason). */
    private ObjectNode sample(String id, String folder, String base, List<Path> group, Transcription transcription) {
        Roles r = new Roles();
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
                skip(f, ext.isEmpty() ? "no file extension (not a recording)"
                        : "unknown file type '." + ext + "' (not video, audio, subtitles, transcript or IMU)");
            }
        }
        Path audio = r.audio != null ? r.audio : r.videoHasAudio ? r.video : null;
        if (r.video == null && audio == null && r.imu == null) {
            for (Path f : new Path[] {r.subtitle, r.transcript}) {
                if (f != null) {
                    skip(f, "no video, audio or IMU recording named '" + base + ".*' beside it");
                }
            }
            return null;
        }
        String caption = r.transcriptText;
        if (caption != null) {
            used++; // the transcript file
        }
        if (caption == null && transcription != null && transcription.lines.containsKey(base)) {
            caption = transcription.lines.get(base);
            transcription.used++;
        }
        if (caption == null && options.captionsFromNames) {
            caption = base.replaceAll("[_-]+", " ").trim();
        }
        return node(id, folder, base, r.video, audio, r.subtitle, r.imu, caption);
    }

    private ObjectNode node(String id, String folder, String base, Path video, Path audio, Path subtitle, Path imu,
            String caption) {
        ObjectNode n = JSON.createObjectNode();
        n.put("id", id);
        Matcher hmp = HMP_NAME.matcher(base);
        String subject = hmp.matches() ? hmp.group(1) : null;
        String split = subject != null && options.testSubjects.contains(subject) ? "test" : options.split;
        n.put("split", split);
        splits.merge(split, 1, Integer::sum);
        if (options.labelsFromFolders && !folder.isEmpty()) {
            String label = folder.substring(folder.lastIndexOf('/') + 1);
            n.put("label", label);
            labels.add(label);
        }
        if (subject != null) {
            n.put("subject", subject);
            subjects.add(subject);
        }
        Path[] sources = {video, audio, subtitle, imu};
        Modality[] keys = {Modality.VIDEO, Modality.AUDIO, Modality.TEXT, Modality.IMU};
        for (int i = 0; i < sources.length; i++) {
            if (sources[i] != null) {
                n.putObject(keys[i].key()).put("uri", uri(sources[i]));
                if (i != 1 || audio != video) {
                    used++;
                }
            }
        }
        if (caption != null) {
            n.putArray("captions").add(caption);
        }
        for (Modality m : keys) {
            if (n.has(m.key()) || m == Modality.TEXT && caption != null) {
                modalities.merge(m.key(), 1, Integer::sum);
            }
        }
        return n;
    }

    /** The files of one group by role; a file that cannot be used, or a second file for a taken role, is skipped. */
    private final class Roles {
        Path video, audio, subtitle, transcript, imu;
        boolean videoHasAudio;
        String transcriptText;

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
                skip(f, "no video or audio stream");
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
                skip(f, "no audio track");
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
                skip(f, reason(e));
            }
        }

        void transcript(Path f) {
            try {
                String text = utf8(f).replaceAll("\\s+", " ").trim();
                if (text.isEmpty()) {
                    skip(f, "empty transcript");
                } else {
                    transcript = f;
                    transcriptText = text;
                }
            } catch (IOException e) {
                skip(f, reason(e));
            }
        }

        void imu(Path f) {
            if (taken(f, imu, "IMU")) {
                return;
            }
            try {
                imuChannels.merge(String.join(",", ImuAdapter.channels(f)), 1, Integer::sum);
                imu = f;
            } catch (IOException e) {
                String ext = extension(f.getFileName().toString());
                String format = switch (ext) {
                    case "csv" -> "an IMU CSV";
                    case "txt" -> "an HMP trial";
                    case "raw", "bin", "gpmf" -> "a GoPro GPMF stream";
                    default -> "an IMU recording";
                };
                skip(f, "not " + format + ": " + reason(e));
            }
        }

        private boolean taken(Path f, Path current, String role) {
            if (current != null) {
                skip(f, current.getFileName() + " is already this sample's " + role + " (one file per role and base name)");
                return true;
            }
            return false;
        }
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
                skip(f, "no decodable video frame");
                return null;
            }
            if (audio && !sawSamples && !video) {
                skip(f, "no decodable audio samples");
                return null;
            }
            return new Probe(video, audio && sawSamples);
        } catch (Exception e) {
            skip(f, ModalityAdapter.decodeFailure(f, e));
            return null;
        }
    }

    /** A folder's CMU Sphinx transcription: base name -&gt; text, and how many samples took a caption from it. */
    private static final class Transcription {
        final Path file;
        final Map<String, String> lines;
        int used;

        Transcription(Path file, Map<String, String> lines) {
            this.file = file;
            this.lines = lines;
        }
    }

    /** Lines "&lt;s&gt; words &lt;/s&gt; (fileid)"; a line in another form skips the whole file, naming the line. */
    private void readTranscription(Path f, Map<String, Transcription> byFolder) {
        Map<String, String> lines = new HashMap<>();
        try {
            String[] all = utf8(f).split("\\r?\\n");
            for (int i = 0; i < all.length; i++) {
                if (all[i].isBlank()) {
                    continue;
                }
                Matcher m = SPHINX_LINE.matcher(all[i]);
                if (!m.matches()) {
                    skip(f, "line " + (i + 1) + ": not a transcription line '<s> words </s> (fileid)'");
                    return;
                }
                String words = m.group(1).replaceAll("</?s>|<sil>", " ").replaceAll("\\s+", " ").trim();
                String fileId = m.group(2).trim();
                lines.put(fileId.substring(fileId.lastIndexOf('/') + 1), words);
            }
        } catch (IOException e) {
            skip(f, reason(e));
            return;
        }
        Transcription old = byFolder.putIfAbsent(folder(f), new Transcription(f, lines));
        if (old != null) {
            skip(f, old.file.getFileName() + " is already this folder's transcription");
        }
    }

    private void checkTestSubjects() {
        for (String s : new TreeSet<>(options.testSubjects)) {
            if (!subjects.contains(s)) {
                throw new ConfigException("--test-subjects", "no sample has subject '" + s + "' (subjects found: "
                        + (subjects.isEmpty() ? "none" : String.join(", ", subjects)) + ")");
            }
        }
    }

    private void skip(Path f, String reason) {
        skipped.add(new Skip(relative(f), reason.replaceAll("\\s+", " ").trim()));
    }

    private static String reason(IOException e) {
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "no such file";
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    private static String utf8(Path f) throws IOException {
        try {
            String s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(Files.readAllBytes(f))).toString();
            return s.startsWith("\uFEFF") ? s.substring(1) : s;
        } catch (CharacterCodingException e) {
            throw new IOException("not valid UTF-8 text", e);
        }
    }

    /** The file's path relative to dir, '/'-separated. */
    private String relative(Path f) {
        return slashes(dir.relativize(f.toAbsolutePath().normalize()));
    }

    /** The folder of f relative to dir, '/'-separated; "" for dir itself. */
    private String folder(Path f) {
        Path parent = dir.relativize(f.toAbsolutePath().normalize()).getParent();
        return parent == null ? "" : slashes(parent);
    }

    /** The uri written to the manifest: f relative to the manifest's folder. */
    private String uri(Path f) {
        return slashes(manifestDir.relativize(f));
    }

    private static String key(String folder, String base) {
        return folder.isEmpty() ? base : folder + "/" + base;
    }

    private static String slashes(Path p) {
        return p.toString().replace(p.getFileSystem().getSeparator(), "/");
    }

    private static boolean hidden(Path p) {
        Path name = p.getFileName();
        return name != null && name.toString().startsWith(".");
    }

    /** Lower-case extension without the dot; "" when there is none. */
    static String extension(String name) {
        int dot = name.lastIndexOf('.');
        return dot <= 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
    }

    static String base(String name) {
        int dot = name.lastIndexOf('.');
        return dot <= 0 ? name : name.substring(0, dot);
    }

    /** The summary table: files seen, used and skipped (each with its reason), samples per modality and split. */
    public static String render(Result r) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%-22s %6d%n", "files seen", r.filesSeen()));
        sb.append(String.format("%-22s %6d%n", "files used", r.filesUsed()));
        sb.append(String.format("%-22s %6d%n", "files skipped", r.skipped().size()));
        sb.append(String.format("%-22s %6d%n", "samples", r.lines().size()));
        for (Modality m : Modality.values()) {
            sb.append(String.format("  %-20s %6d%n", "with " + m.key(), r.modalities().get(m.key())));
        }
        new TreeMap<>(r.splits()).forEach((s, n) -> sb.append(String.format("  %-20s %6d%n", "split " + s, n)));
        if (!r.labels().isEmpty()) {
            sb.append(String.format("%-22s %6d  %s%n", "labels", r.labels().size(), String.join(", ", new TreeSet<>(r.labels()))));
        }
        if (!r.subjects().isEmpty()) {
            sb.append(String.format("%-22s %6d  %s%n", "subjects", r.subjects().size(), String.join(", ", new TreeSet<>(r.subjects()))));
        }
        new TreeMap<>(r.imuChannels()).forEach((c, n) -> sb.append(String.format("%-22s %6d  %s%n", "imu files, channels", n, c)));
        if (!r.skipped().isEmpty()) {
            sb.append("skipped:\n");
            r.skipped().forEach(s -> sb.append("  ").append(s).append('\n'));
        }
        return sb.toString().stripTrailing();
    }
}
