package org.sensorium.data;

import static org.sensorium.data.FolderFiles.base;
import static org.sensorium.data.FolderFiles.key;
import static org.sensorium.data.FolderFiles.slashes;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bytedeco.ffmpeg.global.avutil;
import org.sensorium.config.ConfigException;
import org.sensorium.config.Modality;
import org.sensorium.modality.imu.ImuAdapter;

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
 * never an exception. Ids are the group's path relative to the folder, sanitised, and distinct ({@link #ids});
 * samples come sorted by id, so the same folder always gives the same manifest. An HMP file name
 * ({@code Accelerometer-<date>-<time>-<activity>-<volunteer>}) gives the sample's subject.
 * <p>
 * The steps live beside this class: {@link FolderFiles} walks the folder and keeps the skips,
 * {@link FolderRoles} pairs a group's files into roles, {@link SphinxTranscription} reads transcription
 * files, {@link FolderSplit} moves samples to test or train, and {@link FolderReport} prints the summary.
 */
public final class FolderManifest {
    public static final Set<String> VIDEO_EXT = Set.of("mp4", "m4v", "mkv", "mov", "avi", "webm", "mpg", "mpeg", "ts", "flv",
            "wmv", "3gp", "ogv");
    public static final Set<String> AUDIO_EXT = Set.of("wav", "mp3", "flac", "ogg", "oga", "opus", "m4a", "aac");
    public static final Set<String> SUBTITLE_EXT = Set.of("srt", "vtt");
    public static final Set<String> IMU_EXT = Set.of("csv", "raw", "bin", "gpmf");
    /** HMP trial names (Bruno et al. 2013, MANUAL.txt): Accelerometer-[START_TIME]-[HMP]-[VOLUNTEER]. */
    static final Pattern HMP_NAME = Pattern.compile("Accelerometer-\\d{4}(?:-\\d{2}){5}-[A-Za-z_]+-([a-z]+\\d+)");
    private static final Pattern SPHINX_LINE = Pattern.compile("^\\s*(.*?)\\s*\\(([^()]+)\\)\\s*$");
    private static final Pattern ID_UNSAFE = Pattern.compile("[^A-Za-z0-9._/-]");
    private static final ObjectMapper JSON = new ObjectMapper();

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

    private final FolderFiles files;
    private final Path manifestDir;
    private final Options options;
    private final Map<String, Integer> modalities = new LinkedHashMap<>();
    private final Map<String, Integer> splits = new TreeMap<>();
    private final Map<String, Integer> imuChannels = new TreeMap<>();
    private final Set<String> labels = new TreeSet<>();
    private final Set<String> subjects = new TreeSet<>();
    private int used;

    private FolderManifest(Path dir, Path manifestDir, Options options) {
        this.files = new FolderFiles(dir.toAbsolutePath().normalize());
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
        List<Path> found = files.list(exclude);
        int seen = found.size() + files.skipped.size(); // the walk skips what it cannot list (a FIFO, a name no uri spells)
        Map<String, SphinxTranscription> transcriptions = new HashMap<>(); // folder -> its transcription file
        Map<String, List<Path>> groups = new TreeMap<>();           // "folder/base" -> files
        for (Path f : found) {
            String name = f.getFileName().toString();
            if (name.equals("transcription") || FolderFiles.extension(name).equals("transcription")) {
                SphinxTranscription.read(f, transcriptions, files);
            } else {
                groups.computeIfAbsent(key(files.folder(f), base(name)), k -> new ArrayList<>()).add(f);
            }
        }
        Map<String, String> idOf = ids(groups.keySet());
        Map<String, String> ids = new HashMap<>(); // id -> the group that took it
        List<ObjectNode> samples = new ArrayList<>();
        for (Map.Entry<String, List<Path>> g : groups.entrySet()) {
            String id = idOf.get(g.getKey());
            String taken = ids.putIfAbsent(id, g.getKey()); // only if a hashed id meets another id: listed, never silent
            if (taken != null) {
                g.getValue().forEach(f -> files.skip(f, "its sample id '" + id + "' is already taken by " + taken));
                continue;
            }
            List<Path> group = g.getValue();
            Path first = group.get(0);
            ObjectNode s = sample(id, files.folder(first), base(first.getFileName().toString()), group,
                    transcriptions.get(files.folder(first)));
            if (s != null) {
                samples.add(s);
            }
        }
        for (SphinxTranscription t : transcriptions.values()) {
            if (t.used == 0) {
                files.skip(t.file, "transcription names no recording in its folder");
            } else {
                used++;
            }
        }
        FolderSplit.checkTestSubjects(options, subjects);
        samples.sort((a, b) -> a.get("id").asText().compareTo(b.get("id").asText()));
        if (options.trainFraction > 0) {
            FolderSplit.stratify(samples, options, splits);
        }
        List<String> lines = new ArrayList<>();
        for (ObjectNode s : samples) {
            lines.add(JSON.writeValueAsString(s));
        }
        files.skipped.sort((a, b) -> a.file().compareTo(b.file()));
        return new Result(lines, seen, used, List.copyOf(files.skipped), Map.copyOf(modalities), Map.copyOf(splits),
                Map.copyOf(imuChannels), Set.copyOf(labels), Set.copyOf(subjects));
    }

    /**
     * The sample id of each group ("folder/base"): the group with characters outside {@code A-Z a-z 0-9 . _ / -} as
     * '_', so ids stay readable and the ids of earlier manifests stay as they were. Groups whose ids would be the
     * same ("naïve", "naéve" and "na_ve" are all "na_ve") stay apart: the one spelled that way already keeps it,
     * each other gets '-' and the first 8 hex digits of the SHA-256 of its UTF-8 bytes, which depend on its own
     * name only (NFC and NFD spellings differ), not on what else the folder holds.
     */
    static Map<String, String> ids(Set<String> groups) {
        Map<String, List<String>> bySafe = new HashMap<>();
        for (String g : groups) {
            bySafe.computeIfAbsent(ID_UNSAFE.matcher(g).replaceAll("_"), k -> new ArrayList<>()).add(g);
        }
        Map<String, String> out = new HashMap<>();
        bySafe.forEach((safe, same) -> {
            for (String g : same) {
                out.put(g, same.size() == 1 || g.equals(safe) ? safe : safe + "-" + sha256Prefix(g));
            }
        });
        return out;
    }

    /** The first 8 hex digits of the SHA-256 of s's UTF-8 bytes. */
    private static String sha256Prefix(String s) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every JVM has SHA-256
        }
    }

    /** One sample from the files sharing a folder and base name, or null (each file then skipped with its reason). */
    private ObjectNode sample(String id, String folder, String base, List<Path> group, SphinxTranscription transcription) {
        FolderRoles r = FolderRoles.of(group, files, imuChannels);
        Path audio = r.audio != null ? r.audio : r.videoHasAudio ? r.video : null;
        if (r.video == null && audio == null && r.imu == null) {
            for (Path f : new Path[] {r.subtitle, r.transcript}) {
                if (f != null) {
                    files.skip(f, "no video, audio or IMU recording named '" + base + ".*' beside it");
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

    /** The uri written to the manifest: f relative to the manifest's folder. */
    private String uri(Path f) {
        return slashes(manifestDir.relativize(f));
    }

    /** The summary table: files seen, used and skipped (each with its reason), samples per modality and split. */
    public static String render(Result r) {
        return FolderReport.render(r);
    }
}
