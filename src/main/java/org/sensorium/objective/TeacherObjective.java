package org.sensorium.objective;

import java.io.IOException;
import java.nio.file.Path;
import org.sensorium.model.EmaTeacher;

/**
 * An objective that learns against an EMA teacher of the model (data2vec, LV-MAE): it runs passes of its own (masked
 * inputs, the teacher), so it does not read the plain forward pass, and its teacher is saved with each checkpoint.
 */
interface TeacherObjective extends Objective {

    EmaTeacher teacher();

    /** The teacher's file in a checkpoint folder. */
    String teacherFile();

    @Override
    default boolean readsOutput() {
        return false;
    }

    @Override
    default void save(Path checkpoint) throws IOException {
        teacher().save(checkpoint.resolve(teacherFile()));
    }

    @Override
    default void load(Path checkpoint) throws IOException {
        teacher().load(checkpoint.resolve(teacherFile()));
    }
}
