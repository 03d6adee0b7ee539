package org.sensorium.eval;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The HTML of a {@link Report} being built. Run folders, labels and task names come from files anyone can
 * write, so every string that enters the page goes through {@link #escape}; the page has no scripts and no
 * links out, and pictures are embedded, so it can be mailed or archived as one file.
 */
final class HtmlPage {
    private final StringBuilder body = new StringBuilder();
    private final List<String> notes = new ArrayList<>();
    private String title = "Sensorium report";
    private int figures;

    /** A picture to draw: PNG bytes. */
    interface Drawing {
        byte[] png() throws IOException;
    }

    int figures() {
        return figures;
    }

    /** What was left out, in page order: the report command prints these too. */
    List<String> notes() {
        return List.copyOf(notes);
    }

    void title(String t) {
        title = t;
        body.append("<h1>").append(escape(t)).append("</h1>\n");
    }

    void heading(int level, String text) {
        body.append("<h").append(level).append('>').append(escape(text)).append("</h").append(level).append(">\n");
    }

    void para(String text) {
        body.append("<p>").append(escape(text)).append("</p>\n");
    }

    void note(String text) {
        notes.add(text);
        body.append("<p class=\"note\">note: ").append(escape(text)).append("</p>\n");
    }

    void list(List<String> items) {
        body.append("<ul>\n");
        items.forEach(i -> body.append("<li>").append(escape(i)).append("</li>\n"));
        body.append("</ul>\n");
    }

    /** A table without a header: one row per entry, the key as its row header. */
    void keyValues(Map<String, Object> kv) {
        List<List<String>> rows = new ArrayList<>();
        kv.forEach((k, v) -> rows.add(List.of(k, text(v))));
        table(null, rows);
    }

    /** A two-column table of a JSON object: its keys, then their values as cell text. */
    void fieldTable(String keyHead, String valueHead, JsonNode object) {
        List<List<String>> rows = new ArrayList<>();
        object.fields().forEachRemaining(f -> rows.add(List.of(f.getKey(), text(f.getValue()))));
        table(List.of(keyHead, valueHead), rows);
    }

    /** Rows = the object's fields, columns = the scalar keys of their values (in first-seen order). */
    void tableOfObjects(String first, JsonNode byRow) {
        Set<String> cols = new LinkedHashSet<>();
        byRow.fields().forEachRemaining(f -> f.getValue().fields().forEachRemaining(c -> {
            if (c.getValue().isValueNode()) {
                cols.add(c.getKey());
            }
        }));
        List<String> head = new ArrayList<>();
        head.add(first);
        head.addAll(cols);
        List<List<String>> rows = new ArrayList<>();
        byRow.fields().forEachRemaining(f -> {
            List<String> row = new ArrayList<>();
            row.add(f.getKey());
            cols.forEach(c -> row.add(text(f.getValue().path(c))));
            rows.add(row);
        });
        table(head, rows);
    }

    /** @param head the column headers, or null for a table whose first column is the row header */
    void table(List<String> head, List<List<String>> rows) {
        body.append("<table>\n");
        if (head != null) {
            body.append("<tr>");
            head.forEach(h -> body.append("<th>").append(escape(h)).append("</th>"));
            body.append("</tr>\n");
        }
        for (List<String> r : rows) {
            body.append("<tr>");
            for (int i = 0; i < r.size(); i++) {
                String tag = head == null && i == 0 ? "th" : "td";
                body.append('<').append(tag).append('>').append(escape(r.get(i))).append("</").append(tag).append('>');
            }
            body.append("</tr>\n");
        }
        body.append("</table>\n");
    }

    /** Draws the picture and embeds it; a picture XChart cannot draw becomes a note. */
    void figure(String caption, Drawing d) {
        byte[] png;
        try {
            png = d.png();
        } catch (IOException | RuntimeException e) {
            note("could not draw \"" + caption + "\": " + oneLine(e));
            return;
        }
        figures++;
        body.append("<figure><img alt=\"").append(escape(caption)).append("\" src=\"data:image/png;base64,")
                .append(Base64.getEncoder().encodeToString(png)).append("\"><figcaption>").append(escape(caption))
                .append("</figcaption></figure>\n");
    }

    String html() {
        return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" + escape(title) + "</title>\n"
                + "<style>\n"
                + "body{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}\n"
                + "table{border-collapse:collapse;margin:.6em 0}\n"
                + "th,td{border:1px solid #ccc;padding:.2em .6em;text-align:left;font-variant-numeric:tabular-nums}\n"
                + "th{background:#f3f3f3}\n"
                + "figure{margin:1em 0}img{max-width:100%;height:auto;border:1px solid #eee}\n"
                + "figcaption{font-size:.9em;color:#555}\n"
                + ".note{color:#8a5a00}\n"
                + "</style>\n</head>\n<body>\n" + body + "</body>\n</html>\n";
    }

    /** HTML-escapes text for element content and attribute values. */
    static String escape(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> sb.append("&amp;");
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }

    /** A cell's text: numbers formatted, strings as they are, anything else as compact JSON. */
    static String text(Object o) {
        if (o instanceof JsonNode n) {
            if (n.isMissingNode() || n.isNull()) {
                return "-";
            }
            if (n.isIntegralNumber()) {
                return n.asText();
            }
            if (n.isNumber()) {
                return fmt(n.asDouble());
            }
            if (n.isValueNode()) {
                return n.asText();
            }
            return n.toString();
        }
        return String.valueOf(o);
    }

    /** A real number with 4 decimals (scientific notation outside [1e-3, 1e6), and for 0 exactly "0"). */
    static String fmt(double x) {
        if (!Double.isFinite(x)) {
            return Double.toString(x);
        }
        double a = Math.abs(x);
        return a == 0 ? "0" : a >= 1e-3 && a < 1e6 ? String.format("%.4f", x) : String.format("%.3e", x);
    }

    /** The first line of an exception's message: a note stays one line however long the cause. */
    static String oneLine(Exception e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.lines().findFirst().orElse(m);
    }
}
