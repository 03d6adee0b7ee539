package org.sensorium.data.importers;

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
 * A CSV annotation file read by its header (RFC 4180: comma separated, fields in double quotes may hold commas,
 * line breaks and doubled quotes; a UTF-8 BOM is allowed). The datasets' CSVs (Kinetics, ESC-50, WebVid, Charades)
 * are all of this kind; their captions and descriptions hold commas and quotes, so splitting on ',' is not enough.
 */
final class Csv {
    /** One data row: its values by header name, and the line it starts on (1-based) for messages. */
    record Row(Map<String, String> values, int line) {
        /** The value of a column, trimmed; "" when the row is short. */
        String get(String column) {
            return values.getOrDefault(column, "").strip();
        }
    }

    final Path file;
    final List<String> header;
    final List<Row> rows;

    private Csv(Path file, List<String> header, List<Row> rows) {
        this.file = file;
        this.header = header;
        this.rows = rows;
    }

    /**
     * Reads the file; the first non-blank record is the header.
     *
     * @param required columns the file must have
     * @throws ConfigException naming the file when it cannot be read, is empty or lacks a required column
     */
    static Csv read(Path file, String option, List<String> required) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8).replace("\uFEFF", "");
        } catch (IOException e) {
            throw new ConfigException(option, file + ": cannot read (" + e.getMessage() + ")");
        }
        List<List<String>> records = new ArrayList<>();
        List<Integer> lines = new ArrayList<>();
        parse(text, records, lines);
        if (records.isEmpty()) {
            throw new ConfigException(option, file + ": empty (expected a header line " + String.join(",", required) + ")");
        }
        List<String> header = records.get(0).stream().map(String::strip).toList();
        for (String c : required) {
            if (!header.contains(c)) {
                throw new ConfigException(option, file + ":" + lines.get(0) + ": the header has no column '" + c + "' (it has "
                        + String.join(",", header) + ")");
            }
        }
        List<Row> rows = new ArrayList<>();
        for (int r = 1; r < records.size(); r++) {
            Map<String, String> values = new LinkedHashMap<>();
            List<String> rec = records.get(r);
            for (int c = 0; c < Math.min(rec.size(), header.size()); c++) {
                values.put(header.get(c), rec.get(c));
            }
            rows.add(new Row(values, lines.get(r)));
        }
        return new Csv(file, header, rows);
    }

    /** Splits text into records of fields; blank lines are no record. lines gets each record's first line. */
    private static void parse(String text, List<List<String>> records, List<Integer> lines) {
        List<String> fields = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false, any = false;
        int line = 1, start = 1;
        for (int i = 0; i < text.length(); i++) {
            char ch = text.charAt(i);
            if (quoted) {
                if (ch == '"' && i + 1 < text.length() && text.charAt(i + 1) == '"') {
                    field.append('"');
                    i++;
                } else if (ch == '"') {
                    quoted = false;
                } else {
                    line += ch == '\n' ? 1 : 0;
                    field.append(ch);
                }
            } else if (ch == '"') {
                quoted = any = true;
            } else if (ch == ',') {
                fields.add(field.toString());
                field.setLength(0);
                any = true;
            } else if (ch == '\n' || ch == '\r') {
                if (any) {
                    fields.add(field.toString());
                    records.add(fields);
                    lines.add(start);
                }
                fields = new ArrayList<>();
                field.setLength(0);
                any = false;
                if (ch == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n') {
                    i++;
                }
                start = ++line;
            } else {
                field.append(ch);
                any |= !Character.isWhitespace(ch);
            }
        }
        if (any) {
            fields.add(field.toString());
            records.add(fields);
            lines.add(start);
        }
    }

    /** "file.csv:LINE" for messages. */
    String where(Row r) {
        return file.getFileName() + ":" + r.line();
    }
}
