package org.sensorium.modality;

import org.sensorium.config.ModalitySpecs;
import org.sensorium.config.ModalitySpec;
import org.sensorium.config.Modality;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.sensorium.data.ManifestEntry;

/** The default specs of modalities/*.yaml, the shared real fixtures, and one-source manifest entries. */
public final class Fixtures {
    private Fixtures() {}

    public static final ModalitySpec.Video VIDEO =
            new ModalitySpec.Video(4.0, 32, 32, 2, 8, List.of(0.45, 0.45, 0.45), List.of(0.225, 0.225, 0.225), 0.6, false, 0.2, 0.2);
    public static final ModalitySpec.Audio AUDIO =
            new ModalitySpec.Audio(16000, "logmel", 64, 25.0, 10.0, 0.0, 8000.0, 16, -6.0, 4.0, 128);
    public static final ModalitySpec.Text TEXT =
            new ModalitySpec.Text("classpath:all-minilm-l6-v2-q-tokenizer.json", 24, 30522);
    public static final ModalitySpec.Imu IMU =
            new ModalitySpec.Imu(50.0, List.of("ax", "ay", "az", "gx", "gy", "gz"), 10, 9.81, 3.14159, 0.0, "scale");
    public static final ModalitySpecs SPECS = new ModalitySpecs(VIDEO, AUDIO, TEXT, IMU);

    /** A file under ../shared/data (system property sensorium.shared, set by the pom for surefire). */
    public static Path shared(String relative) {
        return Path.of(System.getProperty("sensorium.shared", "../shared")).resolve("data").resolve(relative);
    }

    public static ManifestEntry entry(Modality m, Path file) {
        return entry(m, file, 0.0, Double.NaN);
    }

    public static ManifestEntry entry(Modality m, Path file, double start, double end) {
        return new ManifestEntry("t1", "train", null, Map.of(m, new Recording.Source(file, start, end)), List.of(),
                Path.of("manifest.jsonl"), 7);
    }
}
