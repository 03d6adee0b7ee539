package org.sensorium.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.sensorium.config.ConfigException;
import org.sensorium.eval.Classification;
import org.sensorium.data.Manifest;
import org.sensorium.job.BinaryFusion;
import org.sensorium.job.FineTune;
import org.sensorium.job.QaPretextPhase;
import org.sensorium.job.VideoQa;
import org.sensorium.config.Modality;
import org.sensorium.config.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * `sensorium finetune` and `sensorium qa`: one evaluation task each on a pretrained run, printed as a table
 * and, with --out, written as a results.json with one task entry (the shared evaluation contract).
 */
final class TaskCommands {
    private TaskCommands() {}

    /** Options both tasks share; --set applies to the run's config. */
    static class Shared extends Main.Overrides {
        @Option(names = "--checkpoint", required = true, description = "a run folder (its newest checkpoint) or a checkpoint folder")
        Path checkpoint;

        @Option(names = "--epochs", defaultValue = "30", description = "passes over the training samples (default ${DEFAULT-VALUE})")
        int epochs;

        @Option(names = "--batch", defaultValue = "32", description = "samples per step (default ${DEFAULT-VALUE})")
        int batch;

        @Option(names = "--seeds", split = ",", defaultValue = "1,2,3", description = "one run per seed; mean and std reported (default ${DEFAULT-VALUE})")
        List<Long> seeds = new ArrayList<>();

        @Option(names = "--random-weights", description = "the run's architecture at its initial weights (as a train.steps=0 run) instead of the checkpoint's")
        boolean randomWeights;

        @Option(names = "--out", paramLabel = "FILE", description = "write a results.json with this task's entry")
        Path out;

    }

    @Command(name = "finetune", mixinStandardHelpOptions = true,
            description = {"Activity recognition: a run's video or IMU encoder + a linear classifier, fine-tuned with cross-entropy",
                "on the manifest's train split (all or N per class), tested on its held-out split; mean and std over seeds."})
    static final class FinetuneCmd extends Shared implements Callable<Integer> {
        @Option(names = "--modality", defaultValue = "video", description = "the encoder: video, imu, audio (default ${DEFAULT-VALUE})")
        String modality;

        @Option(names = "--train", defaultValue = "full", description = "what trains: full | last:N (last N trunk blocks + head) | head (default ${DEFAULT-VALUE})")
        String trainable;

        @Option(names = "--shots", defaultValue = "0", description = "labelled train samples per class, drawn per seed; 0 = all (default ${DEFAULT-VALUE})")
        int shots;

        @Option(names = "--lr", defaultValue = "0.0001", description = "encoder learning rate (default ${DEFAULT-VALUE})")
        float lr;

        @Option(names = "--head-lr", defaultValue = "0.01", description = "classifier learning rate (default ${DEFAULT-VALUE})")
        float headLr;

        @Option(names = "--positive", paramLabel = "LABEL", description = "binary task: this label positive, every other negative;"
                + " with two modalities (--modality video,text) a fusion head on both frozen encoders, held-out AUROC with a 95% bootstrap interval")
        String positive;

        @Option(names = "--binary", paramLabel = "KIND", description = "binary task without a label: match = video-text matching with two"
                + " modalities (a sample's own pair positive, paired with a sample of another label negative, one per positive)")
        String binary;

        @Option(names = "--hidden", defaultValue = "64", description = "hidden width of the fusion head with --positive (default ${DEFAULT-VALUE})")
        int hidden;

        @Override
        public Integer call() throws Exception {
            long t0 = System.nanoTime();
            if (modality.contains(",") || positive != null || binary != null) {
                return fusion(t0);
            }
            Modality m;
            try {
                m = Modality.parse(modality);
            } catch (IllegalArgumentException e) {
                throw new ConfigException("--modality", e.getMessage());
            }
            FineTune.Result r = FineTune.run(new FineTune.Options(checkpoint, m, trainable, shots, epochs, lr, headLr, batch,
                    seeds, randomWeights, allSets()));
            System.out.println(render(r));
            String name = "finetune_" + m.key() + "_" + (shots == 0 ? "all" : shots + "shot") + "_" + trainable.replace(":", "");
            write(out, r.checkpoint(), r.step(), Map.of(r.manifest().toString(), r.manifestSha256()), r.toTask(name), t0);
            return 0;
        }

        /** --positive: the binary fusion classifier on two encoders. */
        private Integer fusion(long t0) throws Exception {
            List<Modality> ms = new ArrayList<>();
            for (String k : modality.split(",")) {
                try {
                    ms.add(Modality.parse(k.strip()));
                } catch (IllegalArgumentException e) {
                    throw new ConfigException("--modality", e.getMessage());
                }
            }
            if (binary != null && !binary.equals("match")) {
                throw new ConfigException("--binary", "'" + binary + "' is not a binary task; the one kind is match (or give --positive LABEL)");
            }
            if (positive == null && binary == null) {
                throw new ConfigException("--positive", "two modalities fuse for a binary label: give the positive class with --positive"
                        + " (or --binary match)");
            }
            BinaryFusion.Result r = BinaryFusion.run(new BinaryFusion.Options(checkpoint, ms, positive, binary != null, hidden, epochs, headLr,
                    batch, seeds, randomWeights, allSets()));
            System.out.println(render(r));
            write(out, r.checkpoint(), r.step(), Map.of(r.manifest().toString(), Manifest.sha256(r.manifest())), r.toTask(), t0);
            return 0;
        }
    }

    static String render(BinaryFusion.Result r) {
        StringBuilder sb = new StringBuilder();
        BinaryFusion.Options o = r.options();
        String a = o.modalities().get(0).key(), b = o.modalities().get(1).key();
        sb.append(String.format("%nbinary fusion of %s (%s encoders, frozen): %s; %d train %s, %d held-out (%d positive)%n",
                o.modalities(), o.randomWeights() ? "random" : "step " + r.step(),
                o.match() ? "matching (a sample's own " + a + " and " + b + " against its " + a + " with another label's " + b + ")"
                        : "'" + o.positive() + "' against the rest", r.train(), o.match() ? "pairs" : "samples", r.test(), r.positives()));
        sb.append(String.format("  %-6s %7s %17s %9s %10s %10s %10s%n", "seed", "AUROC", "95% CI (1000 bs)", "accuracy", "train loss",
                a + " only", b + " only"));
        for (BinaryFusion.SeedResult s : r.seeds()) {
            sb.append(String.format("  %-6d %7.3f   [%.3f, %.3f] %9.3f %10.4f %10.3f %10.3f%n", s.seed(), s.auroc().auroc(), s.auroc().lo(),
                    s.auroc().hi(), s.accuracy(), s.finalLoss(), s.aOnly(), s.bOnly()));
        }
        sb.append(String.format("  mean   %7.3f %17s %9.3f   (chance AUROC 0.500; majority-class accuracy %.3f)%n",
                r.mean(s -> s.auroc().auroc()), "", r.mean(BinaryFusion.SeedResult::accuracy), r.majority()));
        if (!r.skipped().isEmpty()) {
            sb.append(r.skipped().size()).append(" broken samples skipped\n");
        }
        return sb.toString().stripTrailing();
    }

    static String render(FineTune.Result r) {
        StringBuilder sb = new StringBuilder();
        FineTune.Options o = r.options();
        sb.append(String.format("%nfine-tuned %s (%s, train %s) on %s of %d labelled train samples, %d classes; tested on %d held-out%n",
                o.modality().key(), o.randomWeights() ? "random weights" : "step " + r.step(), o.trainable(),
                o.shots() == 0 ? "all" : o.shots() + " per class", r.trainPool(), r.labels().size(), r.testSamples()));
        sb.append(String.format("  %-6s %6s %9s %9s %9s %10s %8s%n", "seed", "train", "accuracy", "balanced", "macro-F1", "train loss", "seconds"));
        for (FineTune.SeedResult s : r.seeds()) {
            sb.append(String.format("  %-6d %6d %9.3f %9.3f %9.3f %10.4f %8.1f%n", s.seed(), s.trainSamples(), s.scores().accuracy(),
                    s.scores().balancedAccuracy(), s.scores().macroF1(), s.finalLoss(), s.seconds()));
        }
        sb.append(String.format("  %-6s %6s %4.3f±%.3f %4.3f±%.3f %4.3f±%.3f   (chance %.3f)%n", "mean", "",
                r.mean(Classification.Scores::accuracy), r.std(Classification.Scores::accuracy),
                r.mean(Classification.Scores::balancedAccuracy), r.std(Classification.Scores::balancedAccuracy),
                r.mean(Classification.Scores::macroF1), r.std(Classification.Scores::macroF1), 1.0 / r.labels().size()));
        sb.append("confusion summed over seeds (rows = true):\n");
        for (int i = 0; i < r.labels().size(); i++) {
            sb.append(String.format("  %-24s", r.labels().get(i)));
            for (long v : r.pooled().confusion()[i]) {
                sb.append(String.format(" %4d", v));
            }
            sb.append('\n');
        }
        if (r.unseen() > 0) {
            sb.append(r.unseen()).append(" held-out samples with a label the train split lacks were not tested\n");
        }
        if (!r.skipped().isEmpty()) {
            sb.append(r.skipped().size()).append(" broken samples skipped:\n");
            r.skipped().values().forEach(v -> sb.append("  ").append(v).append('\n'));
        }
        return sb.toString().stripTrailing();
    }

    @Command(name = "qa", mixinStandardHelpOptions = true,
            description = {"Multiple-choice video QA: each answer scored by a fusion MLP on the text embedding of question + answer,",
                "the video embedding and the subtitle embedding; cross-entropy over the K answers on the train items, accuracy on the held-out."})
    static final class QaCmd extends Shared implements Callable<Integer> {
        @Option(names = "--qa", paramLabel = "FILE", description = "QA manifest (default: qa.jsonl beside the run's data manifest)")
        Path qa;

        @Option(names = "--hidden", defaultValue = "64", description = "hidden width of the fusion MLP (default ${DEFAULT-VALUE})")
        int hidden;

        @Option(names = "--lr", defaultValue = "0.003", description = "learning rate of the fusion head (default ${DEFAULT-VALUE})")
        float lr;

        @Option(names = "--encoder-lr", defaultValue = "0", description = "above 0: fine-tune the video and text encoders too, at this rate (default ${DEFAULT-VALUE}: frozen)")
        float encoderLr;

        @Option(names = "--no-subtitles", description = "leave the subtitles out (their embedding is zero)")
        boolean noSubtitles;

        @Option(names = "--pretext-steps", defaultValue = "0", description = "steps of the encoders' QA pretext (question prediction +"
                + " masked-answer contrastive, Kim et al. 2021) on the train items before the head; 0 = none (default ${DEFAULT-VALUE})")
        int pretextSteps;

        @Option(names = "--pretext-lr", defaultValue = "0.0001", description = "encoder learning rate of the pretext (default ${DEFAULT-VALUE})")
        float pretextLr;

        @Option(names = "--pretext-temperature", defaultValue = "0.1", description = "temperature of both pretext losses (default ${DEFAULT-VALUE})")
        float pretextTemperature;

        @Option(names = "--pretext-masked-weight", defaultValue = "1", description = "weight of the masked-answer term next to question prediction (default ${DEFAULT-VALUE})")
        float pretextMaskedWeight;

        @Option(names = "--pretext-generic-share", defaultValue = "0.25", description = "question prediction leaves out the items whose"
                + " question is asked of more than this share of the train items (a generic question such as \"what moved?\" says nothing"
                + " about one video); 1 = keep all (default ${DEFAULT-VALUE})")
        float pretextGenericShare;

        @Option(names = "--pretext-train", defaultValue = "all", description = "what the pretext updates: all (every parameter its"
                + " losses reach) | heads (the projection heads only) (default ${DEFAULT-VALUE})")
        String pretextTrain;

        @Option(names = "--pretext-augment", description = "each pretext step crops and jitters its clips as the video loader"
                + " augments training clips (modalities.video crop_min_scale, brightness, contrast; never flipped)")
        boolean pretextAugment;

        @Option(names = "--pretext-measure-every", defaultValue = "0", description = "log the pretext's held-out measures every this"
                + " many steps; 0 = before and after only (default ${DEFAULT-VALUE})")
        int pretextMeasureEvery;

        @Option(names = "--pretext-inner-share", defaultValue = "0", description = "a diagnostic: leave this share of the train"
                + " recordings out of the pretext and log its measures there too (the head still trains on every train item);"
                + " 0 = off (default ${DEFAULT-VALUE})")
        float pretextInnerShare;

        @Option(names = "--pretext-schedule", defaultValue = "constant", description = "the pretext's learning rate: constant, or"
                + " cosine (linear warm-up over the first 5% of the steps, then cosine decay to 0) (default ${DEFAULT-VALUE})")
        String pretextSchedule;

        @Override
        public Integer call() throws Exception {
            long t0 = System.nanoTime();
            VideoQa.Result r = VideoQa.run(new VideoQa.Options(checkpoint, qa, hidden, epochs, lr, encoderLr, batch, seeds, !noSubtitles,
                    randomWeights, allSets(), new QaPretextPhase.Settings(pretextSteps, pretextLr, pretextTemperature, pretextMaskedWeight,
                    pretextGenericShare, pretextTrain, pretextAugment, pretextMeasureEvery,
                    pretextInnerShare, cosine(pretextSchedule))));
            System.out.println(render(r));
            write(out, r.checkpoint(), r.step(), Map.of(r.qa().toString(), r.qaSha256()),
                    r.toTask(noSubtitles ? "video_qa_no_subs" : "video_qa"), t0);
            return 0;
        }

        /** --pretext-schedule: true for cosine, false for constant; anything else is a one-line error naming the option. */
        static boolean cosine(String schedule) {
            return switch (schedule.trim()) {
                case "constant" -> false;
                case "cosine" -> true;
                default -> throw new ConfigException("--pretext-schedule", "'" + schedule + "' is not constant or cosine");
            };
        }
    }

    static String render(VideoQa.Result r) {
        StringBuilder sb = new StringBuilder();
        VideoQa.Options o = r.options();
        sb.append(String.format("%nvideo QA with %s %s encoders (%s), %d answers per item, subtitles %s: %d train items, %d held-out%n",
                o.encoderLr() == 0 ? "frozen" : "fine-tuned", o.randomWeights() ? "random" : "pretrained",
                o.randomWeights() ? "initial weights" : "step " + r.step(), r.answers(),
                o.subtitles() ? "on" : "off", r.train(), r.test()));
        if (o.pretext().steps() > 0) {
            sb.append(String.format("  after %d steps of QA pretext (question prediction without questions asked of more than %s of the"
                    + " train items + %.2f x masked answer, lr %s%s, tau %s; trains %s%s)%n", o.pretext().steps(), o.pretext().genericShare(),
                    o.pretext().maskedWeight(), o.pretext().lr(), o.pretext().cosine() ? " (warm-up, cosine to 0)" : "",
                    o.pretext().temperature(), o.pretext().train(),
                    o.pretext().augment() ? ", clips augmented" : ""));
        }
        sb.append(String.format("  %-6s %9s %9s %10s%n", "seed", "held-out", "train", "train loss"));
        for (VideoQa.SeedResult s : r.seeds()) {
            sb.append(String.format("  %-6d %9.3f %9.3f %10.4f%n", s.seed(), s.accuracy(), s.trainAccuracy(), s.finalLoss()));
        }
        sb.append(String.format("  mean   %.3f±%.3f   (chance %.3f)%n", r.meanAccuracy(), r.stdAccuracy(), r.chance()));
        if (o.pretext().steps() > 0) {
            var h = r.seeds().get(0).pretextBefore();
            sb.append(String.format("  pretext's own held-out measures, before the first step -> after the last (%d held-out items):%n", r.test()));
            sb.append(String.format("  %-6s %17s %19s %19s%n", "seed", "question R@1", "balanced R@1", "masked-answer acc"));
            for (VideoQa.SeedResult s : r.seeds()) {
                sb.append(String.format("  %-6d    %.3f -> %.3f      %.3f -> %.3f      %.3f -> %.3f%n", s.seed(),
                        s.pretextBefore().questions().r1(), s.pretextAfter().questions().r1(), s.pretextBefore().questions().balancedR1(),
                        s.pretextAfter().questions().balancedR1(), s.pretextBefore().maskedAccuracy(), s.pretextAfter().maskedAccuracy()));
            }
            sb.append(String.format("  chance: 1/%d distinct questions = %.3f (the most frequent question's share %.3f); 1/K = %.3f%n",
                    Math.round(1 / h.questions().chance()), h.questions().chance(), h.questions().frequent(), h.maskedChance()));
        }
        if (!r.skipped().isEmpty()) {
            sb.append(r.skipped().size()).append(" QA items skipped:\n");
            r.skipped().values().forEach(v -> sb.append("  ").append(v).append('\n'));
        }
        return sb.toString().stripTrailing();
    }

    /** results.json with one task, as `sensorium eval` writes it (suite "single"). */
    static void write(Path out, Path checkpoint, int step, Map<String, String> manifests, Map<String, Object> task,
            long startNanos) throws java.io.IOException {
        if (out == null) {
            return;
        }
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("suite", "single");
        json.put("checkpoint", checkpoint.toAbsolutePath().getParent().getParent().toString());
        json.put("step", step);
        json.put("wall_seconds", (System.nanoTime() - startNanos) / 1e9);
        json.put("manifests", manifests);
        json.put("tasks", List.of(task));
        if (out.toAbsolutePath().getParent() != null) {
            Files.createDirectories(out.toAbsolutePath().getParent());
        }
        Json.write(out, json);
        System.out.println("results: " + out);
    }
}
