package org.sensorium.data;

/** A manifest that cannot be read: names the file, the line and the key. Stops before training; exit code 2. */
public class ManifestException extends RuntimeException {
    public ManifestException(String message) {
        super(message);
    }
}
