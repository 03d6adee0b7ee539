package org.sensorium.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.sensorium.job.Export;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `sensorium export`: a checkpoint's encoder as safetensors + config.json + model card (job/Export). */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Write a checkpoint's encoder for use outside Sensorium: DIR/model.safetensors (PyTorch module names),",
            "DIR/config.json (everything that rebuilds the forward pass; interop/sensorium_torch.py reads it), DIR/README.md",
            "(model card: data, steps, held-out table), the run's config and the scratch text tower's tokenizer.json."})
final class ExportCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, description = "a run folder (its newest checkpoint) or a checkpoint folder")
    Path checkpoint;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "the export folder (must not exist, or be empty)")
    Path out;

    @Option(names = "--force", description = "replace DIR when it holds an earlier export")
    boolean force;

    @Option(names = "--samples", paramLabel = "MANIFEST", description = "also write DIR/samples.safetensors: the preprocessed"
            + " inputs of this manifest's samples (centred clips) and Sensorium's embeddings of them, to check a port against")
    Path samples;

    @CommandLine.Mixin
    Main.Overrides overrides = new Main.Overrides(); // --set applies to the run's config

    @Override
    public Integer call() throws Exception {
        Export.Result r = Export.run(new Export.Options(checkpoint, out, force, samples, overrides.allSets()));
        System.out.printf("exported %s (step %d): %d tensors, %,d parameters%n", r.checkpoint(), r.step(), r.tensors(), r.parameters());
        if (!r.samples().isEmpty()) {
            List<String> rows = new ArrayList<>();
            r.samples().forEach((m, n) -> rows.add(n + " " + m.key()));
            System.out.println("samples.safetensors: " + String.join(", ", rows) + " samples"
                    + (r.skipped().isEmpty() ? "" : "; skipped: " + r.skipped()));
        }
        System.out.println("wrote " + r.dir() + ": " + String.join(", ", r.files()));
        return 0;
    }
}
