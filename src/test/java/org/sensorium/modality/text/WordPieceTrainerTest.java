package org.sensorium.modality.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.modality.Item;
import org.sensorium.data.Manifest;
import org.sensorium.data.ManifestEntry;
import org.sensorium.data.SampleSetGenerator;
import org.sensorium.modality.SkipLog;
import org.sensorium.modality.Fixtures;
import org.sensorium.config.ModalitySpec;
import org.sensorium.modality.text.WordPieceTrainer.Merge;
import org.sensorium.modality.text.WordPieceTrainer.Vocabulary;

class WordPieceTrainerTest {
    /** "hug hug hugs pug pun bun": h ##u ##g x2, h ##u ##g ##s, p ##u ##g, p ##u ##n, b ##u ##n. */
    private static final Map<String, Long> HUGS = counts("hug hug hugs pug pun bun");

    /** Ids: the specials 0..4, the alphabet in String order 5..11, then the merges' tokens. */
    private static final List<String> HUGS_VOCABULARY = List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
            "##g", "##n", "##s", "##u", "b", "h", "p",
            "##gs", "##ug", "##un", "##ugs", "bun", "pun", "hugs", "hug", "pug");

    @Test
    void preTokenizesLikeBert() {
        assertEquals(List.of("hello", ",", "world", "!", "cafe", "naive", "don", "'", "t", "$", "5", "."),
                BertPreTokenizer.words("Hello, WORLD!\tCafé  naïve\u00A0don't $5."));
        assertEquals(List.of("我", "爱", "tokyo", "東", "京"), BertPreTokenizer.words("我爱Tokyo東京"));
        // NUL, zero-width space (Cf), NEL and vertical tab (Cc) are dropped before whitespace becomes a space.
        assertEquals(List.of("abcd", "ef"), BertPreTokenizer.words("a\u0000b\u200Bc\u0085d e\u000Bf"));
        assertEquals(List.of("a", "\u2014", "b"), BertPreTokenizer.words("a\u2014b")); // em dash is Pd
    }

    /** Our pre-tokeniser and greedy encoder give HuggingFace's tokens with bert-base-uncased's own vocabulary. */
    @Test
    void wordsAndPiecesMatchHuggingFaceOnBertBaseUncased() throws IOException {
        Path bert = Fixtures.shared("tokenizer/bert-base-uncased-tokenizer.json");
        List<String> vocab = new ArrayList<>();
        new ObjectMapper().readTree(bert.toFile()).path("model").path("vocab").fieldNames().forEachRemaining(vocab::add);
        var vocabulary = new HashSet<>(vocab);
        String text = "Héllo, WORLD!\tThe naïve café's crème brûlée costs $5.50 (roughly) \u00A0İstanbul\u200B straße "
                + "Ωmega—tokenization 東京で食べた 🙂 x\u0007y " + "a".repeat(101) + " [unused0] #hashtag unaffable";
        List<String> ours = new ArrayList<>();
        for (String w : BertPreTokenizer.words(text)) {
            ours.addAll(WordPieceTrainer.encodeWord(w, vocabulary));
        }
        try (HuggingFaceTokenizer t = HuggingFaceTokenizer.newInstance(bert, Map.of("addSpecialTokens", "false", "truncation", "false"))) {
            assertEquals(List.of(t.encode(text).getTokens()), ours);
        }
        assertTrue(ours.contains("[UNK]") && ours.contains("##ffa"), ours.toString());
    }

    /*
     * Symbol counts: h 3, p 2, b 1, ##u 6, ##g 4, ##s 1, ##n 2.
     * 1. pairs: h##u 3/(3*6)=1/6, ##u##g 4/(6*4)=1/6, ##g##s 1/(4*1)=1/4, p##u 2/(2*6)=1/6,
     *    ##u##n 2/(6*2)=1/6, b##u 1/(1*6)=1/6                      -> ##gs (1/4)
     * 2. ##g 3, ##gs 1: h##u 3/18, ##u##g 3/18, ##u##gs 1/6, p##u 2/12, ##u##n 2/12, b##u 1/6: all 1/6;
     *    the highest count (3) is h##u and ##u##g; "##u" < "h"      -> ##ug (1/6)
     * 3. ##u 3, ##ug 3: h##ug 2/9, h##u 1/9, ##u##gs 1/3, p##ug 1/6, p##u 1/6, ##u##n 2/6, b##u 1/3;
     *    ##u##n has the higher count among the 1/3s               -> ##un (1/3)
     * 4. ##u 1, ##un 2: ##u##gs 1/(1*1) = 1                       -> ##ugs (1)
     * 5. h##ug 2/9, h##ugs 1/3, p##ug 1/6, p##un 1/4, b##un 1/2    -> bun (1/2)
     * 6. ##un 1: p##un 1/(2*1) = 1/2 beats h##ugs 1/3            -> pun (1/2)
     * 7. p 1: h##ugs 1/(3*1) = 1/3, h##ug 2/(3*3) = 2/9, p##ug 1/(1*3) = 1/3; tie at 1/3 and count 1,
     *    "h" < "p"                                                  -> hugs (1/3)
     * 8. h 2: h##ug 2/(2*3) = 1/3, p##ug 1/3; count 2 beats 1       -> hug (1/3)
     * 9. ##ug 1: p##ug 1/(1*1) = 1                                  -> pug (1)
     */
    @Test
    void learnsTheMergesWorkedOutByHand() {
        Vocabulary v = new WordPieceTrainer(100, 1).train(HUGS);
        assertEquals(List.of(
                new Merge("##g", "##s", "##gs", 1, 1.0 / 4),
                new Merge("##u", "##g", "##ug", 3, 1.0 / 6),
                new Merge("##u", "##n", "##un", 2, 1.0 / 3),
                new Merge("##u", "##gs", "##ugs", 1, 1.0),
                new Merge("b", "##un", "bun", 1, 1.0 / 2),
                new Merge("p", "##un", "pun", 1, 1.0 / 2),
                new Merge("h", "##ugs", "hugs", 1, 1.0 / 3),
                new Merge("h", "##ug", "hug", 2, 1.0 / 3),
                new Merge("p", "##ug", "pug", 1, 1.0)), v.merges());
        assertEquals(7, v.alphabet());
        assertEquals(0, v.droppedCharacters());
        assertEquals(HUGS_VOCABULARY, v.tokens());
        assertEquals(HUGS_VOCABULARY.subList(0, 15), new WordPieceTrainer(15, 1).train(HUGS).tokens(), "stops at vocab_size");
    }

    @Test
    void minFrequencyDropsRareCharactersAndPairs() {
        // At 2: ##s (1) and b (1) are dropped, so "hugs" and "bun" take no part. Left: h ##u ##g x2,
        // p ##u ##g, p ##u ##n; h 2, p 2, ##u 4, ##g 3, ##n 1. ##u##g 3/12 = 1/4, h##u 2/8 = 1/4,
        // p##u 2/8 = 1/4, ##u##n 1 is below 2. Tie at 1/4: ##u##g has count 3 -> ##ug. Then h ##ug x2,
        // p ##ug, p ##u ##n: h##ug 2/(2*3) = 1/3, p##ug 1 < 2, p##u 1 < 2 -> hug. Then nothing is left.
        Vocabulary v = new WordPieceTrainer(100, 2).train(HUGS);
        assertEquals(List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "##g", "##n", "##u", "h", "p", "##ug", "hug"),
                v.tokens());
        assertEquals(2, v.droppedCharacters());
        WordPieceTrainer.Coverage c = WordPieceTrainer.coverage(HUGS, v.tokens());
        // hug x2 -> hug; hugs, bun -> [UNK]; pug -> p ##ug; pun -> p ##u ##n.
        assertEquals(new WordPieceTrainer.Coverage(6, 2, 2, 2 + 2 + 2 + 3), c);
        assertThrows(IllegalArgumentException.class, () -> new WordPieceTrainer(5, 2));
        assertThrows(IllegalArgumentException.class, () -> new WordPieceTrainer(100, 0));
    }

    @Test
    void encodesGreedilyLongestFirst() {
        var vocab = new HashSet<>(HUGS_VOCABULARY);
        assertEquals(List.of("hugs"), WordPieceTrainer.encodeWord("hugs", vocab));
        assertEquals(List.of("b", "##ug"), WordPieceTrainer.encodeWord("bug", vocab));
        assertEquals(List.of("pun", "##s"), WordPieceTrainer.encodeWord("puns", vocab));
        assertEquals(List.of("[UNK]"), WordPieceTrainer.encodeWord("hugx", vocab));
        assertEquals(List.of("[UNK]"), WordPieceTrainer.encodeWord("h".repeat(101), vocab));
        assertEquals(List.of("h", "##u", "##u"), WordPieceTrainer.encodeWord("huu", vocab));
    }

    @Test
    void writtenTokenizerLoadsInDjlAndTextAdapter(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("tok/tokenizer.json");
        WordPieceTrainer.write(new WordPieceTrainer(100, 1).train(HUGS).tokens(), file);
        // hug 19, hugs 18, pun 17, "," [UNK] 1, pug 20, bug = b 9 ##ug 13, Hüg = hug 19, x and hugx = [UNK] 1.
        try (HuggingFaceTokenizer t = HuggingFaceTokenizer.newInstance(file)) {
            Encoding e = t.encode("Hug hugs PUN, pug bug Hüg x hugx");
            assertArrayEquals(new String[] {"[CLS]", "hug", "hugs", "pun", "[UNK]", "pug", "b", "##ug", "hug", "[UNK]", "[UNK]", "[SEP]"},
                    e.getTokens());
            assertArrayEquals(new long[] {2, 19, 18, 17, 1, 20, 9, 13, 19, 1, 1, 3}, e.getIds());
            assertEquals("hug hugs pun pug bug hug", t.decode(t.encode("hug hugs pun pug bug hug").getIds(), true));
        }
        ModalitySpec.Text spec = new ModalitySpec.Text(file.toString(), 8, HUGS_VOCABULARY.size());
        try (TextAdapter text = new TextAdapter(spec)) {
            assertEquals(21, text.vocabSize());
            Item it = text.encode("Hug bug");
            assertArrayEquals(new float[] {2, 19, 9, 13, 3, 0, 0, 0}, it.values());
            assertArrayEquals(new boolean[] {true, true, true, true, true, false, false, false}, it.valid());
        }
    }

    @Test
    void sameInputGivesTheSameFile(@TempDir Path dir) throws IOException {
        Map<String, Long> words = counts("the quick brown fox jumps over the lazy dog, the dog sleeps; foxes jump");
        WordPieceTrainer.write(new WordPieceTrainer(60, 1).train(words).tokens(), dir.resolve("a.json"));
        WordPieceTrainer.write(new WordPieceTrainer(60, 1).train(new HashMap<>(words)).tokens(), dir.resolve("b.json"));
        assertEquals(Files.readString(dir.resolve("a.json")), Files.readString(dir.resolve("b.json")));
    }

    @Test
    void sampleSetCaptionsEncodeWithoutUnknown(@TempDir Path dir) throws IOException {
        List<ManifestEntry> entries = Manifest.read(SampleSetGenerator.generate(dir.resolve("set"), 12, 7));
        WordPieceTrainer.Corpus corpus = WordPieceTrainer.read(entries.stream().map(org.sensorium.data.ManifestEntry::recording).toList(), false);
        assertEquals(12, corpus.lines());
        assertEquals(List.of(), corpus.skipped());
        assertEquals(11, corpus.cues(), "one SRT cue per sample; sample 7 has captions only");
        WordPieceTrainer.Vocabulary v = new WordPieceTrainer(60, 2).train(corpus.words());
        assertEquals(60, v.tokens().size());
        Path file = dir.resolve("tokenizer.json");
        WordPieceTrainer.write(v.tokens(), file);
        var vocabulary = new HashSet<>(v.tokens());
        int captions = 0;
        try (HuggingFaceTokenizer t = HuggingFaceTokenizer.newInstance(file)) {
            for (ManifestEntry e : entries) {
                for (String caption : e.captions()) {
                    List<String> expected = new ArrayList<>(List.of("[CLS]"));
                    for (String w : BertPreTokenizer.words(caption)) {
                        expected.addAll(WordPieceTrainer.encodeWord(w, vocabulary));
                    }
                    expected.add("[SEP]");
                    assertEquals(expected, List.of(t.encode(caption).getTokens()), caption);
                    assertTrue(!expected.contains("[UNK]"), caption);
                    captions++;
                }
            }
        }
        assertEquals(corpus.captions(), captions);
        assertEquals(0, WordPieceTrainer.coverage(corpus.words(), v.tokens()).unknown());
    }

    @Test
    void unreadableSubtitleFilesSkipTheirLine(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("good.srt"), "1\n00:00:00,000 --> 00:00:02,000\nA dog barks\n\n"
                + "2\n00:00:05,000 --> 00:00:07,000\nlater cue\n");
        Files.write(dir.resolve("latin1.srt"), "1\n00:00:00,000 --> 00:00:02,000\ncaf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1));
        Path manifest = Files.writeString(dir.resolve("m.jsonl"), String.join("\n",
                "{\"id\":\"a\",\"split\":\"train\",\"captions\":[\"a cat sits\",\"the cat\"]}",
                "{\"id\":\"b\",\"split\":\"train\",\"text\":{\"uri\":\"good.srt\",\"end\":3.0},\"captions\":[\"dog\"]}",
                "{\"id\":\"c\",\"split\":\"train\",\"text\":{\"uri\":\"latin1.srt\"},\"captions\":[\"lost\"]}",
                "{\"id\":\"d\",\"split\":\"val\",\"text\":{\"uri\":\"missing.srt\"}}",
                "{\"id\":\"e\",\"split\":\"val\",\"video\":{\"uri\":\"v.mp4\"}}",
                "{\"id\":\"f\",\"split\":\"val\",\"text\":{\"uri\":\"good.srt\"}}") + "\n");
        List<ManifestEntry> entries = Manifest.read(manifest);
        WordPieceTrainer.Corpus c = WordPieceTrainer.read(entries.stream().map(org.sensorium.data.ManifestEntry::recording).toList(), false);
        assertEquals(List.of(
                "m.jsonl:3 (id=c): " + dir.resolve("latin1.srt") + ": not UTF-8 text: byte 0xE9 at offset 35"
                        + " (Latin-1 or Windows-1252? convert it, e.g. iconv -f windows-1252 -t utf-8)",
                "m.jsonl:4 (id=d): " + dir.resolve("missing.srt") + ": no such file"), c.skipped());
        assertEquals(6, c.lines());
        assertEquals(1, c.linesWithoutText());
        assertEquals(3, c.captions(), "captions of skipped lines are not read");
        assertEquals(2, c.cues(), "b reads the first cue, f both, but each cue counts once");
        assertEquals(Map.of("a", 2L, "cat", 2L, "sits", 1L, "the", 1L, "dog", 2L, "barks", 1L, "later", 1L, "cue", 1L),
                c.words());
        SkipLog.StrictSkipException strict = assertThrows(SkipLog.StrictSkipException.class, () -> WordPieceTrainer.read(entries.stream().map(org.sensorium.data.ManifestEntry::recording).toList(), true));
        assertTrue(strict.getMessage().startsWith("m.jsonl:3 (id=c): ") && strict.getMessage().endsWith("(--strict)"));
    }

    private static Map<String, Long> counts(String text) {
        Map<String, Long> words = new HashMap<>();
        for (String w : BertPreTokenizer.words(text)) {
            words.merge(w, 1L, Long::sum);
        }
        return words;
    }
}
