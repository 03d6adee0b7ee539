package org.sensorium.config;

import java.util.Locale;

/**
 * The kinds of input Sensorium trains on: four kinds of recording, and the motion field that the
 * video's H.264/MPEG-4 encoder left in its motion vectors (compressed-domain video, read from the
 * video file itself). The manifest and config spell them in lower case.
 */
public enum Modality {
    VIDEO, AUDIO, TEXT, IMU, MOTION;

    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses "video", "audio", "text" or "imu"; throws IllegalArgumentException naming the bad value. */
    public static Modality parse(String s) {
        for (Modality m : values()) {
            if (m.key().equals(s.trim().toLowerCase(Locale.ROOT))) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown modality '" + s + "' (expected video, audio, text, imu or motion)");
    }
}
