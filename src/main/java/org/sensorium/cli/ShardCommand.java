package org.sensorium.cli;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.sensorium.config.ConfigException;
import org.sensorium.data.ShardWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** `sensorium data shard`: a manifest's samples packed into WebDataset tar shards with an index. */
@Command(name = "shard", mixinStandardHelpOptions = true,
        description = {"Pack a manifest's samples into tar shards (WebDataset layout: KEY.video.mp4, KEY.imu.csv, ..., KEY.json)",
            "and DIR/index.json; train with --set data.manifest=DIR/index.json. Samples with a missing or empty file are listed and left out."})
final class ShardCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MANIFEST", description = "JSONL manifest")
    Path manifest;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "folder of the shards and index.json (created; must hold no index.json)")
    Path out;

    @Option(names = "--shard-size", defaultValue = "1GB", paramLabel = "SIZE",
            description = "most bytes per shard: 1GB, 500MB, 64MiB, ... (default ${DEFAULT-VALUE})")
    String shardSize;

    @Override
    public Integer call() throws Exception {
        long bytes;
        try {
            bytes = ShardWriter.parseSize(shardSize);
        } catch (NumberFormatException e) {
            throw new ConfigException("--shard-size", "'" + shardSize + "' is not a size (1GB, 500MB, 64MiB or bytes)");
        }
        if (bytes < 1024) {
            throw new ConfigException("--shard-size", shardSize + " is below 1 KiB");
        }
        ShardWriter.Result r = ShardWriter.write(manifest, out, bytes);
        r.skipped().forEach(line -> System.out.println("skipped " + line));
        if (r.samples() == 0) {
            System.out.println("no sample of " + manifest + " could be packed; nothing written");
            return 1;
        }
        System.out.printf(Locale.ROOT, "%d samples in %d shards (%.1f MB) in %s; %d skipped; index: %s%n", r.samples(), r.shards(),
                r.bytes() / 1e6, out, r.skipped().size(), out.resolve("index.json"));
        return 0;
    }
}
