package org.sensorium.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.cli.Main;
import org.sensorium.config.Json;

/** `sensorium bench data` end to end (trains 30 steps on the sample set, so tagged slow). No timing is asserted. */
@Tag("slow")
class DataBenchSlowTest {

    @Test
    void benchDataPrintsEveryRowAndWritesJson(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("bench.json");
        String shared = Path.of(System.getProperty("sensorium.shared", "../shared")).resolve("data").toString();
        PrintStream stdout = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true));
        int code;
        try {
            code = Main.run("bench", "data", "--seconds", "1", "--shared", shared, "--out", json.toString());
        } finally {
            System.setOut(stdout);
        }
        String table = out.toString();
        assertEquals(0, code, table);
        for (String row : List.of("video box.mp4 vs ffmpeg ", "video box.mp4 rgb24 vs ffmpeg rgb24", "motion vectors vs plain decode",
                "keyframes + MVs vs 1000 frames/s", "log-mel real-time factor",
                "IMU windows real-time factor", "loader wait per training step", "loader from shards vs loose files")) {
            assertTrue(table.contains(row), table);
        }
        List<?> rows = (List<?>) Json.read(json).get("rows");
        assertEquals(8, rows.size());
        for (Object r : rows) {
            double ratio = ((Number) ((Map<?, ?>) r).get("ratio")).doubleValue();
            assertTrue(Double.isFinite(ratio) && ratio >= 0, r.toString());
        }
        assertTrue(Files.size(json) > 0);
    }
}
