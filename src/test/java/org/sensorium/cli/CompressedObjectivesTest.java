package org.sensorium.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.config.Json;

/**
 * `sensorium pretrain` with each compressed-video objective alone (contrastive off) on tiny settings. The
 * sample set's recordings last 2 s, so clips of 1 s leave room for a 0.5 s future in about half the draws.
 */
class CompressedObjectivesTest {

    private static List<String> args(Path dir, String... more) {
        List<String> a = MainTest.tinyArgs(dir, "--set", "data.modalities=[video]", "--set", "data.clip_seconds=1.0",
                "--set", "objectives.contrastive.weight=0");
        a.addAll(List.of(more));
        return a;
    }

    private static List<Map<?, ?>> metrics(Path dir) throws Exception {
        List<Map<?, ?>> out = new java.util.ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve("runs/e2e/metrics.jsonl"))) {
            out.add(Json.MAPPER.readValue(line, Map.class));
        }
        return out;
    }

    @Test
    void keyframeContextAloneTrainsLogsItsTermAndReportsKeyframeRetrieval(@TempDir Path dir) throws Exception {
        Object[] r = MainTest.cli(args(dir, "--set", "objectives.keyframe_context.weight=1"));
        assertEquals(0, r[0], (String) r[2]);
        assertTrue(((String) r[1]).contains("keyframe_context/R@1"), (String) r[1]); // its own held-out measure, printed
        List<Map<?, ?>> lines = metrics(dir);
        assertEquals(4, lines.size());
        for (Map<?, ?> line : lines) {
            double loss = ((Number) line.get("keyframe_context")).doubleValue();
            assertTrue(loss > 0 && Double.isFinite(loss) && loss == ((Number) line.get("loss")).doubleValue(), line.toString());
            assertEquals(1.0, ((Number) line.get("keyframe_context/with_keyframe")).doubleValue(), line.toString()); // every GOP starts with one
            assertTrue(line.containsKey("keyframe_context/r1"), line.toString());
            assertTrue(!line.containsKey("contrastive/video-text"), line.toString());
        }
        Map<?, ?> heldOut = (Map<?, ?>) Json.read(dir.resolve("runs/e2e/summary.json")).get("held_out");
        assertEquals(8, ((Number) ((Map<?, ?>) heldOut.get("keyframe_context/n")).get("end")).intValue()); // 40 samples, every 5th held out
    }

    @Test
    void motionPredictionAloneTrainsLogsItsTermsAndReportsTheHeldOutError(@TempDir Path dir) throws Exception {
        // from the clip's motion field (the default source); a 0.5 s horizon, so some 1 s clips of 2 s have no future
        Object[] r = MainTest.cli(args(dir, "--set", "data.modalities=[video, motion]", "--set", "objectives.motion_prediction.weight=1",
                "--set", "objectives.motion_prediction.horizon_seconds=0.5"));
        assertEquals(0, r[0], (String) r[2]);
        assertTrue(((String) r[1]).contains("motion_prediction/mse"), (String) r[1]);
        int withTerm = 0;
        for (Map<?, ?> line : metrics(dir)) {
            double share = ((Number) line.get("motion_prediction/with_target")).doubleValue();
            assertTrue(share > 0 && share < 1, "some clips of 1 s in 2 s recordings have no 0.5 s after them: " + line);
            if (line.containsKey("motion_prediction")) {
                withTerm++;
                double loss = ((Number) line.get("motion_prediction")).doubleValue();
                assertTrue(Double.isFinite(loss) && loss > 0, line.toString());
                assertTrue(line.containsKey("motion_prediction/zero_field_mse"), line.toString());
                double measured = ((Number) line.get("motion_prediction/measured")).doubleValue(); // key frames are not
                assertTrue(measured > 0 && measured <= 1, line.toString());
            }
        }
        assertEquals(4, withTerm);
        Map<?, ?> heldOut = (Map<?, ?>) Json.read(dir.resolve("runs/e2e/summary.json")).get("held_out");
        // held-out clips are centred: [0.5, 1.5] s, so every one has the future [1.5, 2.0]
        assertEquals(8, end(heldOut, "motion_prediction/n").intValue());
        assertTrue(end(heldOut, "motion_prediction/mse").doubleValue() > 0, heldOut.toString());
        assertTrue(end(heldOut, "motion_prediction/mean_field_mse").doubleValue()
                <= end(heldOut, "motion_prediction/zero_field_mse").doubleValue(), heldOut.toString());
        // the same measure before the first step
        assertTrue(((Number) ((Map<?, ?>) heldOut.get("motion_prediction/mse")).get("start")).doubleValue() > 0, heldOut.toString());
    }

    @Test
    void bothCombineWithContrastiveAndTwoViews(@TempDir Path dir) throws Exception {
        Object[] r = MainTest.cli(MainTest.tinyArgs(dir, "--set", "data.modalities=[video, text, motion]", "--set", "data.clip_seconds=1.0",
                "--set", "objectives.contrastive.pairs=[video-text, motion-text]", "--set", "objectives.two_view.weight=0.5",
                "--set", "objectives.two_view.modalities=[video]", "--set", "objectives.keyframe_context.weight=0.5",
                "--set", "objectives.motion_prediction.weight=0.5", "--set", "eval.pairs=[video-text]"));
        assertEquals(0, r[0], (String) r[2]);
        Map<?, ?> last = metrics(dir).get(3);
        for (String term : List.of("contrastive/video-text", "contrastive/motion-text", "two_view/video", "keyframe_context")) {
            assertTrue(last.containsKey(term), term + " in " + last);
        }
        assertTrue(last.containsKey("motion_prediction/with_target"), last.toString());
    }

    /** The value a summary's held_out entry has at the end of the run. */
    static Number end(Map<?, ?> heldOut, String key) {
        return (Number) ((Map<?, ?>) heldOut.get(key)).get("end");
    }
}
