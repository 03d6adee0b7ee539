package org.sensorium.cli;

import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigLoader;
import org.sensorium.data.Manifest;
import org.sensorium.data.ManifestEntry;
import org.sensorium.data.Validator;
import org.sensorium.modality.Adapters;
import org.sensorium.modality.Modality;
import org.sensorium.modality.ModalityAdapter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** `sensorium data validate`. */
final class DataCommands {
    private DataCommands() {}

    @Command(name = "validate", mixinStandardHelpOptions = true,
            description = "Decode every modality of every manifest line (centred evaluation clip); exit 0 if all decode, 1 if some fail.")
    static final class ValidateCmd implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "MANIFEST", description = "JSONL manifest")
        Path manifest;

        @picocli.CommandLine.Mixin
        Main.Common common = new Main.Common();

        @Override
        public Integer call() throws Exception {
            List<ManifestEntry> entries = Manifest.read(manifest);
            Config cfg = ConfigLoader.load(common.config, common.allSets()).config();
            Map<Modality, ModalityAdapter> adapters = new EnumMap<>(Modality.class);
            try {
                for (Modality m : Modality.values()) {
                    adapters.put(m, Adapters.create(m, cfg.modalities(), cfg.data().clipSeconds()));
                }
                Validator.Report r = new Validator(adapters, cfg.data().clipSeconds(), cfg.run().seed())
                        .run(entries, cfg.data().loaderThreads(), common.strict);
                System.out.println(manifest.getFileName() + ": " + entries.size() + " lines");
                System.out.println(Validator.render(r, cfg.data().clipSeconds()));
                return r.ok() ? 0 : 1;
            } finally {
                adapters.values().forEach(ModalityAdapter::close);
            }
        }
    }
}
