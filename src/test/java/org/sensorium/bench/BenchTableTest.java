package org.sensorium.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.sensorium.config.Json;

/** The pure parts of `bench data`: the loader-wait ratio, targets, the table and its JSON, tiling. */
class BenchTableTest {

    @Test
    void waitFractionSkipsWarmUpSteps() {
        List<String> lines = List.of(
                "{\"step\":1,\"step_s\":10.0,\"data_wait_s\":9.0}",
                "{\"step\":2,\"step_s\":1.0,\"data_wait_s\":0.1}",
                "{\"step\":3,\"step_s\":3.0,\"data_wait_s\":0.3}",
                "");
        assertEquals(0.1, BenchTable.waitFraction(lines, 1), 1e-12);
        assertEquals(9.4 / 14.0, BenchTable.waitFraction(lines, 0), 1e-12);
    }

    @Test
    void waitFractionNamesTheBadLine() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BenchTable.waitFraction(List.of("{\"step_s\":1.0,\"data_wait_s\":0.1}", "{\"step_s\":1.0}"), 0));
        assertEquals("metrics.jsonl:2: no data_wait_s or step_s", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BenchTable.waitFraction(List.of("{\"step_s\":1.0,\"data_wait_s\":0}"), 5));
    }

    @Test
    void targetsAreMinimaOrMaxima() {
        assertTrue(new BenchTable.Row("a", 0.8, false, 0.8, false, "").meets());
        assertFalse(new BenchTable.Row("a", 0.79, false, 0.8, false, "").meets());
        assertTrue(new BenchTable.Row("w", 0.05, true, 0.10, true, "").meets());
        assertFalse(new BenchTable.Row("w", 0.10, true, 0.10, true, "").meets());
        assertTrue(new BenchTable.Row("n", 3, false, Double.NaN, false, "").meets());
    }

    @Test
    void tableShowsRatiosTargetsAndDetails() throws Exception {
        List<BenchTable.Row> rows = List.of(
                new BenchTable.Row("video", 0.5, false, 0.8, false, "ours 50 frames/s, ffmpeg 100 frames/s"),
                new BenchTable.Row("log-mel", 2645.4, false, 1000, false, "60 s"),
                new BenchTable.Row("imu", 21.651, false, Double.NaN, false, "10 calls/s"),
                new BenchTable.Row("wait", 0.0123, true, 0.10, true, "sum"));
        String[] lines = BenchTable.format(rows).split("\n");
        assertEquals(5, lines.length);
        assertTrue(lines[0].startsWith("benchmark"));
        assertTrue(lines[1].matches("video\\s+0\\.50x\\s+>= 0\\.80x\\s+NO\\s+ours 50 frames/s, ffmpeg 100 frames/s"), lines[1]);
        assertTrue(lines[2].matches("log-mel\\s+2645x\\s+>= 1000x\\s+yes\\s+60 s"), lines[2]);
        assertTrue(lines[3].matches("imu\\s+21\\.65x\\s+-\\s+-\\s+10 calls/s"), lines[3]);
        assertTrue(lines[4].matches("wait\\s+1\\.2%\\s+< 10\\.0%\\s+yes\\s+sum"), lines[4]);

        Map<?, ?> json = Json.MAPPER.readValue(BenchTable.json(rows), Map.class);
        List<?> out = (List<?>) json.get("rows");
        assertEquals(4, out.size());
        Map<?, ?> first = (Map<?, ?>) out.get(0);
        assertEquals("video", first.get("name"));
        assertEquals(0.5, first.get("ratio"));
        assertEquals(false, first.get("meets_target"));
        assertEquals(null, ((Map<?, ?>) out.get(2)).get("target"));
    }

    @Test
    void tileRepeatsTheWave() {
        assertArrayEquals(new float[] {1, 2, 3, 1, 2, 3, 1}, DataBench.tile(new float[] {1, 2, 3}, 7));
        assertThrows(IllegalArgumentException.class, () -> DataBench.tile(new float[0], 3));
    }
}
