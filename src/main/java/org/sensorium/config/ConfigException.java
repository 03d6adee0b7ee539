package org.sensorium.config;

/** A configuration error: names the key (e.g. "model.width") and, where known, the file. Exit code 2. */
public class ConfigException extends RuntimeException {
    private final String key;

    public ConfigException(String key, String message) {
        super(key + ": " + message);
        this.key = key;
    }

    public String key() {
        return key;
    }
}
