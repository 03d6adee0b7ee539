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
import org.sensorium.objective.ObjectiveKind;
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

    /**
     * A row of the ablation: the --set overrides that make it, on top of the experiment's config. The rows are the
     * untrained model, each objective of {@link ObjectiveKind} trained alone (an objective with data of its own after
     * its own untrained row), and the default combination.
     *
     * @param kind the objective the row trains alone; null for the untrained and default rows
     * @param stepsFactor the row trains this many times the table's steps (1 for every row but those that say so)
     */
    public record Variant(String key, String label, List<String> sets, ObjectiveKind kind, int stepsFactor) {
        public Variant(String key, String label, List<String> sets, ObjectiveKind kind) {
            this(key, label, sets, kind, 1);
        }

        public static final Variant UNTRAINED = new Variant("untrained", "untrained", List.of("train.steps=0"), null);
        public static final Variant DEFAULT = new Variant("default", "default combination", List.of(), null);

        /** Every row, in the table's order. */
        public static List<Variant> all() {
            List<Variant> rows = new ArrayList<>(List.of(UNTRAINED));
            for (ObjectiveKind k : ObjectiveKind.values()) {
                if (k.ownData()) {
                    rows.add(untrainedOn(k));
                }
                rows.add(of(k));
            }
            rows.addAll(OPTIONS);
            rows.add(DEFAULT);
            return rows;
        }

        /**
         * Rows that train an objective alone with one option on, read by the objective's own measure next to its plain
         * row: SimCLR's projection head before NT-Xent, VATT's DropToken (held-out passes see every token), CropMAE's
         * two crops of one slice in place of SiamMAE's two slices (at CropMAE's masking ratio); Background Erasing with
         * each clip reversed as a negative of its own, at 4 times the table's steps (at the table's 150 its measure rose
         * in one seed of two, at 600 in five of five, docs/measured/background-erasing.md).
         */
        public static final List<Variant> OPTIONS = List.of(
                withOption(ObjectiveKind.TWO_VIEW, "two_view_mlp", "two_view, MLP projection head", "objectives.two_view.projection=mlp"),
                withOption(ObjectiveKind.TWO_VIEW, "two_view_drop_token", "two_view, drop_token 0.5", "model.drop_token=0.5"),
                withOption(ObjectiveKind.PIXEL_MAE, "pixel_mae_crops", "pixel_mae, two crops (CropMAE)",
                        "objectives.pixel_mae.views=crops", "objectives.pixel_mae.mask_ratio=0.985"),
                withOption(ObjectiveKind.BACKGROUND_ERASING, "background_erasing_reversed",
                        "background_erasing, reversed own negative, 4x steps (static scenes)", 4,
                        "objectives.background_erasing.own_negative=reversed"));

        private static Variant withOption(ObjectiveKind k, String key, String label, String... options) {
            return withOption(k, key, label, 1, options);
        }

        private static Variant withOption(ObjectiveKind k, String key, String label, int stepsFactor, String... options) {
            List<String> sets = new ArrayList<>(k.alone());
            sets.addAll(List.of(options));
            return new Variant(key, label, List.copyOf(sets), k, stepsFactor);
        }

        /** The row that trains k alone. */
        public static Variant of(ObjectiveKind k) {
            String label = k == ObjectiveKind.MOTION_PREDICTION ? k.key() + " (1 s clips)"
                    : k == ObjectiveKind.PSEUDO_LABELS ? k.key() + " (no video augmentation)"
                    : k.ownData() ? k.key() + " (" + k.ownDataName() + ")" : k.key();
            return new Variant(k.key(), label, k.alone(), k);
        }

        /** The untrained model on the data of k, which brings its own (its baseline). */
        static Variant untrainedOn(ObjectiveKind k) {
            List<String> sets = new ArrayList<>(k.alone());
            sets.add("train.steps=0");
            return new Variant("untrained_" + k.key(), "untrained (" + k.key() + "'s data)", sets, null);
        }

        /** The held-out measure the row's objective reports before its first step and after its last; null for none. */
        public String measure() {
            return kind == null ? null : kind.measure();
        }

        boolean untrained() {
            return sets.contains("train.steps=0");
        }

        public static Variant parse(String s) {
            return all().stream().filter(v -> v.key().equals(s.trim())).findFirst().orElseThrow(
                    () -> new IllegalArgumentException("unknown ablation row '" + s + "'; one of " + keys()));
        }

        static List<String> keys() {
            return all().stream().map(Variant::key).toList();
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
        /** Mean held-out R@1 over every evaluated cross-modal direction (NaN without any). */
        public double meanR1() {
            return summary.meanR1();
        }

        /** The row's own held-out measure (see {@link Variant#measure}), null when it has none. */
        public Pretrain.HeldOut measure() {
            return variant.measure() == null ? null : summary.heldOut().get(variant.measure());
        }

        /** The trivial answer the measure must beat, after the row's last step ({@link ObjectiveKind#baseline}); NaN when none. */
        public double baseline() {
            ObjectiveKind.Baseline b = variant.kind() == null ? null : variant.kind().baseline();
            if (b == null || b.key() == null) {
                return b == null ? Double.NaN : b.value();
            }
            Pretrain.HeldOut h = summary.heldOut().get(b.key());
            return h == null ? Double.NaN : h.end();
        }

        public double secondsPerStep() {
            return summary.stepsPerSecond() > 0 ? 1 / summary.stepsPerSecond() : Double.NaN;
        }
    }

    public record Result(Path dir, List<Row> rows) {}

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
        List<Variant> order = order(o.variants());
        List<Row> rows = new ArrayList<>();
        Path untrained = null;
        for (Variant v : order) {
            List<String> sets = new ArrayList<>();
            sets.add("run.dir=" + dir);
            sets.add("run.name=" + v.key());
            sets.add("train.steps=" + o.steps() * v.stepsFactor());
            sets.add("train.progress=false");
            sets.addAll(v.sets());
            if (v.kind() == ObjectiveKind.PSEUDO_LABELS) {
                ClusterJob.Result c = ClusterJob.run(new ClusterJob.Options(untrained, Modality.AUDIO, ObjectiveKind.XDC_K, null, 300,
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

    /**
     * The rows to run, in the table's order, with the untrained rows others need: pseudo_labels clusters the untrained
     * encoder (so that row runs first), an objective with data of its own is compared with the untrained model on it.
     */
    static List<Variant> order(List<Variant> asked) {
        List<Variant> all = Variant.all();
        java.util.Set<Variant> chosen = new java.util.HashSet<>(asked);
        for (Variant v : asked) {
            if (v.kind() == ObjectiveKind.PSEUDO_LABELS) {
                chosen.add(Variant.UNTRAINED);
            }
            if (v.kind() != null && v.kind().ownData()) {
                chosen.add(Variant.untrainedOn(v.kind()));
            }
        }
        List<Variant> order = new ArrayList<>(all.stream().filter(chosen::contains).toList());
        order.sort(java.util.Comparator.comparing(v -> v != Variant.UNTRAINED)); // first: pseudo-labels need its checkpoint
        return order;
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
                Map<String, Object> measure = new LinkedHashMap<>(Map.of("name", row.variant().measure(), "start", row.measure().start(),
                        "end", row.measure().end()));
                if (!Double.isNaN(row.baseline())) {
                    measure.put("baseline", row.baseline());
                    measure.put("baseline_is", row.variant().kind().baseline().what());
                }
                m.put("measure", measure);
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
            sb.append(" own held-out measure, start -> end (trivial baseline) |");
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
                String base = Double.isNaN(row.baseline()) ? ""
                        : String.format(" (%s %.4f)", row.variant().kind().baseline().what(), row.baseline());
                sb.append(h == null ? " - |" : String.format(" %s %.4f -> %.4f%s |", row.variant().measure(), h.start(), h.end(), base));
            }
            sb.append('\n');
        }
        Row any = r.rows().isEmpty() ? null : r.rows().get(0);
        if (any != null && !any.summary().retrieval().isEmpty()) {
            Retrieval.Result first = any.summary().retrieval().values().iterator().next();
            ClusterMetrics.Score c = any.summary().clusters().values().stream().findFirst().orElse(null);
            sb.append(String.format("%nR@1 is the mean over %s on %d held-out samples (chance %.4f; - where a row has no pair)",
                    any.summary().retrieval().keySet(), first.n(), first.chance()));
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
