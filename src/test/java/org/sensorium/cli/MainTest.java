package org.sensorium.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.data.SampleSetGenerator;
import org.sensorium.config.Json;

/** The README's main command, `sensorium pretrain`, on tiny settings, and its error contract. */
class MainTest {

    static List<String> tinyArgs(Path dir, String... more) {
        List<String> a = new ArrayList<>(List.of("pretrain"));
        for (String s : List.of("run.dir=" + dir.resolve("runs"), "run.name=e2e", "data.cache_dir=" + dir.resolve("cache"),
                "data.synth_samples=40", "model.width=32", "model.heads=2", "model.depth=1", "model.embed_dim=16",
                "train.steps=4", "train.batch_size=8", "train.accumulate=1", "train.warmup_steps=1", "train.checkpoint_every=2",
                "train.progress=false")) {
            a.add("--set");
            a.add(s);
        }
        a.addAll(List.of(more));
        return a;
    }

    /** Runs the CLI and returns {exit code, stdout, stderr}. */
    static Object[] cli(List<String> args) {
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        System.setOut(new PrintStream(o, true));
        System.setErr(new PrintStream(e, true));
        try {
            int code = Main.run(args.toArray(String[]::new));
            return new Object[] {code, o.toString(), e.toString()};
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    /**
     * Every logged step's loss is what was trained: the sum of its terms ("objective/name", one slash) times their
     * objective's weight, plus the listed extra terms (logged already weighted inside their objective). A term that is
     * logged but left out of the trained loss, or weighted wrongly, fails this; every objective must log a term.
     */
    static void assertLossIsTheWeightedSumOfItsTerms(List<Map<?, ?>> lines, Map<String, Double> weights, String... extra) {
        for (Map<?, ?> line : lines) {
            double sum = 0;
            java.util.Set<String> seen = new java.util.HashSet<>();
            for (Map.Entry<?, ?> e : line.entrySet()) {
                String[] key = ((String) e.getKey()).split("/");
                boolean listed = List.of(extra).contains((String) e.getKey());
                if ((key.length == 2 || listed) && weights.containsKey(key[0])) {
                    sum += weights.get(key[0]) * ((Number) e.getValue()).doubleValue();
                    seen.add(key[0]);
                }
            }
            assertEquals(weights.keySet(), seen, line.toString());
            assertEquals(((Number) line.get("loss")).doubleValue(), sum, 1e-4, "loss against its weighted terms " + line);
        }
    }

    static List<Map<?, ?>> metrics(Path run) throws Exception {
        List<Map<?, ?>> out = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
            out.add(Json.MAPPER.readValue(line, Map.class));
        }
        return out;
    }

    @Test
    void pretrainRunsEndToEndAndResumes(@TempDir Path dir) throws Exception {
        Object[] r = cli(tinyArgs(dir));
        assertEquals(0, r[0], (String) r[2]);
        String out = (String) r[1];
        assertTrue(out.contains("video->text") && out.contains("imu->text") && out.contains("audio->video"), out);
        Path run = dir.resolve("runs/e2e");
        assertEquals(4, Files.readAllLines(run.resolve("metrics.jsonl")).size());
        assertTrue(Files.isRegularFile(run.resolve("config.yaml")));
        assertTrue(Files.isRegularFile(run.resolve("checkpoints/step-0000004/model.ndlist")));
        Map<?, ?> summary = Json.read(run.resolve("summary.json"));
        assertEquals(4, summary.get("steps"));
        assertTrue(((Map<?, ?>) summary.get("retrieval")).containsKey("text->imu"));

        // The same name again is refused; --resume with more steps continues from step 4 (evaluating 2 clips a sample).
        assertEquals(2, cli(tinyArgs(dir))[0]);
        Object[] resumed = cli(List.of("pretrain", "--resume", run.toString(), "--set", "train.steps=6", "--set", "eval.clips=2"));
        assertEquals(0, resumed[0], (String) resumed[2]);
        assertTrue(((String) resumed[1]).contains("video->text"), (String) resumed[1]);
        assertEquals(6, Files.readAllLines(run.resolve("metrics.jsonl")).size());
    }

    @Test
    void configErrorsAreOneLineWithExitCode2(@TempDir Path dir) {
        Object[] r = cli(List.of("pretrain", "--set", "train.stepz=3"));
        assertEquals(2, r[0]);
        String err = ((String) r[2]).strip();
        assertEquals("error: train.stepz: --set train.stepz=3: unknown key (every key is listed in configs/defaults.yaml)", err);
        Object[] missing = cli(List.of("pretrain", "--config", dir.resolve("nope.yaml").toString()));
        assertEquals(2, missing[0]);
        assertTrue(((String) missing[2]).contains("nope.yaml"));
    }

    @Test
    void brokenRecordingIsSkippedAndReportedOrFatalWithStrict(@TempDir Path dir) throws Exception {
        Path manifest = SampleSetGenerator.generate(dir.resolve("set"), 40, 3);
        Path broken = dir.resolve("set/media/broken.mp4");
        byte[] good = Files.readAllBytes(dir.resolve("set/media/s00000.mp4"));
        Files.write(broken, java.util.Arrays.copyOf(good, 200));               // truncated
        Files.write(dir.resolve("set/media/empty.mp4"), new byte[0]);          // zero bytes
        // The held-out one is decoded for sure (evaluation reads every held-out sample); the training one is
        // decoded unless the shuffle drops it as the last partial batch.
        Files.writeString(manifest, Files.readString(manifest)
                + "{\"id\":\"bad\",\"split\":\"val\",\"video\":{\"uri\":\"media/broken.mp4\"},\"captions\":[\"x\"]}\n"
                + "{\"id\":\"empty\",\"split\":\"train\",\"video\":{\"uri\":\"media/empty.mp4\"},\"captions\":[\"x\"]}\n");
        List<String> args = tinyArgs(dir, "--set", "data.manifest=" + manifest);
        Object[] r = cli(args);
        assertEquals(0, r[0], (String) r[2]);
        assertTrue(((String) r[1]).contains("manifest.jsonl:41 (id=bad): "), (String) r[1]);
        assertTrue(((String) r[1]).contains("broken.mp4: cannot decode"), (String) r[1]);
        Map<?, ?> summary = Json.read(dir.resolve("runs/e2e/summary.json"));
        // the held-out one is skipped for sure, named with its reason; skipped_samples counts the distinct samples skipped
        Map<?, ?> skipped = (Map<?, ?>) summary.get("skipped");
        assertTrue(((String) skipped.get("bad")).contains("broken.mp4: cannot decode"), skipped.toString());
        assertEquals(skipped.size(), ((Number) summary.get("skipped_samples")).intValue(), summary.toString());

        List<String> strict = tinyArgs(dir, "--set", "data.manifest=" + manifest, "--strict", "--set", "run.name=strict");
        Object[] s = cli(strict);
        assertEquals(2, s[0]);
        String err = ((String) s[2]).strip();
        assertTrue(err.endsWith("(--strict)") && err.contains(".mp4: "), err);
    }

    @Test
    void clusteringTrainsNextToContrastiveAndLogsClusterUsage(@TempDir Path dir) throws Exception {
        Object[] r = cli(tinyArgs(dir, "--set", "objectives.clustering.weight=0.5", "--set", "objectives.clustering.prototypes=8"));
        assertEquals(0, r[0], (String) r[2]);
        List<String> lines = Files.readAllLines(dir.resolve("runs/e2e/metrics.jsonl"));
        Map<?, ?> last = Json.MAPPER.readValue(lines.get(lines.size() - 1), Map.class);
        assertTrue(last.containsKey("clustering/video-audio"), last.toString());
        assertTrue(last.containsKey("contrastive/video-text"), last.toString());
        assertTrue(last.containsKey("clustering/video-audio/audio/dead_clusters"), last.toString());
        List<Map<?, ?>> all = metrics(dir.resolve("runs/e2e"));
        assertLossIsTheWeightedSumOfItsTerms(all, Map.of("contrastive", 1.0, "clustering", 0.5));
        // At the first step the queue is empty and Sinkhorn balances the 8 prototypes over the batch alone, so the
        // batch's cluster usage is near even: entropy near ln 8 = 2.079 (3 Sinkhorn iterations: 2.047-2.078 over the
        // pairs of 2 seeds when written; later steps, with the queue, 1.73-2.01). The margin: within 0.05 of ln 8.
        // Joint targets (the default) are one Q per pair, so a pair's two modalities log the same usage at every step.
        for (String pair : List.of("video-audio/video", "video-audio/audio", "video-text/video", "video-text/text",
                "imu-video/imu", "imu-video/video")) {
            double first = ((Number) all.get(0).get("clustering/" + pair + "/usage_entropy")).doubleValue();
            assertTrue(first >= Math.log(8) - 0.05 && first <= Math.log(8) + 1e-9, pair + " usage entropy at step 1: " + first);
        }
        for (Map<?, ?> line : all) {
            for (String pair : List.of("video-audio/video:audio", "video-text/video:text", "imu-video/imu:video")) {
                String p = pair.substring(0, pair.indexOf('/')), a = pair.substring(p.length() + 1, pair.indexOf(':'));
                String b = pair.substring(pair.indexOf(':') + 1);
                for (String stat : List.of("usage_entropy", "dead_clusters", "mean_max")) {
                    assertEquals(line.get("clustering/" + p + "/" + a + "/" + stat), line.get("clustering/" + p + "/" + b + "/" + stat),
                            p + " " + stat + " at step " + line.get("step"));
                }
            }
        }
    }

    @Test
    void twoViewContrastiveDecodesSecondClipsAndLogsItsTerm(@TempDir Path dir) throws Exception {
        Object[] r = cli(tinyArgs(dir, "--set", "objectives.two_view.weight=0.5", "--set", "objectives.two_view.modalities=[video, imu]"));
        assertEquals(0, r[0], (String) r[2]);
        List<String> lines = Files.readAllLines(dir.resolve("runs/e2e/metrics.jsonl"));
        Map<?, ?> last = Json.MAPPER.readValue(lines.get(lines.size() - 1), Map.class);
        assertTrue(last.containsKey("two_view/video") && last.containsKey("two_view/imu"), last.toString());
        assertLossIsTheWeightedSumOfItsTerms(metrics(dir.resolve("runs/e2e")), Map.of("contrastive", 1.0, "two_view", 0.5));
        assertTrue(last.containsKey("contrastive/video-text"), last.toString());
        // held out: R@1 of finding each sample's second view from its first, before the first step and after the last,
        // among 8 (video) and 7 (IMU) samples: chance 1/8 and 1/7. Two clips of one recording look alike even to a
        // random encoder, so this is far above chance from the start: measured video 0.375 -> 0.375, IMU 1.0 -> 1.0
        // (2 seeds alike). It checks that the measure pairs each sample's own two views, not that training helps.
        // The margin: at least twice the larger chance, 2/7, at both ends.
        Map<?, ?> held = (Map<?, ?>) Json.read(dir.resolve("runs/e2e/summary.json")).get("held_out");
        for (String m : List.of("video", "imu")) {
            Map<?, ?> r1 = (Map<?, ?>) held.get("two_view/" + m + "/R@1");
            assertTrue(r1 != null && ((Number) r1.get("start")).doubleValue() >= 2.0 / 7 && ((Number) r1.get("end")).doubleValue() >= 2.0 / 7,
                    held.toString());
        }
    }

    @Test
    void milNceTrainsOnBagsOfCaptionsAndRetrievalUsesTheBag(@TempDir Path dir) throws Exception {
        Object[] r = cli(tinyArgs(dir, "--set", "modalities.text.bag=3", "--set", "objectives.mil_nce.weight=0.5"));
        assertEquals(0, r[0], (String) r[2]);
        assertTrue(((String) r[1]).contains("video->text"), (String) r[1]);
        List<String> lines = Files.readAllLines(dir.resolve("runs/e2e/metrics.jsonl"));
        Map<?, ?> last = Json.MAPPER.readValue(lines.get(lines.size() - 1), Map.class);
        assertTrue(last.containsKey("mil_nce/video-text"), last.toString());
        assertLossIsTheWeightedSumOfItsTerms(metrics(dir.resolve("runs/e2e")), Map.of("contrastive", 1.0, "mil_nce", 0.5));
        Object[] noBag = cli(tinyArgs(dir, "--set", "objectives.mil_nce.weight=0.5", "--set", "run.name=nobag"));
        assertEquals(2, noBag[0]);
        assertTrue(((String) noBag[2]).contains("modalities.text.bag"), (String) noBag[2]);
    }

    @Test
    void relativeSpeedAndBackgroundErasingTrain(@TempDir Path dir) throws Exception {
        Object[] r = cli(tinyArgs(dir, "--set", "objectives.relative_speed.weight=0.5", "--set", "modalities.video.background_erasing=0.3"));
        assertEquals(0, r[0], (String) r[2]);
        List<String> lines = Files.readAllLines(dir.resolve("runs/e2e/metrics.jsonl"));
        Map<?, ?> last = Json.MAPPER.readValue(lines.get(lines.size() - 1), Map.class);
        assertTrue(last.containsKey("relative_speed/speed") && last.containsKey("relative_speed/appearance"), last.toString());
        List<Map<?, ?>> all = metrics(dir.resolve("runs/e2e"));
        assertLossIsTheWeightedSumOfItsTerms(all, Map.of("contrastive", 1.0, "relative_speed", 0.5));
        // The speed term is the cross-entropy of a new 3-way classifier (slower / same / faster): ln 3 = 1.0986 at the
        // first step (measured 1.0925 and 1.0812 for 2 seeds). The margin: within 0.05 of ln 3.
        double speed = ((Number) all.get(0).get("relative_speed/speed")).doubleValue();
        assertEquals(Math.log(3), speed, 0.05, "speed term at step 1");
        // Held-out slower/same/faster accuracy on the 8 held-out samples' pairs: 4 steps learn nothing here (measured
        // 0.375 -> 0.375 and 0.25 -> 0.5 for 2 seeds, chance 1/3), so no margin; each end is a whole number of the 8.
        Map<?, ?> held = (Map<?, ?>) Json.read(dir.resolve("runs/e2e/summary.json")).get("held_out");
        Map<?, ?> accuracy = (Map<?, ?>) held.get("relative_speed/accuracy");
        for (String at : List.of("start", "end")) {
            double a = ((Number) accuracy.get(at)).doubleValue();
            assertEquals(Math.rint(a * 8), a * 8, 1e-9, at + " accuracy " + a + " of 8 held-out pairs");
        }
        // its trivial baseline: the most frequent of the three speed classes among those 8 pairs, at least 3 of them
        double majority = ((Number) ((Map<?, ?>) held.get("relative_speed/majority")).get("end")).doubleValue();
        assertTrue(Math.rint(majority * 8) == majority * 8 && majority >= 3.0 / 8, "majority " + majority);
    }

    @Test
    void temporalOtTrainsOnLongRecordingsNextToContrastiveAndReportsSegmentation(@TempDir Path dir) throws Exception {
        // 12 long recordings of 3 motions (6 s), IMU + text; windows of 1 s, 4 per recording (batch of 8 recordings = 32 clips).
        List<String> longSet = List.of("--set", "data.synth_long=12", "--set", "data.synth_segments=3", "--set", "data.clip_seconds=1.0",
                "--set", "objectives.temporal_ot.weight=1", "--set", "objectives.temporal_ot.prototypes=3");
        List<String> args = new ArrayList<>(tinyArgs(dir, "--set", "data.modalities=[imu, text]", "--set", "objectives.contrastive.pairs=[imu-text]",
                "--set", "objectives.temporal_ot.windows=4"));
        args.addAll(longSet);
        Object[] r = cli(args);
        assertEquals(0, r[0], (String) r[2]);
        String out = (String) r[1];
        assertTrue(out.contains("held-out temporal segmentation (imu, 2 recordings, 8 frames, 3 activities")
                && out.contains("argmax of prototype scores") && out.contains("equal split in order (baseline)"), out);
        List<String> lines = Files.readAllLines(dir.resolve("runs/e2e/metrics.jsonl"));
        assertEquals(4, lines.size());
        Map<?, ?> last = Json.MAPPER.readValue(lines.get(lines.size() - 1), Map.class);
        for (String key : List.of("temporal_ot/imu", "temporal_ot/imu/coherence", "contrastive/imu-text", "temporal_ot/imu/usage_entropy",
                "temporal_ot/imu/order_agreement", "temporal_ot/imu/dead_prototypes", "temporal_ot/imu/pseudo_label_agreement")) {
            assertTrue(last.containsKey(key), key + " in " + last);
        }
        // the coherence term is logged already weighted (coherence_weight) inside the objective
        assertLossIsTheWeightedSumOfItsTerms(metrics(dir.resolve("runs/e2e")), Map.of("contrastive", 1.0, "temporal_ot", 1.0),
                "temporal_ot/imu/coherence");
        assertEquals(32, ((Number) last.get("samples")).intValue(), "8 recordings x 4 windows");
        // 2 held-out recordings x 4 windows, 4 steps: the argmax MoF (0.875 when written) equals the equal split in
        // order (0.875), so no margin; each MoF is a whole number of the 8 frames, the console prints the JSON's numbers,
        // and the argmax decoding cannot use more clusters than the 3 prototypes.
        Map<?, ?> seg = (Map<?, ?>) Json.read(dir.resolve("runs/e2e/summary.json")).get("segmentation");
        Map<?, ?> argmax = (Map<?, ?>) seg.get("argmax");
        for (String decoding : List.of("argmax", "transport")) {
            Map<?, ?> d = (Map<?, ?>) seg.get(decoding);
            assertEquals(8, ((Number) d.get("frames")).intValue(), seg.toString());
            for (String key : List.of("mof", "equal_split_mof")) {
                double v = ((Number) d.get(key)).doubleValue();
                assertEquals(Math.rint(v * 8), v * 8, 1e-9, decoding + " " + key + " " + v + " of 8 frames");
            }
        }
        assertTrue(((Number) argmax.get("clusters")).intValue() <= 3, seg.toString());
        assertTrue(out.contains(String.format("%-34s %7.3f %7.3f", "argmax of prototype scores", ((Number) argmax.get("mof")).doubleValue(),
                ((Number) argmax.get("nmi")).doubleValue())), out);

        // Time steps of whole recordings on video (6 s at 4 fps in tubelets of 2: 12 frames of 16 tokens), no contrastive.
        List<String> steps = new ArrayList<>(tinyArgs(dir, "--set", "run.name=steps", "--set", "data.modalities=[video]",
                "--set", "objectives.contrastive.weight=0", "--set", "objectives.temporal_ot.modality=video",
                "--set", "objectives.temporal_ot.windows=0", "--set", "train.steps=2"));
        steps.addAll(longSet);
        steps.addAll(List.of("--set", "data.clip_seconds=6.0"));
        Object[] v = cli(steps);
        assertEquals(0, v[0], (String) v[2]);
        assertTrue(((String) v[1]).contains("held-out temporal segmentation (video, 2 recordings, 24 frames, 3 activities"), (String) v[1]);
        assertTrue(Files.readString(dir.resolve("runs/steps/metrics.jsonl")).contains("\"temporal_ot/video/coherence\""));
    }

    @Test
    void theMotionFieldTrainsAsAModalityOfItsOwn(@TempDir Path dir) throws Exception {
        Object[] r = cli(tinyArgs(dir, "--set", "data.modalities=[video, text, motion]",
                "--set", "objectives.contrastive.pairs=[video-text, motion-text, video-motion]", "--set", "eval.pairs=[motion-text]"));
        assertEquals(0, r[0], (String) r[2]);
        assertTrue(((String) r[1]).contains("motion->text"), (String) r[1]);
        List<String> lines = Files.readAllLines(dir.resolve("runs/e2e/metrics.jsonl"));
        assertTrue(lines.get(lines.size() - 1).contains("contrastive/video-motion"), lines.get(lines.size() - 1));
    }

    @Test
    void maskedTokensTrainsAloneAndReportsItsHeldOutError(@TempDir Path dir) throws Exception {
        // text too (the scratch tower's ids: padding is never masked and stays out of the instance norm), with a CLS token
        // in front of every sequence
        Object[] r = cli(tinyArgs(dir, "--set", "objectives.contrastive.weight=0", "--set", "objectives.masked_tokens.weight=1",
                "--set", "objectives.masked_tokens.top_k_layers=1", "--set", "objectives.masked_tokens.modalities=[video, audio, imu, text]",
                "--set", "model.pool=cls", "--set", "modalities.text.tower=scratch"));
        assertEquals(0, r[0], (String) r[2]);
        List<String> lines = Files.readAllLines(dir.resolve("runs/e2e/metrics.jsonl"));
        Map<?, ?> last = Json.MAPPER.readValue(lines.get(lines.size() - 1), Map.class);
        List<Map<?, ?>> all = metrics(dir.resolve("runs/e2e"));
        assertLossIsTheWeightedSumOfItsTerms(all, Map.of("masked_tokens", 1.0));
        Map<?, ?> held = (Map<?, ?>) Json.read(dir.resolve("runs/e2e/summary.json")).get("held_out");
        for (String m : List.of("video", "audio", "imu", "text")) {
            // The targets are normalised per token, so an untrained predictor's squared error is their variance, 1
            // (measured at step 1: 0.93-1.04 over the 4 modalities and 2 seeds). The margin: within 0.15 of 1.
            assertEquals(1.0, ((Number) all.get(0).get("masked_tokens/" + m)).doubleValue(), 0.15, m + " at step 1");
            // The teacher's output variance before normalisation (near 0 = collapsed): measured 0.0003-0.05 (text and
            // IMU lowest). The margin: above 1e-4.
            assertTrue(((Number) last.get("masked_tokens/" + m + "/target_var")).doubleValue() > 1e-4, last.toString());
            // Held-out error before the first step and after the last: 4 steps lower it for every modality (measured
            // drops 0.009-0.068 over 2 seeds; none with train.lr=1e-9). The margin: a drop of at least 0.005.
            Map<?, ?> h = (Map<?, ?>) held.get("masked_tokens/" + m);
            assertTrue(((Number) h.get("end")).doubleValue() <= ((Number) h.get("start")).doubleValue() - 0.005, m + " " + h);
        }
        assertTrue(!last.containsKey("contrastive/video-text"), last.toString());
        assertTrue(Files.isRegularFile(dir.resolve("runs/e2e/checkpoints/step-0000004/teacher-masked_tokens.ndlist")));
        assertTrue(((String) r[1]).contains("held-out objective measures"), (String) r[1]);
    }

    @Test
    void maskedSegmentsTrainsNextToContrastiveAndReportsItsHeldOutError(@TempDir Path dir) throws Exception {
        Object[] r = cli(tinyArgs(dir, "--set", "objectives.masked_segments.weight=1", "--set", "objectives.masked_segments.decoder_width=16"));
        assertEquals(0, r[0], (String) r[2]);
        List<String> lines = Files.readAllLines(dir.resolve("runs/e2e/metrics.jsonl"));
        Map<?, ?> last = Json.MAPPER.readValue(lines.get(lines.size() - 1), Map.class);
        assertTrue(last.containsKey("contrastive/video-text"), last.toString());
        List<Map<?, ?>> all = metrics(dir.resolve("runs/e2e"));
        assertLossIsTheWeightedSumOfItsTerms(all, Map.of("contrastive", 1.0, "masked_segments", 1.0));
        // Layer-normalised targets, and the decoder starts at the mean of the visible segments plus a small change:
        // far below 1, the error of predicting 0 (measured at step 1: 0.008).
        assertTrue(((Number) all.get(0).get("masked_segments/video")).doubleValue() < 0.15, "step 1: " + all.get(0));
        Map<?, ?> held = (Map<?, ?>) Json.read(dir.resolve("runs/e2e/summary.json")).get("held_out");
        Map<?, ?> h = (Map<?, ?>) held.get("masked_segments/video"), mean = (Map<?, ?>) held.get("masked_segments/video/visible_mean");
        // Held-out error before the first step and after the last: measured 0.0121 -> 0.0091 (visible mean 0.0077: the
        // clips are 2 s of one motion, README Masked embedding). The margin: any drop.
        double start = ((Number) h.get("start")).doubleValue(), end = ((Number) h.get("end")).doubleValue();
        assertTrue(mean != null && end < start && end < 0.15, held.toString());
        // segments that do not divide the clip's 4 tubelet slices: a config error before training, exit code 2
        Object[] bad = cli(tinyArgs(dir, "--set", "objectives.masked_segments.weight=1", "--set", "objectives.masked_segments.segments=3",
                "--set", "run.name=bad"));
        assertEquals(2, bad[0]);
        assertTrue(((String) bad[2]).contains("objectives.masked_segments.segments"), (String) bad[2]);
    }

    @Test
    void pretrainsWithThePretrainedTextTowerAndNamesAMissingModelFile(@TempDir Path dir) throws Exception {
        Object[] r = cli(tinyArgs(dir, "--set", "modalities.text.tower=pretrained", "--set", "run.name=tower"));
        assertEquals(0, r[0], (String) r[2]);
        assertTrue(((String) r[1]).contains("video->text") && ((String) r[1]).contains("text->imu"), (String) r[1]);
        Map<?, ?> summary = Json.read(dir.resolve("runs/tower/summary.json"));
        assertEquals(4, summary.get("steps"));
        // the frozen tower's weights are not the run's: only its projection is saved
        Object[] bad = cli(tinyArgs(dir, "--set", "modalities.text.tower=pretrained", "--set", "run.name=bad",
                "--set", "modalities.text.pretrained.model=" + dir.resolve("absent.onnx")));
        assertEquals(2, bad[0], (String) bad[2]);
        String line = ((String) bad[2]).lines().filter(l -> l.contains("modalities.text.pretrained.model")).findFirst().orElse("");
        assertTrue(line.startsWith("error: ") && line.contains("absent.onnx"), (String) bad[2]);
    }
}
