package org.sensorium.data.importers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.sensorium.config.Modality;

/**
 * ESC-50 (Piczak 2015). Format, from the dataset's README (github.com/karolpiczak/ESC-50): meta/esc50.csv with
 * the header {@code filename,fold,target,category,esc10,src_file,take}, one 5-second clip a row
 * ({@code 1-100032-A-0.wav,1,0,dog,True,100032,A}); clips are in audio/. The five folds are the official
 * cross-validation folds (clips cut from one Freesound recording, src_file, are in one fold): fold --fold (default
 * 5) is the test split, the other four train. --annotations is esc50.csv or the dataset's folder. Subject: src_file,
 * so recordings stay together; attributes: fold, esc10, take. Classes: the categories in target order (0 = dog).
 */
final class Esc50 {
    private Esc50() {}

    static void read(Sink sink) throws IOException {
        Path csvFile = sink.options.annotations();
        if (Files.isDirectory(csvFile)) {
            csvFile = Files.exists(csvFile.resolve("meta/esc50.csv")) ? csvFile.resolve("meta/esc50.csv") : csvFile.resolve("esc50.csv");
        }
        Map<Integer, String> byTarget = new TreeMap<>();
        try (Csv csv = Csv.open(csvFile, "--annotations", List.of("filename", "fold", "target", "category"))) {
            for (Csv.Row r = csv.next(); r != null; r = csv.next()) {
                String file = r.get("filename"), category = r.get("category");
                int fold, target;
                try {
                    fold = Integer.parseInt(r.get("fold"));
                    target = Integer.parseInt(r.get("target"));
                } catch (NumberFormatException e) {
                    sink.skip(csv.where(r), "fold '" + r.get("fold") + "' or target '" + r.get("target") + "' is not a whole number");
                    continue;
                }
                if (file.isEmpty() || category.isEmpty()) {
                    sink.skip(csv.where(r), "no filename or category");
                    continue;
                }
                String base = file.contains(".") ? file.substring(0, file.lastIndexOf('.')) : file;
                Sink.Sample s = sink.add(base, fold == sink.fold ? "test" : "train", csv.where(r));
                if (s == null) {
                    continue;
                }
                s.label = category;
                s.subject = r.get("src_file").isEmpty() ? null : r.get("src_file");
                s.attributes.put("fold", Integer.toString(fold));
                for (String k : new String[] {"esc10", "take"}) {
                    if (!r.get(k).isEmpty()) {
                        s.attributes.put(k, r.get(k));
                    }
                }
                s.media(Modality.AUDIO, sink.find("audio/" + base, Sink.audio(), file.contains(".") ? Sink.extension(Path.of(file)) : "wav"));
                byTarget.putIfAbsent(target, category);
            }
        }
        byTarget.values().forEach(c -> sink.addClass(c, Sink.words(c)));
    }
}
