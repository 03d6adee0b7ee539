package org.sensorium.data.importers;

import java.io.IOException;
import java.util.Arrays;
import java.util.Locale;
import org.sensorium.config.ConfigException;

/** The importers of {@code sensorium data import NAME}: one constant per dataset format, each with its official folds. */
public enum Dataset {
    KINETICS(0, 0), UCF101(3, 1), HMDB51(3, 1), ESC50(5, 5), WEBVID(0, 0), HOWTO100M(0, 0), EGO4D(0, 0), CHARADES(0, 0),
    BREAKFAST(4, 1);

    /** Official splits or folds (0: none) and the one used when --fold is not given. */
    private final int folds, defaultFold;

    Dataset(int folds, int defaultFold) {
        this.folds = folds;
        this.defaultFold = defaultFold;
    }

    /** The name on the command line: "kinetics", "esc50" ... */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The dataset of a command-line name, case and '-' ignored ("ESC-50" is esc50). */
    public static Dataset of(String name) {
        String k = name.toLowerCase(Locale.ROOT).replace("-", "").replace("_", "");
        return Arrays.stream(values()).filter(d -> d.key().equals(k)).findFirst().orElseThrow(() -> new ConfigException("NAME",
                "'" + name + "' is not a dataset this imports (" + String.join(", ", Arrays.stream(values()).map(Dataset::key).toList()) + ")"));
    }

    /** The fold to use: the given one checked against the dataset's folds, or its default; 0 for a dataset without folds. */
    int fold(Integer given) {
        if (given == null) {
            return defaultFold;
        }
        if (folds == 0) {
            throw new ConfigException("--fold", key() + " has no official folds");
        }
        if (given < 1 || given > folds) {
            throw new ConfigException("--fold", given + " is not a fold of " + key() + " (1 to " + folds + ")");
        }
        return given;
    }

    void read(Sink sink) throws IOException {
        switch (this) {
            case KINETICS -> Kinetics.read(sink);
            case UCF101 -> SplitLists.ucf101(sink);
            case HMDB51 -> SplitLists.hmdb51(sink);
            case ESC50 -> Esc50.read(sink);
            case WEBVID -> Captions.webvid(sink);
            case HOWTO100M -> Captions.howto100m(sink);
            case EGO4D -> Ego4dImu.read(sink);
            case CHARADES -> Segments.charades(sink);
            case BREAKFAST -> Segments.breakfast(sink);
        }
    }
}
