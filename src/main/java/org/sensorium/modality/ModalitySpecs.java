package org.sensorium.modality;

import java.util.List;

/** The four modality specs (modalities/*.yaml, keys modalities.&lt;m&gt;.*). */
public record ModalitySpecs(ModalitySpec.Video video, ModalitySpec.Audio audio, ModalitySpec.Text text,
        ModalitySpec.Imu imu) {

    /** Input shape of one sample of modality m, without the batch axis. */
    public long[] inputShape(Modality m, double clipSeconds) {
        return switch (m) {
            case VIDEO -> video.inputShape(clipSeconds);
            case AUDIO -> audio.inputShape(clipSeconds);
            case TEXT -> text.inputShape();
            case IMU -> imu.inputShape(clipSeconds);
        };
    }

    public static List<Modality> all() {
        return List.of(Modality.values());
    }
}
