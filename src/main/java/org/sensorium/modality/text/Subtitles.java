package org.sensorium.modality.text;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * SRT and WebVTT subtitle cues. A cue is a block of lines (blocks are separated by blank lines) with
 * one timing line {@code start --> end}; its text lines follow and are joined with a space. Times are
 * {@code [hh:]mm:ss[,.]mmm}. Blocks without a timing line (WEBVTT header, NOTE, STYLE) are skipped.
 * HTML-like tags (&lt;i&gt;, &lt;b&gt;, &lt;c.x&gt;, &lt;00:01.000&gt;) and ASS overrides ({\an8}) are stripped.
 */
public final class Subtitles {
    /** One cue: seconds from the start of the file, and its plain text. */
    public record Cue(double start, double end, String text) {
        public boolean overlaps(double from, double to) {
            return start < to && end > from;
        }
    }

    private static final Pattern TIMING = Pattern.compile(
            "^\\s*((?:\\d+:)?\\d{1,2}:\\d{1,2}[,.]\\d{1,3})\\s*-->\\s*((?:\\d+:)?\\d{1,2}:\\d{1,2}[,.]\\d{1,3})(?:\\s.*)?$");
    private static final Pattern TAGS = Pattern.compile("<[^>]*>|\\{\\\\[^}]*}");

    private Subtitles() {}

    /**
     * Reads a UTF-8 SRT or WebVTT file (a BOM is allowed, CRLF line ends too).
     *
     * @throws IOException when unreadable, not valid UTF-8, or without any cue
     */
    public static List<Cue> read(Path file) throws IOException {
        if (Files.exists(file) && !Files.isRegularFile(file)) {
            throw new IOException("not a regular file (a FIFO, a device or a folder)");
        }
        String text = utf8(Files.readAllBytes(file));
        List<Cue> cues = parse(text);
        if (cues.isEmpty()) {
            throw new IOException("no subtitle cues (expected SRT or WebVTT 'start --> end' lines)");
        }
        return cues;
    }

    /**
     * The bytes as UTF-8 text; other encodings are detected (an invalid UTF-8 sequence) and refused
     * with the offset of the first bad byte, rather than guessed: a wrong guess would train on
     * garbled words without anyone noticing.
     */
    static String utf8(byte[] bytes) throws IOException {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult r = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(in, out, true);
        if (r.isError()) {
            throw new IOException(String.format("not UTF-8 text: byte 0x%02X at offset %d (Latin-1 or Windows-1252?"
                    + " convert it, e.g. iconv -f windows-1252 -t utf-8)", bytes[in.position()] & 0xFF, in.position()));
        }
        return out.flip().toString();
    }

    /** Cues of SRT or WebVTT text, in file order. */
    public static List<Cue> parse(String text) {
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1);
        }
        List<Cue> cues = new ArrayList<>();
        for (String block : text.split("\\r?\\n\\s*\\r?\\n|\\r\\s*\\r")) {
            Cue c = cue(block.split("\\r?\\n|\\r"));
            if (c != null) {
                cues.add(c);
            }
        }
        return cues;
    }

    private static Cue cue(String[] lines) {
        for (int i = 0; i < lines.length; i++) {
            Matcher m = TIMING.matcher(lines[i]);
            if (m.matches()) {
                StringBuilder sb = new StringBuilder();
                for (int j = i + 1; j < lines.length; j++) {
                    String s = clean(lines[j]);
                    if (!s.isEmpty()) {
                        sb.append(sb.length() > 0 ? " " : "").append(s);
                    }
                }
                return new Cue(seconds(m.group(1)), seconds(m.group(2)), sb.toString());
            }
        }
        return null;
    }

    private static String clean(String line) {
        return TAGS.matcher(line).replaceAll("").replaceAll("\\s+", " ").trim();
    }

    /** "01:02:03,450", "02:03.450" or "1:02:03.4" as seconds. */
    static double seconds(String t) {
        String[] hms = t.replace(',', '.').split(":");
        double s = Double.parseDouble(hms[hms.length - 1]);
        double m = Double.parseDouble(hms[hms.length - 2]);
        double h = hms.length == 3 ? Double.parseDouble(hms[0]) : 0;
        return h * 3600 + m * 60 + s;
    }

    /** Text of the cues overlapping [from, to) seconds, joined with a space; "" when none does. */
    public static String textBetween(List<Cue> cues, double from, double to) {
        StringBuilder sb = new StringBuilder();
        for (Cue c : cues) {
            if (c.overlaps(from, to) && !c.text().isEmpty()) {
                sb.append(sb.length() > 0 ? " " : "").append(c.text());
            }
        }
        return sb.toString();
    }
}
