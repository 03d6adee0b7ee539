package org.sensorium.modality;

import org.sensorium.config.Modality;

/**
 * Turns one modality of one manifest entry into the stem's input. Implementations are thread-safe:
 * the loader calls {@link #load} from several threads at once.
 */
public interface ModalityAdapter extends AutoCloseable {

    Modality modality();

    /** Shape of one sample's input, without the batch axis; every {@link Item} has exactly this shape. */
    long[] inputShape();

    /**
     * Decodes and tokenises the clip of this entry. Call only when {@code entry.has(modality())}.
     *
     * @throws BadInputException naming entry.where(), the file and the reason, when the recording is unusable
     */
    Item load(Recording entry, Clip clip) throws BadInputException;

    /**
     * Whether a clip's item depends on clip.seed (a random crop, colour change, rotation, a caption drawn at random),
     * so that two loads of one clip of one recording may differ. False promises equal items for equal (recording,
     * start, seconds, speed, train), which lets the loader keep them ({@code data.cache_mb}).
     */
    default boolean drawsFromSeed() {
        return true;
    }

    @Override
    default void close() {}

    /**
     * One short reason for a JavaCV/FFmpeg failure: "empty file (0 bytes)" for an empty file, otherwise
     * FFmpeg's message without JavaCV's hints and without the path (the caller names the file).
     */
    static String decodeFailure(java.nio.file.Path file, Exception e) {
        try {
            if (java.nio.file.Files.size(file) == 0) {
                return "empty file (0 bytes)";
            }
        } catch (java.io.IOException ignored) {
            // fall through to FFmpeg's own message
        }
        String msg = String.valueOf(e.getMessage())
                .replaceAll("\\s*\\((Has setFormat|For more details)([^()]|\\(\\))*\\)", "")
                .replace("\"" + file + "\"", "the file")
                .replaceAll("\\s+", " ").trim();
        java.util.regex.Matcher code = java.util.regex.Pattern.compile("error (-\\d+)").matcher(msg);
        if (code.find()) { // JavaCV gives FFmpeg's error number only; add its text ("Invalid data found ...")
            byte[] text = new byte[128];
            org.bytedeco.ffmpeg.global.avutil.av_strerror(Integer.parseInt(code.group(1)), text, text.length);
            String reason = new String(text, java.nio.charset.StandardCharsets.US_ASCII).replaceAll("\\x00.*", "").trim();
            msg = msg.substring(0, code.end()) + " (" + reason + ")" + msg.substring(code.end());
        }
        return "cannot decode: " + msg;
    }
}
