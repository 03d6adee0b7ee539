package org.sensorium.modality;

import java.util.Locale;

/** The four kinds of recording Sensorium trains on. The manifest and config spell them in lower case. */
public enum Modality {
    VIDEO, AUDIO, TEXT, IMU;

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
        throw new IllegalArgumentException("unknown modality '" + s + "' (expected video, audio, text or imu)");
    }
}
