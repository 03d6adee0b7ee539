package org.sensorium.modality;

import org.sensorium.config.ModalitySpecs;
import org.sensorium.config.Modality;
import org.sensorium.modality.audio.AudioAdapter;
import org.sensorium.modality.imu.ImuAdapter;
import org.sensorium.modality.text.TextAdapter;
import org.sensorium.modality.video.VideoAdapter;

/** The adapter of each modality: an exhaustive switch, so a new modality fails to compile until it has one. */
public final class Adapters {
    private Adapters() {}

    /**
     * @param clipSeconds data.clip_seconds, fixing every adapter's input shape
     * @throws org.sensorium.config.ConfigException when a spec cannot be used (e.g. the tokenizer cannot be read)
     */
    public static ModalityAdapter create(Modality m, ModalitySpecs specs, double clipSeconds) {
        return switch (m) {
            case VIDEO -> new VideoAdapter(specs.video(), clipSeconds);
            case AUDIO -> new AudioAdapter(specs.audio(), clipSeconds);
            case TEXT -> new TextAdapter(specs.text());
            case IMU -> new ImuAdapter(specs.imu(), clipSeconds);
            case MOTION -> new org.sensorium.modality.video.MotionAdapter(specs.motion(), clipSeconds);
        };
    }
}
