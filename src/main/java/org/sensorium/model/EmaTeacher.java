package org.sensorium.model;

import ai.djl.ndarray.NDArray;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.sensorium.config.Config;

/**
 * A teacher encoder that follows the student as an exponential moving average (data2vec, BYOL, DINO):
 * a second {@link SensoriumModel} of the same architecture whose arrays never record a gradient and
 * move after each optimizer step, teacher = m teacher + (1 - m) student. m = 1 keeps it frozen.
 *
 * <p>Its arrays live in a sub-manager of the student's parameters, for the life of the run, never in
 * a step's manager: an update changes them in place and closes its one temporary, so memory stays flat.
 * The teacher becomes a copy of the student at its first use rather than at construction, so an
 * objective switched on at --resume starts from the resumed encoder, not the random initial one;
 * {@link #load} marks it as already in step.
 */
public final class EmaTeacher {
    private final SensoriumModel student;
    private final SensoriumModel teacher;
    private boolean synced;

    public EmaTeacher(Config config, SensoriumModel student) {
        this.student = student;
        this.teacher = new SensoriumModel(config, student.params().manager());
        teacher.params().freeze();
    }

    /** The teacher, copied from the student first if this is its first use. */
    public SensoriumModel model() {
        sync();
        return teacher;
    }

    /** One EMA step of every encoder array: teacher = m teacher + (1 - m) student. */
    public void update(float momentum) {
        sync();
        if (momentum == 1f) {
            return;
        }
        Map<String, NDArray> s = student.params().all();
        for (Map.Entry<String, NDArray> t : teacher.params().all().entrySet()) {
            ema(t.getValue(), s.get(t.getKey()), momentum);
        }
    }

    /**
     * teacher = m teacher + (1 - m) student, in place, from a detached view of the student: the first use
     * happens inside the gradient collector, and adding an array that records its history would hang the
     * teacher onto that step's graph (the target's gradient would reach the student, and the next step's
     * backward would walk a freed graph). The temporaries would belong to the student's manager: closed here.
     */
    static void ema(NDArray teacher, NDArray student, float m) {
        try (NDArray detached = student.stopGradient(); NDArray s = detached.mul(1f - m)) {
            teacher.muli(m).addi(s);
        }
    }

    private void sync() {
        if (synced) {
            return;
        }
        Map<String, NDArray> s = student.params().all();
        for (Map.Entry<String, NDArray> t : teacher.params().all().entrySet()) {
            ema(t.getValue(), s.get(t.getKey()), 0f); // momentum 0 is a copy (NDArray.set would make libtorch warn)
        }
        synced = true;
    }

    public void save(Path file) throws IOException {
        sync();
        teacher.params().save(file);
    }

    /**
     * Restores a saved teacher (every encoder array must match, as for the student). A checkpoint without one
     * (the objective switched on at --resume) leaves it to copy the student at its first use.
     */
    public void load(Path file) throws IOException {
        if (java.nio.file.Files.isRegularFile(file)) {
            teacher.params().load(file);
            synced = true;
        }
    }
}
