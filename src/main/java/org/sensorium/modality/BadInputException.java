package org.sensorium.modality;

import java.util.List;

/**
 * A recording that cannot be used (truncated, empty, unknown codec, missing track, NaN, ...). The
 * loader skips the sample, counts it and reports the message once; with --strict it stops the run.
 * The message is one line naming the manifest line, the file and the reason: whatever a caller puts in it (a file
 * name may hold a newline or a terminal escape), its control and line-separator characters become '?'.
 */
public class BadInputException extends Exception {
    public BadInputException(String message) {
        super(excerpt(message, Integer.MAX_VALUE));
    }

    public BadInputException(String message, Throwable cause) {
        super(excerpt(message, Integer.MAX_VALUE), cause);
    }

    /**
     * Text read from a file, fit for a one-line message that goes to the console, summary.json and
     * report.html: at most max code points (then "..."), every control, format or line-separator character
     * and every lone surrogate as '?'. A file's content is anybody's: a line can be megabytes long and hold
     * terminal escapes.
     */
    public static String excerpt(String text, int max) {
        StringBuilder sb = new StringBuilder();
        int n = 0;
        for (int i = 0; i < text.length(); i += Character.charCount(text.codePointAt(i))) {
            if (n++ == max) {
                return sb.append("...").toString();
            }
            int c = text.codePointAt(i);
            int type = Character.getType(c);
            boolean unsafe = Character.isISOControl(c) || type == Character.FORMAT || type == Character.SURROGATE
                    || type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR;
            sb.appendCodePoint(unsafe ? '?' : c);
        }
        return sb.toString();
    }

    /** Names read from a file (a CSV header's columns), for a message: the first maxNames, each cut to maxEach. */
    public static String excerpt(List<String> names, int maxNames, int maxEach) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(names.size(), maxNames); i++) {
            sb.append(i == 0 ? "" : ", ").append(excerpt(names.get(i), maxEach));
        }
        return names.size() > maxNames ? sb.append(", ...").toString() : sb.toString();
    }
}
