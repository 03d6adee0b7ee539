package org.sensorium.eval;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * One self-contained HTML page about a pretraining run and its evaluations: no scripts, no network, every
 * picture an XChart PNG embedded as a base64 data URI, every piece of text escaped.
 * <ul>
 *   <li>training: the total loss and every named loss term ({@code contrastive/video-text}, one '/' in the
 *       key) over steps, from RUN/metrics.jsonl;</li>
 *   <li>evaluation during training (eval.every_steps): each task's eval/&lt;task&gt;/&lt;metric&gt; curves over steps from
 *       the same file, a first / last / best table, and the checkpoint train.keep_best kept ({@link EvalCurves});</li>
 *   <li>the run's RUN/summary.json: held-out retrieval table and recall bars, held-out k-means NMI, temporal
 *       segmentation, held-out measures start -&gt; end, skipped samples;</li>
 *   <li>each evaluation folder's results.json (the eval command's file): per task its split, protocol and
 *       metrics, recall table and bars per retrieval direction, per-class accuracy, the confusion matrix as a
 *       heat map with counts, and a 2-D PCA of the task's embeddings CSV coloured by label.</li>
 * </ul>
 * A missing piece (no metrics.jsonl, a task without embeddings, an unreadable CSV row) is left out with a
 * note on the page; only a results.json that is not the eval command's format stops the report, with
 * {@link MalformedResults} naming the file.
 */
public final class Report {
    private Report() {}

    /** A results.json that cannot be read as the eval command's format; the message is one line naming the file. */
    public static final class MalformedResults extends RuntimeException {
        public MalformedResults(Path file, String reason) {
            super(file + ": " + reason);
        }
    }

    /** What was written: the page, how many pictures it holds and the notes about what was left out. */
    public record Written(Path html, int figures, List<String> notes) {}

    /** {@link #write(Path, List, Path, boolean)} with a linear loss axis. */
    public static Written write(Path runDir, List<Path> evalDirs, Path html) throws IOException {
        return write(runDir, evalDirs, html, false);
    }

    /**
     * Writes the report (atomically: a temporary file, then a rename).
     *
     * @param runDir a pretraining run folder (metrics.jsonl, summary.json); either may be missing
     * @param evalDirs folders holding a results.json (or the results.json files themselves)
     * @param logLoss draw the loss axis logarithmic (non-positive values are then left out, with a note)
     * @throws MalformedResults when a results.json is not valid JSON or not of the eval command's format;
     *     nothing is written then
     */
    public static Written write(Path runDir, List<Path> evalDirs, Path html, boolean logLoss) throws IOException {
        List<ReportSections.Evaluation> evaluations = new ArrayList<>();
        for (Path d : evalDirs) {        // all read first: a malformed one stops the report before anything is drawn
            Path file = Files.isRegularFile(d) ? d : d.resolve("results.json");
            evaluations.add(new ReportSections.Evaluation(file, Files.isRegularFile(file) ? RunFiles.readResults(file) : null));
        }
        HtmlPage page = new HtmlPage();
        page.title("Sensorium report: " + runDir.getFileName());
        page.para("Run folder: " + runDir.toAbsolutePath().normalize());
        page.heading(2, "Training");
        ReportSections.training(page, runDir.resolve("metrics.jsonl"), logLoss);
        EvalCurves.section(page, runDir);
        page.heading(2, "Run summary");
        ReportSections.summary(page, runDir.resolve("summary.json"));
        for (ReportSections.Evaluation e : evaluations) {
            ReportSections.evaluation(page, e);
        }
        if (evalDirs.isEmpty()) {
            page.heading(2, "Evaluations");
            page.note("no evaluation results (run `sensorium eval --checkpoint " + runDir + " --suite ...` first)");
        }
        Path parent = html.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        // a plain new file (mode from the umask, like every other run file; createTempFile would make it 0600)
        Path tmp = parent.resolve("." + html.getFileName() + ".tmp");
        Files.writeString(tmp, page.html(), StandardCharsets.UTF_8);
        Files.move(tmp, html, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return new Written(html, page.figures(), page.notes());
    }

    /** The evaluation folders of a run: every RUN/eval/NAME/ that holds a results.json, by name. */
    public static List<Path> evalDirs(Path runDir) throws IOException {
        Path eval = runDir.resolve("eval");
        if (!Files.isDirectory(eval)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(eval)) {
            return s.filter(d -> Files.isRegularFile(d.resolve("results.json"))).sorted().toList();
        }
    }

    /** HTML-escapes text for element content and attribute values. */
    public static String escape(String s) {
        return HtmlPage.escape(s);
    }
}
