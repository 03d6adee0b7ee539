package org.sensorium.data.importers;

import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sensorium.config.ConfigException;

/**
 * A CSV annotation file read row by row by its header (RFC 4180: comma separated, fields in double quotes may hold
 * commas, line breaks and doubled quotes; a UTF-8 BOM is allowed). The datasets' CSVs (Kinetics, ESC-50, WebVid,
 * Charades) are all of this kind; their captions and descriptions hold commas and quotes, so splitting on ',' is
 * not enough. Rows are read one at a time: WebVid-10M's CSVs are gigabytes.
 */
final class Csv implements Closeable {
    /** One data row: its values by header name, and the line it starts on (1-based) for messages. */
    record Row(Map<String, String> values, int line) {
        /** The value of a column, trimmed; "" when the row is short. */
        String get(String column) {
            return values.getOrDefault(column, "").strip();
        }
    }

    final Path file;
    final List<String> header;
    private final BufferedReader in;
    private int line = 1, start;

    private Csv(Path file, BufferedReader in) throws IOException {
        this.file = file;
        this.in = in;
        in.mark(1);
        if (in.read() != '\uFEFF') {
            in.reset();
        }
        List<String> first = record();
        this.header = first == null ? List.of() : first.stream().map(String::strip).toList();
    }

    /**
     * Opens the file and reads its header (the first non-blank record).
     *
     * @param option the command-line option naming the file, for errors
     * @param required columns the file must have
     * @throws ConfigException naming the file when it cannot be read, is empty or lacks a required column
     */
    static Csv open(Path file, String option, List<String> required) {
        Csv csv = null;
        try {
            csv = new Csv(file, Files.newBufferedReader(file, StandardCharsets.UTF_8));
            for (String c : required) {
                if (!csv.header.contains(c)) {
                    throw new ConfigException(option, file + ":" + csv.start + ": the header has no column '" + c + "' (it has "
                            + String.join(",", csv.header) + "; expected " + String.join(",", required) + ")");
                }
            }
            return csv;
        } catch (IOException e) {
            throw new ConfigException(option, file + ": cannot read (" + e.getMessage() + ")");
        } catch (RuntimeException e) {
            if (csv != null) {
                csv.close();
            }
            throw e;
        }
    }

    /** The next data row, or null at the end of the file. */
    Row next() throws IOException {
        List<String> rec = record();
        if (rec == null) {
            return null;
        }
        Map<String, String> values = new LinkedHashMap<>();
        for (int c = 0; c < Math.min(rec.size(), header.size()); c++) {
            values.put(header.get(c), rec.get(c));
        }
        return new Row(values, start);
    }

    /** The next non-blank record's fields, or null at the end; {@link #start} gets its first line. */
    private List<String> record() throws IOException {
        List<String> fields = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false, any = false;
        start = line;
        for (int c = in.read(); c >= 0; c = in.read()) {
            char ch = (char) c;
            if (quoted) {
                if (ch == '"' && peek() == '"') {
                    in.read();
                    field.append('"');
                } else if (ch == '"') {
                    quoted = false;
                } else {
                    line += ch == '\n' ? 1 : 0;
                    field.append(ch);
                }
            } else if (ch == '"' || ch == ',') {
                quoted = ch == '"';
                any = true;
                if (ch == ',') {
                    fields.add(field.toString());
                    field.setLength(0);
                }
            } else if (ch == '\n' || ch == '\r') {
                if (ch == '\r' && peek() == '\n') {
                    in.read();
                }
                line++;
                if (any) {
                    fields.add(field.toString());
                    return fields;
                }
                field.setLength(0);
                start = line;
            } else {
                field.append(ch);
                any |= !Character.isWhitespace(ch);
            }
        }
        if (any) {
            fields.add(field.toString());
            return fields;
        }
        return null;
    }

    private int peek() throws IOException {
        in.mark(1);
        int c = in.read();
        in.reset();
        return c;
    }

    /** "file.csv:LINE" for messages. */
    String where(Row r) {
        return file.getFileName() + ":" + r.line();
    }

    @Override
    public void close() {
        try {
            in.close();
        } catch (IOException e) {
            // read-only: nothing was lost
        }
    }
}
