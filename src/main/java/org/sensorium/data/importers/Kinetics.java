package org.sensorium.data.importers;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import org.sensorium.config.Modality;

/**
 * Kinetics-400/600/700 (Kay et al. 2017; Carreira et al. 2018, 2019). Format, from the CSVs DeepMind publishes with
 * the dataset (kinetics400/train.csv, validate.csv, test.csv): a header {@code label,youtube_id,time_start,time_end,split}
 * (the 600/700 files add {@code is_cc}; the 400 test file has no label), one 10-second clip of a YouTube video a row,
 * times in whole seconds. --annotations is one such CSV or a folder of them; a file without a split column takes
 * the split its name says.
 *
 * <p>Media: the common downloaders (the ActivityNet crawler, cvdfoundation/kinetics-dataset) store each clip cut
 * to its span as {@code <youtube_id>_<start:06d>_<end:06d>.mp4}, in folders by split and/or label that differ
 * between tools, so the clip is looked up by that name anywhere under --root; failing that, an uncut video named
 * {@code <youtube_id>.*} is used with the clip's span. The id is the clip's name. Classes: the labels, sorted
 * (the order of the published class lists).
 */
final class Kinetics {
    private Kinetics() {}

    static void read(Sink sink) throws IOException {
        Set<String> labels = new TreeSet<>();
        for (Path f : sink.annotations(Set.of("csv"), false)) {
            try (Csv csv = Csv.open(f, "--annotations", List.of("youtube_id", "time_start", "time_end"))) {
                String fileSplit = sink.splitOf(f);
                for (Csv.Row r = csv.next(); r != null; r = csv.next()) {
                    String where = csv.where(r), yid = r.get("youtube_id");
                    double start, end;
                    try {
                        start = Double.parseDouble(r.get("time_start"));
                        end = Double.parseDouble(r.get("time_end"));
                    } catch (NumberFormatException e) {
                        sink.skip(where, "time_start/time_end '" + r.get("time_start") + "', '" + r.get("time_end") + "' are not numbers");
                        continue;
                    }
                    String split = csv.header.contains("split") ? Sink.split(r.get("split")) : fileSplit;
                    if (yid.isEmpty() || split == null || !(end > start && start >= 0)) {
                        sink.skip(where, yid.isEmpty() ? "no youtube_id" : split == null ? "split '" + r.get("split")
                                + "' is not train, val(idate) or test" : "needs 0 <= time_start < time_end");
                        continue;
                    }
                    String id = String.format(Locale.ROOT, "%s_%06d_%06d", yid, (long) start, (long) end);
                    Sink.Sample s = sink.add(id, split, where);
                    if (s == null) {
                        continue;
                    }
                    Path clip = sink.findExisting(id, Sink.video());
                    Path uncut = clip == null ? sink.findExisting(yid, Sink.video()) : null;
                    if (uncut != null) {
                        s.media(Modality.VIDEO, uncut, start, end);
                    } else {
                        s.media(Modality.VIDEO, clip != null ? clip : sink.find(id, Sink.video(), "mp4"));
                    }
                    if (!r.get("label").isEmpty()) {
                        s.label = r.get("label");
                        labels.add(s.label);
                    }
                }
            }
        }
        labels.forEach(l -> sink.addClass(l, l));
    }
}
