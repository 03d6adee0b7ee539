package org.sensorium.eval;


import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.config.Modality;

/**
 * An evaluation suite (eval/&lt;suite&gt;.yaml): a name, clips per recording, and a list of tasks. Every
 * key is validated here; an error names the file and the key ("eval/smoke.yaml: tasks[2].k: ...").
 *
 * <pre>
 * clips: 1                       # default clips per recording, evenly spaced, embeddings averaged
 * tasks:
 *   - name: zero_shot_video      # unique; names the embeddings CSV
 *     kind: zero_shot            # zero_shot | retrieval | linear_probe | knn | segmentation | finetune | qa
 *     modality: video
 *     labels: eval/labels/sample.txt
 *     templates: eval/templates/sample.txt
 *     manifest: ""               # a JSONL manifest; empty = the run's own manifest
 * </pre>
 *
 * Samples with split "train" are the training side (probe, kNN); all others (val, test) are tested.
 * Paths are relative to the working directory, as data.manifest is.
 */
public record Suite(String name, Path file, int clips, List<Task> tasks) {

    /** Where a task's samples come from: a manifest file, the run's own manifest (null path), or N generated long recordings. */
    public record Source(Path manifest, int synthLong) {
        public static final Source RUN = new Source(null, 0);

        /** Key of the embedding cache. */
        public String key(int clips) {
            return (manifest == null ? "run" : manifest.toString()) + "|long=" + synthLong + "|clips=" + clips;
        }
    }

    /**
     * One task; {@link #modalities} are the encoders it needs (and, for the embedding kinds, the embeddings it
     * needs from its source). A new kind is a record here, a constant of {@link Kind}, its keys and construction in
     * {@code task}, a branch in the evaluation's switch over {@link Kind}, and a line in the README's table of kinds.
     */
    public interface Task {
        String name();

        String kind();

        Source source();

        int clips();

        Set<Modality> modalities();
    }

    /** Class-name prompts through the text encoder against a modality's embeddings (open_clip's zero-shot protocol). */
    public record ZeroShot(String name, Modality modality, Path labels, Path templates, boolean centre, Source source, int clips)
            implements Task {
        public String kind() {
            return "zero_shot";
        }

        public Set<Modality> modalities() {
            return Set.of(modality);
        }
    }

    /** Both directions of every pair over the held-out samples that have both modalities. */
    public record RetrievalTask(String name, List<Config.Pair> pairs, Source source, int clips) implements Task {
        public String kind() {
            return "retrieval";
        }

        public Set<Modality> modalities() {
            Set<Modality> s = new HashSet<>();
            pairs.forEach(p -> {
                s.add(p.a());
                s.add(p.b());
            });
            return s;
        }
    }

    /**
     * Multinomial logistic regression on frozen unit embeddings; l2 picked on a validation share of the
     * train split, then refit on train + validation.
     */
    public record LinearProbe(String name, Modality modality, List<Double> l2, double valFraction, Source source, int clips)
            implements Task {
        public String kind() {
            return "linear_probe";
        }

        public Set<Modality> modalities() {
            return Set.of(modality);
        }
    }

    /** Cosine kNN with DINO's temperature-weighted votes exp(sim / temperature). */
    public record Knn(String name, Modality modality, int k, double temperature, Source source, int clips) implements Task {
        public String kind() {
            return "knn";
        }

        public Set<Modality> modalities() {
            return Set.of(modality);
        }
    }

    /**
     * Temporal segmentation of held-out long recordings (manifest entries with segments): windows of the
     * run's clip length every stride seconds, clustered (method kmeans, or temporal_ot: the run's
     * prototypes; auto = temporal_ot when the run trained it on this modality).
     */
    public record SegmentationTask(String name, Modality modality, String method, double strideSeconds, Source source)
            implements Task {
        public String kind() {
            return "segmentation";
        }

        public int clips() {
            return 1;
        }

        public Set<Modality> modalities() {
            return Set.of(modality);
        }
    }

    /**
     * Activity recognition by fine-tuning ({@link FineTune}): a linear classifier on the modality's encoder,
     * trained (what: full | head | last:N) on N labelled samples per class of the train split drawn per seed
     * (shots 0 = all), tested on the held-out split; mean and std over seeds. Each seed starts from the
     * checkpoint again; the embeddings the other tasks share are not used.
     */
    public record FineTuneTask(String name, Modality modality, String trainable, int shots, int epochs, float lr, float headLr,
            int batch, List<Long> seeds, Source source) implements Task {
        public String kind() {
            return "finetune";
        }

        public int clips() {
            return 1;
        }

        public Set<Modality> modalities() {
            return Set.of(modality);
        }
    }

    /**
     * Multiple-choice video QA ({@link VideoQa}) on a QA manifest (null: qa.jsonl beside the run's manifest):
     * a fusion head trained on the train items with frozen encoders, accuracy on the held-out items; mean and
     * std over seeds. pretextSteps above 0: the encoders first train that many steps on the QA pretext (question
     * prediction and masked-answer contrastive, Kim et al. 2021) of the train items.
     */
    public record QaTask(String name, Path qa, boolean subtitles, int hidden, int epochs, float lr, int batch, List<Long> seeds,
            int pretextSteps) implements Task {
        /** Without the QA pretext. */
        public QaTask(String name, Path qa, boolean subtitles, int hidden, int epochs, float lr, int batch, List<Long> seeds) {
            this(name, qa, subtitles, hidden, epochs, lr, batch, seeds, 0);
        }

        public String kind() {
            return "qa";
        }

        public Source source() {
            return Source.RUN;
        }

        public int clips() {
            return 1;
        }

        public Set<Modality> modalities() {
            return Set.of(Modality.VIDEO, Modality.TEXT);
        }
    }

    /**
     * The task kinds a suite holds, by {@link Task#kind()}: the names a suite file may use, and what the evaluation
     * switches over (a kind added here fails to compile until the evaluation has a branch for it).
     */
    public enum Kind {
        ZERO_SHOT("zero_shot", true),
        RETRIEVAL("retrieval", true),
        LINEAR_PROBE("linear_probe", true),
        KNN("knn", true),
        SEGMENTATION("segmentation", false),
        FINETUNE("finetune", false),
        QA("qa", false);

        private final String key;
        private final boolean sharesEmbeddings;

        Kind(String key, boolean sharesEmbeddings) {
            this.key = key;
            this.sharesEmbeddings = sharesEmbeddings;
        }

        /** Whether the task reads the embeddings {@link EvalSamples} shares; segmentation, fine-tuning and QA embed their own. */
        public boolean sharesEmbeddings() {
            return sharesEmbeddings;
        }

        public static Kind of(Task t) {
            for (Kind k : values()) {
                if (k.key.equals(t.kind())) {
                    return k;
                }
            }
            throw new IllegalStateException("no evaluation for task kind " + t.kind());
        }

        /** The names a suite file may give as kind. */
        static List<String> keys() {
            return java.util.Arrays.stream(values()).map(k -> k.key).toList();
        }
    }

    private static final List<String> KINDS = Kind.keys();

    /** Reads and validates a suite file. @throws ConfigException naming the file and key */
    public static Suite load(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ConfigException("--suite", file + ": no such file");
        }
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(file.toFile());
        } catch (IOException e) {
            throw new ConfigException("--suite", file + ": not YAML: " + e.getMessage().lines().findFirst().orElse(""));
        }
        String where = file + ": ";
        if (root == null || !root.isObject()) {
            throw new ConfigException(where + "tasks", "the suite must be a mapping with a list of tasks");
        }
        SuiteKeys top = new SuiteKeys(where, "", root, "name", "clips", "tasks");
        String fallback = file.getFileName().toString().replaceFirst("\\.ya?ml$", "");
        String name = top.string("name", fallback);
        int clips = top.integer("clips", 1, 1);
        JsonNode list = root.get("tasks");
        if (list == null || !list.isArray() || list.isEmpty()) {
            throw new ConfigException(where + "tasks", "must be a non-empty list of tasks");
        }
        List<Task> tasks = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            Task t = task(where, "tasks[" + i + "].", list.get(i), clips);
            if (!names.add(t.name())) {
                throw new ConfigException(where + "tasks[" + i + "].name", "'" + t.name() + "' is used by an earlier task");
            }
            tasks.add(t);
        }
        return new Suite(name, file, clips, List.copyOf(tasks));
    }

    private static Task task(String where, String at, JsonNode node, int suiteClips) {
        if (node == null || !node.isObject()) {
            throw new ConfigException(where + at.substring(0, at.length() - 1), "a task must be a mapping with a kind");
        }
        JsonNode k = node.get("kind");
        String kind = k == null ? "" : k.asText();
        if (!KINDS.contains(kind)) {
            throw new ConfigException(where + at + "kind", "'" + kind + "' is not one of " + KINDS);
        }
        List<String> common = List.of("name", "kind", "manifest", "synth_long", "clips");
        List<String> own = switch (kind) {
            case "zero_shot" -> List.of("modality", "labels", "templates", "centre");
            case "retrieval" -> List.of("pairs");
            case "linear_probe" -> List.of("modality", "l2", "val_fraction");
            case "knn" -> List.of("modality", "k", "temperature");
            case "finetune" -> List.of("modality", "train", "shots", "epochs", "lr", "head_lr", "batch", "seeds");
            case "qa" -> List.of("qa", "subtitles", "hidden", "epochs", "lr", "batch", "seeds", "pretext_steps");
            default -> List.of("modality", "method", "stride_seconds");
        };
        List<String> allowed = new ArrayList<>(common);
        allowed.addAll(own);
        SuiteKeys t = new SuiteKeys(where, at, node, allowed.toArray(String[]::new));
        String name = t.string("name", kind + (node.has("modality") ? "_" + node.get("modality").asText() : ""));
        if (!name.matches("[A-Za-z0-9_.-]+")) {
            throw new ConfigException(where + at + "name", "'" + name + "' must be letters, digits, _ . - (it names a file)");
        }
        Source source = source(where + at, kind, node, t);
        int clips = t.integer("clips", suiteClips, 1);
        return switch (kind) {
            case "zero_shot" -> new ZeroShot(name, t.modality("modality"), t.file("labels"), t.file("templates"), t.bool("centre", false),
                    source, clips);
            case "retrieval" -> new RetrievalTask(name, t.pairs("pairs"), source, clips);
            case "linear_probe" -> new LinearProbe(name, t.modality("modality"), t.l2("l2"), t.fraction("val_fraction", 0.2), source, clips);
            case "knn" -> new Knn(name, t.modality("modality"), t.integer("k", 20, 1), t.positive("temperature", 0.07), source, clips);
            case "finetune" -> {
                String trainable = t.string("train", "full");
                try {
                    trainableBlocks(trainable, Integer.MAX_VALUE);
                } catch (ConfigException e) {
                    throw new ConfigException(where + at + "train", "'" + trainable + "' must be full, head or last:N");
                }
                yield new FineTuneTask(name, t.modality("modality"), trainable, t.integer("shots", 5, 0), t.integer("epochs", 20, 1),
                        (float) t.nonNegative("lr", 1e-4), (float) t.positive("head_lr", 0.01), t.integer("batch", 20, 1), t.seeds("seeds"), source);
            }
            case "qa" -> {
                String qa = t.string("qa", "");
                if (!qa.isEmpty() && !Files.isRegularFile(Path.of(qa))) {
                    throw new ConfigException(where + at + "qa", qa + ": no such file");
                }
                yield new QaTask(name, qa.isEmpty() ? null : Path.of(qa), t.bool("subtitles", true), t.integer("hidden", 64, 1),
                        t.integer("epochs", 30, 1), (float) t.positive("lr", 0.003), t.integer("batch", 32, 1), t.seeds("seeds"),
                        t.integer("pretext_steps", 0, 0));
            }
            default -> {
                String method = t.string("method", "auto");
                if (!List.of("auto", "kmeans", "temporal_ot").contains(method)) {
                    throw new ConfigException(where + at + "method", "'" + method + "' is not one of [auto, kmeans, temporal_ot]");
                }
                yield new SegmentationTask(name, t.modality("modality"), method, t.positive("stride_seconds", 0.5), source);
            }
        };
    }

    /** Where a task's samples come from: its manifest, long recordings, or (neither) the run's own held-out split. */
    private static Source source(String at, String kind, JsonNode node, SuiteKeys t) {
        if (kind.equals("qa") && (node.has("manifest") || node.has("synth_long") || node.has("clips"))) {
            throw new ConfigException(at + (node.has("manifest") ? "manifest" : node.has("clips") ? "clips" : "synth_long"),
                    "a qa task reads its items from the qa key (a QA manifest), one clip per moment");
        }
        String manifest = t.string("manifest", "");
        int synthLong = t.integer("synth_long", 0, 0);
        if (!manifest.isEmpty() && synthLong > 0) {
            throw new ConfigException(at + "synth_long", "give either manifest or synth_long, not both");
        }
        if (!manifest.isEmpty() && !Files.isRegularFile(Path.of(manifest))) {
            throw new ConfigException(at + "manifest", manifest + ": no such file");
        }
        if (kind.equals("finetune") && synthLong > 0) {
            throw new ConfigException(at + "synth_long", "finetune needs labelled samples; long recordings carry segments, not labels");
        }
        return new Source(manifest.isEmpty() ? null : Path.of(manifest), synthLong);
    }

    /**
     * Trunk blocks "last:N" trains (N, checked against depth), 0 for "head", depth for "full".
     *
     * @throws ConfigException naming --train when the value is none of these
     */
    public static int trainableBlocks(String trainable, int depth) {
        if (trainable.equals("head")) {
            return 0;
        }
        if (trainable.equals("full")) {
            return depth;
        }
        if (trainable.startsWith("last:")) {
            try {
                int n = Integer.parseInt(trainable.substring(5));
                if (n >= 1 && n <= depth) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
        }
        throw new ConfigException("--train", "'" + trainable + "' must be full, head or last:N with 1 <= N <= depth"
                + (depth == Integer.MAX_VALUE ? "" : " (" + depth + ")"));
    }
}
