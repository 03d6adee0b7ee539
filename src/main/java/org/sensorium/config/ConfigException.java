package org.sensorium.config;

/** A configuration error: names the key (e.g. "model.width") and, where known, the file. Exit code 2. */
public class ConfigException extends RuntimeException {
    private final String key;

    public ConfigException(String key, String message) {
        super(key + ": " + message);
        this.key = key;
    }

    /**
     * An error at a place in a file: the message reads "where: message", e.g. "exp.yaml:3:11: mapping values are not
     * allowed here".
     *
     * @param where the file and line, and the column where known ("FILE:LINE" or "FILE:LINE:COLUMN")
     */
    public ConfigException(String key, String where, String message) {
        super(where + ": " + message);
        this.key = key;
    }

    public String key() {
        return key;
    }
}
