package org.sensorium.job;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sensorium.config.Config;
import org.sensorium.config.Modality;
import org.sensorium.config.ModalitySpec;
import org.sensorium.config.ModalitySpecs;
import org.sensorium.model.SensoriumModel;

/**
 * config.json of an export: everything a reader needs to rebuild the forward pass of model.safetensors without
 * Sensorium (interop/sensorium_torch.py reads it). Sizes are derived from the run's resolved config exactly as
 * the model derives them and checked against the model built from it; "spec" is the run's modalities.&lt;m&gt;
 * section as written in its config.yaml (rates, normalisation), for whoever prepares inputs.
 *
 * @param formatVersion 1; a reader refuses a version it does not know
 * @param weights the safetensors file, names as {@link org.sensorium.model.TorchNames} maps them
 * @param origin the run and checkpoint the weights come from
 * @param clipSeconds data.clip_seconds: every input shape below is for one clip of this length
 * @param modalities the modalities of the model, in Sensorium's order
 * @param stems per modality that goes through the trunk, its stem (a pretrained text tower has none)
 * @param textTower how text becomes the input of its head; null when the model has no text
 */
record ExportConfig(String format, int formatVersion, String weights, Origin origin, double clipSeconds, List<String> modalities,
        Trunk trunk, int embedDim, String pool, LogitScale logitScale, Map<String, Stem> stems, TextTower textTower) {

    static final String FORMAT = "sensorium-export";
    static final int VERSION = 1;
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .setSerializationInclusion(JsonInclude.Include.NON_NULL);

    /** Where the weights come from. */
    record Origin(String run, String checkpoint, int step, long seed) {}

    /**
     * The shared pre-norm trunk: blocks of x + attn(LN(x)), x + fc2(gelu(fc1(LN(x)))), then a final LN.
     *
     * @param activation "gelu": the exact, erf-based GELU (torch.nn.functional.gelu's default)
     * @param attention softmax(q k^T * attention_scale + mask_bias at padded keys) v per head, q k v from one fused qkv
     */
    record Trunk(int width, int depth, int heads, int mlpRatio, double layerNormEps, String activation, String attention,
            double attentionScale, double maskBias) {}

    /** exp(logit_scale) clamped at max is the contrastive temperature's inverse; the file stores its log. */
    record LogitScale(double value, double init, double max) {}

    /** A modality's stem: raw tensor (B, ...) in, (B, tokens, width) out. */
    sealed interface Stem permits Tubelets, MelPatches, WavePatches, ImuPatches, TokenEmbedding {
        /** N: tokens of one sample. */
        int tokens();

        /** The input of one sample, without the batch axis. */
        long[] inputShape();

        /** A few words for the model card. */
        String summary();
    }

    /** Video or motion (B, T, H, W, C) -> t x p x p tubelets (time, rows, columns, channels within) -> linear. */
    record Tubelets(String kind, long[] inputShape, int frames, int tubeletFrames, int patch, int height, int width, int channels,
            int tokens, JsonNode spec) implements Stem {
        @Override
        public String summary() {
            return tubeletFrames + "x" + patch + "x" + patch + " tubelets of " + channels + " channels";
        }
    }

    /** Audio (B, F, M) log-mel -> p x p patches (time, mel within) -> linear; F = frames, M = mel bands. */
    record MelPatches(String kind, long[] inputShape, int frames, int melBins, int patch, int tokens, JsonNode spec) implements Stem {
        @Override
        public String summary() {
            return "log-mel " + patch + "x" + patch + " patches";
        }
    }

    /** Audio (B, S) waveform -> patches of k samples -> linear. */
    record WavePatches(String kind, long[] inputShape, int samples, int patch, int tokens, JsonNode spec) implements Stem {
        @Override
        public String summary() {
            return "waveform patches of " + patch + " samples";
        }
    }

    /** IMU (B, W, C) -> windows of k samples (samples, then channels within) -> linear. */
    record ImuPatches(String kind, long[] inputShape, int window, int channels, int patch, int tokens, JsonNode spec) implements Stem {
        @Override
        public String summary() {
            return "windows of " + patch + " samples x " + channels + " channels";
        }
    }

    /** Text (B, L) token ids -> embedding rows; valid (B, L) masks padding in attention and pooling. */
    record TokenEmbedding(String kind, long[] inputShape, int maxLength, int vocabSize, int tokens, JsonNode spec) implements Stem {
        @Override
        public String summary() {
            return "token embedding (scratch tower, " + vocabSize + " rows)";
        }
    }

    /**
     * How text reaches its head.
     *
     * @param kind "scratch": ids through stem and trunk; "pretrained": a frozen sentence encoder outside the model
     * @param input "token_ids" (B, L) + valid; "sentence_vector" (B, W): the tower's pooled (and normalised) vector;
     *     "token_states" (B, L, W) + valid (B, L): its token states, pooled by the model's learned query (text_pool)
     * @param bag texts per sample (modalities.text.bag); above 1 each text is embedded alone and a sample's
     *     embedding is the unit mean of its valid texts
     * @param tokenizer the scratch tower's tokenizer.json (copied into the export), or the pretrained tower's
     * @param model the pretrained tower's ONNX file (not copied: it runs outside torch, in ONNX Runtime)
     */
    record TextTower(String kind, String input, int bag, File tokenizer, File model, Integer width, Integer maxLength,
            String pooling, Boolean normalize, String projection) {}

    /** A file the export refers to: its name (in the export when copied), its sha256 and where the run read it. */
    record File(String name, String sha256, String source, boolean copied) {}

    /**
     * The config of a run's model.
     *
     * @param tree the run's resolved config (its config.yaml) for the spec sections
     * @param logitScale the trained scale, exp(logit_scale) clamped
     * @param tokenizer the text tokenizer file entry, or null without text
     * @param towerModel the pretrained tower's ONNX file entry, or null with the scratch tower
     */
    static ExportConfig of(Config cfg, ObjectNode tree, SensoriumModel model, Origin origin, double logitScale, File tokenizer,
            File towerModel) {
        Config.Model m = cfg.model();
        int dh = m.width() / m.heads();
        Trunk trunk = new Trunk(m.width(), m.depth(), m.heads(), m.mlpRatio(), 1e-5, "gelu",
                "softmax(q k^T * attention_scale + mask_bias at padded keys) v", (float) (1.0 / Math.sqrt(dh)), -1e9);
        Map<String, Stem> stems = new LinkedHashMap<>();
        TextTower text = null;
        double clip = cfg.data().clipSeconds();
        for (Modality mod : cfg.activeModalities()) {
            JsonNode spec = tree.path("modalities").path(mod.key()).deepCopy();
            ModalitySpec.Text t = cfg.modalities().text();
            if (mod == Modality.TEXT) {
                ((ObjectNode) spec).remove("pretrained"); // the scratch tower's spec; a pretrained tower has no stem
                text = textTower(t, tokenizer, towerModel);
                if (t.isPretrained()) {
                    continue;
                }
            }
            Stem stem = stem(mod, cfg.modalities(), clip, spec);
            int tokens = stem.tokens();
            if (tokens != model.tokens(mod)) { // the derivation above must be the model's own
                throw new IllegalStateException(mod.key() + ": config.json says " + tokens + " tokens, the model has " + model.tokens(mod));
            }
            stems.put(mod.key(), stem);
        }
        return new ExportConfig(FORMAT, VERSION, "model.safetensors", origin, clip,
                cfg.activeModalities().stream().map(Modality::key).toList(), trunk, m.embedDim(), m.pool(),
                new LogitScale(logitScale, m.logitScaleInit(), m.logitScaleMax()), stems, text);
    }

    private static Stem stem(Modality m, ModalitySpecs s, double clip, JsonNode spec) {
        return switch (m) {
            case VIDEO -> {
                ModalitySpec.Video v = s.video();
                int t = v.frames(clip);
                yield new Tubelets("tubelets", v.inputShape(clip), t, v.tubeletFrames(), v.patch(), v.height(), v.width(), 3,
                        t / v.tubeletFrames() * (v.height() / v.patch()) * (v.width() / v.patch()), spec);
            }
            case MOTION -> {
                ModalitySpec.Motion v = s.motion();
                int t = v.frames(clip);
                yield new Tubelets("tubelets", v.inputShape(clip), t, v.tubeletFrames(), v.patch(), v.gridH(), v.gridW(), 2,
                        t / v.tubeletFrames() * (v.gridH() / v.patch()) * (v.gridW() / v.patch()), spec);
            }
            case AUDIO -> {
                ModalitySpec.Audio a = s.audio();
                yield a.waveform()
                        ? new WavePatches("wave_patches", a.inputShape(clip), a.samples(clip), a.waveformPatch(), a.tokens(clip), spec)
                        : new MelPatches("mel_patches", a.inputShape(clip), a.frames(clip), a.melBins(), a.patch(), a.tokens(clip), spec);
            }
            case IMU -> {
                ModalitySpec.Imu i = s.imu();
                yield new ImuPatches("imu_patches", i.inputShape(clip), i.window(clip), i.channels().size(), i.patch(), i.tokens(clip), spec);
            }
            case TEXT -> new TokenEmbedding("token_embedding", new long[] {s.text().maxLength()}, s.text().maxLength(),
                    s.text().vocabSize(), s.text().maxLength(), spec);
        };
    }

    private static TextTower textTower(ModalitySpec.Text t, File tokenizer, File towerModel) {
        if (!t.isPretrained()) {
            return new TextTower("scratch", "token_ids", t.bag(), tokenizer, null, null, null, null, null, null);
        }
        ModalitySpec.Text.Pretrained p = t.pretrained();
        return new TextTower("pretrained", p.learnedPooling() ? "token_states" : "sentence_vector", t.bag(), tokenizer, towerModel,
                p.width(), p.learnedPooling() ? t.maxLength() : p.maxLength(), p.pooling(), p.normalize(), p.projection());
    }
}
