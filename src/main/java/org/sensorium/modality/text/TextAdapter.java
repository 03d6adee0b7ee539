package org.sensorium.modality.text;

import org.sensorium.modality.Recording;
import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.sensorium.config.ConfigException;
import org.sensorium.modality.BadInputException;
import org.sensorium.modality.Clip;
import org.sensorium.modality.Item;
import org.sensorium.config.Modality;
import org.sensorium.modality.ModalityAdapter;
import org.sensorium.config.ModalitySpec;

/**
 * Text of a clip as WordPiece ids. The text is the subtitle cues (SRT/WebVTT) overlapping
 * [source.start + clip.start, + clip.seconds] joined with a space, or, for an entry without a
 * subtitle file, one of its captions (training: drawn with the clip's seed; evaluation: the first).
 * Tokenised by a HuggingFace tokenizer.json ("classpath:NAME" or a path) with [CLS]/[SEP], truncated
 * and padded to L = spec.maxLength. Output (L): ids as floats, valid = attention mask. Text that is
 * empty (no cue overlaps) is valid and becomes [CLS] [SEP]. With spec.bag K above 1: (K, L), one row
 * per text of {@link #bag}, rows past the bag's texts all-invalid.
 */
public final class TextAdapter implements ModalityAdapter {
    private final ModalitySpec.Text spec;
    private final HuggingFaceTokenizer tokenizer;
    private final int vocabSize;

    /** @throws ConfigException when the tokenizer cannot be read or spec.vocabSize is below its vocabulary */
    public TextAdapter(ModalitySpec.Text spec) {
        this.spec = spec;
        byte[] json = tokenizerBytes(spec.tokenizer());
        this.vocabSize = vocabSize(json);
        if (spec.vocabSize() < vocabSize) {
            throw new ConfigException("modalities.text.vocab_size",
                    spec.vocabSize() + " is smaller than the tokenizer's vocabulary of " + vocabSize + " (" + spec.tokenizer() + ")");
        }
        Map<String, String> options = Map.of(
                "maxLength", Integer.toString(spec.maxLength()),
                "truncation", "true",
                "padding", "max_length");
        try {
            this.tokenizer = HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json), options);
        } catch (IOException | RuntimeException e) {
            throw new ConfigException("modalities.text.tokenizer", "cannot load " + spec.tokenizer() + ": " + e.getMessage());
        }
    }

    @Override
    public Modality modality() {
        return Modality.TEXT;
    }

    /** (L), or (K, L) with a bag. */
    @Override
    public long[] inputShape() {
        return spec.inputShape();
    }

    /** Size of the tokenizer's vocabulary (entries of model.vocab, or the highest added token id + 1 if larger). */
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public Item load(Recording entry, Clip clip) throws BadInputException {
        if (spec.bag() == 1) {
            return tokenize(text(entry, clip));
        }
        List<String> texts = bag(entry, clip);
        int k = spec.bag(), l = spec.maxLength();
        float[] values = new float[k * l];
        boolean[] valid = new boolean[k * l]; // rows past the bag's texts stay all-invalid
        for (int i = 0; i < texts.size(); i++) {
            Item one = tokenize(texts.get(i));
            System.arraycopy(one.values(), 0, values, i * l, l);
            System.arraycopy(one.valid(), 0, valid, i * l, l);
        }
        return new Item(values, spec.inputShape(), valid);
    }

    /**
     * Up to K texts of the clip, in this order: each subtitle cue overlapping the clip, the manifest's
     * captions, then the cues nearest the clip in time (MIL-NCE's neighbouring narrations). At least one.
     */
    List<String> bag(Recording entry, Clip clip) throws BadInputException {
        java.util.LinkedHashSet<String> texts = new java.util.LinkedHashSet<>();
        Recording.Source src = entry.sources().get(Modality.TEXT);
        List<Subtitles.Cue> cues = src == null ? List.of() : cues(entry, src);
        double from = src == null ? 0 : src.start() + clip.start();
        double to = from + clip.seconds();
        for (Subtitles.Cue c : cues) {
            if (c.overlaps(from, to) && !c.text().isEmpty()) {
                texts.add(c.text());
            }
        }
        texts.addAll(entry.captions());
        List<Subtitles.Cue> byDistance = new java.util.ArrayList<>(cues);
        byDistance.sort(java.util.Comparator.comparingDouble(c -> Math.max(0, Math.max(c.start() - to, from - c.end()))));
        for (Subtitles.Cue c : byDistance) {
            if (!c.text().isEmpty()) {
                texts.add(c.text());
            }
        }
        if (texts.isEmpty()) {
            throw new BadInputException(entry.where() + ": " + (src == null ? "(no file)" : src.path()) + ": no text for the clip");
        }
        return texts.stream().limit(spec.bag()).toList();
    }

    private static List<Subtitles.Cue> cues(Recording entry, Recording.Source src) throws BadInputException {
        try {
            return Subtitles.read(src.path());
        } catch (IOException e) {
            String reason = e instanceof java.nio.file.NoSuchFileException ? "no such file" : e.getMessage();
            throw new BadInputException(entry.where() + ": " + src.path() + ": " + reason, e);
        }
    }

    /** (L) ids of one text, [CLS] text [SEP] [PAD]..., truncated to L. */
    public Item tokenize(String text) {
        Encoding enc;
        synchronized (tokenizer) { // one native handle shared by the loader threads
            enc = tokenizer.encode(text);
        }
        long[] ids = enc.getIds();
        long[] mask = enc.getAttentionMask();
        int l = spec.maxLength();
        float[] values = new float[l];
        boolean[] valid = new boolean[l];
        for (int i = 0; i < Math.min(l, ids.length); i++) {
            values[i] = ids[i];
            valid[i] = mask[i] != 0;
        }
        return new Item(values, new long[] {l}, valid);
    }

    /** The tokens of one text as the tokenizer writes them ([CLS], word pieces, [SEP]), truncated to L, without padding. */
    public List<String> tokens(String text) {
        Encoding enc;
        synchronized (tokenizer) {
            enc = tokenizer.encode(text);
        }
        String[] tokens = enc.getTokens();
        long[] mask = enc.getAttentionMask();
        List<String> out = new java.util.ArrayList<>();
        for (int i = 0; i < Math.min(spec.maxLength(), tokens.length); i++) {
            if (mask[i] != 0) {
                out.add(tokens[i]);
            }
        }
        return out;
    }

    /**
     * The clip's text: overlapping subtitle cues, else a caption.
     *
     * @throws BadInputException when the subtitle file is unusable, or there is neither a file nor a caption
     */
    public String text(Recording entry, Clip clip) throws BadInputException {
        Recording.Source src = entry.sources().get(Modality.TEXT);
        if (src != null) {
            List<Subtitles.Cue> cues = cues(entry, src);
            double from = src.start() + clip.start();
            double to = Math.min(from + clip.seconds(), Double.isNaN(src.end()) ? Double.POSITIVE_INFINITY : src.end());
            return Subtitles.textBetween(cues, from, to);
        }
        List<String> captions = entry.captions();
        if (captions.isEmpty()) {
            throw new BadInputException(entry.where() + ": (no file): no subtitle file and no captions");
        }
        int k = clip.train() ? new SplittableRandom(clip.seed()).nextInt(captions.size()) : 0;
        return captions.get(k);
    }

    private static byte[] tokenizerBytes(String location) {
        try {
            if (location.startsWith("classpath:")) {
                String name = location.substring("classpath:".length());
                try (InputStream in = TextAdapter.class.getClassLoader().getResourceAsStream(name)) {
                    if (in == null) {
                        throw new IOException("no classpath resource '" + name + "'");
                    }
                    return in.readAllBytes();
                }
            }
            return Files.readAllBytes(Path.of(location));
        } catch (IOException e) {
            throw new ConfigException("modalities.text.tokenizer", "cannot read " + location + ": " + e.getMessage());
        }
    }

    private static int vocabSize(byte[] json) {
        try {
            JsonNode root = new ObjectMapper().readTree(json);
            int size = root.path("model").path("vocab").size();
            for (JsonNode t : root.path("added_tokens")) {
                size = Math.max(size, t.path("id").asInt(-1) + 1);
            }
            if (size == 0) {
                throw new ConfigException("modalities.text.tokenizer", "tokenizer.json has no model.vocab");
            }
            return size;
        } catch (IOException e) {
            throw new ConfigException("modalities.text.tokenizer", "not a tokenizer.json: " + e.getMessage());
        }
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
