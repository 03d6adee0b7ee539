package org.sensorium.job;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.config.ConfigLoader;

/**
 * Each masked objective trained alone lowers its held-out reconstruction error below the untrained model's: data2vec
 * on the generated sample set (160 samples, 32 held out; video only), LV-MAE on 60 generated long recordings (12 held
 * out; IMU only), where it also beats predicting each masked segment as the mean of the visible ones; and LV-MAE on
 * video, whose segments it embeds with a frozen video encoder pretrained video-text contrastively (model.init_from).
 * Minutes on 2 cores: tagged slow.
 */
@Tag("slow")
class MaskedObjectivesSlowTest {

    static List<String> run(Path dir, String name, String... more) {
        List<String> a = new ArrayList<>(List.of("run.dir=" + dir.resolve("runs"), "run.name=" + name,
                "data.cache_dir=" + dir.resolve("cache"), "data.synth_samples=160", "data.modalities=[video]",
                "objectives.contrastive.weight=0", "eval.pairs=[]", "model.width=64", "model.depth=2", "model.heads=2",
                "model.embed_dim=32", "train.steps=80", "train.batch_size=32", "train.accumulate=1", "train.warmup_steps=8",
                "train.checkpoint_every=0", "train.progress=false"));
        a.addAll(List.of(more));
        return a;
    }

    static Pretrain.HeldOut heldOut(Path dir, String name, String term, String... more) throws Exception {
        Pretrain.Summary s = Pretrain.start(ConfigLoader.load(null, run(dir, name, more)));
        Pretrain.HeldOut h = s.heldOut().get(term);
        System.out.println(name + " " + Map.of(term, h) + " " + s.heldOut());
        return h;
    }

    @Test
    void data2vecAloneLowersItsHeldOutError(@TempDir Path dir) throws Exception {
        // untrained: an untrained head against instance-normalised targets, about 1 (the error of predicting 0)
        Pretrain.HeldOut h = heldOut(dir, "tokens", "masked_tokens/video", "objectives.masked_tokens.weight=1",
                "objectives.masked_tokens.modalities=[video]");
        assertTrue(h.start() > 0.9 && h.end() < 0.95 * h.start(), h.toString());
    }

    @Test
    void lvMaeAloneBeatsTheMeanOfTheVisibleSegments(@TempDir Path dir) throws Exception {
        // whole long recordings (4 motions in one order, 8 s) cut into 4 IMU segments: the masked ones differ from
        // the visible ones in a way their position tells, which the mean of the visible ones cannot follow
        Pretrain.Summary s = Pretrain.start(ConfigLoader.load(null, run(dir, "segments", "data.synth_long=60",
                "data.clip_seconds=8.0", "data.modalities=[imu]", "objectives.masked_segments.weight=1",
                "objectives.masked_segments.modality=imu", "train.batch_size=16", "train.steps=100")));
        Pretrain.HeldOut h = s.heldOut().get("masked_segments/imu"), mean = s.heldOut().get("masked_segments/imu/visible_mean");
        System.out.println("segments " + s.heldOut());
        assertTrue(h.end() < 0.5 * mean.end() && h.end() < 0.5 * h.start(), h + " against the visible mean " + mean);
    }

    @Test
    void lvMaeOnVideoBeatsTheVisibleMeanWithAFrozenPretrainedEncoder(@TempDir Path dir) throws Exception {
        // a video encoder that tells the motions apart: video-text contrastive on the 2 s sample set (the captions name
        // the motion); its 2 s position table serves each 2 s segment of the 8 s long recordings
        Pretrain.start(ConfigLoader.load(null, run(dir, "clip", "data.modalities=[video,text]", "objectives.contrastive.weight=1",
                "objectives.contrastive.pairs=[video-text]", "train.steps=600")));
        Pretrain.Summary s = Pretrain.start(ConfigLoader.load(null, run(dir, "segments", "data.synth_long=60",
                "data.clip_seconds=8.0", "objectives.masked_segments.weight=1", "objectives.masked_segments.encoder=frozen",
                "model.init_from=" + dir.resolve("runs").resolve("clip"), "train.batch_size=16", "train.steps=300")));
        Pretrain.HeldOut h = s.heldOut().get("masked_segments/video"), mean = s.heldOut().get("masked_segments/video/visible_mean");
        System.out.println("video segments " + s.heldOut());
        // measured at these sizes: 0.43x (run.seed 1234) and 0.45x (run.seed 1) of the visible mean, 0.39x and 0.43x of
        // the start; the untrained encoder ties the visible mean (1.00x); after 150 or 300 contrastive steps (and 100
        // LV-MAE steps) the two seeds swung between 0.32x and 0.98x: the encoder spreads segments apart late
        assertTrue(h.end() < 0.7 * mean.end() && h.end() < 0.6 * h.start(), h + " against the visible mean " + mean);
    }
}
