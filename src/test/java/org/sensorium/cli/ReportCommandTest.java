package org.sensorium.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `sensorium report RUN` on a real tiny run plus a hand-written results.json and embeddings CSV. */
class ReportCommandTest {
    private static final Pattern IMG = Pattern.compile("<img alt=\"([^\"]*)\" src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\">");

    /** A retrieval task (two directions) and a classification task whose labels need escaping, with a confusion matrix and embeddings. */
    private static final String RESULTS = """
            {"suite": "smoke", "checkpoint": "RUN", "step": 4, "wall_seconds": 1.5,
             "manifests": {"data/m.jsonl": "abc123"},
             "tasks": [
              {"name": "retrieval", "kind": "retrieval", "modality": "video", "split": "val (8 samples)",
               "protocol": {"clips": 2},
               "metrics": {"R@1": 0.25},
               "recall": {"video->text": {"R@1": 0.25, "R@5": 0.75, "R@10": 1.0, "median_rank": 2, "mean_rank": 2.5},
                          "text->video": {"R@1": 0.5, "R@5": 0.875, "R@10": 1.0, "median_rank": 1.5, "mean_rank": 2.0}}},
              {"name": "probe", "kind": "linear_probe", "modality": "imu", "split": "train volunteers / held-out volunteers",
               "protocol": {"l2": 0.01, "seeds": [1, 2, 3]},
               "metrics": {"top1": 0.875, "macro_f1": 0.873},
               "per_class": {"walk": 0.75, "<script>alert(1)</script>": 1.0},
               "confusion": {"labels": ["walk", "<script>alert(1)</script>"], "matrix": [[3, 1], [0, 4]]},
               "embeddings": "embeddings/probe.csv"},
              {"name": "no-csv", "kind": "knn", "modality": "audio", "split": "all",
               "metrics": {"top1": 0.5}, "embeddings": "embeddings/missing.csv"}
             ]}
            """;

    @Test
    void reportOfATinyRunAndItsEvaluation(@TempDir Path dir) throws Exception {
        Object[] r = MainTest.cli(MainTest.tinyArgs(dir));
        assertEquals(0, r[0], (String) r[2]);
        Path run = dir.resolve("runs/e2e");
        assertTrue(Files.isRegularFile(run.resolve("report.html")), "pretrain writes the report at the end");
        assertTrue(((String) r[1]).contains("report:     " + run.resolve("report.html")), (String) r[1]);

        Path eval = run.resolve("eval/smoke");
        Files.createDirectories(eval.resolve("embeddings"));
        Files.writeString(eval.resolve("results.json"), RESULTS);
        // 6 embeddings in 3-D, two labels; one unreadable row (a word for a number) is left out with a note.
        Files.writeString(eval.resolve("embeddings/probe.csv"), """
                label,e0,e1,e2
                walk,1,0,0
                walk,0.9,0.1,0
                walk,1.1,-0.1,0.1
                "<script>alert(1)</script>",-1,0,0
                "<script>alert(1)</script>",-0.9,0.2,0
                "<script>alert(1)</script>",-1.1,0,-0.1
                walk,one,0,0
                """);

        Object[] rep = MainTest.cli(List.of("report", run.toString()));
        assertEquals(0, rep[0], (String) rep[2]);
        assertTrue(((String) rep[1]).contains("report: " + run.resolve("report.html") + " (5 figures, "), (String) rep[1]);
        String html = Files.readString(run.resolve("report.html"));

        for (String section : List.of("<h2>Training</h2>", "<h2>Run summary</h2>", "<h3>Held-out retrieval</h3>",
                "<h3>Skipped samples: 0</h3>", "<h2>Evaluation: smoke</h2>", "<h3>Task retrieval (retrieval, video)</h3>",
                "<h3>Task probe (linear_probe, imu)</h3>", "<td>train volunteers / held-out volunteers</td>",
                "<th>protocol: seeds</th><td>[1,2,3]</td>", "<td>macro_f1</td><td>0.8730</td>", "<td>data/m.jsonl</td><td>abc123</td>",
                "contrastive/video-text", "PCA of 6 embeddings of probe (dimension 3, 2 labels)",
                "embeddings/probe.csv: 1 unreadable row(s) left out, the first at line 8",
                "no embeddings file", "missing.csv")) {
            assertTrue(html.contains(section), section);
        }
        // Text is escaped (the label in the table and the confusion caption), and the page holds no script at all.
        assertFalse(html.toLowerCase().contains("<script"), "unescaped <script>");
        assertTrue(html.contains("<td>&lt;script&gt;alert(1)&lt;/script&gt;</td><td>1.0000</td>"));
        assertFalse(html.contains("http://") || html.contains("https://"), "nothing from the network");

        // Five valid PNGs: loss curves, the summary's recall bars, the task's recall bars, the confusion matrix, the PCA.
        List<String> alts = new ArrayList<>();
        List<int[]> sizes = new ArrayList<>();
        Matcher m = IMG.matcher(html);
        while (m.find()) {
            byte[] png = Base64.getDecoder().decode(m.group(2));
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
            assertTrue(img != null, "not an image: " + m.group(1));
            alts.add(m.group(1));
            sizes.add(new int[] {img.getWidth(), img.getHeight()});
        }
        assertEquals(5, alts.size(), alts.toString());
        assertTrue(alts.get(0).startsWith("Loss and its named terms over 4 logged steps"), alts.get(0));
        assertTrue(alts.get(3).startsWith("Confusion matrix of probe"), alts.get(3));
        assertTrue(alts.get(4).startsWith("PCA of 6 embeddings"), alts.get(4));
        assertEquals(List.of(940, 420), List.of(sizes.get(0)[0], sizes.get(0)[1]), "loss curves: Plots.WIDTH + LEGEND x HEIGHT");
        assertEquals(List.of(760, 420), List.of(sizes.get(2)[0], sizes.get(2)[1]), "recall bars");
        // 2 labels: side = max(420, min(900, 120 + 44 * 2)) = 420, width side + 140 = 560
        assertEquals(List.of(560, 420), List.of(sizes.get(3)[0], sizes.get(3)[1]), "confusion matrix");
        assertEquals(List.of(940, 420), List.of(sizes.get(4)[0], sizes.get(4)[1]), "PCA: WIDTH + LEGEND x HEIGHT");

        // --out and --log-y: the loss axis logarithmic; given --eval folders replace RUN/eval/*.
        Path out = dir.resolve("elsewhere/r.html");
        Object[] log = MainTest.cli(List.of("report", run.toString(), "--log-y", "--out", out.toString(), "--eval", dir.resolve("none").toString()));
        assertEquals(0, log[0], (String) log[2]);
        String logHtml = Files.readString(out);
        assertTrue(logHtml.contains("(log scale)") && logHtml.contains("none/results.json: left out"), logHtml);
        assertFalse(logHtml.contains("Evaluation: smoke"));

        // eval.report=false: pretrain leaves the report out.
        Object[] off = MainTest.cli(MainTest.tinyArgs(dir, "--set", "run.name=noreport", "--set", "eval.report=false", "--set", "train.steps=1",
                "--set", "eval.at_end=false"));
        assertEquals(0, off[0], (String) off[2]);
        assertFalse(Files.exists(dir.resolve("runs/noreport/report.html")));
        assertFalse(((String) off[1]).contains("report:"), (String) off[1]);
    }

    @Test
    void malformedResultsIsAOneLineErrorNamingTheFile(@TempDir Path dir) throws Exception {
        Path run = Files.createDirectories(dir.resolve("run"));           // no metrics, no summary: notes, not errors
        Path bad = Files.createDirectories(dir.resolve("bad"));
        Files.writeString(bad.resolve("results.json"), "{\"suite\": \"smoke\",\n \"tasks\": [ {\"name\": \"x\",} ]}");
        Object[] r = MainTest.cli(List.of("report", run.toString(), "--eval", bad.toString()));
        assertEquals(2, r[0]);
        String err = ((String) r[2]).strip();
        assertFalse(err.contains("\n"), err);
        assertTrue(err.startsWith("error: " + bad.resolve("results.json") + ": not valid JSON at line 2"), err);
        assertFalse(Files.exists(run.resolve("report.html")), "nothing written");

        // Valid JSON of the wrong shape names the key; a run folder with nothing in it still gets a page of notes.
        Files.writeString(bad.resolve("results.json"), "{\"tasks\": [{\"name\": \"x\", \"confusion\": {\"labels\": [\"a\", \"b\"], \"matrix\": [[1, 2], [3]]}}]}");
        Object[] shape = MainTest.cli(List.of("report", run.toString(), "--eval", bad.toString()));
        assertEquals(2, shape[0]);
        assertEquals("error: " + bad.resolve("results.json") + ": tasks[0].confusion.matrix[1] must hold 2 numbers",
                ((String) shape[2]).strip());
        Object[] empty = MainTest.cli(List.of("report", run.toString()));
        assertEquals(0, empty[0], (String) empty[2]);
        assertTrue(((String) empty[1]).contains("note: no " + run.resolve("metrics.jsonl") + ": no loss curves"), (String) empty[1]);
        assertTrue(((String) empty[1]).contains("(0 figures, "), (String) empty[1]);
    }
}
