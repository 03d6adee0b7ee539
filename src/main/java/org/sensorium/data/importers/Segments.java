package org.sensorium.data.importers;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.sensorium.config.Modality;
import org.sensorium.data.ManifestEntry.Segment;

/**
 * Long videos annotated with timed actions, for temporal segmentation: the manifest's {@code segments} (in time
 * order, not overlapping, seconds from the start of the video; gaps are frames that are not scored).
 */
final class Segments {
    private Segments() {}

    /** One timed action as annotated, before overlaps are resolved. */
    private record Action(String label, double start, double end) {}

    /** Breakfast's persons P03-P54: fold N tests on persons 13 (N - 1) + 3 to 13 N + 2 (s1 = P03-P15 ... s4 = P42-P54). */
    private static final Pattern PERSON = Pattern.compile("P(\\d+)");
    private static final Pattern BREAKFAST_LINE = Pattern.compile("\\s*([0-9.]+)\\s*-\\s*([0-9.]+)\\s+(\\S.*?)\\s*");

    /**
     * Charades (Sigurdsson et al. 2016). Format, from the dataset's README (Charades_v1_train.csv, Charades_v1_test.csv):
     * a header {@code id,subject,scene,quality,relevance,verified,script,objects,descriptions,actions,length},
     * {@code actions} = "c092 11.90 21.20;c147 0.00 12.60" (class, start and end in seconds), {@code length} in
     * seconds, {@code descriptions} one or more sentences separated by ';'. The split is the file's (train/test).
     * Charades_v1_classes.txt ("c092 Holding a phone/camera") beside the CSVs gives the classes' phrases.
     * Media: {@code ID.mp4} (Charades_v1_480/) anywhere under --root. Subject: the person who acted the script.
     * Charades' actions overlap (a person holds a phone while sitting); segments may not, so at each moment the
     * action that began last holds it (the shorter one on a tie): a cut action resumes when the later one ends.
     */
    static void charades(Sink sink) throws IOException {
        Path dir = Files.isDirectory(sink.options.annotations()) ? sink.options.annotations()
                : sink.options.annotations().toAbsolutePath().getParent();
        Path classes = dir.resolve("Charades_v1_classes.txt");
        if (Files.isRegularFile(classes)) {
            for (String line : Files.readAllLines(classes, StandardCharsets.UTF_8)) {
                String[] t = line.strip().split("\\s+", 2);
                if (t.length == 2) {
                    sink.addClass(t[0], t[1].toLowerCase(Locale.ROOT));
                }
            }
        }
        Set<String> seen = new TreeSet<>();
        int overlapping = 0;
        for (Path f : sink.annotations(Set.of("csv"), false)) {
            try (Csv csv = Csv.open(f, "--annotations", List.of("id", "actions"))) {
                String split = sink.splitOf(f);
                for (Csv.Row r = csv.next(); r != null; r = csv.next()) {
                    String id = r.get("id");
                    List<Action> actions = charadesActions(r.get("actions"), r.get("length"));
                    if (id.isEmpty() || actions == null) {
                        sink.skip(csv.where(r), id.isEmpty() ? "no id" : "actions '" + r.get("actions") + "' are not 'cNNN start end;...'");
                        continue;
                    }
                    Sink.Sample s = sink.add(id, split, csv.where(r));
                    if (s == null) {
                        continue;
                    }
                    s.subject = r.get("subject").isEmpty() ? null : r.get("subject");
                    for (String d : (r.get("descriptions").isEmpty() ? r.get("script") : r.get("descriptions")).split(";")) {
                        if (!d.isBlank()) {
                            s.captions.add(d.strip());
                        }
                    }
                    if (!r.get("scene").isEmpty()) {
                        s.attributes.put("scene", r.get("scene"));
                    }
                    s.segments.addAll(flatten(actions));
                    overlapping += overlaps(actions) ? 1 : 0;
                    actions.forEach(a -> seen.add(a.label()));
                    s.media(Modality.VIDEO, sink.find(id, Sink.video(), "mp4"));
                }
            }
        }
        seen.forEach(c -> sink.addClass(c, c)); // codes missing from the classes file (or no classes file) keep the code
        if (overlapping > 0) {
            sink.notes.add(overlapping + " videos had overlapping actions: each moment kept the action that began last");
        }
    }

    /** The actions of a Charades row, clamped to the video's length when known; null if the field is malformed. */
    private static List<Action> charadesActions(String field, String length) {
        double len;
        try {
            len = length.isEmpty() ? Double.POSITIVE_INFINITY : Double.parseDouble(length);
        } catch (NumberFormatException e) {
            len = Double.POSITIVE_INFINITY;
        }
        List<Action> out = new ArrayList<>();
        for (String a : field.split(";")) {
            if (a.isBlank()) {
                continue;
            }
            String[] t = a.strip().split("\\s+");
            if (t.length != 3 || !t[0].matches("c\\d+")) {
                return null;
            }
            try {
                double start = Math.max(0, Double.parseDouble(t[1])), end = Math.min(len, Double.parseDouble(t[2]));
                if (end > start) {
                    out.add(new Action(t[0], start, end));
                }
            } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
                return null;
            }
        }
        return out;
    }

    private static boolean overlaps(List<Action> actions) {
        List<Action> sorted = actions.stream().sorted(Comparator.comparingDouble(Action::start)).toList();
        for (int i = 1; i < sorted.size(); i++) {
            if (sorted.get(i).start() < sorted.get(i - 1).end()) {
                return true;
            }
        }
        return false;
    }

    /**
     * Non-overlapping segments from possibly overlapping actions: the time line is cut at every start and end; each
     * piece goes to the covering action that began last (shorter, then smaller label, on a tie); pieces no action
     * covers are gaps; touching pieces of one label are merged.
     */
    static List<Segment> flatten(List<Action> actions) {
        TreeSet<Double> cuts = new TreeSet<>();
        actions.forEach(a -> {
            cuts.add(a.start());
            cuts.add(a.end());
        });
        Comparator<Action> wins = Comparator.comparingDouble(Action::start).reversed()
                .thenComparingDouble(a -> a.end() - a.start()).thenComparing(Action::label);
        List<Segment> out = new ArrayList<>();
        Double from = null;
        for (double to : cuts) {
            if (from != null) {
                double a = from;
                actions.stream().filter(x -> x.start() <= a && x.end() >= to).min(wins).ifPresent(x -> {
                    Segment last = out.isEmpty() ? null : out.get(out.size() - 1);
                    if (last != null && last.label().equals(x.label()) && last.end() == a) {
                        out.set(out.size() - 1, new Segment(last.start(), to, x.label()));
                    } else {
                        out.add(new Segment(a, to, x.label()));
                    }
                });
            }
            from = to;
        }
        return out;
    }

    /**
     * Breakfast (Kuehne et al. 2014). Format, from the dataset's coarse segmentation files (segmentation_coarse/):
     * one file per video, a line "START-END label" per action ("1-30 SIL", "31-150 take_bowl"), 1-based inclusive
     * frame numbers at 15 fps (--fps; --fps 0 reads the numbers as seconds), in time order. --annotations is one
     * such file or a folder of them (searched below). The id is the file's path under that folder without extension
     * (P03/cam01/P03_cereals), the label the activity after the last '_' (cereals), the subject the person (P03).
     * Splits: the four official folds by person, --fold N testing on persons 13(N-1)+3 to 13N+2 (fold 1: P03-P15).
     * Media: the same path with a video extension under --root (BreakfastII_15fps_qvga_sync/P03/cam01/P03_cereals.avi),
     * else the file's name under --root if exactly one video has it (a person's cameras share names).
     */
    static void breakfast(Sink sink) throws IOException {
        Path dir = Files.isDirectory(sink.options.annotations()) ? sink.options.annotations()
                : sink.options.annotations().toAbsolutePath().getParent();
        Set<String> activities = new TreeSet<>(), actions = new TreeSet<>();
        for (Path f : sink.annotations(Set.of(), true)) {
            String rel = dir.toAbsolutePath().relativize(f.toAbsolutePath()).toString().replace('\\', '/');
            rel = rel.lastIndexOf('.') > rel.lastIndexOf('/') ? rel.substring(0, rel.lastIndexOf('.')) : rel;
            List<Segment> segments = new ArrayList<>();
            String why;
            try {
                why = breakfastSegments(Files.readAllLines(f, StandardCharsets.UTF_8), sink.options.fps(), segments);
            } catch (java.nio.charset.CharacterCodingException e) {
                why = "not UTF-8 text";
            }
            if (why != null) {
                sink.skip(rel, why);
                continue;
            }
            Matcher p = PERSON.matcher(rel);
            String person = p.find() ? p.group() : null;
            int n = person == null ? 0 : Integer.parseInt(p.group(1));
            boolean test = n >= 13 * (sink.fold - 1) + 3 && n <= 13 * sink.fold + 2;
            Sink.Sample s = sink.add(rel, test ? "test" : "train", f.getFileName().toString());
            if (s == null) {
                continue;
            }
            String base = rel.substring(rel.lastIndexOf('/') + 1);
            s.label = base.substring(base.lastIndexOf('_') + 1);
            s.subject = person;
            s.segments.addAll(segments);
            s.media(Modality.VIDEO, sink.find(rel, Sink.video(), "avi"));
            activities.add(s.label);
            segments.forEach(g -> actions.add(g.label()));
        }
        activities.forEach(a -> sink.addClass(a, Sink.words(a)));
        sink.notes.add(actions.size() + " action labels in the segments: " + String.join(", ", actions));
    }

    /** Reads "START-END label" lines into segments; returns null, or why the file is not a segment file. */
    private static String breakfastSegments(List<String> lines, double fps, List<Segment> out) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            Matcher m = BREAKFAST_LINE.matcher(lines.get(i));
            if (!m.matches()) {
                return "line " + (i + 1) + ": expected 'START-END label'";
            }
            double a, b;
            try {
                a = Double.parseDouble(m.group(1));
                b = Double.parseDouble(m.group(2));
            } catch (NumberFormatException e) {
                return "line " + (i + 1) + ": '" + m.group(1) + "-" + m.group(2) + "' are not numbers";
            }
            double start = fps > 0 ? (a - 1) / fps : a, end = fps > 0 ? b / fps : b;
            double prevEnd = out.isEmpty() ? 0 : out.get(out.size() - 1).end();
            if (!(start >= prevEnd - 1e-9 && end > start)) {
                return "line " + (i + 1) + ": segment " + m.group(1) + "-" + m.group(2) + " is empty, or before the end of the one above";
            }
            out.add(new Segment(Math.max(start, prevEnd), end, m.group(3)));
        }
        return out.isEmpty() ? "no segment" : null;
    }
}
