package org.sensorium.distributed;

/**
 * A failure of the worker group: a bad launcher setting (the message names the key), a peer that
 * vanished, timed out or could not prove the job's secret (the message names the peer's rank and address).
 */
public class DistException extends RuntimeException {
    public DistException(String message) {
        super(message);
    }

    public DistException(String message, Throwable cause) {
        super(message, cause);
    }
}
