package org.sensorium.modality.text;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Text to words the way a tokenizer.json with a BertNormalizer (clean_text, handle_chinese_chars,
 * strip_accents, lowercase all on) and a BertPreTokenizer does it, so that the words a vocabulary is
 * trained on are the words HuggingFaceTokenizer later looks up. In HuggingFace tokenizers' order:
 * <ol>
 *   <li>clean text: drop NUL, U+FFFD and control/format/unassigned/private-use characters (tab, CR
 *       and LF excepted), then turn every whitespace character into a space;</li>
 *   <li>put spaces around CJK ideographs, so each is a word of its own;</li>
 *   <li>strip accents: NFD, then drop nonspacing marks (Mn);</li>
 *   <li>lower-case, character by character;</li>
 *   <li>split on whitespace, and make every punctuation character (ASCII punctuation or a Unicode
 *       P* category) a word of its own.</li>
 * </ol>
 */
public final class BertPreTokenizer {
    private BertPreTokenizer() {}

    /** The words of a text, in order. */
    public static List<String> words(String text) {
        String s = normalize(text);
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            i += Character.charCount(c);
            if (isWhitespace(c) || isPunctuation(c)) {
                if (word.length() > 0) {
                    words.add(word.toString());
                    word.setLength(0);
                }
                if (isPunctuation(c)) {
                    words.add(Character.toString(c));
                }
            } else {
                word.appendCodePoint(c);
            }
        }
        if (word.length() > 0) {
            words.add(word.toString());
        }
        return words;
    }

    /** Steps 1 to 4: the normalised text. */
    public static String normalize(String text) {
        StringBuilder clean = new StringBuilder(text.length());
        text.codePoints().forEach(c -> {
            if (c == 0 || c == 0xFFFD || isControl(c)) {
                return;
            }
            if (isWhitespace(c)) {
                clean.append(' ');
            } else if (isChinese(c)) {
                clean.append(' ').appendCodePoint(c).append(' ');
            } else {
                clean.appendCodePoint(c);
            }
        });
        String decomposed = Normalizer.normalize(clean, Normalizer.Form.NFD);
        StringBuilder out = new StringBuilder(decomposed.length());
        decomposed.codePoints().forEach(c -> {
            if (Character.getType(c) != Character.NON_SPACING_MARK) {
                // One code point at a time, as Rust's char::to_lowercase: no context rules (final sigma).
                out.append(Character.toString(c).toLowerCase(Locale.ROOT));
            }
        });
        return out.toString();
    }

    /** Unicode White_Space (Rust's char::is_whitespace): Zs, Zl, Zp, U+0009..U+000D and U+0085. */
    static boolean isWhitespace(int c) {
        return Character.isSpaceChar(c) || (c >= 0x09 && c <= 0x0D) || c == 0x85;
    }

    /** Categories Cc, Cf, Cn, Co, Cs, except tab, LF and CR (BERT keeps those as whitespace). */
    static boolean isControl(int c) {
        if (c == '\t' || c == '\n' || c == '\r') {
            return false;
        }
        int t = Character.getType(c);
        return t == Character.CONTROL || t == Character.FORMAT || t == Character.UNASSIGNED
                || t == Character.PRIVATE_USE || t == Character.SURROGATE;
    }

    /** ASCII punctuation (which includes symbols such as $ + < = > ^ ` | ~) or a Unicode P* category. */
    static boolean isPunctuation(int c) {
        if (c < 128) {
            return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
        }
        int t = Character.getType(c);
        return t == Character.CONNECTOR_PUNCTUATION || t == Character.DASH_PUNCTUATION
                || t == Character.START_PUNCTUATION || t == Character.END_PUNCTUATION
                || t == Character.INITIAL_QUOTE_PUNCTUATION || t == Character.FINAL_QUOTE_PUNCTUATION
                || t == Character.OTHER_PUNCTUATION;
    }

    /** The CJK Unified Ideographs blocks BERT treats as single-character words (not kana or hangul). */
    static boolean isChinese(int c) {
        return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF)
                || (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF)
                || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
    }
}
