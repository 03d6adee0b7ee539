package org.sensorium.data.importers;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.sensorium.config.ConfigException;
import org.sensorium.config.Modality;

/**
 * Video-text datasets: WebVid (one caption per video) and HowTo100M (ASR sentences with times, which become a
 * subtitle file per video, so the text adapter and MIL-NCE see the sentences that overlap each clip). Neither has
 * an official split of its own beyond WebVid's train/val files; the rest takes --split.
 */
final class Captions {
    private Captions() {}

    /**
     * WebVid-2M/10M (Bain et al. 2021). Format, from the dataset's published CSVs (results_2M_train.csv,
     * results_2M_val.csv): a header {@code videoid,contentUrl,duration,page_dir,name} (older files order the columns
     * differently; they are read by name), {@code name} being the caption and {@code duration} ISO 8601 (PT00H00M11S).
     * The split is the file's (…_val.csv is val), else --split. Media: the dataset's download script saves
     * {@code <page_dir>/<videoid>.mp4}; else the video's id anywhere under --root. Attributes: duration, page_dir.
     */
    static void webvid(Sink sink) throws IOException {
        for (Path f : sink.annotations(Set.of("csv"), false)) {
            try (Csv csv = Csv.open(f, "--annotations", List.of("videoid", "name"))) {
                String split = sink.splitOf(f);
                for (Csv.Row r = csv.next(); r != null; r = csv.next()) {
                    String id = r.get("videoid"), caption = r.get("name"), dir = r.get("page_dir");
                    if (id.isEmpty() || caption.isEmpty()) {
                        sink.skip(csv.where(r), id.isEmpty() ? "no videoid" : "no caption (name)");
                        continue;
                    }
                    Sink.Sample s = sink.add(id, split, csv.where(r));
                    if (s != null) {
                        s.captions.add(caption);
                        s.media(Modality.VIDEO, sink.find(dir.isEmpty() ? id : dir + "/" + id, Sink.video(), "mp4"));
                        for (String k : new String[] {"duration", "page_dir"}) {
                            if (!r.get(k).isEmpty()) {
                                s.attributes.put(k, r.get(k));
                            }
                        }
                    }
                }
            }
        }
    }

    /** One ASR sentence: seconds from the start of the video. */
    private record Cue(double start, double end, String text) {}

    /**
     * HowTo100M (Miech et al. 2019). Format, from the dataset's caption.json (and raw_caption.json): an object
     * {@code {"VIDEO_ID": {"start": [s...], "end": [s...], "text": [...]}}}, seconds. Also read: a CSV with the
     * columns {@code video_id,start,end,text}, one sentence a row, or a folder of per-video CSVs {@code VIDEO_ID.csv}
     * with {@code start,end,text} (a common re-packaging). Each video's sentences, in time order, are written as
     * an SRT file in "STEM.subtitles/" beside the manifest and are its text; sentences with no words or with
     * end &lt;= start are dropped and counted in a note. Media: {@code VIDEO_ID.*} anywhere under --root.
     */
    static void howto100m(Sink sink) throws IOException {
        int[] dropped = new int[1];
        for (Path f : sink.annotations(Set.of("json", "csv"), false)) {
            if (Sink.extension(f).equals("json")) {
                json(f, sink, dropped);
            } else {
                Map<String, List<Cue>> videos = new LinkedHashMap<>();
                Map<String, String> where = new LinkedHashMap<>();
                csv(f, videos, where, dropped);
                for (Map.Entry<String, List<Cue>> v : videos.entrySet()) {
                    video(sink, v.getKey(), where.get(v.getKey()), v.getValue());
                }
            }
        }
        if (dropped[0] > 0) {
            sink.notes.add(dropped[0] + " sentences without words or with end <= start dropped");
        }
    }

    /** One video's sample: its sentences as an SRT file beside the manifest (the text recording), and the video. */
    private static void video(Sink sink, String id, String where, List<Cue> cues) throws IOException {
        if (cues.isEmpty()) {
            sink.skip(where, "video " + id + " has no sentence with words and end > start");
            return;
        }
        Sink.Sample s = sink.add(id, sink.options.split(), where);
        if (s != null) {
            Path srt = sink.beside("subtitles", id + ".srt");
            Files.writeString(srt, srt(cues), StandardCharsets.UTF_8);
            s.media(Modality.VIDEO, sink.find(id, Sink.video(), "mp4"));
            s.media(Modality.TEXT, srt);
        }
    }

    /** Streams the object one video at a time: the published caption.json is gigabytes. */
    private static void json(Path f, Sink sink, int[] dropped) throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        try (JsonParser p = mapper.getFactory().createParser(f.toFile())) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new ConfigException("--annotations", f + ": expected an object {\"VIDEO_ID\": {\"start\": [...], \"end\": [...], \"text\": [...]}}");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String id = p.getCurrentName(), where = f.getFileName() + ":" + p.getTokenLocation().getLineNr();
                p.nextToken();
                JsonNode v = mapper.readTree(p);
                JsonNode start = v.path("start"), end = v.path("end"), text = v.path("text");
                if (!start.isArray() || !end.isArray() || !text.isArray() || start.size() != end.size() || start.size() != text.size()) {
                    sink.skip(where, "start, end and text are not arrays of one length");
                    continue;
                }
                List<Cue> cues = new ArrayList<>();
                for (int i = 0; i < start.size(); i++) {
                    add(cues, start.get(i).asDouble(Double.NaN), end.get(i).asDouble(Double.NaN), text.get(i).asText(""), dropped);
                }
                video(sink, id, where, cues);
            }
        } catch (JsonProcessingException e) {
            throw new ConfigException("--annotations", f + ": not JSON (" + e.getOriginalMessage() + ")");
        }
    }

    /** Groups a CSV's sentences by video (video_id column, else the file's name). */
    private static void csv(Path f, Map<String, List<Cue>> videos, Map<String, String> where, int[] dropped) throws IOException {
        try (Csv csv = Csv.open(f, "--annotations", List.of("start", "end", "text"))) {
            String name = f.getFileName().toString();
            for (Csv.Row r = csv.next(); r != null; r = csv.next()) {
                String id = csv.header.contains("video_id") ? r.get("video_id") : name.substring(0, name.lastIndexOf('.'));
                where.putIfAbsent(id, csv.where(r));
                add(videos.computeIfAbsent(id, k -> new ArrayList<>()), number(r.get("start")), number(r.get("end")), r.get("text"), dropped);
            }
        }
    }

    private static void add(List<Cue> cues, double start, double end, String text, int[] dropped) {
        String words = text.replaceAll("\\s+", " ").strip();
        if (words.isEmpty() || !(end > start) || !(start >= 0)) {
            dropped[0]++;
        } else {
            cues.add(new Cue(start, end, words));
        }
    }

    private static double number(String s) {
        try {
            return Double.parseDouble(s);
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    /** The sentences as SRT (numbered from 1, HH:MM:SS,mmm), sorted by start. */
    static String srt(List<Cue> cues) {
        StringBuilder sb = new StringBuilder();
        List<Cue> sorted = cues.stream().sorted(Comparator.comparingDouble(Cue::start)).toList();
        for (int i = 0; i < sorted.size(); i++) {
            Cue c = sorted.get(i);
            sb.append(i + 1).append('\n').append(time(c.start())).append(" --> ").append(time(c.end())).append('\n')
                    .append(c.text()).append("\n\n");
        }
        return sb.toString();
    }

    private static String time(double seconds) {
        long ms = Math.round(seconds * 1000);
        return String.format(Locale.ROOT, "%02d:%02d:%02d,%03d", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    }
}
