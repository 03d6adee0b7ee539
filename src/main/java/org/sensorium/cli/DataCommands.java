package org.sensorium.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.sensorium.bench.BenchTable;
import org.sensorium.bench.DataBench;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.config.ConfigLoader;
import org.sensorium.modality.Clip;
import org.sensorium.data.FolderManifest;
import org.sensorium.data.Inspector;
import org.sensorium.data.Loader;
import org.sensorium.data.Manifest;
import org.sensorium.data.ManifestEntry;
import org.sensorium.data.ManifestException;
import org.sensorium.data.Validator;
import org.sensorium.modality.Adapters;
import org.sensorium.config.Modality;
import org.sensorium.modality.ModalityAdapter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** `sensorium data validate`, `data from-folder`, `data inspect` and `sensorium bench data`. */
final class DataCommands {
    private DataCommands() {}

    @Command(name = "from-folder", mixinStandardHelpOptions = true,
            description = {"Build a JSONL manifest from a folder of recordings (video + .srt/.vtt, audio + transcript, IMU).",
                "Files sharing a folder and base name make one sample; files that cannot be used are listed with the reason."})
    static final class FromFolderCmd implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "DIR", description = "folder of recordings (scanned recursively)")
        Path dir;

        @Option(names = "--out", paramLabel = "FILE",
                description = "manifest to write (uris relative to its folder); default: standard output, uris relative to the current folder")
        Path out;

        @Option(names = "--split", defaultValue = "train", description = "split of every sample: train, val or test (default ${DEFAULT-VALUE})")
        String split;

        @Option(names = "--labels-from-folders", description = "label = name of the file's folder (like torchvision's ImageFolder)")
        boolean labelsFromFolders;

        @Option(names = "--captions-from-names", description = "a recording without a transcript gets its base name as caption (Front_Center -> \"Front Center\")")
        boolean captionsFromNames;

        @Option(names = "--test-subjects", split = ",", paramLabel = "S1,S2",
                description = "samples of these subjects (HMP: the volunteer in the file name) go to the test split")
        List<String> testSubjects = new ArrayList<>();

        @Option(names = "--train-fraction", defaultValue = "0", paramLabel = "F",
                description = "stratified split: per label, round(F x n) samples drawn with --split-seed go to train, the rest to --split (default 0: off)")
        double trainFraction;

        @Option(names = "--split-seed", defaultValue = "1", description = "seed of the --train-fraction draw (default ${DEFAULT-VALUE})")
        long splitSeed;

        @Option(names = "--debug", description = "print stack traces")
        boolean debug;

        @Override
        public Integer call() throws Exception {
            FolderManifest.Options options = new FolderManifest.Options(split, labelsFromFolders, captionsFromNames,
                    java.util.Set.copyOf(testSubjects), trainFraction, splitSeed);
            Path manifestDir = out == null ? Path.of("") : out.toAbsolutePath().getParent();
            FolderManifest.Result r = FolderManifest.scan(dir, manifestDir, out, options);
            java.io.PrintStream report = out == null ? System.err : System.out;
            if (r.lines().isEmpty()) {
                report.println(FolderManifest.render(r));
                report.println("no usable recording in " + dir + "; nothing written");
                return 1;
            }
            if (out == null) {
                r.lines().forEach(System.out::println);
            } else {
                write(out, r.lines());
                Manifest.read(out); // what we wrote must load
                report.println("wrote " + r.lines().size() + " samples to " + out);
            }
            report.println(FolderManifest.render(r));
            return 0;
        }

        /** Writes under a temporary name in the same folder, then renames, so a reader never sees half a manifest. */
        private static void write(Path file, List<String> lines) throws java.io.IOException {
            Path parent = file.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            Path tmp = parent.resolve("." + file.getFileName() + ".tmp"); // mode from the umask (createTempFile: 0600)
            try {
                Files.write(tmp, lines);
                Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
        }
    }

    @Command(name = "validate", mixinStandardHelpOptions = true,
            description = "Decode every modality of every manifest line (centred evaluation clip); exit 0 if all decode, 1 if some fail.")
    static final class ValidateCmd implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "MANIFEST", description = "JSONL manifest")
        Path manifest;

        @CommandLine.Mixin
        Main.Common common = new Main.Common();

        @Override
        public Integer call() throws Exception {
            List<ManifestEntry> entries = Manifest.read(manifest);
            Config cfg = ConfigLoader.load(common.config, common.allSets()).config();
            Map<Modality, ModalityAdapter> adapters = new EnumMap<>(Modality.class);
            try {
                for (Modality m : cfg.activeModalities()) { // data.modalities only: motion is decoded when it is listed
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

    @Command(name = "inspect", mixinStandardHelpOptions = true,
            description = {"Run the adapters of the resolved config on one sample's evaluation clip: print each modality's",
                "input shape and statistics, the text and its tokens, and write one PNG (video frames, log-mel, IMU channels)."})
    static final class InspectCmd implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "MANIFEST", description = "JSONL manifest")
        Path manifest;

        @Option(names = "--id", required = true, description = "the sample's id")
        String id;

        @Option(names = "--out", paramLabel = "DIR", defaultValue = ".", description = "folder of the PNG <id>.png (default: the current folder)")
        Path out;

        @Option(names = "--config", description = "experiment file overriding configs/defaults.yaml")
        Path config;

        @Option(names = "--set", description = "override one key, e.g. --set modalities.imu.channels=[ax,ay,az] (repeatable)")
        List<String> sets = new ArrayList<>();

        @Option(names = "--debug", description = "print stack traces")
        boolean debug;

        @Override
        public Integer call() throws Exception {
            List<ManifestEntry> entries = Manifest.read(manifest);
            int index = -1;
            for (int i = 0; i < entries.size() && index < 0; i++) {
                index = entries.get(i).id().equals(id) ? i : -1;
            }
            if (index < 0) {
                throw new ManifestException(manifest + ": no sample with id '" + id + "' (" + entries.size() + " samples)");
            }
            ManifestEntry e = entries.get(index);
            Config cfg = ConfigLoader.load(config, sets).config();
            double seconds = cfg.data().clipSeconds();
            Clip clip = Loader.clip(e, Loader.mix(cfg.run().seed(), -1, index), false, seconds); // as validate and evaluation cut it
            Map<Modality, ModalityAdapter> adapters = new EnumMap<>(Modality.class);
            try {
                for (Modality m : cfg.activeModalities()) {
                    if (e.has(m)) {
                        adapters.put(m, Adapters.create(m, cfg.modalities(), seconds));
                    }
                }
                Inspector.Report r = Inspector.run(e, clip, adapters);
                System.out.println(Inspector.render(r, cfg.modalities()));
                for (Modality m : Modality.values()) {
                    if (e.has(m) && !adapters.containsKey(m)) {
                        System.out.println(m.key() + ": not inspected (not in data.modalities " + cfg.data().modalities() + ")");
                    }
                }
                Path png = out.resolve(e.id().replaceAll("[^A-Za-z0-9._-]", "_") + ".png");
                Files.createDirectories(out);
                java.awt.image.BufferedImage img = Inspector.picture(r, cfg.modalities());
                javax.imageio.ImageIO.write(img, "png", png.toFile());
                System.out.println("wrote " + png + " (" + img.getWidth() + " x " + img.getHeight() + ")");
                return r.ok() ? 0 : 1;
            } finally {
                adapters.values().forEach(ModalityAdapter::close);
            }
        }
    }

    @Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks (ratios measured in one run).",
            subcommands = {BenchDataCmd.class, DistCommands.BenchAllReduceCmd.class, BenchTrainCommand.class})
    static final class BenchCmd implements Callable<Integer> {
        @Override
        public Integer call() {
            CommandLine.usage(this, System.out);
            return 0;
        }
    }

    @Command(name = "data", mixinStandardHelpOptions = true,
            description = {"Video decode vs the FFmpeg command line, log-mel and IMU vs real time, loader wait per training step,",
                "the loader from shards vs loose files (the sample set packed into shards in the run)."})
    static final class BenchDataCmd implements Callable<Integer> {
        @Option(names = "--seconds", defaultValue = "3", description = "minimum measuring time of each timed loop (default ${DEFAULT-VALUE})")
        double seconds;

        @Option(names = "--shared", defaultValue = "../shared/data", description = "the shared fixtures folder (default ${DEFAULT-VALUE})")
        Path shared;

        @Option(names = "--out", description = "also write the table as JSON to this file")
        Path out;

        @Option(names = "--set", description = "override one config key for every benchmark (repeatable)")
        List<String> sets = new ArrayList<>();

        @Option(names = "--only", paramLabel = "loader", description = "run only the loader benchmark: shards vs loose files")
        String only;

        @Option(names = "--stream", paramLabel = "INDEX",
                description = "instead: stream this shard index once through the loader and report resident memory (RSS) per shard")
        Path stream;

        @Option(names = "--debug", description = "print stack traces")
        boolean debug;

        @Override
        public Integer call() throws Exception {
            if (only != null && !only.equals("loader")) {
                throw new ConfigException("--only", "'" + only + "': the only one is 'loader'");
            }
            if (!(seconds > 0)) {
                throw new ConfigException("--seconds", seconds + " must be > 0");
            }
            if (!Files.isDirectory(shared)) {
                throw new ConfigException("--shared", shared + ": no such folder");
            }
            Path work = Files.createTempDirectory("sensorium-bench");
            try {
                DataBench bench = new DataBench(shared, seconds, work);
                List<BenchTable.Row> rows = stream != null ? bench.runStream(sets, stream)
                        : only != null ? bench.runLoader(sets) : bench.run(sets);
                System.out.println(BenchTable.format(rows));
                if (out != null) {
                    Files.writeString(out, BenchTable.json(rows));
                }
                return 0;
            } finally {
                deleteTree(work);
            }
        }

        private static void deleteTree(Path dir) throws java.io.IOException {
            try (java.util.stream.Stream<Path> all = Files.walk(dir)) {
                for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }
}
