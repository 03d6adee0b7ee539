package org.sensorium.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.data.SampleRenderers.Video;
import org.sensorium.data.SampleScenes.Scene;
import org.sensorium.data.SampleSetGenerator.Colour;
import org.sensorium.data.SampleSetGenerator.Motion;
import org.sensorium.data.SampleSetGenerator.Sample;

/** The scene variant of the sample set: a static scene under the moving shape, drawn independently of the label. */
class SampleScenesTest {
    private static final int SIZE = SampleSetGenerator.SIZE;

    /** A scene worked out by hand: pixel (x, y) = (4x, 2y, 7). */
    private static Scene ramp() {
        byte[] rgb = new byte[SIZE * SIZE * 3];
        for (int y = 0; y < SIZE; y++) {
            for (int x = 0; x < SIZE; x++) {
                rgb[(y * SIZE + x) * 3] = (byte) (4 * x);
                rgb[(y * SIZE + x) * 3 + 1] = (byte) (2 * y);
                rgb[(y * SIZE + x) * 3 + 2] = 7;
            }
        }
        return new Scene("ramp", rgb);
    }

    private static int[] pixel(ByteBuffer rgb, int x, int y) {
        int i = (y * SIZE + x) * 3;
        return new int[] {rgb.get(i) & 0xff, rgb.get(i + 1) & 0xff, rgb.get(i + 2) & 0xff};
    }

    @Test
    void theSceneStaysWhileTheShapeMovesOverIt() {
        // a red square (half side 0.09 * 64 = 5.76 px) shaking slowly about the centre: x = 32 + 64 * 0.15 sin(pi t)
        Sample s = new Sample(0, Motion.SHAKE, Colour.RED, false, false, 0.5, 0.5, 0, 0, 1);
        Scene scene = ramp();
        ByteBuffer t0 = ByteBuffer.allocate(SIZE * SIZE * 3), t1 = ByteBuffer.allocate(SIZE * SIZE * 3);
        Video.draw(s, 0, 2.0, scene, t0);
        Video.draw(s, 0.25, 2.0, scene, t1); // centre at x = 32 + 9.6 sin(pi / 4) = 38.79
        for (ByteBuffer f : List.of(t0, t1)) { // corners, far from the shape: the scene itself in both frames
            assertArrayEquals(new int[] {0, 0, 7}, pixel(f, 0, 0));
            assertArrayEquals(new int[] {252, 126, 7}, pixel(f, 63, 63));
            assertArrayEquals(new int[] {40, 20, 7}, pixel(f, 10, 10));
        }
        // t = 0: pixel (32, 32) is covered: red (220, 40, 40)
        assertArrayEquals(new int[] {220, 40, 40}, pixel(t0, 32, 32));
        // pixel (37, 32): sub-sample columns at x offsets 5.125, 5.375, 5.625 inside (<= 5.76), 5.875 outside: c = 3/4 over
        // the scene's (148, 64, 7): round(148 + 72 * 0.75) = 202, round(64 - 24 * 0.75) = 46, round(7 + 33 * 0.75) = 32
        assertArrayEquals(new int[] {202, 46, 32}, pixel(t0, 37, 32));
        // t = 0.25 s: the square has left (32, 32), whose scene pixel shows again; (37, 32) is now inside it
        assertArrayEquals(new int[] {128, 64, 7}, pixel(t1, 32, 32));
        assertArrayEquals(new int[] {220, 40, 40}, pixel(t1, 37, 32));
        // without a scene the field is grey, as in the plain set
        ByteBuffer grey = ByteBuffer.allocate(SIZE * SIZE * 3);
        Video.draw(s, 0, 2.0, null, grey);
        assertArrayEquals(new int[] {128, 128, 128}, pixel(grey, 0, 0));
    }

    @Test
    void scenesComeFromTheSeedInFourKinds() {
        List<Scene> a = SampleScenes.scenes(8, 7), b = SampleScenes.scenes(8, 7), c = SampleScenes.scenes(8, 8);
        assertEquals(List.of("stripes-0", "checkerboard-1", "gradient-2", "blobs-3", "stripes-4", "checkerboard-5", "gradient-6",
                "blobs-7"), a.stream().map(Scene::name).toList());
        for (int j = 0; j < 8; j++) {
            assertArrayEquals(a.get(j).rgb(), b.get(j).rgb());
            assertFalse(java.util.Arrays.equals(a.get(j).rgb(), c.get(j).rgb()), "seed 8 draws other scenes");
            Set<Integer> reds = new HashSet<>();
            for (int y = 0; y < SIZE; y++) {
                for (int x = 0; x < SIZE; x++) {
                    reds.add(a.get(j).r(x, y));
                }
            }
            assertTrue(reds.size() > 1, a.get(j).name() + " is textured, not flat");
        }
        assertThrows(IllegalArgumentException.class, () -> SampleScenes.scenes(0, 7));
        assertThrows(IllegalArgumentException.class, () -> SampleScenes.scenes(SampleScenes.MAX + 1, 7));
    }

    @Test
    void theSceneIsIndependentOfTheLabel() {
        List<Sample> plan = SampleSetGenerator.plan(64, 7);
        int[] scene = SampleScenes.assign(64, 8, 7);
        List<Set<Motion>> labels = new ArrayList<>();
        for (int j = 0; j < 8; j++) {
            labels.add(new HashSet<>());
        }
        for (Sample s : plan) {
            labels.get(scene[s.index()]).add(s.motion());
        }
        for (int j = 0; j < 8; j++) {
            assertTrue(labels.get(j).size() >= 2, "scene " + j + " occurs with labels " + labels.get(j));
        }
        assertArrayEquals(scene, SampleScenes.assign(64, 8, 7));
        // a longer plan draws the same scenes for its first 64 samples (one generator per sample)
        assertArrayEquals(scene, java.util.Arrays.copyOf(SampleScenes.assign(100, 8, 7), 64));
    }

    @Test
    void theSceneSetKeepsTheSamplesAndNamesItsScenes(@TempDir Path dir) throws Exception {
        Path plain = SampleSetGenerator.generate(dir.resolve("plain"), 3, 7);
        Path scenes = SampleSetGenerator.generateScenes(dir.resolve("scenes"), 3, 2, 7);
        List<String> a = Files.readAllLines(plain), b = Files.readAllLines(scenes);
        ObjectMapper json = new ObjectMapper();
        Set<String> names = Set.of("stripes-0", "checkerboard-1");
        for (int i = 0; i < 3; i++) {
            JsonNode p = json.readTree(a.get(i)), s = json.readTree(b.get(i));
            assertEquals(p.get("label"), s.get("label"));
            assertEquals(p.get("split"), s.get("split"));
            assertTrue(names.contains(s.get("attributes").get("scene").asText()), s.toString());
            assertFalse(p.get("attributes").has("scene"));
            for (int k = 0; k < 2; k++) {
                assertEquals(p.get("captions").get(k).asText().replace("grey background", "patterned background"),
                        s.get("captions").get(k).asText());
            }
            assertTrue(Files.size(scenes.resolveSibling("media").resolve(s.get("id").asText() + ".mp4")) > 0);
        }
        assertTrue(Files.isRegularFile(SampleSetGenerator.ensureScenes(dir.resolve("cache"), 2, 2, 7)));
        assertTrue(Files.isDirectory(dir.resolve("cache").resolve("scene-set-v1-n2-c2-s7")));
    }
}
