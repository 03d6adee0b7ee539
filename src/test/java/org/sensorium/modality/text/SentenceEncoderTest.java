package org.sensorium.modality.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.config.ConfigException;
import org.sensorium.config.ModalitySpec;
import org.sensorium.config.ModalitySpec.Text.Pretrained;
import org.sensorium.modality.Item;

/** The frozen pretrained text tower: same vectors as an independent implementation, its cache, its errors. */
class SentenceEncoderTest {
    private static final Pretrained MINILM = Pretrained.MINILM;
    private static final Pretrained MINILM_INT8 = new Pretrained("classpath:all-minilm-l6-v2-q.onnx",
            "classpath:all-minilm-l6-v2-q-tokenizer.json", 384, 256, "mean", true, "linear", 1000);

    /** A dozen sentences: short and long, punctuation, case, digits, accents, an empty one. */
    static final List<String> SENTENCES = List.of(
            "a crimson disc drifting leftward",
            "A square that jitters in place.",
            "The person walks down a flight of stairs.",
            "someone lies down on a bed",
            "Brushing teeth with an electric toothbrush, slowly, for 2 minutes!",
            "the sound of a cat meowing",
            "Front Center",
            "HE HOPED THERE WOULD BE STEW FOR DINNER TURNIPS AND CARROTS AND BRUISED POTATOES",
            "Crème brûlée at the café — naïve résumé",
            "?",
            "a",
            "word ".repeat(120).trim()); // 122 word pieces, a paragraph
    // (far longer texts differ on purpose: we truncate at max_length, as the model card says; langchain4j
    // splits long texts into windows and averages them)

    @Test
    void matchesLangchain4jsOwnAllMiniLmL6V2() {
        SentenceEncoder ours = SentenceEncoder.open(MINILM);
        AllMiniLmL6V2EmbeddingModel theirs = new AllMiniLmL6V2EmbeddingModel();
        for (String s : SENTENCES) {
            float[] a = ours.encode(s);
            float[] b = theirs.embed(s).content().vector();
            assertEquals(384, a.length);
            assertEquals(1.0, dot(a, a), 1e-5, s);
            assertTrue(dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b)) >= 0.9999, s + ": cosine " + dot(a, b));
        }
        assertEquals(1.0, dot(ours.encode(""), ours.encode("")), 1e-5, "an empty text ([CLS] [SEP]) is a unit vector too");
        // and the vectors say something: paraphrases are nearer than unrelated sentences
        assertTrue(dot(ours.encode("a red circle moves to the left"), ours.encode("a crimson disc drifting leftward"))
                > dot(ours.encode("a red circle moves to the left"), ours.encode("the sound of a cat meowing")) + 0.2);
    }

    @Test
    void learnedPoolingGetsTheTokenStatesWhoseMeanIsTheSentenceVector() {
        Pretrained learned = new Pretrained(MINILM.model(), MINILM.tokenizer(), 384, 256, "learned", true, "linear", 1000);
        ModalitySpec.Text spec = new ModalitySpec.Text("classpath:all-minilm-l6-v2-q-tokenizer.json", 8, 30522, 1, "pretrained", learned);
        try (TextAdapter t = new TextAdapter(spec)) {
            Item it = t.encode("a crimson disc"); // [CLS] a crimson disc [SEP]: 5 of L = 8 rows valid
            assertArrayEquals(new long[] {8, 384}, it.shape());
            assertArrayEquals(new boolean[] {true, true, true, true, true, false, false, false}, it.valid());
            float[] pooled = SentenceEncoder.pool(it.values(), new long[] {1, 1, 1, 1, 1, 0, 0, 0}, 384, "mean", true);
            assertArrayEquals(SentenceEncoder.open(MINILM).encode("a crimson disc"), pooled, 1e-5f);
        }
    }

    @Test
    void poolsMeanOverValidTokensThenNormalises() {
        // two tokens valid of three, W = 2: mean of (1, 2) and (3, 2) = (2, 2) -> (0.7071, 0.7071)
        float[] states = {1, 2, 3, 2, 100, 100};
        assertArrayEquals(new float[] {0.70710677f, 0.70710677f},
                SentenceEncoder.pool(states, new long[] {1, 1, 0}, 2, "mean", true), 1e-6f);
        assertArrayEquals(new float[] {2, 2}, SentenceEncoder.pool(states, new long[] {1, 1, 0}, 2, "mean", false), 1e-6f);
        assertArrayEquals(new float[] {1, 2}, SentenceEncoder.pool(states, new long[] {1, 1, 0}, 2, "cls", false), 1e-6f);
    }

    @Test
    void cacheGivesIdenticalVectorsAndAnotherModelCannotHitIt() {
        SentenceEncoder fp32 = SentenceEncoder.open(MINILM);
        assertTrue(fp32 == SentenceEncoder.open(MINILM), "one encoder per configuration per JVM");
        String text = "a square that jitters in place, cache test " + System.nanoTime();
        long runs = fp32.runs(), hits = fp32.hits();
        float[] first = fp32.encode(text);
        float[] again = fp32.encode(text);
        assertArrayEquals(first, again);
        assertNotSame(first, again);
        assertEquals(runs + 1, fp32.runs());
        assertEquals(hits + 1, fp32.hits());
        again[0] = 99; // the caller's copy: the cache is not changed through it
        assertArrayEquals(first, fp32.encode(text));

        // The int8 model (another file, the same tokenizer): its own run, another vector.
        SentenceEncoder int8 = SentenceEncoder.open(MINILM_INT8);
        assertFalse(int8.modelSha256().equals(fp32.modelSha256()));
        long int8Runs = int8.runs();
        float[] q = int8.encode(text);
        assertEquals(int8Runs + 1, int8.runs(), "the int8 model ran: the fp32 entry was not a hit");
        assertFalse(java.util.Arrays.equals(first, q));
        assertTrue(dot(first, q) > 0.95, "the int8 model is near the fp32 one: " + dot(first, q));
    }

    @Test
    void adapterGivesTheVectorAndABagGivesRowFlags() {
        ModalitySpec.Text spec = new ModalitySpec.Text("classpath:all-minilm-l6-v2-q-tokenizer.json", 24, 30522, 1, "pretrained", MINILM);
        try (TextAdapter t = new TextAdapter(spec)) {
            Item it = t.encode("a crimson disc");
            assertArrayEquals(new long[] {384}, it.shape());
            assertEquals(null, it.valid());
            assertArrayEquals(SentenceEncoder.open(MINILM).encode("a crimson disc"), it.values());
            assertEquals(List.of("[CLS]", "a", "crimson", "disc", "[SEP]"), t.tokens("a crimson disc"));
        }
        ModalitySpec.Text bag = new ModalitySpec.Text("classpath:all-minilm-l6-v2-q-tokenizer.json", 24, 30522, 3, "pretrained", MINILM);
        assertArrayEquals(new long[] {3, 384}, bag.inputShape());
    }

    @Test
    void missingOrMismatchedFilesAreOneLineErrorsNamingKeyAndFile(@TempDir Path dir) throws Exception {
        ConfigException noModel = assertThrows(ConfigException.class, () -> SentenceEncoder.open(
                new Pretrained(dir.resolve("absent.onnx").toString(), MINILM.tokenizer(), 384, 256, "mean", true, "linear", 10)));
        assertTrue(noModel.getMessage().contains("modalities.text.pretrained.model") && noModel.getMessage().contains("absent.onnx"),
                noModel.getMessage());
        assertFalse(noModel.getMessage().contains("\n"));

        Path notOnnx = Files.writeString(dir.resolve("model.onnx"), "not a model");
        ConfigException bad = assertThrows(ConfigException.class, () -> SentenceEncoder.open(
                new Pretrained(notOnnx.toString(), MINILM.tokenizer(), 384, 256, "mean", true, "linear", 10)));
        assertTrue(bad.getMessage().contains("modalities.text.pretrained.model") && bad.getMessage().contains("model.onnx"), bad.getMessage());
        assertFalse(bad.getMessage().contains("\n"), bad.getMessage());

        ConfigException noTokenizer = assertThrows(ConfigException.class, () -> SentenceEncoder.open(
                new Pretrained(MINILM.model(), dir.resolve("absent.json").toString(), 384, 256, "mean", true, "linear", 10)));
        assertTrue(noTokenizer.getMessage().contains("modalities.text.pretrained.tokenizer")
                && noTokenizer.getMessage().contains("absent.json"), noTokenizer.getMessage());

        ConfigException width = assertThrows(ConfigException.class, () -> SentenceEncoder.open(
                new Pretrained(MINILM.model(), MINILM.tokenizer(), 512, 256, "mean", true, "linear", 10)));
        assertTrue(width.getMessage().contains("modalities.text.pretrained.width") && width.getMessage().contains("384"),
                width.getMessage());

        // A tokenizer of another model: 10,000 more word pieces than the model's embedding table has rows.
        ObjectMapper json = new ObjectMapper();
        ObjectNode tok = (ObjectNode) json.readTree(SentenceEncoder.read("test", MINILM.tokenizer()));
        ObjectNode vocab = (ObjectNode) tok.path("model").path("vocab");
        for (int i = 0; i < 10_000; i++) {
            vocab.put("extra" + i, 30522 + i);
        }
        Path bigger = dir.resolve("other-tokenizer.json");
        json.writeValue(bigger.toFile(), tok);
        ConfigException mismatch = assertThrows(ConfigException.class, () -> SentenceEncoder.open(
                new Pretrained(MINILM.model(), bigger.toString(), 384, 256, "mean", true, "linear", 10)));
        assertTrue(mismatch.getMessage().contains("modalities.text.pretrained.tokenizer")
                && mismatch.getMessage().contains("other-tokenizer.json") && mismatch.getMessage().contains("40521"),
                mismatch.getMessage());
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }
}
