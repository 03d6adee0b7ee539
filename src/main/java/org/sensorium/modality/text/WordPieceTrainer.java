package org.sensorium.modality.text;

import org.sensorium.modality.Recording;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.sensorium.modality.SkipLog;
import org.sensorium.config.Modality;

/**
 * Learns a WordPiece vocabulary from a manifest's text and writes it as a HuggingFace tokenizer.json
 * shaped like bert-base-uncased's (BertNormalizer, BertPreTokenizer, [CLS] $A [SEP], WordPiece), so
 * {@link TextAdapter} loads it through modalities.text.tokenizer.
 *
 * <p>Training, on the words of {@link BertPreTokenizer} with their counts: every word is split into
 * characters, the first as itself and the others with the "##" prefix ("hug" = h ##u ##g). The
 * vocabulary starts as the special tokens [PAD] [UNK] [CLS] [SEP] [MASK] (ids 0 to 4: [PAD] = 0 is
 * the id HuggingFace pads with when a tokenizer.json has no padding section, as TextAdapter relies on)
 * followed by every character form seen at least minFrequency times, in String order. Then, until
 * the vocabulary has vocabSize tokens or no pair is left, the adjacent pair (a, b) with the highest
 * score count(ab) / (count(a) count(b)) over all words is merged into one symbol and its token
 * added. This is the likelihood criterion of BERT's WordPiece (Schuster and Nakajima 2012, as
 * described in HuggingFace's course); HuggingFace tokenizers' own WordPieceTrainer instead runs its
 * BPE trainer, which merges the most frequent pair. Ties go to the higher count(ab), then to the
 * smaller a, then to the smaller b (String order), so the result is a function of the counts alone.
 * A pair must occur at least minFrequency times to be merged. Words with a character below
 * minFrequency, or longer than {@value #MAX_INPUT_CHARS_PER_WORD} characters, take no part in the
 * merges: the tokenizer can only turn them into [UNK].
 */
public final class WordPieceTrainer {
    public static final List<String> SPECIAL_TOKENS = List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]");
    public static final String UNK = "[UNK]";
    public static final String PREFIX = "##";
    public static final int MAX_INPUT_CHARS_PER_WORD = 100;

    private final int vocabSize;
    private final int minFrequency;

    /** @throws IllegalArgumentException when vocabSize leaves no room beside the special tokens or minFrequency < 1 */
    public WordPieceTrainer(int vocabSize, int minFrequency) {
        if (vocabSize <= SPECIAL_TOKENS.size()) {
            throw new IllegalArgumentException("vocabSize " + vocabSize + " must be > " + SPECIAL_TOKENS.size() + " (the special tokens)");
        }
        if (minFrequency < 1) {
            throw new IllegalArgumentException("minFrequency " + minFrequency + " must be >= 1");
        }
        this.vocabSize = vocabSize;
        this.minFrequency = minFrequency;
    }

    // ---------------------------------------------------------------- the corpus

    /**
     * The words of a manifest's text and what could not be read.
     *
     * @param words count of each word over all texts
     * @param lines manifest lines read
     * @param linesWithoutText lines with neither captions nor a subtitle file
     * @param captions captions read
     * @param cues subtitle cues read (a cue of a file that several lines share is read once)
     * @param skipped per skipped line, "manifest.jsonl:3 (id=x): file: reason", in manifest order
     */
    public record Corpus(Map<String, Long> words, int lines, int linesWithoutText, int captions, int cues, List<String> skipped) {
        public long wordCount() {
            return words.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    /**
     * Reads every line's captions and the cues of its subtitle file that overlap the line's span. A
     * line whose subtitle file cannot be read (missing, not UTF-8, no cues) is skipped as a whole,
     * counted and named in {@link Corpus#skipped()}; with strict, it throws instead.
     *
     * @throws SkipLog.StrictSkipException on the first unreadable file when strict
     */
    public static Corpus read(List<Recording> entries, boolean strict) {
        Map<String, Long> words = new HashMap<>();
        Map<Path, CueFile> files = new HashMap<>(); // each file read once, however many lines name it
        Set<String> cuesSeen = new HashSet<>();
        List<String> skipped = new ArrayList<>();
        int withoutText = 0, captions = 0, cues = 0;
        for (Recording e : entries) {
            Recording.Source src = e.sources().get(Modality.TEXT);
            List<String> texts = new ArrayList<>(e.captions());
            if (src != null) {
                CueFile file = files.computeIfAbsent(src.path(), CueFile::read);
                if (file.error() != null) {
                    String message = e.where() + ": " + src.path() + ": " + file.error();
                    if (strict) {
                        throw new SkipLog.StrictSkipException(message + " (--strict)");
                    }
                    skipped.add(message);
                    continue;
                }
                List<Subtitles.Cue> fileCues = file.cues();
                double end = Double.isNaN(src.end()) ? Double.POSITIVE_INFINITY : src.end();
                for (int i = 0; i < fileCues.size(); i++) {
                    Subtitles.Cue c = fileCues.get(i);
                    if (c.overlaps(src.start(), end) && cuesSeen.add(src.path() + "#" + i)) {
                        texts.add(c.text());
                        cues++;
                    }
                }
            } else if (e.captions().isEmpty()) {
                withoutText++;
            }
            captions += e.captions().size();
            for (String text : texts) {
                for (String w : BertPreTokenizer.words(text)) {
                    words.merge(w, 1L, Long::sum);
                }
            }
        }
        return new Corpus(words, entries.size(), withoutText, captions, cues, List.copyOf(skipped));
    }

    /** A subtitle file's cues, or why it cannot be read. */
    private record CueFile(List<Subtitles.Cue> cues, String error) {
        static CueFile read(Path file) {
            try {
                return new CueFile(Subtitles.read(file), null);
            } catch (NoSuchFileException e) {
                return new CueFile(List.of(), "no such file");
            } catch (IOException e) {
                return new CueFile(List.of(), e.getMessage());
            }
        }
    }

    // ---------------------------------------------------------------- training

    /** One merge: the pair, the token it made, and the pair's count and score when it was chosen. */
    public record Merge(String left, String right, String token, long count, double score) {}

    /**
     * A learned vocabulary.
     *
     * @param tokens the tokens in id order: the special tokens, the alphabet, then the merges' tokens
     * @param alphabet characters (both forms) kept in the vocabulary
     * @param droppedCharacters character forms seen fewer than minFrequency times
     * @param merges every merge, in the order made (a merge may make a token already present)
     */
    public record Vocabulary(List<String> tokens, int alphabet, int droppedCharacters, List<Merge> merges) {}

    /** Learns a vocabulary from word counts (see the class comment). */
    public Vocabulary train(Map<String, Long> wordCounts) {
        Map<String, Long> characters = new TreeMap<>();
        for (Map.Entry<String, Long> w : wordCounts.entrySet()) {
            if (w.getKey().codePointCount(0, w.getKey().length()) <= MAX_INPUT_CHARS_PER_WORD) {
                for (String c : characters(w.getKey())) {
                    characters.merge(c, w.getValue(), Long::sum);
                }
            }
        }
        List<String> tokens = new ArrayList<>(SPECIAL_TOKENS);
        for (Map.Entry<String, Long> c : characters.entrySet()) {
            if (c.getValue() >= minFrequency) {
                tokens.add(c.getKey());
            }
        }
        int alphabet = tokens.size() - SPECIAL_TOKENS.size();
        Segmentation words = new Segmentation(wordCounts, new HashSet<>(tokens));
        Set<String> known = new HashSet<>(tokens);
        List<Merge> merges = new ArrayList<>();
        while (tokens.size() < vocabSize) {
            Merge best = words.best(minFrequency);
            if (best == null) {
                break;
            }
            words.apply(best);
            merges.add(best);
            if (known.add(best.token())) {
                tokens.add(best.token());
            }
        }
        return new Vocabulary(List.copyOf(tokens), alphabet, characters.size() - alphabet, List.copyOf(merges));
    }

    /** "hug" as [h, ##u, ##g]. */
    static List<String> characters(String word) {
        List<String> out = new ArrayList<>();
        word.codePoints().forEach(c -> out.add((out.isEmpty() ? "" : PREFIX) + Character.toString(c)));
        return out;
    }

    // ---------------------------------------------------------------- using it

    /**
     * The pieces of one pre-tokenised word, as HuggingFace's WordPiece model finds them: the longest
     * prefix in the vocabulary, then the longest "##" continuation, and so on; [UNK] alone when some
     * position matches nothing or the word is longer than {@value #MAX_INPUT_CHARS_PER_WORD} characters.
     */
    public static List<String> encodeWord(String word, Set<String> vocabulary) {
        int[] chars = word.codePoints().toArray();
        if (chars.length > MAX_INPUT_CHARS_PER_WORD) {
            return List.of(UNK);
        }
        List<String> pieces = new ArrayList<>();
        for (int start = 0; start < chars.length; ) {
            String match = null;
            int end = chars.length;
            for (; end > start; end--) {
                String piece = (start > 0 ? PREFIX : "") + new String(chars, start, end - start);
                if (vocabulary.contains(piece)) {
                    match = piece;
                    break;
                }
            }
            if (match == null) {
                return List.of(UNK);
            }
            pieces.add(match);
            start = end;
        }
        return pieces;
    }

    /**
     * How a corpus's word occurrences come out of a vocabulary.
     *
     * @param words word occurrences
     * @param unknown occurrences that become [UNK]
     * @param split occurrences that become two or more pieces
     * @param tokens tokens of all occurrences ([UNK] counts one)
     */
    public record Coverage(long words, long unknown, long split, long tokens) {
        public double unknownFraction() {
            return (double) unknown / words;
        }

        public double splitFraction() {
            return (double) split / words;
        }

        public double tokensPerWord() {
            return (double) tokens / words;
        }
    }

    /** Encodes every distinct word once and weighs it by its count. */
    public static Coverage coverage(Map<String, Long> words, List<String> tokens) {
        Set<String> vocabulary = new HashSet<>(tokens);
        long total = 0, unknown = 0, split = 0, pieces = 0;
        for (Map.Entry<String, Long> w : words.entrySet()) {
            List<String> p = encodeWord(w.getKey(), vocabulary);
            long n = w.getValue();
            total += n;
            pieces += n * p.size();
            if (p.equals(List.of(UNK))) {
                unknown += n;
            } else if (p.size() > 1) {
                split += n;
            }
        }
        return new Coverage(total, unknown, split, pieces);
    }

    /** Writes the vocabulary as a tokenizer.json (see {@link #tokenizerJson}), creating the folder if needed. */
    public static void write(List<String> tokens, Path out) throws IOException {
        Path dir = out.toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        Files.writeString(out, json.writeValueAsString(tokenizerJson(tokens)) + "\n");
    }

    /**
     * bert-base-uncased's tokenizer.json with this vocabulary: the special tokens as added tokens,
     * BertNormalizer (clean text, CJK characters apart, accents stripped, lower case), BertPreTokenizer,
     * TemplateProcessing [CLS] $A [SEP] (and [CLS] $A [SEP] $B [SEP] for pairs), the WordPiece decoder
     * and model. No truncation or padding section: TextAdapter sets both.
     */
    static ObjectNode tokenizerJson(List<String> tokens) {
        ObjectMapper json = new ObjectMapper();
        Map<String, Integer> ids = new LinkedHashMap<>();
        for (int i = 0; i < tokens.size(); i++) {
            ids.put(tokens.get(i), i);
        }
        ObjectNode root = json.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (String special : SPECIAL_TOKENS) {
            added.addObject().put("id", ids.get(special)).put("content", special).put("single_word", false)
                    .put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", true);
        }
        root.putObject("normalizer").put("type", "BertNormalizer").put("clean_text", true)
                .put("handle_chinese_chars", true).put("strip_accents", true).put("lowercase", true);
        root.putObject("pre_tokenizer").put("type", "BertPreTokenizer");
        ObjectNode post = root.putObject("post_processor");
        post.put("type", "TemplateProcessing");
        ArrayNode single = post.putArray("single");
        special(single, "[CLS]", 0);
        sequence(single, "A", 0);
        special(single, "[SEP]", 0);
        ArrayNode pair = post.putArray("pair");
        special(pair, "[CLS]", 0);
        sequence(pair, "A", 0);
        special(pair, "[SEP]", 0);
        sequence(pair, "B", 1);
        special(pair, "[SEP]", 1);
        ObjectNode specials = post.putObject("special_tokens");
        for (String t : List.of("[CLS]", "[SEP]")) {
            ObjectNode s = specials.putObject(t).put("id", t);
            s.putArray("ids").add(ids.get(t));
            s.putArray("tokens").add(t);
        }
        root.putObject("decoder").put("type", "WordPiece").put("prefix", PREFIX).put("cleanup", true);
        ObjectNode model = root.putObject("model");
        model.put("type", "WordPiece").put("unk_token", UNK).put("continuing_subword_prefix", PREFIX)
                .put("max_input_chars_per_word", MAX_INPUT_CHARS_PER_WORD);
        ObjectNode vocab = model.putObject("vocab");
        ids.forEach(vocab::put);
        return root;
    }

    private static void special(ArrayNode template, String token, int typeId) {
        template.addObject().putObject("SpecialToken").put("id", token).put("type_id", typeId);
    }

    private static void sequence(ArrayNode template, String id, int typeId) {
        template.addObject().putObject("Sequence").put("id", id).put("type_id", typeId);
    }

    /**
     * The words as sequences of symbol ids, with the counts the score needs, kept up to date as pairs
     * are merged: only the words that hold the merged pair are rewritten.
     */
    private static final class Segmentation {
        private final List<String> names = new ArrayList<>();       // symbol id -> token
        private final Map<String, Integer> ids = new HashMap<>();   // token -> symbol id
        private final List<Long> symbolCounts = new ArrayList<>();  // symbol id -> occurrences in the corpus
        private final List<int[]> words = new ArrayList<>();        // word -> its symbols
        private final List<Long> wordCounts = new ArrayList<>();    // word -> occurrences in the corpus
        private final Map<Long, Long> pairCounts = new HashMap<>(); // pair (a << 32 | b) -> occurrences
        private final Map<Long, Set<Integer>> pairWords = new HashMap<>(); // pair -> words that held it

        Segmentation(Map<String, Long> counts, Set<String> alphabet) {
            for (Map.Entry<String, Long> w : counts.entrySet()) {
                List<String> chars = characters(w.getKey());
                if (chars.size() > MAX_INPUT_CHARS_PER_WORD || !alphabet.containsAll(chars)) {
                    continue;
                }
                int[] symbols = chars.stream().mapToInt(this::id).toArray();
                words.add(symbols);
                wordCounts.add(w.getValue());
                for (int s : symbols) {
                    symbolCounts.set(s, symbolCounts.get(s) + w.getValue());
                }
                countPairs(words.size() - 1, symbols, +1);
            }
        }

        /** The pair with the best score among those seen at least minFrequency times, or null. */
        Merge best(int minFrequency) {
            long bestPair = -1, bestCount = 0;
            double bestScore = -1;
            for (Map.Entry<Long, Long> p : pairCounts.entrySet()) {
                long count = p.getValue();
                if (count < minFrequency) {
                    continue;
                }
                int a = (int) (p.getKey() >>> 32), b = (int) (long) p.getKey();
                double score = count / ((double) symbolCounts.get(a) * symbolCounts.get(b));
                if (bestPair < 0 || score > bestScore || (score == bestScore && better(count, a, b, bestCount, bestPair))) {
                    bestPair = p.getKey();
                    bestScore = score;
                    bestCount = count;
                }
            }
            if (bestPair < 0) {
                return null;
            }
            String left = names.get((int) (bestPair >>> 32)), right = names.get((int) bestPair);
            return new Merge(left, right, left + right.substring(PREFIX.length()), bestCount, bestScore);
        }

        /** Tie-break of two pairs with equal scores: the higher count, then the smaller left, then right token. */
        private boolean better(long count, int a, int b, long otherCount, long other) {
            if (count != otherCount) {
                return count > otherCount;
            }
            int byLeft = names.get(a).compareTo(names.get((int) (other >>> 32)));
            return byLeft != 0 ? byLeft < 0 : names.get(b).compareTo(names.get((int) other)) < 0;
        }

        /** Rewrites every word holding (left, right) with the merged symbol, updating all counts. */
        void apply(Merge merge) {
            int a = ids.get(merge.left()), b = ids.get(merge.right()), ab = id(merge.token());
            long pair = key(a, b);
            for (int w : pairWords.remove(pair)) {
                int[] before = words.get(w);
                int[] after = merged(before, a, b, ab);
                if (after.length == before.length) {
                    continue; // an earlier merge already took this word's (a, b) apart
                }
                long n = wordCounts.get(w), made = before.length - after.length;
                countPairs(w, before, -1);
                countPairs(w, after, +1);
                words.set(w, after);
                symbolCounts.set(a, symbolCounts.get(a) - made * n);
                symbolCounts.set(b, symbolCounts.get(b) - made * n);
                symbolCounts.set(ab, symbolCounts.get(ab) + made * n);
            }
        }

        /** Adds (sign +1) or removes (-1) the pairs of one word's symbols. */
        private void countPairs(int w, int[] symbols, int sign) {
            long n = wordCounts.get(w) * sign;
            for (int i = 0; i + 1 < symbols.length; i++) {
                long p = key(symbols[i], symbols[i + 1]);
                if (pairCounts.merge(p, n, Long::sum) == 0) {
                    pairCounts.remove(p);
                }
                if (sign > 0) {
                    pairWords.computeIfAbsent(p, k -> new HashSet<>()).add(w);
                }
            }
        }

        private int id(String token) {
            Integer id = ids.get(token);
            if (id == null) {
                id = names.size();
                names.add(token);
                ids.put(token, id);
                symbolCounts.add(0L);
            }
            return id;
        }

        private static long key(int a, int b) {
            return ((long) a << 32) | b;
        }

        /** The symbols with every (a, b), left to right, replaced by ab. */
        private static int[] merged(int[] s, int a, int b, int ab) {
            int[] out = new int[s.length];
            int n = 0;
            for (int i = 0; i < s.length; i++) {
                if (i + 1 < s.length && s[i] == a && s[i + 1] == b) {
                    out[n++] = ab;
                    i++;
                } else {
                    out[n++] = s[i];
                }
            }
            return Arrays.copyOf(out, n);
        }
    }
}
