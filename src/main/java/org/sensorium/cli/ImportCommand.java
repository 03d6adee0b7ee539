package org.sensorium.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.sensorium.data.importers.Dataset;
import org.sensorium.data.importers.Importer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** `sensorium data import NAME`: a manifest of a standard dataset with its official splits, and its class names. */
@Command(name = "import", mixinStandardHelpOptions = true,
        description = {"Write a manifest of a standard dataset whose media are already in a folder, with its official splits or folds,",
            "and its class names as an eval/labels file. NAME: kinetics, ucf101, hmdb51, esc50, webvid, howto100m, ego4d, charades,",
            "breakfast (formats: README, \"Importing datasets\"). A media file that is not there is listed and kept in the manifest",
            "(data validate names it too); exit 2 when no sample has a media file."})
final class ImportCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "NAME", description = "the dataset's format")
    String name;

    @Option(names = "--root", required = true, paramLabel = "DIR", description = "folder holding the media")
    Path root;

    @Option(names = "--annotations", required = true, paramLabel = "FILE_OR_DIR", description = "the dataset's annotation file or folder")
    Path annotations;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "manifest to write (uris relative to its folder)")
    Path out;

    @Option(names = "--labels-out", paramLabel = "FILE", description = "also write the class names here, eval/labels form (label | phrase)")
    Path labelsOut;

    @Option(names = {"--fold", "--test-fold"}, paramLabel = "N",
            description = "official split or fold: ucf101, hmdb51 1-3 (default 1); breakfast 1-4 (default 1); esc50: the test fold 1-5 (default 5)")
    Integer fold;

    @Option(names = "--split", defaultValue = "train",
            description = "split of samples the dataset gives none (webvid files not named by split, howto100m, ego4d); default ${DEFAULT-VALUE}")
    String split;

    @Option(names = "--fps", defaultValue = "15", description = "frame rate of frame-numbered segment files (breakfast); 0: seconds (default ${DEFAULT-VALUE})")
    double fps;

    @Option(names = "--with-audio", description = "each video file is also the sample's audio (only if every video has a sound track)")
    boolean withAudio;

    @Option(names = "--drop-missing", description = "leave out samples with a media file that is not there (they are still listed)")
    boolean dropMissing;

    @Option(names = "--debug", description = "print stack traces")
    boolean debug;

    @Override
    public Integer call() throws Exception {
        Dataset d = Dataset.of(name);
        Importer.Options options = new Importer.Options(root, annotations, fold, split, fps, withAudio, dropMissing);
        Importer.Result r = Importer.run(d, options, out);
        System.out.println(Importer.render(r));
        if (r.withMedia() == 0) {
            System.err.println("error: no " + d.key() + " sample has a media file under " + root + "; nothing written");
            return 2;
        }
        Importer.writeManifest(r, out);
        System.out.println("wrote " + r.lines().size() + " samples to " + out);
        if (labelsOut != null && r.classes().isEmpty()) {
            System.out.println(d.key() + " has no classes: no label file written");
        } else if (labelsOut != null) {
            Importer.writeLabels(r, labelsOut, annotations.getFileName().toString());
            System.out.println("wrote " + r.classes().size() + " classes to " + labelsOut);
        }
        return 0;
    }
}
