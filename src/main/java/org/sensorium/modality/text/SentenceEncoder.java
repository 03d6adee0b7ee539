package org.sensorium.modality.text;

import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.translate.NoopTranslator;
import ai.djl.translate.TranslateException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.sensorium.config.ConfigException;
import org.sensorium.config.ModalitySpec;

/**
 * A pretrained sentence encoder, frozen, run by DJL's ONNX Runtime engine beside the PyTorch one
 * (modalities.text.tower = pretrained). One text -> its tokenizer.json's ids (truncated to
 * max_length, no padding) -> the ONNX model's token states (1, L, W) -> mean over the valid tokens
 * (or the first token) -> L2-normalised: a (W) sentence vector, as sentence-transformers computes it.
 *
 * <p>The encoder never runs twice on one text: every vector is cached in memory for the life of the
 * JVM under (the model file's SHA-256, the tokenizer file's SHA-256, the settings that change the
 * output, the exact text), so another model or tokenizer file cannot hit another's entries. One
 * encoder per distinct configuration is loaded per JVM ({@link #open}) and shared by every adapter:
 * training, held-out retrieval, zero-shot prompts, QA and {@code eval} all read the same vectors.
 */
public final class SentenceEncoder {
    private static final Map<ModalitySpec.Text.Pretrained, SentenceEncoder> OPEN = new ConcurrentHashMap<>();
    private static final Map<Key, float[]> CACHE = new ConcurrentHashMap<>();
    private static final List<String> INPUTS = List.of("input_ids", "attention_mask", "token_type_ids");

    /** A cache entry's key: which tower (model hash, tokenizer hash, settings) and which text. */
    record Key(String tower, String text) {}

    private final ModalitySpec.Text.Pretrained spec;
    private final String tower;          // "<model sha256>/<tokenizer sha256>/<max_length>/<pooling>/<normalize>"
    private final String modelSha256;
    private final HuggingFaceTokenizer tokenizer;
    private final int vocabSize;
    private final Model model;
    private final Predictor<NDList, NDList> predictor;
    private final List<String> inputs;   // the model's inputs, in its order
    private final AtomicLong runs = new AtomicLong();
    private final AtomicLong hits = new AtomicLong();

    private SentenceEncoder(ModalitySpec.Text.Pretrained spec) {
        this.spec = spec;
        byte[] tokenizerJson = read("modalities.text.pretrained.tokenizer", spec.tokenizer());
        byte[] onnx = read("modalities.text.pretrained.model", spec.model());
        this.modelSha256 = sha256(onnx);
        this.tower = modelSha256 + "/" + sha256(tokenizerJson) + "/" + spec.maxLength() + "/" + spec.pooling() + "/" + spec.normalize();
        this.vocabSize = TextAdapter.vocabSize("modalities.text.pretrained.tokenizer", spec.tokenizer(), tokenizerJson);
        try {
            this.tokenizer = HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(tokenizerJson), Map.of(
                    "maxLength", Integer.toString(spec.maxLength()), "truncation", "true", "padding", "false"));
        } catch (IOException | RuntimeException e) {
            throw new ConfigException("modalities.text.pretrained.tokenizer", "cannot load " + spec.tokenizer() + ": " + e.getMessage());
        }
        Model m = Model.newInstance("text-tower", "OnnxRuntime");
        try {
            // One ONNX Runtime thread: the tower runs in the loader's threads while libtorch trains.
            m.load(new ByteArrayInputStream(onnx), Map.of("interOpNumThreads", "1", "intraOpNumThreads", "1"));
        } catch (IOException | MalformedModelException | RuntimeException e) {
            m.close();
            tokenizer.close();
            throw new ConfigException("modalities.text.pretrained.model", spec.model() + " is not an ONNX model ONNX Runtime can load: " + firstLine(e));
        }
        this.model = m;
        this.inputs = m.getBlock().describeInput().keys();
        this.predictor = m.newPredictor(new NoopTranslator());
        for (String name : inputs) {
            if (!INPUTS.contains(name)) {
                close();
                throw new ConfigException("modalities.text.pretrained.model",
                        spec.model() + " takes an input '" + name + "'; a sentence encoder takes " + INPUTS);
            }
        }
        check();
    }

    /** The encoder of these settings, loaded once per JVM and shared. @throws ConfigException naming the key and the file */
    public static SentenceEncoder open(ModalitySpec.Text.Pretrained spec) {
        SentenceEncoder e = OPEN.get(spec);
        if (e == null) {
            synchronized (OPEN) {
                e = OPEN.computeIfAbsent(spec, SentenceEncoder::new);
            }
        }
        return e;
    }

    /** W, the sentence vector's size. */
    public int width() {
        return spec.width();
    }

    /** The model file's SHA-256 (hex). */
    public String modelSha256() {
        return modelSha256;
    }

    /** Texts this encoder actually ran (cache misses) and cache hits, since it was loaded. */
    public long runs() {
        return runs.get();
    }

    public long hits() {
        return hits.get();
    }

    /**
     * The (W) sentence vector of one text (with learned pooling: its (n, W) token states, n word pieces): from the
     * cache, or one run of the model (then cached). The caller owns the copy.
     */
    public float[] encode(String text) {
        Key key = new Key(tower, text);
        float[] v = CACHE.get(key);
        if (v != null) {
            hits.incrementAndGet();
            return v.clone();
        }
        v = run(text);
        if (CACHE.size() < spec.cacheEntries()) {
            CACHE.putIfAbsent(key, v);
        }
        runs.incrementAndGet();
        return v.clone();
    }

    /** The word pieces of a text as this tower's tokenizer writes them, truncated to max_length. */
    public List<String> tokens(String text) {
        synchronized (tokenizer) { // one native handle shared by the loader threads
            return List.of(tokenizer.encode(text).getTokens());
        }
    }

    private float[] run(String text) {
        Encoding enc;
        synchronized (tokenizer) {
            enc = tokenizer.encode(text);
        }
        return forward(enc.getIds(), enc.getAttentionMask(), enc.getTypeIds());
    }

    /** One sequence through the model, pooled and normalised: ids (L) -> (W). */
    private float[] forward(long[] ids, long[] mask, long[] types) {
        int l = ids.length;
        float[] states;
        long[] shape;
        try (NDManager nd = model.getNDManager().newSubManager()) {
            NDList in = new NDList();
            for (String name : inputs) {
                long[] values = switch (name) {
                    case "input_ids" -> ids;
                    case "attention_mask" -> mask;
                    default -> types;
                };
                NDArray a = nd.create(values, new Shape(1, l));
                a.setName(name);
                in.add(a);
            }
            NDList out;
            synchronized (predictor) { // a DJL predictor is not thread-safe; the loader's threads share it
                out = predictor.predict(in);
            }
            NDArray first = out.get(0);
            shape = first.getShape().getShape();
            states = first.toFloatArray();
            out.close();
        } catch (TranslateException | RuntimeException e) {
            throw new IllegalStateException(spec.model() + ": the text tower failed on a text of " + l + " word pieces: " + firstLine(e), e);
        }
        if (shape.length != 3 || shape[0] != 1 || shape[1] != l) {
            throw new ConfigException("modalities.text.pretrained.model", spec.model() + ": output 0 has shape "
                    + java.util.Arrays.toString(shape) + ", not the token states (1, " + l + ", W)");
        }
        if (shape[2] != spec.width()) {
            throw new ConfigException("modalities.text.pretrained.width", spec.width() + ", but the token states of "
                    + spec.model() + " are " + shape[2] + " wide");
        }
        if (spec.learnedPooling()) {
            return states; // (L x W): the model pools them
        }
        return pool(states, mask, spec.width(), spec.pooling(), spec.normalize());
    }

    /**
     * Sentence vector of token states (L x W, row-major): the mean of the rows whose mask is 1
     * (mean), or row 0 (cls); then divided by its L2 norm when normalize.
     */
    static float[] pool(float[] states, long[] mask, int w, String pooling, boolean normalize) {
        float[] v = new float[w];
        if (pooling.equals("cls")) {
            System.arraycopy(states, 0, v, 0, w);
        } else {
            int n = 0;
            for (int t = 0; t < mask.length; t++) {
                if (mask[t] != 0) {
                    n++;
                    for (int j = 0; j < w; j++) {
                        v[j] += states[t * w + j];
                    }
                }
            }
            for (int j = 0; j < w; j++) {
                v[j] /= Math.max(n, 1);
            }
        }
        if (normalize) {
            double norm = 0;
            for (float x : v) {
                norm += (double) x * x;
            }
            float inv = (float) (1 / Math.max(Math.sqrt(norm), 1e-12));
            for (int j = 0; j < w; j++) {
                v[j] *= inv;
            }
        }
        return v;
    }

    /**
     * At load: a short text gives token states of the configured width, and the tokenizer's highest
     * id is a row of the model's embedding table (a tokenizer of another model fails here, not mid-run).
     */
    private void check() {
        try {
            run("a check");
        } catch (IllegalStateException e) {
            close();
            throw new ConfigException("modalities.text.pretrained.model", spec.model() + " fails on a short text: " + firstLine(e));
        } catch (ConfigException e) {
            close();
            throw e;
        }
        try {
            long top = vocabSize - 1;
            forward(new long[] {tokenId("[CLS]", 101), top, tokenId("[SEP]", 102)}, new long[] {1, 1, 1}, new long[3]);
        } catch (IllegalStateException e) {
            close();
            throw new ConfigException("modalities.text.pretrained.tokenizer", spec.tokenizer() + " has " + vocabSize
                    + " tokens, but " + spec.model() + " fails on id " + (vocabSize - 1) + ": they are not one model's pair");
        } catch (ConfigException e) {
            close();
            throw e;
        }
    }

    private long tokenId(String token, long fallback) {
        long[] ids = tokenizer.encode(token, false, false).getIds();
        return ids.length > 0 ? ids[0] : fallback;
    }

    private void close() {
        if (predictor != null) {
            predictor.close();
        }
        if (model != null) {
            model.close();
        }
        tokenizer.close();
    }

    /** The bytes of "classpath:NAME" or a file. @throws ConfigException naming the key and the file */
    static byte[] read(String key, String location) {
        try {
            if (location.startsWith("classpath:")) {
                String name = location.substring("classpath:".length());
                try (InputStream in = SentenceEncoder.class.getClassLoader().getResourceAsStream(name)) {
                    if (in == null) {
                        throw new IOException("no classpath resource '" + name + "'");
                    }
                    return in.readAllBytes();
                }
            }
            return Files.readAllBytes(Path.of(location));
        } catch (NoSuchFileException e) {
            throw new ConfigException(key, "cannot read " + location + ": no such file");
        } catch (IOException e) {
            throw new ConfigException(key, "cannot read " + location + ": " + e.getMessage());
        }
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String firstLine(Throwable e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
