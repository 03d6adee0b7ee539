package org.sensorium.data.importers;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.sensorium.config.ConfigException;
import org.sensorium.config.Modality;

/**
 * The two action datasets whose official splits are lists of video files: UCF101 and HMDB51 (three splits each,
 * --fold 1 to 3, default 1). The id is the video's file name without extension, the label its class.
 */
final class SplitLists {
    private SplitLists() {}

    /** UCF101's group (one actor and setting, g01-g25) in its file names: v_ApplyEyeMakeup_g08_c01. */
    private static final Pattern UCF_GROUP = Pattern.compile("_(g\\d+)_c\\d+$");
    /** HMDB51's split files: brush_hair_test_split1.txt. */
    private static final Pattern HMDB_FILE = Pattern.compile("(.+)_test_split(\\d+)\\.txt");

    /**
     * UCF101 (Soomro et al. 2012). Format, from the dataset's ucfTrainTestlist folder (the THUMOS 2013 three-split
     * protocol): classInd.txt ("1 ApplyEyeMakeup", 1-based), trainlist0N.txt ("ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1")
     * and testlist0N.txt (the path alone; the class is its folder). Media: --root/CLASS/FILE (the UCF-101 folder), else
     * the file's name anywhere under --root. Subject: the group (g08), which the splits keep on one side. Class names
     * are matched ignoring case, because the lists spell one class "HandstandPushups" and its files "HandStandPushups".
     */
    static void ucf101(Sink sink) throws IOException {
        Path dir = folder(sink, "classInd.txt");
        Map<String, String> byLower = new HashMap<>();
        List<String> byIndex = new ArrayList<>();
        for (String line : lines(dir.resolve("classInd.txt"))) {
            String[] t = line.strip().split("\\s+");
            if (t.length == 2) {
                byIndex.add(t[1]);
                byLower.put(t[1].toLowerCase(Locale.ROOT), t[1]);
                sink.addClass(t[1], Sink.words(t[1]));
            }
        }
        for (String split : new String[] {"train", "test"}) {
            Path list = dir.resolve(String.format(Locale.ROOT, "%slist%02d.txt", split, sink.fold));
            List<String> lines = lines(list);
            for (int i = 0; i < lines.size(); i++) {
                String[] t = lines.get(i).strip().split("\\s+");
                if (t[0].isEmpty()) {
                    continue;
                }
                String where = list.getFileName() + ":" + (i + 1), path = t[0];
                String folder = path.contains("/") ? path.substring(0, path.indexOf('/')) : "";
                String label = byLower.get(folder.toLowerCase(Locale.ROOT));
                if (t.length > 1 && t[1].matches("\\d+") && Integer.parseInt(t[1]) >= 1 && Integer.parseInt(t[1]) <= byIndex.size()) {
                    label = byIndex.get(Integer.parseInt(t[1]) - 1);
                }
                if (label == null) {
                    sink.skip(where, "class '" + folder + "' is not in classInd.txt");
                    continue;
                }
                Matcher g = UCF_GROUP.matcher(stem(path));
                add(sink, stem(path), split, where, label, g.find() ? g.group(1) : null, "avi");
            }
        }
    }

    /**
     * HMDB51 (Kuehne et al. 2011). Format, from the dataset's testTrainMulti_7030_splits folder: per class and split
     * a file CLASS_test_splitN.txt, a line "VIDEO.avi TAG" per video of the class, TAG 1 = train, 2 = test, 0 = not
     * used by this split (left out, counted in a note). Media: --root/CLASS/VIDEO.avi (hmdb51_org), else the file's
     * name anywhere under --root.
     */
    static void hmdb51(Sink sink) throws IOException {
        Path dir = folder(sink, null);
        List<Path> files = new ArrayList<>();
        try (var all = Files.list(dir)) {
            all.filter(p -> {
                Matcher m = HMDB_FILE.matcher(p.getFileName().toString());
                return m.matches() && Integer.parseInt(m.group(2)) == sink.fold;
            }).sorted().forEach(files::add);
        }
        if (files.isEmpty()) {
            throw new ConfigException("--annotations", dir + ": no CLASS_test_split" + sink.fold + ".txt file in this folder");
        }
        int unused = 0;
        for (Path f : files) {
            Matcher m = HMDB_FILE.matcher(f.getFileName().toString());
            m.matches();
            String label = m.group(1);
            sink.addClass(label, Sink.words(label));
            List<String> lines = lines(f);
            for (int i = 0; i < lines.size(); i++) {
                String[] t = lines.get(i).strip().split("\\s+");
                String where = f.getFileName() + ":" + (i + 1);
                if (t[0].isEmpty()) {
                    continue;
                }
                String split = t.length == 2 ? switch (t[1]) { case "1" -> "train"; case "2" -> "test"; case "0" -> ""; default -> null; } : null;
                if (split == null) {
                    sink.skip(where, "expected 'VIDEO.avi TAG' with TAG 0, 1 or 2");
                } else if (split.isEmpty()) {
                    unused++;
                } else {
                    add(sink, label + "/" + stem(t[0]), split, where, label, null, "avi");
                }
            }
        }
        if (unused > 0) {
            sink.notes.add(unused + " videos tagged 0 (not in split " + sink.fold + ") left out");
        }
    }

    private static void add(Sink sink, String rel, String split, String where, String label, String subject, String ext)
            throws IOException {
        Sink.Sample s = sink.add(rel.substring(rel.lastIndexOf('/') + 1), split, where);
        if (s != null) {
            s.label = label;
            s.subject = subject;
            s.media(Modality.VIDEO, sink.find(rel, Sink.video(), ext));
        }
    }

    /** "ApplyEyeMakeup/v_x.avi" -> "ApplyEyeMakeup/v_x". */
    private static String stem(String path) {
        int dot = path.lastIndexOf('.');
        return dot > path.lastIndexOf('/') ? path.substring(0, dot) : path;
    }

    /** The folder of split lists: --annotations, or the folder of the file given. */
    private static Path folder(Sink sink, String mustHave) {
        Path a = sink.options.annotations();
        Path dir = Files.isDirectory(a) ? a : a.toAbsolutePath().getParent();
        if (mustHave != null && !Files.isRegularFile(dir.resolve(mustHave))) {
            throw new ConfigException("--annotations", dir + ": no " + mustHave + " in this folder");
        }
        return dir;
    }

    private static List<String> lines(Path file) {
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException("--annotations", file + ": cannot read (" + (e instanceof java.nio.file.NoSuchFileException
                    ? "no such file" : e.getMessage()) + ")");
        }
    }
}
