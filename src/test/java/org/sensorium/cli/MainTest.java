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
        assertTrue(((Number) summary.get("skipped_samples")).intValue() >= 1);

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
        double entropy = ((Number) last.get("clustering/video-audio/video/usage_entropy")).doubleValue();
        assertTrue(entropy > 0 && entropy <= Math.log(8) + 1e-6, "usage entropy " + entropy);
        assertTrue(last.containsKey("clustering/video-audio/audio/dead_clusters"), last.toString());
    }

    @Test
    void twoViewContrastiveDecodesSecondClipsAndLogsItsTerm(@TempDir Path dir) throws Exception {
        Object[] r = cli(tinyArgs(dir, "--set", "objectives.two_view.weight=0.5", "--set", "objectives.two_view.modalities=[video, imu]"));
        assertEquals(0, r[0], (String) r[2]);
        List<String> lines = Files.readAllLines(dir.resolve("runs/e2e/metrics.jsonl"));
        Map<?, ?> last = Json.MAPPER.readValue(lines.get(lines.size() - 1), Map.class);
        double video = ((Number) last.get("two_view/video")).doubleValue();
        assertTrue(video > 0 && Double.isFinite(video), last.toString());
        assertTrue(last.containsKey("two_view/imu"), last.toString());
        assertTrue(last.containsKey("contrastive/video-text"), last.toString());
        // held out: R@1 of finding each sample's second view from its first, before the first step and after the last
        Map<?, ?> held = (Map<?, ?>) Json.read(dir.resolve("runs/e2e/summary.json")).get("held_out");
        for (String m : List.of("video", "imu")) {
            Map<?, ?> r1 = (Map<?, ?>) held.get("two_view/" + m + "/R@1");
            assertTrue(r1 != null && ((Number) r1.get("start")).doubleValue() >= 0 && ((Number) r1.get("end")).doubleValue() <= 1, held.toString());
        }
    }

    @Test
    void milNceTrainsOnBagsOfCaptionsAndRetrievalUsesTheBag(@TempDir Path dir) throws Exception {
        Object[] r = cli(tinyArgs(dir, "--set", "modalities.text.bag=3", "--set", "objectives.mil_nce.weight=0.5"));
        assertEquals(0, r[0], (String) r[2]);
        assertTrue(((String) r[1]).contains("video->text"), (String) r[1]);
        List<String> lines = Files.readAllLines(dir.resolve("runs/e2e/metrics.jsonl"));
        Map<?, ?> last = Json.MAPPER.readValue(lines.get(lines.size() - 1), Map.class);
        double mil = ((Number) last.get("mil_nce/video-text")).doubleValue();
        assertTrue(mil > 0 && Double.isFinite(mil), last.toString());
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
        double speed = ((Number) last.get("relative_speed/speed")).doubleValue();
        assertTrue(speed > 0 && speed < 3, last.toString()); // about ln 3 = 1.10 untrained
        assertTrue(last.containsKey("relative_speed/appearance"), last.toString());
        Map<?, ?> held = (Map<?, ?>) Json.read(dir.resolve("runs/e2e/summary.json")).get("held_out");
        Map<?, ?> accuracy = (Map<?, ?>) held.get("relative_speed/accuracy"); // slower / same / faster on held-out pairs
        double end = ((Number) accuracy.get("end")).doubleValue();
        assertTrue(end >= 0 && end <= 1, held.toString());
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
        double ot = ((Number) last.get("temporal_ot/imu")).doubleValue();
        assertTrue(ot > 0 && ot < Math.log(3) * 3, last.toString());
        assertEquals(32, ((Number) last.get("samples")).intValue(), "8 recordings x 4 windows");
        Map<?, ?> seg = (Map<?, ?>) Json.read(dir.resolve("runs/e2e/summary.json")).get("segmentation");
        double mof = ((Number) ((Map<?, ?>) seg.get("argmax")).get("mof")).doubleValue();
        assertTrue(mof > 0 && mof <= 1, seg.toString());

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
        for (String m : List.of("video", "audio", "imu", "text")) {
            double loss = ((Number) last.get("masked_tokens/" + m)).doubleValue();
            assertTrue(loss > 0 && Double.isFinite(loss), last.toString());
            assertTrue(((Number) last.get("masked_tokens/" + m + "/target_var")).doubleValue() > 0, last.toString());
        }
        assertTrue(!last.containsKey("contrastive/video-text"), last.toString());
        assertTrue(Files.isRegularFile(dir.resolve("runs/e2e/checkpoints/step-0000004/teacher-masked_tokens.ndlist")));
        assertTrue(((String) r[1]).contains("held-out objective measures"), (String) r[1]);
        Map<?, ?> held = (Map<?, ?>) Json.read(dir.resolve("runs/e2e/summary.json")).get("held_out");
        assertTrue(held.containsKey("masked_tokens/video"), held.toString());
    }

    @Test
    void maskedSegmentsTrainsNextToContrastiveAndReportsItsHeldOutError(@TempDir Path dir) throws Exception {
        Object[] r = cli(tinyArgs(dir, "--set", "objectives.masked_segments.weight=1", "--set", "objectives.masked_segments.decoder_width=16"));
        assertEquals(0, r[0], (String) r[2]);
        List<String> lines = Files.readAllLines(dir.resolve("runs/e2e/metrics.jsonl"));
        Map<?, ?> last = Json.MAPPER.readValue(lines.get(lines.size() - 1), Map.class);
        double loss = ((Number) last.get("masked_segments/video")).doubleValue();
        assertTrue(loss > 0 && Double.isFinite(loss), last.toString());
        assertTrue(last.containsKey("contrastive/video-text"), last.toString());
        Map<?, ?> held = (Map<?, ?>) Json.read(dir.resolve("runs/e2e/summary.json")).get("held_out");
        assertTrue(held.containsKey("masked_segments/video") && held.containsKey("masked_segments/video/visible_mean"), held.toString());
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
