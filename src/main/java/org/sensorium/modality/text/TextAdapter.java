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
 *
 * <p>With a pretrained tower (spec.tower = pretrained) the same texts become the frozen
 * {@link SentenceEncoder}'s vectors instead: (W), every entry valid; with a bag (K, W) and valid (K),
 * one flag per row.
 */
public final class TextAdapter implements ModalityAdapter {
    private final ModalitySpec.Text spec;
    private final HuggingFaceTokenizer tokenizer; // scratch tower
    private final SentenceEncoder encoder;        // pretrained tower
    private final int vocabSize;

    /** @throws ConfigException when the tokenizer (or the pretrained tower) cannot be read or spec.vocabSize is below its vocabulary */
    public TextAdapter(ModalitySpec.Text spec) {
        this.spec = spec;
        if (spec.isPretrained()) {
            this.encoder = SentenceEncoder.open(spec.pretrained());
            this.tokenizer = null;
            this.vocabSize = 0;
            return;
        }
        this.encoder = null;
        byte[] json = SentenceEncoder.read("modalities.text.tokenizer", spec.tokenizer());
        this.vocabSize = vocabSize("modalities.text.tokenizer", spec.tokenizer(), json);
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

    /** (L), or (K, L) with a bag; (W) or (K, W) with a pretrained tower. */
    @Override
    public long[] inputShape() {
        return spec.inputShape();
    }

    /** The frozen pretrained tower, or null for the scratch tower. */
    public SentenceEncoder tower() {
        return encoder;
    }

    /** Size of the tokenizer's vocabulary (entries of model.vocab, or the highest added token id + 1 if larger); 0 with a pretrained tower. */
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public Item load(Recording entry, Clip clip) throws BadInputException {
        if (spec.bag() == 1) {
            return encode(text(entry, clip));
        }
        return rows(bag(entry, clip));
    }

    /** A bag of texts as one sample: (K, L) or (K, W), one row per text, rows past them invalid. */
    private Item rows(List<String> texts) {
        int k = spec.bag(), l = (int) spec.inputShape()[1]; // L ids, or W with a pretrained tower
        float[] values = new float[k * l];
        boolean[] valid = new boolean[encoder == null ? k * l : k]; // rows past the bag's texts stay all-invalid
        for (int i = 0; i < texts.size(); i++) {
            Item one = encode(texts.get(i));
            System.arraycopy(one.values(), 0, values, i * l, l);
            if (encoder == null) {
                System.arraycopy(one.valid(), 0, valid, i * l, l);
            } else {
                valid[i] = true;
            }
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

    /**
     * The model's input for one text: (L) ids, [CLS] text [SEP] [PAD]..., truncated to L; with a
     * pretrained tower its (W) sentence vector (cached: the tower runs once per distinct text).
     */
    public Item encode(String text) {
        if (encoder != null && spec.pretrained().learnedPooling()) { // token states (n, W) -> (L, W) padded, valid (L)
            float[] states = encoder.encode(text);
            int w = encoder.width(), l = spec.maxLength(), n = Math.min(l, states.length / w);
            float[] values = new float[l * w];
            System.arraycopy(states, 0, values, 0, n * w);
            boolean[] valid = new boolean[l];
            java.util.Arrays.fill(valid, 0, n, true);
            return new Item(values, new long[] {l, w}, valid);
        }
        if (encoder != null) {
            return new Item(encoder.encode(text), new long[] {encoder.width()}, null);
        }
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

    /**
     * One free text (a prompt, a question with an answer) as a whole sample in {@link #inputShape}: its
     * {@link #encode} result, or with a bag, that as row 0 and the other rows invalid.
     */
    public Item sample(String text) {
        return spec.bag() == 1 ? encode(text) : rows(List.of(text));
    }

    /** The tokens of one text as the tokenizer writes them ([CLS], word pieces, [SEP]), truncated to L, without padding. */
    public List<String> tokens(String text) {
        if (encoder != null) {
            return encoder.tokens(text);
        }
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

    /**
     * The recording's whole text, DeCLUTR's document: every non-empty subtitle cue within the source's span, in order,
     * joined with a space; for a recording without a subtitle file its first caption.
     *
     * @throws BadInputException when the subtitle file is unusable, or there is neither a file nor a caption
     */
    public String document(Recording entry) throws BadInputException {
        Recording.Source src = entry.sources().get(Modality.TEXT);
        if (src == null) {
            if (entry.captions().isEmpty()) {
                throw new BadInputException(entry.where() + ": (no file): no subtitle file and no captions");
            }
            return entry.captions().get(0);
        }
        double to = Double.isNaN(src.end()) ? Double.POSITIVE_INFINITY : src.end();
        return Subtitles.textBetween(cues(entry, src), src.start(), to);
    }

    /** Entries of a tokenizer.json's model.vocab, or its highest added token id + 1 if larger. @throws ConfigException naming key and file */
    static int vocabSize(String key, String location, byte[] json) {
        try {
            JsonNode root = new ObjectMapper().readTree(json);
            int size = root.path("model").path("vocab").size();
            for (JsonNode t : root.path("added_tokens")) {
                size = Math.max(size, t.path("id").asInt(-1) + 1);
            }
            if (size == 0) {
                throw new ConfigException(key, location + " has no model.vocab: not a tokenizer.json");
            }
            return size;
        } catch (IOException e) {
            throw new ConfigException(key, location + " is not a tokenizer.json: " + e.getMessage());
        }
    }

    @Override
    public void close() {
        if (tokenizer != null) {
            tokenizer.close(); // a pretrained tower stays open: it is shared for the life of the JVM
        }
    }
}
