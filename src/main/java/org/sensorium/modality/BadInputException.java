package org.sensorium.modality;

/**
 * A recording that cannot be used (truncated, empty, unknown codec, missing track, NaN, ...). The
 * loader skips the sample, counts it and reports the message once; with --strict it stops the run.
 * The message is one line naming the manifest line, the file and the reason.
 */
public class BadInputException extends Exception {
    public BadInputException(String message) {
        super(message);
    }

    public BadInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
