package org.sensorium.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.config.Json;

/**
 * The default suite's check that pretraining learns: a short video-text run on the built-in sample set (240 samples,
 * 48 held out, chance R@1 1/48) against its random twin (the same run with train.steps = 0). Measured when written
 * (2 seeds): video->text 0.104, text->video 0.146 after 200 steps (5x and 7x chance), the twin at chance; QA from the
 * video alone 0.5625 (chance 0.25); 5-shot fine-tuning 0.271 (chance 0.125; that margin guards the fine-tuning, not
 * the pretraining: see the test). The margins
 * are set below that, and far above what a model that stopped learning reaches: with the contrastive loss replaced
 * by zero the test fails (README, docs/measured/evaluation.md).
 */
class LearningTest {

    private static Map<?, ?> run(Path dir, String name, int steps) throws Exception {
        List<String> a = new ArrayList<>(List.of("pretrain"));
        for (String s : List.of("run.dir=" + dir.resolve("runs"), "run.name=" + name, "data.cache_dir=" + dir.resolve("cache"),
                "data.synth_samples=240", "data.modalities=[video, text]", "objectives.contrastive.pairs=[video-text]",
                "eval.pairs=[video-text]", "model.width=64", "model.heads=2", "model.depth=1", "model.embed_dim=32",
                "train.steps=" + steps, "train.batch_size=32", "train.accumulate=1", "train.warmup_steps=10", "train.lr=0.002",
                "train.checkpoint_every=0", "train.progress=false", "eval.report=false", "run.seed=1")) {
            a.addAll(List.of("--set", s));
        }
        Object[] r = MainTest.cli(a);
        assertEquals(0, r[0], (String) r[2]);
        return (Map<?, ?>) Json.read(dir.resolve("runs/" + name + "/summary.json")).get("retrieval");
    }

    private static double r1(Map<?, ?> retrieval, String direction) {
        return ((Number) ((Map<?, ?>) retrieval.get(direction)).get("R@1")).doubleValue();
    }

    @Test
    void aShortPretrainingLiftsHeldOutRetrievalWellAboveChanceAndItsRandomTwin(@TempDir Path dir) throws Exception {
        double chance = 1.0 / 48;
        Map<?, ?> trained = run(dir, "trained", 200), twin = run(dir, "twin", 0);
        for (String d : List.of("video->text", "text->video")) {
            assertTrue(r1(trained, d) >= 3 * chance, d + " R@1 " + r1(trained, d) + " < 3x chance " + 3 * chance);
            assertTrue(r1(trained, d) >= r1(twin, d) + 2 * chance, d + " R@1 " + r1(trained, d) + " vs random twin " + r1(twin, d));
        }
        // Multiple-choice QA from the video alone (no subtitles) on the trained encoders: 4 answers, chance 0.25;
        // measured 0.5625 when written. The margin: at least 0.15 above chance.
        Path out = dir.resolve("qa.json");
        Object[] qa = MainTest.cli(List.of("qa", "--checkpoint", dir.resolve("runs/trained").toString(), "--no-subtitles",
                "--epochs", "10", "--seeds", "1", "--out", out.toString()));
        assertEquals(0, qa[0], (String) qa[2]);
        Map<?, ?> metrics = (Map<?, ?>) ((Map<?, ?>) ((List<?>) Json.read(out).get("tasks")).get(0)).get("metrics");
        double acc = ((Number) metrics.get("accuracy")).doubleValue(), qaChance = ((Number) metrics.get("chance")).doubleValue();
        assertTrue(acc >= qaChance + 0.15, "QA without subtitles " + acc + ", chance " + qaChance);

        // 5-shot fine-tuning of the whole video encoder + a linear classifier on the same trained checkpoint: 8 motion
        // classes, chance 0.125, 48 held-out clips. Measured when written: mean accuracy 0.271 +- 0.090 over seeds 1..5
        // (seeds 6..10: 0.204); the same fine-tuning from random weights 0.188 (seeds 1..5) and 0.213 (6..10); the
        // classifier alone on the frozen trained encoder is at chance (0.138), because this 200-step video-text model's
        // embeddings do not carry the motion labels. So this check catches a fine-tuning that stops learning (the
        // classifier not training, labels misaligned with clips): with the learning rates at effectively zero
        // (--lr 0 --head-lr 1e-9) the mean was 0.104. It does not catch a pretraining that stops learning (random
        // weights also clear it); the retrieval and QA margins above do. The margin: at least 0.075 above chance.
        Path ft = dir.resolve("ft.json");
        Object[] f = MainTest.cli(List.of("finetune", "--checkpoint", dir.resolve("runs/trained").toString(), "--shots", "5",
                "--train", "full", "--lr", "0.0001", "--epochs", "30", "--batch", "8", "--seeds", "1,2,3,4,5", "--out", ft.toString()));
        assertEquals(0, f[0], (String) f[2]);
        Map<?, ?> ftMetrics = (Map<?, ?>) ((Map<?, ?>) ((List<?>) Json.read(ft).get("tasks")).get(0)).get("metrics");
        double ftAcc = ((Number) ftMetrics.get("accuracy")).doubleValue(), ftChance = ((Number) ftMetrics.get("chance")).doubleValue();
        assertEquals(0.125, ftChance, 1e-12);
        assertEquals(40, ((Number) ftMetrics.get("n_train")).intValue()); // 5 shots x 8 classes
        assertTrue(ftAcc >= ftChance + 0.075, "5-shot fine-tuning mean accuracy " + ftAcc + ", chance " + ftChance);
    }
}
