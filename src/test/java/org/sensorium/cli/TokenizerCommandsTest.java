package org.sensorium.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.config.ModalitySpec;
import org.sensorium.modality.text.TextAdapter;

/** `sensorium tokenizer train` through picocli: the summary, the file it writes, and its errors. */
class TokenizerCommandsTest {

    @Test
    void trainsWritesAndPrintsTheConfigLines(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("a.srt"), "1\n00:00:00,000 --> 00:00:02,000\nhug hug hugs\n");
        Path manifest = Files.writeString(dir.resolve("m.jsonl"),
                "{\"id\":\"a\",\"split\":\"train\",\"text\":{\"uri\":\"a.srt\"}}\n"
                        + "{\"id\":\"b\",\"split\":\"train\",\"captions\":[\"pug pun bun\"]}\n"
                        + "{\"id\":\"c\",\"split\":\"train\",\"text\":{\"uri\":\"gone.srt\"}}\n"
                        + "{\"id\":\"d\",\"split\":\"train\",\"video\":{\"uri\":\"v.mp4\"}}\n");
        Path out = dir.resolve("out/tokenizer.json");
        Object[] r = MainTest.cli(List.of("tokenizer", "train", manifest.toString(), "--vocab-size", "15", "--min-frequency", "1",
                "--out", out.toString()));
        assertEquals(0, r[0], (String) r[2]);
        // The corpus of WordPieceTrainerTest: 7 characters, the first 3 merges fill 15 tokens. Of the 6 words,
        // hug x2 = h ##ug, hugs = h ##ug ##s, pug = p ##ug, pun = p ##un, bun = b ##un: all split, 13 tokens.
        assertEquals(String.join("\n",
                "m.jsonl: 4 lines read, 1 skipped, 1 without text; text: 1 captions, 1 subtitle cues",
                "  skipped m.jsonl:3 (id=c): " + dir.resolve("gone.srt") + ": no such file",
                "words: 6 (5 distinct); characters: 7 kept, 0 below --min-frequency 1",
                "vocabulary: 15 tokens = 5 special + 7 characters + 3 merged (--vocab-size reached)",
                "corpus words: 0.00% become [UNK], 100.00% are split, 2.167 tokens per word",
                "wrote " + out.toAbsolutePath(),
                "use it with:",
                "  --set modalities.text.tokenizer=" + out.toAbsolutePath() + " --set modalities.text.vocab_size=15"),
                ((String) r[1]).strip());
        try (TextAdapter text = new TextAdapter(new ModalitySpec.Text(out.toString(), 6, 15))) {
            assertEquals(15, text.vocabSize());
        }
    }

    @Test
    void badManifestOrOptionsAreOneLineWithExitCode2(@TempDir Path dir) throws Exception {
        Path bad = Files.writeString(dir.resolve("bad.jsonl"), "{\"id\":\"a\",\"split\":\"train\",\"captions\":[\"x\"]}\n{\"id\": \n");
        Object[] r = MainTest.cli(List.of("tokenizer", "train", bad.toString(), "--out", dir.resolve("t.json").toString()));
        assertEquals(2, r[0]);
        String err = ((String) r[2]).strip();
        assertTrue(err.startsWith("error: bad.jsonl:2: not valid JSON") && !err.contains("\n"), err);
        assertTrue(Files.notExists(dir.resolve("t.json")));

        Object[] missing = MainTest.cli(List.of("tokenizer", "train", dir.resolve("nope.jsonl").toString(), "--out", "t.json"));
        assertEquals(2, missing[0]);
        assertTrue(((String) missing[2]).startsWith("error: " + dir.resolve("nope.jsonl") + ": cannot read"), (String) missing[2]);

        Path videoOnly = Files.writeString(dir.resolve("v.jsonl"), "{\"id\":\"a\",\"split\":\"train\",\"video\":{\"uri\":\"v.mp4\"}}\n");
        Object[] empty = MainTest.cli(List.of("tokenizer", "train", videoOnly.toString(), "--out", "t.json"));
        assertEquals(2, empty[0]);
        assertEquals("error: v.jsonl: no text to train on (1 lines: 1 without captions or subtitles, 0 skipped)",
                ((String) empty[2]).strip());

        Object[] small = MainTest.cli(List.of("tokenizer", "train", videoOnly.toString(), "--vocab-size", "5", "--out", "t.json"));
        assertEquals(2, small[0]);
        assertEquals("error: --vocab-size: 5 must be > 5 (the special tokens [[PAD], [UNK], [CLS], [SEP], [MASK]])",
                ((String) small[2]).strip());

        Object[] noOut = MainTest.cli(List.of("tokenizer", "train", videoOnly.toString()));
        assertEquals(2, noOut[0], "picocli's usage error");
        assertTrue(((String) noOut[2]).contains("Missing required option: '--out=<out>'"), (String) noOut[2]);
    }
}
