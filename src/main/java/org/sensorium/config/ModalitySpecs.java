package org.sensorium.config;

import java.util.List;

/** The modality specs (modalities/*.yaml, keys modalities.&lt;m&gt;.*). */
public record ModalitySpecs(ModalitySpec.Video video, ModalitySpec.Audio audio, ModalitySpec.Text text,
        ModalitySpec.Imu imu, ModalitySpec.Motion motion) {

    /** The default motion spec, for code that builds specs by hand (tests). */
    public static final ModalitySpec.Motion DEFAULT_MOTION = new ModalitySpec.Motion(4.0, 8, 8, 2, 2, 0.02);

    public ModalitySpecs(ModalitySpec.Video video, ModalitySpec.Audio audio, ModalitySpec.Text text, ModalitySpec.Imu imu) {
        this(video, audio, text, imu, DEFAULT_MOTION);
    }

    /** Input shape of one sample of modality m, without the batch axis. */
    public long[] inputShape(Modality m, double clipSeconds) {
        return switch (m) {
            case VIDEO -> video.inputShape(clipSeconds);
            case AUDIO -> audio.inputShape(clipSeconds);
            case TEXT -> text.inputShape();
            case IMU -> imu.inputShape(clipSeconds);
            case MOTION -> motion.inputShape(clipSeconds);
        };
    }

    public static List<Modality> all() {
        return List.of(Modality.values());
    }
}
