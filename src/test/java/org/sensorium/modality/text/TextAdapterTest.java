package org.sensorium.modality.text;

import org.sensorium.modality.Recording;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.config.ConfigException;
import org.sensorium.modality.BadInputException;
import org.sensorium.modality.Clip;
import org.sensorium.modality.Item;
import org.sensorium.data.ManifestEntry;
import org.sensorium.modality.Fixtures;
import org.sensorium.config.Modality;
import org.sensorium.config.ModalitySpec;

class TextAdapterTest {
    private static final TextAdapter TEXT = new TextAdapter(Fixtures.TEXT);

    @AfterAll
    static void close() {
        TEXT.close();
    }

    @Test
    void parsesSampleSrt() throws IOException {
        List<Subtitles.Cue> cues = Subtitles.read(Fixtures.shared("subtitles/sample.srt"));
        assertEquals(5, cues.size());
        assertEquals(new Subtitles.Cue(0.599, 4.16, ">> ALICE: Hi, my name is Alice Miller and this is John Brown"), cues.get(0));
        assertEquals(">> ALICE: Today we'll be teaching you how to make our famous chocolate chip cookies!", cues.get(2).text());
        assertEquals(16.7, cues.get(4).start(), 1e-9);
        assertEquals(">> JOHN: and we're the owners of Miller Bakery. >> ALICE: Today we'll be teaching you how to make"
                + " our famous chocolate chip cookies!", Subtitles.textBetween(cues, 5.0, 7.0));
    }

    @Test
    void parsesSampleVttSkippingNoteAndStyleBlocks() throws IOException {
        List<Subtitles.Cue> cues = Subtitles.read(Fixtures.shared("subtitles/sample.vtt"));
        assertEquals(5, cues.size());
        assertEquals(1.0, cues.get(0).start());
        assertEquals(4.0, cues.get(0).end());
    }

    @Test
    void stripsBomCrlfAndStyleTags() {
        String srt = "\uFEFF1\r\n00:00:01,000 --> 00:00:02,500\r\n<i>Hello</i> {\\an8}<b>there</b>\r\nfriend\r\n\r\n"
                + "2\r\n01:00:00,000 --> 01:00:01,000\r\nlate\r\n";
        List<Subtitles.Cue> cues = Subtitles.parse(srt);
        assertEquals(List.of(new Subtitles.Cue(1.0, 2.5, "Hello there friend"), new Subtitles.Cue(3600, 3601, "late")), cues);
    }

    @Test
    void tokenizesWithBertUncasedIds() {
        assertEquals(30522, TEXT.vocabSize());
        Item it = TEXT.encode("Hello world");
        assertArrayEquals(new long[] {24}, it.shape());
        float[] expected = new float[24];
        System.arraycopy(new float[] {101, 7592, 2088, 102}, 0, expected, 0, 4);
        assertArrayEquals(expected, it.values());
        for (int i = 0; i < 24; i++) {
            assertEquals(i < 4, it.valid()[i], "valid[" + i + "]");
        }
    }

    @Test
    void emptyTextIsClsSepAndLongTextIsTruncated() {
        Item empty = TEXT.encode("");
        assertEquals(101, empty.values()[0]);
        assertEquals(102, empty.values()[1]);
        assertEquals(0, empty.values()[2]);
        Item longText = TEXT.encode("word ".repeat(100));
        assertEquals(102, longText.values()[23]);
        assertTrue(longText.valid()[23]);
    }

    @Test
    void selectsCuesOverlappingTheClip() throws BadInputException {
        ManifestEntry e = Fixtures.entry(Modality.TEXT, Fixtures.shared("subtitles/sample.srt"), 10.0, Double.NaN);
        assertEquals("[intro music]", TEXT.text(e.recording(), new Clip(1.0, 2.0, false, 0)));
        Item none = TEXT.load(Fixtures.entry(Modality.TEXT, Fixtures.shared("subtitles/sample.srt"), 100.0, Double.NaN).recording(),
                new Clip(0, 2.0, false, 0));
        assertEquals(2, count(none.valid()));
    }

    @Test
    void captionsWhenNoSubtitleFile() throws BadInputException {
        ManifestEntry e = new ManifestEntry("c", "train", null, Map.of(), List.of("one", "two", "three"),
                Path.of("manifest.jsonl"), 3);
        assertEquals("one", TEXT.text(e.recording(), new Clip(0, 2, false, 99)));
        Set<String> drawn = new HashSet<>();
        for (long seed = 0; seed < 50; seed++) {
            drawn.add(TEXT.text(e.recording(), new Clip(0, 2, true, seed)));
            assertEquals(TEXT.text(e.recording(), new Clip(0, 2, true, seed)), TEXT.text(e.recording(), new Clip(0, 2, true, seed)));
        }
        assertEquals(Set.of("one", "two", "three"), drawn);
    }

    @Test
    void badSubtitleFilesAreBadInput(@TempDir Path dir) throws IOException {
        // the real sample.srt with one more cue, saved as Latin-1: the 0xE9 of "café" is the first non-UTF-8 byte
        String srt = Files.readString(Fixtures.shared("subtitles/sample.srt")) + "\n\n99\n00:00:30,000 --> 00:00:31,000\nUn café\n";
        Path latin1 = Files.write(dir.resolve("x.srt"), srt.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        BadInputException e = assertThrows(BadInputException.class,
                () -> TEXT.load(Fixtures.entry(Modality.TEXT, latin1).recording(), new Clip(0, 2, false, 0)));
        assertEquals("manifest.jsonl:7 (id=t1): " + latin1 + ": not UTF-8 text: byte 0xE9 at offset " + srt.indexOf('é')
                + " (Latin-1 or Windows-1252? convert it, e.g. iconv -f windows-1252 -t utf-8)", e.getMessage());
        e = assertThrows(BadInputException.class,
                () -> TEXT.load(Fixtures.entry(Modality.TEXT, dir.resolve("none.srt")).recording(), new Clip(0, 2, false, 0)));
        assertTrue(e.getMessage().endsWith("none.srt: no such file"), e.getMessage());
    }

    @Test
    void vocabularyLargerThanTheEmbeddingIsAConfigError() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> new TextAdapter(new ModalitySpec.Text(Fixtures.TEXT.tokenizer(), 24, 1000)));
        assertEquals("modalities.text.vocab_size", e.key());
    }

    @Test
    void readsTokenizerFromAFilePath() {
        try (TextAdapter t = new TextAdapter(new ModalitySpec.Text(
                Fixtures.shared("tokenizer/bert-base-uncased-tokenizer.json").toString(), 8, 30522))) {
            assertEquals(7592, t.encode("hello").values()[1]);
        }
    }

    private static int count(boolean[] b) {
        int n = 0;
        for (boolean x : b) {
            n += x ? 1 : 0;
        }
        return n;
    }

    @Test
    void aBagHoldsOverlappingCuesThenCaptionsThenTheNearestCues(@TempDir Path dir) throws Exception {
        Path srt = Files.writeString(dir.resolve("b.srt"), "1\n00:00:00,000 --> 00:00:01,000\none\n\n"
                + "2\n00:00:01,000 --> 00:00:02,000\ntwo\n\n3\n00:00:05,000 --> 00:00:06,000\nfar\n\n"
                + "4\n00:00:02,500 --> 00:00:03,000\nnear\n");
        ManifestEntry e = new ManifestEntry("b", "train", null,
                Map.of(Modality.TEXT, new Recording.Source(srt, 0, Double.NaN)), List.of("cap"), Path.of("m.jsonl"), 1);
        ModalitySpec.Text spec = new ModalitySpec.Text(Fixtures.TEXT.tokenizer(), 6, 30522, 4);
        try (TextAdapter bag = new TextAdapter(spec)) {
            // clip [0.5, 1.5): cues "one" and "two" overlap; then the caption; then "near" (1.0 s away) before "far" (3.5 s)
            assertEquals(List.of("one", "two", "cap", "near"), bag.bag(e.recording(), new Clip(0.5, 1.0, true, 1)));
            Item item = bag.load(e.recording(), new Clip(0.5, 1.0, true, 1));
            assertArrayEquals(new long[] {4, 6}, item.shape());
            float[] row2 = Arrays.copyOfRange(item.values(), 12, 18);
            assertArrayEquals(bag.encode("cap").values(), row2);
            // a bag of 6 has only 5 texts: the last row is all padding
            try (TextAdapter six = new TextAdapter(new ModalitySpec.Text(Fixtures.TEXT.tokenizer(), 6, 30522, 6))) {
                Item it = six.load(e.recording(), new Clip(0.5, 1.0, true, 1));
                for (int i = 30; i < 36; i++) {
                    assertFalse(it.valid()[i]);
                }
                assertTrue(it.valid()[24]);
            }
        }
    }
}
