package org.sensorium.modality;

import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Broken samples seen by a run: each reported once (manifest line, file, reason), counted, and
 * listed in the run's summary. With strict on, the first one stops the run.
 */
public final class SkipLog {
    private static final Logger LOG = LoggerFactory.getLogger(SkipLog.class);
    private final boolean strict;
    private final Map<String, String> reasons = new LinkedHashMap<>();
    private long skipped;

    public SkipLog(boolean strict) {
        this.strict = strict;
    }

    /** Records a skip; throws {@link StrictSkipException} in strict mode. */
    public synchronized void skip(String id, BadInputException e) {
        skipped++;
        if (reasons.putIfAbsent(id, e.getMessage()) == null) {
            LOG.warn("skipped sample: {}", e.getMessage());
        }
        if (strict) {
            throw new StrictSkipException(e.getMessage() + " (--strict)");
        }
    }

    /** Times a sample was skipped (a bad sample is skipped again every epoch). */
    public synchronized long skipped() {
        return skipped;
    }

    /** Distinct bad samples and why, in the order first seen. */
    public synchronized Map<String, String> reasons() {
        return new LinkedHashMap<>(reasons);
    }

    /** The first bad sample under --strict. */
    public static final class StrictSkipException extends RuntimeException {
        public StrictSkipException(String message) {
            super(message);
        }
    }
}
