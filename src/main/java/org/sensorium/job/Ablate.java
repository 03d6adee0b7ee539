package org.sensorium.job;

import org.sensorium.eval.Segmentation;
import org.sensorium.config.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sensorium.config.ConfigException;
import org.sensorium.config.ConfigLoader;
import org.sensorium.eval.ClusterMetrics;
import org.sensorium.eval.Retrieval;
import org.sensorium.config.Modality;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code sensorium ablate}: each objective trained alone, and the default combination, on the same data
 * for the same number of steps from the same seed, next to the untrained model; each run's held-out
 * retrieval R@1, the NMI of held-out k-means (k = number of classes) against the labels per modality,
 * and the wall time per step, in one table. Every run is an ordinary run folder under the ablation's folder.
 */
public final class Ablate {
    private static final Logger LOG = LoggerFactory.getLogger(Ablate.class);

    private Ablate() {}

    /** The rows of the ablation: the --set overrides that make each one, on top of the experiment's config. */
    public enum Variant {
        UNTRAINED("untrained", "train.steps=0"),
        CONTRASTIVE("contrastive", "objectives.contrastive.weight=1"),
        CLUSTERING("clustering", "objectives.contrastive.weight=0", "objectives.clustering.weight=1"),
        PSEUDO_LABELS("pseudo_labels", "objectives.contrastive.weight=0", "objectives.pseudo_labels.weight=1",
                "objectives.pseudo_labels.modality=video", "objectives.pseudo_labels.k=" + Variant.XDC_K),
        TWO_VIEW("two_view", "objectives.contrastive.weight=0", "objectives.two_view.weight=1"),
        MIL_NCE("mil_nce", "objectives.contrastive.weight=0", "objectives.mil_nce.weight=1", "modalities.text.bag=4"),
        RELATIVE_SPEED("relative_speed", "objectives.contrastive.weight=0", "objectives.relative_speed.weight=1"),
        MASKED_TOKENS("masked_tokens", "objectives.contrastive.weight=0", "objectives.masked_tokens.weight=1"),
        MASKED_SEGMENTS("masked_segments", "objectives.contrastive.weight=0", "objectives.masked_segments.weight=1"),
        KEYFRAME_CONTEXT("keyframe_context", "objectives.contrastive.weight=0", "objectives.keyframe_context.weight=1"),
        // the future motion field needs recording left after the clip: 1 s clips of the 2 s recordings; the decoder
        // reads the clip's own motion field (objectives.motion_prediction.from), so motion is decoded too
        MOTION_PREDICTION("motion_prediction (1 s clips)", "data.clip_seconds=1.0", "data.modalities=[video,motion,audio,text,imu]",
                "objectives.contrastive.weight=0", "objectives.motion_prediction.weight=1"),
        // Temporal OT needs long recordings of several activities: its own data (configs/temporal-ot-imu.yaml's), so
        // its own untrained row; its measure is held-out segmentation (MoF), not R@1 or per-clip NMI.
        UNTRAINED_LONG("untrained (long recordings)", Variant.LONG, "train.steps=0"),
        TEMPORAL_OT("temporal_ot (long recordings)", Variant.LONG),
        DEFAULT("default combination");

        /** XDC's first iteration: clusters of the untrained audio encoder, k of them, are video's targets. */
        static final int XDC_K = 16;
        /** The long-recording IMU set of temporal OT: 60 recordings of 4 activities in order, 8 windows of 1 s each. */
        static final String LONG = "data.synth_long=60;data.clip_seconds=1.0;data.modalities=[imu];objectives.contrastive.weight=0;"
                + "objectives.temporal_ot.weight=1;train.batch_size=8;train.accumulate=1;eval.pairs=[]";

        final String label;
        final List<String> sets;

        Variant(String label, String... sets) {
            this.label = label;
            List<String> all = new ArrayList<>();
            for (String s : sets) {
                all.addAll(List.of(s.split(";"))); // LONG is several sets; no value holds a semicolon
            }
            this.sets = List.copyOf(all);
        }

        public String key() {
            return name().toLowerCase();
        }

        /** The held-out measure the row's objective reports before its first step and after its last; null for none. */
        public String measure() {
            return switch (this) {
                case PSEUDO_LABELS -> "pseudo_labels/accuracy";
                case TWO_VIEW -> "two_view/video/R@1";
                case RELATIVE_SPEED -> "relative_speed/accuracy";
                case MASKED_TOKENS -> "masked_tokens/video";
                case MASKED_SEGMENTS -> "masked_segments/video";
                case CLUSTERING -> "clustering/cross_modal_NMI";
                case KEYFRAME_CONTEXT -> "keyframe_context/augmented_look_R@1";
                case MOTION_PREDICTION -> "motion_prediction/mse";
                default -> null;
            };
        }

        /** The --set overrides of this row. */
        public List<String> sets() {
            return sets;
        }

        public static Variant parse(String s) {
            for (Variant v : values()) {
                if (v.key().equals(s.trim())) {
                    return v;
                }
            }
            throw new IllegalArgumentException("unknown ablation row '" + s + "'; one of " + keys());
        }

        static List<String> keys() {
            return java.util.Arrays.stream(values()).map(Variant::key).toList();
        }
    }

    /**
     * @param config experiment file (null: configs/defaults.yaml)
     * @param sets --set overrides applied to every row (after the row's own)
     * @param steps optimizer steps of every trained row
     * @param variants the rows, in order; pseudo_labels adds the untrained row it clusters
     * @param out the ablation's folder (null: runs/ablate-&lt;timestamp&gt;)
     */
    public record Options(Path config, List<String> sets, int steps, List<Variant> variants, Path out) {}

    /** One row of the table. */
    public record Row(Variant variant, Pretrain.Summary summary) {
        /** Mean held-out R@1 over every evaluated cross-modal direction (NaN without any); video->keyframe is not one. */
        public double meanR1() {
            return crossModal(summary).values().stream().mapToDouble(Retrieval.Result::r1).average().orElse(Double.NaN);
        }

        /** The row's own held-out measure (see {@link Variant#measure}), null when it has none. */
        public Pretrain.HeldOut measure() {
            return variant.measure() == null ? null : summary.heldOut().get(variant.measure());
        }

        public double secondsPerStep() {
            return summary.stepsPerSecond() > 0 ? 1 / summary.stepsPerSecond() : Double.NaN;
        }
    }

    public record Result(Path dir, List<Row> rows) {}

    static Map<String, Retrieval.Result> crossModal(Pretrain.Summary s) {
        Map<String, Retrieval.Result> out = new LinkedHashMap<>(s.retrieval());
        out.keySet().removeIf(k -> k.endsWith("->keyframe"));
        return out;
    }

    public static Result run(Options o) throws IOException, InterruptedException {
        if (o.steps() < 1) {
            throw new ConfigException("--steps", o.steps() + " must be >= 1");
        }
        Path dir = o.out() != null ? o.out()
                : Path.of("runs", "ablate-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        if (Files.exists(dir.resolve("ablate.json"))) {
            throw new ConfigException("--out", dir + " already holds an ablation");
        }
        Files.createDirectories(dir);
        List<Variant> order = new ArrayList<>(o.variants());
        if (order.contains(Variant.PSEUDO_LABELS) && !order.contains(Variant.UNTRAINED)) {
            order.add(0, Variant.UNTRAINED); // XDC clusters the untrained encoder
        }
        if (order.contains(Variant.TEMPORAL_OT) && !order.contains(Variant.UNTRAINED_LONG)) {
            order.add(0, Variant.UNTRAINED_LONG); // its baseline on the same long recordings
        }
        order.sort(null); // the untrained row first: pseudo-labels need its checkpoint
        List<Row> rows = new ArrayList<>();
        Path untrained = null;
        for (Variant v : order) {
            List<String> sets = new ArrayList<>();
            sets.add("run.dir=" + dir);
            sets.add("run.name=" + v.key());
            sets.add("train.steps=" + o.steps());
            sets.add("train.progress=false");
            sets.addAll(v.sets());
            if (v == Variant.PSEUDO_LABELS) {
                ClusterJob.Result c = ClusterJob.run(new ClusterJob.Options(untrained, Modality.AUDIO, Variant.XDC_K, null, 300,
                        dir.resolve("pseudo-labels-audio.jsonl"), o.sets()));
                sets.add("objectives.pseudo_labels.file=" + c.out());
            }
            sets.addAll(o.sets());
            LOG.info("ablation row {}: {}", v.key(), sets);
            Pretrain.Summary s = Pretrain.start(ConfigLoader.load(o.config(), sets));
            if (v == Variant.UNTRAINED) {
                untrained = s.runDir();
            }
            rows.add(new Row(v, s));
        }
        Result r = new Result(dir, rows);
        Json.write(dir.resolve("ablate.json"), json(r));
        Files.writeString(dir.resolve("ablate.md"), table(r));
        return r;
    }

    static Map<String, Object> json(Result r) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Row row : r.rows()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("run", row.summary().runDir().toString());
            m.put("steps", row.summary().steps());
            m.put("seconds_per_step", row.secondsPerStep());
            m.put("final_loss", row.summary().losses().isEmpty() ? null : row.summary().losses().get(row.summary().losses().size() - 1));
            m.put("mean_r1", row.meanR1());
            Map<String, Object> r1 = new LinkedHashMap<>();
            row.summary().retrieval().forEach((k, v) -> r1.put(k, v.r1()));
            m.put("r1", r1);
            Map<String, Object> nmi = new LinkedHashMap<>();
            row.summary().clusters().forEach((k, v) -> nmi.put(k, v.nmi()));
            m.put("nmi", nmi);
            if (row.measure() != null) {
                m.put("measure", Map.of("name", row.variant().measure(), "start", row.measure().start(), "end", row.measure().end()));
            }
            if (row.summary().segmentation() != null) {
                m.put("segmentation_mof", row.summary().segmentation().argmax().mof());
                m.put("segmentation_nmi", row.summary().segmentation().argmax().nmi());
            }
            out.put(row.variant().key(), m);
        }
        return out;
    }

    /** The Markdown table: one row per variant; NMI columns for the modalities any row clustered. */
    public static String table(Result r) {
        List<String> modalities = new ArrayList<>();
        for (Row row : r.rows()) {
            row.summary().clusters().keySet().stream().filter(m -> !modalities.contains(m)).forEach(modalities::add);
        }
        StringBuilder sb = new StringBuilder();
        boolean segments = r.rows().stream().anyMatch(row -> row.summary().segmentation() != null);
        sb.append("| objective | s/step | final loss | held-out R@1 (mean) |");
        modalities.forEach(m -> sb.append(" NMI ").append(m).append(" |"));
        if (segments) {
            sb.append(" segmentation MoF |");
        }
        boolean measures = r.rows().stream().anyMatch(row -> row.measure() != null);
        if (measures) {
            sb.append(" own held-out measure, start -> end |");
        }
        sb.append("\n|---|---:|---:|---:|");
        modalities.forEach(m -> sb.append("---:|"));
        if (segments) {
            sb.append("---:|");
        }
        if (measures) {
            sb.append("---|");
        }
        sb.append('\n');
        for (Row row : r.rows()) {
            Pretrain.Summary s = row.summary();
            sb.append(String.format("| %s | %s | %s | %s |", row.variant().label,
                    Double.isNaN(row.secondsPerStep()) ? "-" : String.format("%.3f", row.secondsPerStep()),
                    s.losses().isEmpty() ? "-" : String.format("%.3f", s.losses().get(s.losses().size() - 1)),
                    Double.isNaN(row.meanR1()) ? "-" : String.format("%.3f", row.meanR1())));
            for (String m : modalities) {
                ClusterMetrics.Score c = s.clusters().get(m);
                sb.append(c == null ? " - |" : String.format(" %.3f |", c.nmi()));
            }
            if (segments) {
                sb.append(s.segmentation() == null ? " - |" : String.format(" %.3f |", s.segmentation().argmax().mof()));
            }
            if (measures) {
                Pretrain.HeldOut h = row.measure();
                sb.append(h == null ? " - |" : String.format(" %s %.4f -> %.4f |", row.variant().measure(), h.start(), h.end()));
            }
            sb.append('\n');
        }
        Row any = r.rows().isEmpty() ? null : r.rows().get(0);
        if (any != null && !crossModal(any.summary()).isEmpty()) {
            Retrieval.Result first = crossModal(any.summary()).values().iterator().next();
            ClusterMetrics.Score c = any.summary().clusters().values().stream().findFirst().orElse(null);
            sb.append(String.format("%nR@1 is the mean over %s on %d held-out samples (chance %.4f; - where a row has no pair)",
                    crossModal(any.summary()).keySet(), first.n(), first.chance()));
            if (c != null) {
                sb.append(String.format("; NMI is k-means with k = %d classes (chance NMI about %.3f)", c.classes(), c.chanceNmi()));
            }
            sb.append(".\n");
        }
        r.rows().stream().filter(row -> row.summary().segmentation() != null).findFirst().ifPresent(row -> sb.append(String.format(
                "Segmentation MoF: held-out long recordings, argmax of the prototypes after Hungarian matching (equal split in order: %.3f).%n",
                row.summary().segmentation().argmax().equalSplitMof())));
        return sb.toString();
    }
}
