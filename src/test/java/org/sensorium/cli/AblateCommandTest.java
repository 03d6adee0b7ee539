package org.sensorium.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.config.Json;

/** `sensorium ablate` on tiny settings: the untrained row, objectives alone (XDC clustering the untrained audio), one table. */
class AblateCommandTest {

    @Test
    void ablateTrainsEachRowAndWritesOneTable(@TempDir Path dir) throws Exception {
        List<String> args = new ArrayList<>(List.of("ablate", "--steps", "2", "--only", "contrastive,two_view,pseudo_labels,keyframe_context",
                "--out", dir.resolve("ablation").toString(),
                "--set", "data.synth_samples=80")); // 16 held-out samples, two per class: enough for held-out k-means
        List<String> tiny = MainTest.tinyArgs(dir);
        for (int i = 1; i < tiny.size(); i += 2) { // the tiny --set pairs, but the run folder and steps are the ablation's
            if (!tiny.get(i + 1).startsWith("run.") && !tiny.get(i + 1).startsWith("train.steps")
                    && !tiny.get(i + 1).startsWith("data.synth_samples")) {
                args.addAll(tiny.subList(i, i + 2));
            }
        }
        Object[] r = MainTest.cli(args);
        assertEquals(0, r[0], (String) r[2]);
        String out = (String) r[1];
        for (String row : List.of("| untrained |", "| contrastive |", "| two_view |", "| pseudo_labels (no video augmentation) |", "| keyframe_context |")) {
            assertTrue(out.contains(row), row + " missing from:\n" + out);
        }
        Path ablation = dir.resolve("ablation");
        assertEquals(Files.readString(ablation.resolve("ablate.md")), out.substring(out.indexOf("| objective"), out.indexOf("runs and table")));
        // The untrained row is a run of 0 steps with a checkpoint of the initial weights, which XDC clustered.
        assertTrue(Files.isDirectory(ablation.resolve("untrained/checkpoints/step-0000000")));
        assertTrue(Files.isRegularFile(ablation.resolve("pseudo-labels-audio.jsonl")));
        Map<?, ?> json = Json.read(ablation.resolve("ablate.json"));
        assertEquals(List.of("untrained", "contrastive", "pseudo_labels", "two_view", "keyframe_context"), new ArrayList<>(json.keySet()));
        // a row with a held-out measure of its own reports it from before its first step to after its last, in a column
        Map<?, ?> keyframe = (Map<?, ?>) json.get("keyframe_context");
        Map<?, ?> measure = (Map<?, ?>) keyframe.get("measure");
        assertEquals("keyframe_context/augmented_look_R@1", measure.get("name"), keyframe.toString());
        // On the 16 held-out clips and key frames, each augmented as training does: the share of clips whose nearest key
        // frame has the clip's look (the manifest's attributes); chance is the sum of the looks' squared shares, 0.125
        // here (the row's look_chance). An untrained encoder already matches looks well above chance: measured
        // 0.375 -> 0.3125 (run.seed 2: 0.500 -> 0.3125). It checks that the measure compares each
        // clip's look with its match's, not that 2 steps help. The margin: at least twice the look chance at both ends.
        double start = ((Number) measure.get("start")).doubleValue(), end = ((Number) measure.get("end")).doubleValue();
        Map<?, ?> lookChance = (Map<?, ?>) ((Map<?, ?>) Json.read(ablation.resolve("keyframe_context/summary.json")).get("held_out"))
                .get("keyframe_context/look_chance");
        double chance = ((Number) lookChance.get("end")).doubleValue();
        assertTrue(start >= 2 * chance && end >= 2 * chance, keyframe + ", look chance " + chance);
        assertTrue(out.contains("own held-out measure")
                && out.contains(String.format(" keyframe_context/augmented_look_R@1 %.4f -> %.4f (chance of the looks %.4f) |", start, end,
                        chance)), out);
        Map<?, ?> xdc = (Map<?, ?>) ((Map<?, ?>) json.get("pseudo_labels")).get("measure");
        assertEquals("pseudo_labels/accuracy", xdc.get("name"));
        // its baseline: the largest of the 16 clusters among the scored held-out samples, at least an even share
        double largest = ((Number) xdc.get("baseline")).doubleValue();
        assertTrue(largest >= 1.0 / 16 && largest <= 1.0, xdc.toString());
        Map<?, ?> twoView = (Map<?, ?>) ((Map<?, ?>) json.get("two_view")).get("measure");
        assertEquals("two_view/video/R@1", twoView.get("name"));
        // its trivial baseline, reported next to it: chance among the 16 held-out clips (every 5th of 80), 1/16
        assertEquals(1.0 / 16, ((Number) twoView.get("baseline")).doubleValue(), 1e-12, twoView.toString());
        assertEquals("chance 1/N", twoView.get("baseline_is"));
        // clip-to-key-frame matching is the objective's own measure, not a cross-modal pair: mean R@1 is over the pairs
        Map<?, ?> r1 = (Map<?, ?>) keyframe.get("r1");
        double pairs = r1.values().stream().mapToDouble(v -> ((Number) v).doubleValue()).average().orElseThrow();
        assertFalse(r1.containsKey("video->keyframe"), r1.toString());
        assertEquals(pairs, ((Number) keyframe.get("mean_r1")).doubleValue(), 1e-9);
        Map<?, ?> contrastive = (Map<?, ?>) json.get("contrastive");
        assertEquals(2, contrastive.get("steps"));
        assertTrue(((Map<?, ?>) contrastive.get("nmi")).containsKey("video"), json.toString());
        // 2 steps on 16 held-out samples in 8 classes: k-means NMI is at its chance (video 0.659, chance about 0.646 when
        // written), seconds per step a timing: no margins. The table must show the JSON's numbers, and the JSON the
        // row's own run: its held-out clusters and its steps per second.
        Map<?, ?> nmi = (Map<?, ?>) contrastive.get("nmi");
        Map<?, ?> run = Json.read(ablation.resolve("contrastive/summary.json"));
        Map<?, ?> clusters = (Map<?, ?>) run.get("held_out_clusters");
        for (String m : List.of("video", "text")) {
            assertEquals(((Map<?, ?>) clusters.get(m)).get("nmi"), nmi.get(m), m);
        }
        double secondsPerStep = ((Number) contrastive.get("seconds_per_step")).doubleValue();
        assertEquals(1.0, secondsPerStep * ((Number) run.get("steps_per_second")).doubleValue(), 1e-9, contrastive.toString());
        assertEquals(run.get("final_loss"), contrastive.get("final_loss"));
        assertTrue(out.contains("| NMI video | NMI text |"), out);
        String row = String.format("| contrastive | %.3f | %.3f | %.3f | %.3f | %.3f | - |", secondsPerStep,
                ((Number) contrastive.get("final_loss")).doubleValue(), ((Number) contrastive.get("mean_r1")).doubleValue(),
                ((Number) nmi.get("video")).doubleValue(), ((Number) nmi.get("text")).doubleValue());
        assertTrue(out.contains(row + "\n"), row + " missing from:\n" + out);
        // Each row trained only what it was asked: the two-view row logged its term and no contrastive one.
        String metrics = Files.readString(ablation.resolve("two_view/metrics.jsonl"));
        assertTrue(metrics.contains("two_view/") && !metrics.contains("contrastive/"), metrics);

        Object[] bad = MainTest.cli(List.of("ablate", "--only", "contrastive,nope"));
        assertEquals(2, bad[0]);
        assertTrue(((String) bad[2]).contains("--only") && ((String) bad[2]).contains("nope"), (String) bad[2]);
    }

    @Test
    void everyRowIsAValidConfig() throws Exception {
        int defaultSteps = org.sensorium.config.ConfigLoader.load(null, List.of()).config().train().steps();
        for (org.sensorium.job.Ablate.Variant v : org.sensorium.job.Ablate.Variant.all()) {
            List<String> sets = new ArrayList<>(v.sets());
            if (v.kind() == org.sensorium.objective.ObjectiveKind.PSEUDO_LABELS) {
                sets.add("objectives.pseudo_labels.file=clusters.jsonl"); // the ablation writes it before the row runs
            }
            var cfg = org.sensorium.config.ConfigLoader.load(null, sets).config();
            // untrained rows take 0 steps; the others the experiment's (here the defaults')
            assertEquals(v.sets().contains("train.steps=0") ? 0 : defaultSteps, cfg.train().steps(), v.key());
        }
        var motion = org.sensorium.config.ConfigLoader.load(null, org.sensorium.job.Ablate.Variant.of(org.sensorium.objective.ObjectiveKind.MOTION_PREDICTION).sets()).config();
        assertEquals(1.0, motion.data().clipSeconds()); // room for the future field in 2 s recordings
        assertEquals(0f, motion.objectives().contrastive().weight());
        assertEquals(1f, motion.objectives().motionPrediction().weight());
        var tot = org.sensorium.config.ConfigLoader.load(null, org.sensorium.job.Ablate.Variant.of(org.sensorium.objective.ObjectiveKind.TEMPORAL_OT).sets()).config();
        assertEquals(List.of(org.sensorium.config.Modality.IMU), tot.data().modalities());
        assertEquals(60, tot.data().synthLong());
        List<String> xdcSets = new ArrayList<>(org.sensorium.job.Ablate.Variant.of(org.sensorium.objective.ObjectiveKind.PSEUDO_LABELS).sets());
        xdcSets.add("objectives.pseudo_labels.file=clusters.jsonl");
        var xdc = org.sensorium.config.ConfigLoader.load(null, xdcSets).config().modalities().video(); // no video augmentation
        assertEquals(List.of(1.0, 0.0, 0.0), List.of(xdc.cropMinScale(), xdc.brightness(), xdc.contrast()));
        var be = org.sensorium.job.Ablate.Variant.of(org.sensorium.objective.ObjectiveKind.BACKGROUND_ERASING);
        assertEquals("background_erasing (static scenes)", be.label());
        assertEquals(org.sensorium.objective.ObjectiveKind.BE_SCENES, org.sensorium.config.ConfigLoader.load(null, be.sets()).config()
                .data().synthScenes()); // a static background to erase
        var reversed = org.sensorium.job.Ablate.Variant.parse("background_erasing_reversed");
        var reversedCfg = org.sensorium.config.ConfigLoader.load(null, reversed.sets()).config();
        assertEquals(4, reversed.stepsFactor()); // 600 steps in a 150-step table
        assertEquals(org.sensorium.config.Pretexts.OwnNegative.REVERSED, reversedCfg.objectives().backgroundErasing().ownNegative());
        assertEquals(org.sensorium.objective.ObjectiveKind.BE_SCENES, reversedCfg.data().synthScenes());
        assertEquals(1, be.stepsFactor());
    }

    @Test
    void searchEvolvesTheWeightsOfTheEnabledObjectives(@TempDir Path dir) throws Exception {
        List<String> args = new ArrayList<>(List.of("ablate", "--search", "--population", "2", "--generations", "2", "--steps", "2",
                "--zipf-k", "4", "--out", dir.resolve("search").toString(), "--set", "data.synth_samples=80",
                "--set", "objectives.two_view.weight=1"));
        List<String> tiny = MainTest.tinyArgs(dir);
        for (int i = 1; i < tiny.size(); i += 2) {
            if (!tiny.get(i + 1).startsWith("run.") && !tiny.get(i + 1).startsWith("train.steps")
                    && !tiny.get(i + 1).startsWith("data.synth_samples")) {
                args.addAll(tiny.subList(i, i + 2));
            }
        }
        Object[] r = MainTest.cli(args);
        assertEquals(0, r[0], (String) r[2]);
        Map<?, ?> json = Json.read(dir.resolve("search/search.json"));
        assertEquals(List.of("contrastive", "two_view"), json.get("objectives"));
        List<?> trials = (List<?>) json.get("trials");
        // generation 0: two drawn; generation 1: the better one survives (not re-run), one mutation of it is run
        assertEquals(List.of("g0-t0", "g0-t1", "g1-t0"), trials.stream().map(t -> ((Map<?, ?>) t).get("name")).toList());
        double best = trials.stream().mapToDouble(t -> ((Number) ((Map<?, ?>) t).get("zipf_kl")).doubleValue()).min().orElseThrow();
        Map<?, ?> chosen = (Map<?, ?>) trials.stream().filter(t -> ((Map<?, ?>) t).get("name").equals(json.get("best"))).findFirst().orElseThrow();
        assertEquals(best, ((Number) chosen.get("zipf_kl")).doubleValue(), 0.0);
        assertTrue(((String) r[1]).contains("best (zipf, lower is better): --set objectives.contrastive.weight="), (String) r[1]);
        assertTrue(Files.isRegularFile(dir.resolve("search/g1-t0/summary.json")));
    }
}
