package org.sensorium.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.config.Config;

class EmaTeacherTest {

    @Test
    void emaByHand() {
        // 0.75 * (1, 2) + 0.25 * (3, 6) = (1.5, 3)
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray t = m.create(new float[] {1, 2});
            EmaTeacher.ema(t, m.create(new float[] {3, 6}), 0.75f);
            assertArrayEquals(new float[] {1.5f, 3f}, t.toFloatArray(), 1e-7f);
        }
    }

    @Test
    void theTeacherCopiesTheStudentThenFollowsIt(@TempDir Path dir) throws Exception {
        Config c = SensoriumModelTest.tiny();
        String name = "trunk.0.mlp.fc1.weight";
        try (NDManager root = NDManager.newBaseManager(); SensoriumModel student = new SensoriumModel(c, root)) {
            EmaTeacher ema = new EmaTeacher(c, student);
            NDArray s = student.params().all().get(name);
            s.addi(0.5f);                             // the student changed before the teacher's first use (--resume)
            float[] s0 = s.toFloatArray();
            NDArray t = ema.model().params().all().get(name);
            assertArrayEquals(s0, t.toFloatArray(), 0f);
            for (NDArray a : ema.model().params().all().values()) {
                assertFalse(a.hasGradient(), "the teacher records no gradient");
            }
            int arrays = student.params().manager().getManagedArrays().size();

            s.addi(1f);                               // an optimizer step moved the student
            ema.update(0.9f);
            float[] expected = new float[s0.length];
            for (int i = 0; i < s0.length; i++) {
                expected[i] = 0.9f * s0[i] + 0.1f * (s0[i] + 1f);
            }
            assertArrayEquals(expected, t.toFloatArray(), 1e-6f);
            float[] once = t.toFloatArray();
            s.addi(1f);
            ema.update(1f);                           // momentum 1: frozen, whatever the student does
            assertArrayEquals(once, t.toFloatArray(), 0f);
            for (int i = 0; i < 3; i++) {
                ema.update(0.5f);
            }
            assertEquals(arrays, student.params().manager().getManagedArrays().size(), "updates leave no arrays behind");

            // saved and loaded: the loaded teacher is not overwritten by the student at its next use
            Path file = dir.resolve("teacher.ndlist");
            ema.save(file);
            float[] saved = t.toFloatArray();
            EmaTeacher other = new EmaTeacher(c, student);
            other.load(file);
            assertArrayEquals(saved, other.model().params().all().get(name).toFloatArray(), 0f);
        }
    }
}
