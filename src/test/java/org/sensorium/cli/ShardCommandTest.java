package org.sensorium.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `sensorium data shard`: exit codes, the skipped lines, nothing packed is not a success. */
class ShardCommandTest {

    private static String run(int expected, String... args) {
        PrintStream stdout = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true));
        try {
            assertEquals(expected, Main.run(args), out.toString());
        } finally {
            System.setOut(stdout);
        }
        return out.toString();
    }

    @Test
    void packsListsSkipsAndRefusesNothing(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("a.csv"), "t,ax\n0,1\n");
        Files.writeString(dir.resolve("m.jsonl"), """
                {"id": "a", "split": "train", "imu": {"uri": "a.csv"}}
                {"id": "b", "split": "train", "imu": {"uri": "b.csv"}}
                """);
        String out = run(0, "data", "shard", dir.resolve("m.jsonl").toString(), "--out", dir.resolve("s").toString(), "--shard-size", "1MB");
        assertTrue(out.contains("skipped m.jsonl:2 (id=b): ") && out.contains("b.csv: no such file"), out);
        assertTrue(out.contains("1 samples in 1 shards"), out);
        assertTrue(Files.isRegularFile(dir.resolve("s/shard-000000.tar")));

        Files.writeString(dir.resolve("n.jsonl"), "{\"id\": \"b\", \"split\": \"train\", \"imu\": {\"uri\": \"b.csv\"}}\n");
        out = run(1, "data", "shard", dir.resolve("n.jsonl").toString(), "--out", dir.resolve("t").toString());
        assertTrue(out.contains("nothing written"), out);
        run(2, "data", "shard", dir.resolve("m.jsonl").toString(), "--out", dir.resolve("u").toString(), "--shard-size", "lots");
        run(2, "data", "shard", dir.resolve("m.jsonl").toString(), "--out", dir.resolve("s").toString()); // already has an index
    }
}
