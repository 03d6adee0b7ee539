package org.sensorium.data;

import static org.sensorium.data.FolderFiles.reason;
import static org.sensorium.data.FolderFiles.utf8;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A folder's CMU Sphinx transcription: base name -&gt; text, and how many samples took a caption from it. */
final class SphinxTranscription {
    private static final Pattern SPHINX_LINE = Pattern.compile("^\\s*(.*?)\\s*\\(([^()]+)\\)\\s*$");

    final Path file;
    final Map<String, String> lines;
    int used;

    SphinxTranscription(Path file, Map<String, String> lines) {
        this.file = file;
        this.lines = lines;
    }

    /** Lines "&lt;s&gt; words &lt;/s&gt; (fileid)"; a line in another form skips the whole file, naming the line. */
    static void read(Path f, Map<String, SphinxTranscription> byFolder, FolderFiles files) {
        Map<String, String> lines = new HashMap<>();
        try {
            String[] all = utf8(f).split("\\r?\\n");
            for (int i = 0; i < all.length; i++) {
                if (all[i].isBlank()) {
                    continue;
                }
                Matcher m = SPHINX_LINE.matcher(all[i]);
                if (!m.matches()) {
                    files.skip(f, "line " + (i + 1) + ": not a transcription line '<s> words </s> (fileid)'");
                    return;
                }
                String words = m.group(1).replaceAll("</?s>|<sil>", " ").replaceAll("\\s+", " ").trim();
                String fileId = m.group(2).trim();
                lines.put(fileId.substring(fileId.lastIndexOf('/') + 1), words);
            }
        } catch (IOException e) {
            files.skip(f, reason(e));
            return;
        }
        SphinxTranscription old = byFolder.putIfAbsent(files.folder(f), new SphinxTranscription(f, lines));
        if (old != null) {
            files.skip(f, old.file.getFileName() + " is already this folder's transcription");
        }
    }
}
