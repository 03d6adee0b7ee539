package org.sensorium.job;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.sensorium.config.Config;
import org.sensorium.config.Objectives;
import org.sensorium.data.Manifest;
import org.sensorium.data.ManifestEntry;
import org.sensorium.train.Checkpoint;

/**
 * README.md of an export, its model card: what the model was trained on (manifest, samples), for how long, the
 * model in a few lines, and the run's held-out table from RUN/summary.json. No absolute paths: runs and
 * checkpoints are named by their folder names.
 */
final class ExportCard {
    private ExportCard() {}

    /** The facts the card states. */
    record Facts(Config cfg, ExportConfig exported, Checkpoint.State state, Path checkpoint, int tensors, long parameters,
            List<String> files, ExportSamples.Written samples) {}

    static String render(Facts f) {
        Config cfg = f.cfg();
        ExportConfig x = f.exported();
        StringBuilder sb = new StringBuilder();
        sb.append("# Sensorium model: ").append(x.origin().run()).append(", step ").append(x.origin().step()).append("\n\n");
        sb.append("Exported by `sensorium export` from checkpoint `").append(x.origin().checkpoint()).append("` of run `")
                .append(x.origin().run()).append("`. Weights: `model.safetensors` (").append(f.tensors()).append(" tensors, ")
                .append(String.format(Locale.ROOT, "%,d", f.parameters())).append(" parameters, float32, PyTorch module names);"
                        + " how to rebuild the forward pass: `config.json`; the run's own config: `sensorium-config.yaml`.\n\n");
        sb.append("## Trained on\n\n");
        sb.append("- data: ").append(data(cfg.data(), f.state())).append('\n');
        sb.append("- modalities: ").append(String.join(", ", x.modalities())).append("; clips of ")
                .append(cfg.data().clipSeconds()).append(" s\n");
        sb.append("- steps: ").append(f.state().step()).append(" of batch ").append(cfg.train().batchSize())
                .append(" (").append(f.state().worldSize()).append(f.state().worldSize() == 1 ? " worker" : " workers")
                .append("), lr ").append(cfg.train().lr()).append(", seed ").append(cfg.run().seed()).append('\n');
        sb.append("- objectives: ").append(objectives(cfg.objectives())).append("\n\n");
        sb.append("## Model\n\n");
        ExportConfig.Trunk t = x.trunk();
        sb.append(String.format(Locale.ROOT, "Shared pre-norm trunk: width %d, depth %d, %d heads, MLP ratio %d; %s pooling;"
                + " embedding size %d; logit scale %.4g (max %.4g).%n%n", t.width(), t.depth(), t.heads(), t.mlpRatio(),
                x.pool(), x.embedDim(), x.logitScale().value(), x.logitScale().max()));
        sb.append("| modality | stem | input per sample | tokens |\n|---|---|---|---|\n");
        x.stems().forEach((m, s) -> sb.append("| ").append(m).append(" | ").append(s.summary()).append(" | ")
                .append(java.util.Arrays.toString(s.inputShape())).append(" | ").append(s.tokens()).append(" |\n"));
        if (x.textTower() != null && x.textTower().kind().equals("pretrained")) {
            ExportConfig.TextTower tt = x.textTower();
            sb.append("| text | frozen pretrained tower `").append(tt.model().name()).append("` (ONNX, outside this export), ")
                    .append(tt.pooling()).append(" pooling, projection ").append(tt.projection()).append(" | ")
                    .append(tt.input().replace('_', ' ')).append(" | - |\n");
        }
        sb.append('\n');
        sb.append("## Held-out table of the run\n\n").append(heldOut(f.checkpoint())).append('\n');
        if (f.samples() != null) {
            List<String> rows = new ArrayList<>();
            f.samples().rows().forEach((m, n) -> rows.add(n + " " + m.key()));
            sb.append("## Samples\n\n`samples.safetensors`: the preprocessed inputs of ").append(String.join(", ", rows))
                    .append(" samples and Sensorium's embeddings of them, to check a port of the model against")
                    .append(f.samples().skipped().isEmpty() ? "" : " (" + f.samples().skipped().size() + " skipped: "
                            + String.join("; ", f.samples().skipped().values()) + ")").append(".\n\n");
        }
        sb.append("## Files\n\n");
        f.files().forEach(name -> sb.append("- `").append(name).append("`\n"));
        sb.append("\nIn PyTorch (plain torch, no other package): `python3 interop/sensorium_torch.py golden --export DIR"
                + " --inputs DIR/samples.safetensors --out golden.safetensors` from a Sensorium checkout, or"
                + " `sensorium_torch.load(DIR)`; see interop/README.md there.\n");
        return sb.toString();
    }

    /** The manifest, its sample counts, and whether it still is what the run trained on. */
    private static String data(Config.Data d, Checkpoint.State s) {
        String hash = s.manifestSha256() == null ? "" : ", sha256 " + s.manifestSha256().substring(0, Math.min(16, s.manifestSha256().length())) + "...";
        if (d.manifest().isBlank()) {
            String set = d.synthLong() > 0
                    ? d.synthLong() + " long recordings of " + d.synthSegments() + " motions"
                    : d.synthSamples() + " samples (every 5th held out)" + (d.synthScenes() > 0 ? " over " + d.synthScenes() + " static scenes" : "");
            return "the built-in sample set: " + set + ", generator seed " + d.synthSeed() + hash;
        }
        Path p = Path.of(d.manifest());
        String name = "`" + p.getFileName() + "`";
        if (!Files.isRegularFile(p)) {
            return "manifest " + name + " (no longer where the run read it)" + hash;
        }
        List<ManifestEntry> all;
        try {
            all = Manifest.read(p);
        } catch (RuntimeException e) {
            return "manifest " + name + " (unreadable now: " + e.getMessage() + ")" + hash;
        }
        long train = all.stream().filter(e -> e.split().equals("train")).count();
        String now = Manifest.sha256(p);
        String changed = s.manifestSha256() != null && !now.equals(s.manifestSha256()) ? "; the file has changed since" : "";
        return "manifest " + name + ": " + all.size() + " samples (" + train + " train, " + (all.size() - train) + " held out)" + hash + changed;
    }

    private static String objectives(Objectives o) {
        List<String> on = new ArrayList<>();
        for (Objectives.Settings s : o.all()) {
            if (s.weight() > 0) {
                String name = s.getClass().getSimpleName().replaceAll("([a-z])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
                on.add(name + " (weight " + s.weight() + ")");
            }
        }
        return on.isEmpty() ? "none" : String.join(", ", on);
    }

    /** RUN/summary.json's held-out retrieval and k-means tables, or why there are none. */
    private static String heldOut(Path checkpoint) {
        Path file = TrainedRun.runDir(checkpoint).resolve("summary.json");
        if (!Files.isRegularFile(file)) {
            return "No summary.json in the run folder (the run has not finished): no held-out table.\n";
        }
        JsonNode s;
        try {
            s = ExportConfig.JSON.readTree(file.toFile());
        } catch (IOException e) {
            return "summary.json is unreadable: " + e.getMessage().lines().findFirst().orElse("") + "\n";
        }
        StringBuilder sb = new StringBuilder();
        String at = Path.of(s.path("checkpoint").asText("")).getFileName() + "";
        sb.append("From the run's summary.json (measured at the end of the run, checkpoint `").append(at).append('`')
                .append(at.equals(checkpoint.getFileName().toString()) ? ", the one exported" : ", not the one exported").append(").\n\n");
        JsonNode r = s.path("retrieval");
        if (r.isObject() && r.size() > 0) {
            sb.append("| direction | n | R@1 | R@5 | R@10 | chance R@1 |\n|---|---|---|---|---|---|\n");
            r.fields().forEachRemaining(e -> sb.append(String.format(Locale.ROOT, "| %s | %d | %.3f | %.3f | %.3f | %.4f |%n",
                    e.getKey(), e.getValue().path("n").asInt(), e.getValue().path("R@1").asDouble(), e.getValue().path("R@5").asDouble(),
                    e.getValue().path("R@10").asDouble(), e.getValue().path("chance_R@1").asDouble())));
            sb.append('\n');
        } else {
            sb.append("No held-out retrieval in summary.json.\n\n");
        }
        JsonNode c = s.path("held_out_clusters");
        if (c.isObject() && c.size() > 0) {
            sb.append("Held-out k-means (k = number of classes) against the labels:\n\n| modality | n | k | NMI | chance NMI |\n|---|---|---|---|---|\n");
            c.fields().forEachRemaining(e -> sb.append(String.format(Locale.ROOT, "| %s | %d | %d | %.3f | %.3f |%n", e.getKey(),
                    e.getValue().path("n").asInt(), e.getValue().path("clusters").asInt(), e.getValue().path("nmi").asDouble(),
                    e.getValue().path("chance_nmi").asDouble())));
        }
        return sb.toString();
    }
}
