package org.sensorium.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.sensorium.config.ConfigException;
import org.sensorium.config.Modality;
import org.sensorium.job.Embed;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** `sensorium embed`: a trained run's unit embeddings of files, texts or a manifest's samples, as JSONL or NPY. */
@Command(name = "embed", mixinStandardHelpOptions = true,
        description = "A run's unit embeddings of recordings (video, audio, subtitle .srt/.vtt, IMU files), literal texts or a"
                + " manifest's samples, one row per input and modality, decoded as the run's held-out evaluation decodes them."
                + " Writes JSONL ({\"id\", \"modality\", \"start\", \"embedding\"} a line) or, for --out *.npy, a float32 (N, E)"
                + " NumPy file with its row index BASE.ids.jsonl. A broken input is skipped and named (--strict: an error).")
final class EmbedCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, description = "a run folder (its newest checkpoint) or a checkpoint folder")
    Path checkpoint;

    @Parameters(paramLabel = "FILE", arity = "0..*", description = "recordings to embed: video, audio, subtitles (.srt, .vtt), IMU"
            + " (.csv, HMP .txt, GoPro .raw/.bin/.gpmf)")
    List<Path> files = new ArrayList<>();

    @Option(names = "--text", paramLabel = "TEXT", description = "a literal text to embed with the run's text tower (repeatable)")
    List<String> texts = new ArrayList<>();

    @Option(names = "--manifest", paramLabel = "M.jsonl", description = "embed the samples of this manifest")
    Path manifest;

    @Option(names = "--split", description = "with --manifest: only this split (train, val, test; held-out = every split but train)")
    String split;

    @Option(names = "--modality", split = ",", paramLabel = "M", description = "modalities to embed, comma-separated"
            + " (default: every modality the run trained that the input has)")
    List<String> modalities = new ArrayList<>();

    @Option(names = "--clips", paramLabel = "N|all", description = "N: N evenly spaced clips averaged into one row, 1 = the centred"
            + " clip (default: the run's eval.clips, as its held-out table); all: every clip tiling the recording, a row each with its start")
    String clips;

    @Option(names = "--out", paramLabel = "FILE", description = "*.npy: NumPy float32 (N, E) + BASE.ids.jsonl; '-': JSONL on"
            + " standard output; else JSONL (default: RUN/embeddings/step-N-<time>.jsonl)")
    Path out;

    @CommandLine.Mixin
    Main.Overrides overrides = new Main.Overrides(); // --set applies to the run's config

    @Override
    public Integer call() throws Exception {
        List<Modality> ms = new ArrayList<>();
        for (String m : modalities) {
            try {
                ms.add(Modality.parse(m));
            } catch (IllegalArgumentException e) {
                throw new ConfigException("--modality", e.getMessage());
            }
        }
        Embed.Result r = Embed.run(new Embed.Options(checkpoint, files, texts, manifest, split, ms, clips, out, overrides.allSets()));
        print(r, r.out() == null ? System.err : System.out); // JSONL on standard output keeps it to itself
        return 0;
    }

    private static void print(Embed.Result r, PrintStream s) {
        String rows = r.rows().entrySet().stream().map(e -> e.getKey().key() + " " + e.getValue()).collect(Collectors.joining(", "));
        s.printf("embedded %d of %d inputs (%s clips) with %s (step %d): %s%n", r.embedded(), r.inputs(), r.clips(), r.checkpoint(),
                r.step(), rows);
        s.printf("%.2f s decoding, encoding and writing: %.1f inputs/s%n", r.seconds(), r.samplesPerSecond());
        if (r.lacking() > 0) {
            s.printf("%d manifest samples have none of the modalities asked for%n", r.lacking());
        }
        if (!r.skipped().isEmpty()) {
            s.printf("skipped %d input%s:%n", r.skipped().size(), r.skipped().size() == 1 ? "" : "s");
            for (Map.Entry<String, String> e : r.skipped().entrySet()) {
                s.println("  " + e.getValue());
            }
        }
        if (r.out() != null) {
            s.println("wrote " + r.out() + (r.index() == null ? "" : " (row index " + r.index() + ")"));
        }
    }
}
