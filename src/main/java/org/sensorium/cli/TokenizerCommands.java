package org.sensorium.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.sensorium.config.ConfigException;
import org.sensorium.data.Manifest;
import org.sensorium.data.ManifestEntry;
import org.sensorium.data.ManifestException;
import org.sensorium.modality.text.WordPieceTrainer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** `sensorium tokenizer train`: a WordPiece vocabulary of one's own. */
final class TokenizerCommands {
    private static final int SKIPS_SHOWN = 10;

    private TokenizerCommands() {}

    @Command(name = "tokenizer", mixinStandardHelpOptions = true, description = "Text tokenizer tools.",
            subcommands = {TrainCmd.class})
    static final class TokenizerCmd implements Callable<Integer> {
        @Override
        public Integer call() {
            CommandLine.usage(this, System.out);
            return 0;
        }
    }

    @Command(name = "train", mixinStandardHelpOptions = true,
            description = "Learn a WordPiece vocabulary from a manifest's captions and subtitle cues and write it as a "
                    + "tokenizer.json (BERT uncased pre-processing) for modalities.text.tokenizer.")
    static final class TrainCmd implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "MANIFEST", description = "JSONL manifest")
        Path manifest;

        @Option(names = "--vocab-size", defaultValue = "8000", description = "tokens in the vocabulary, special tokens included (default ${DEFAULT-VALUE})")
        int vocabSize;

        @Option(names = "--min-frequency", defaultValue = "2",
                description = "occurrences a character or a pair needs to enter the vocabulary (default ${DEFAULT-VALUE})")
        int minFrequency;

        @Option(names = "--out", required = true, description = "the tokenizer.json to write")
        Path out;

        @Option(names = "--strict", description = "stop at the first unreadable subtitle file instead of skipping its line")
        boolean strict;

        @Option(names = "--debug", description = "print stack traces")
        boolean debug;

        @Override
        public Integer call() throws Exception {
            if (vocabSize <= WordPieceTrainer.SPECIAL_TOKENS.size()) {
                throw new ConfigException("--vocab-size", vocabSize + " must be > " + WordPieceTrainer.SPECIAL_TOKENS.size()
                        + " (the special tokens " + WordPieceTrainer.SPECIAL_TOKENS + ")");
            }
            if (minFrequency < 1) {
                throw new ConfigException("--min-frequency", minFrequency + " must be >= 1");
            }
            List<ManifestEntry> entries = Manifest.read(manifest);
            WordPieceTrainer.Corpus corpus = WordPieceTrainer.read(entries.stream().map(org.sensorium.data.ManifestEntry::recording).toList(), strict);
            if (corpus.words().isEmpty()) {
                throw new ManifestException(manifest.getFileName() + ": no text to train on (" + corpus.lines() + " lines: "
                        + corpus.linesWithoutText() + " without captions or subtitles, " + corpus.skipped().size() + " skipped)");
            }
            WordPieceTrainer.Vocabulary v = new WordPieceTrainer(vocabSize, minFrequency).train(corpus.words());
            WordPieceTrainer.write(v.tokens(), out);
            System.out.println(render(manifest, corpus, v, WordPieceTrainer.coverage(corpus.words(), v.tokens()),
                    vocabSize, minFrequency, out.toAbsolutePath()));
            return 0;
        }
    }

    static String render(Path manifest, WordPieceTrainer.Corpus c, WordPieceTrainer.Vocabulary v, WordPieceTrainer.Coverage cov,
            int vocabSize, int minFrequency, Path out) {
        int specials = WordPieceTrainer.SPECIAL_TOKENS.size();
        int size = v.tokens().size();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%s: %d lines read, %d skipped, %d without text; text: %d captions, %d subtitle cues%n",
                manifest.getFileName(), c.lines(), c.skipped().size(), c.linesWithoutText(), c.captions(), c.cues()));
        for (String skip : c.skipped().subList(0, Math.min(SKIPS_SHOWN, c.skipped().size()))) {
            sb.append("  skipped ").append(skip).append('\n');
        }
        if (c.skipped().size() > SKIPS_SHOWN) {
            sb.append("  ... and ").append(c.skipped().size() - SKIPS_SHOWN).append(" more\n");
        }
        sb.append(String.format(Locale.ROOT, "words: %d (%d distinct); characters: %d kept, %d below --min-frequency %d%n",
                c.wordCount(), c.words().size(), v.alphabet(), v.droppedCharacters(), minFrequency));
        String stop = size >= vocabSize ? (specials + v.alphabet() > vocabSize ? "the characters alone exceed --vocab-size " + vocabSize
                : "--vocab-size reached") : "no pair left that occurs " + minFrequency + " times or more";
        sb.append(String.format(Locale.ROOT, "vocabulary: %d tokens = %d special + %d characters + %d merged (%s)%n",
                size, specials, v.alphabet(), size - specials - v.alphabet(), stop));
        sb.append(String.format(Locale.ROOT, "corpus words: %.2f%% become [UNK], %.2f%% are split, %.3f tokens per word%n",
                100 * cov.unknownFraction(), 100 * cov.splitFraction(), cov.tokensPerWord()));
        sb.append("wrote ").append(out).append('\n');
        sb.append("use it with:\n");
        sb.append("  --set modalities.text.tokenizer=").append(out).append(" --set modalities.text.vocab_size=").append(size);
        return sb.toString();
    }
}
