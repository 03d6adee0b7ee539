package org.sensorium.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.sensorium.config.Config;
import org.sensorium.config.Modality;
import org.sensorium.config.ModalitySpec;

/**
 * The PyTorch-eager peer of {@link TrainBench}: torch_replica.py (a resource of this package, a plain PyTorch
 * replica of the pretraining step) run by a python3 that has torch, on the same shapes, batch, accumulation, threads
 * and step counts. It checks that its parameter count equals Sensorium's for the same config, so the two models are
 * the same size.
 */
public final class TorchPeer {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SCRIPT = "torch_replica.py";
    /** The interpreters tried after $SENSORIUM_PYTHON: Debian's python3-torch lives in /usr/bin. */
    private static final List<String> PYTHONS = List.of("/usr/bin/python3", "python3");

    private TorchPeer() {}

    /**
     * The peer's run: its timed steps, or why it did not run.
     *
     * @param peakSeconds its fp32 1024^3 matmuls after the steps (the peer's own peak)
     * @param why null when it ran; else the reason it did not (no torch, a model variant it does not replicate, an error)
     */
    public record Outcome(String python, String torch, List<Double> stepSeconds, List<Double> peakSeconds, String why) {
        public boolean ran() {
            return why == null;
        }

        static Outcome skipped(String why) {
            return new Outcome(null, null, List.of(), List.of(), why);
        }
    }

    /** The first interpreter (SENSORIUM_PYTHON, /usr/bin/python3, python3) that imports torch, or null. */
    public static String python() {
        List<String> candidates = new ArrayList<>();
        String env = System.getenv("SENSORIUM_PYTHON");
        if (env != null && !env.isBlank()) {
            candidates.add(env);
        }
        candidates.addAll(PYTHONS);
        for (String p : candidates) {
            try {
                Process proc = new ProcessBuilder(p, "-c", "import torch").redirectErrorStream(true).start();
                proc.getInputStream().readAllBytes();
                if (proc.waitFor(120, TimeUnit.SECONDS) && proc.exitValue() == 0) {
                    return p;
                }
                proc.destroyForcibly();
            } catch (IOException e) {
                // not installed: the next one
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
        return null;
    }

    /** Why the replica cannot run this config, or null when it can: it replicates the default model's variants only. */
    static String unsupported(Config cfg) {
        ModalitySpec.Text text = cfg.modalities().text();
        if (!cfg.model().pool().equals("mean")) {
            return "model.pool " + cfg.model().pool() + " (the replica pools by mean)";
        }
        if (cfg.activeModalities().contains(Modality.TEXT) && text.bag() > 1) {
            return "modalities.text.bag " + text.bag() + " (the replica takes one text per sample)";
        }
        if (text.isPretrained() && (text.pretrained().learnedPooling() || !text.pretrained().projection().equals("linear"))) {
            return "the pretrained text tower's pooling/projection (the replica projects a sentence vector linearly)";
        }
        long others = cfg.objectives().all().stream().filter(s -> s != cfg.objectives().contrastive() && s.weight() > 0).count();
        if (others > 0 || cfg.objectives().contrastive().weight() <= 0) {
            return "objectives other than contrastive alone (the replica trains symmetric InfoNCE only)";
        }
        return null;
    }

    /** The replica's spec of the config's model and step: shapes, sizes, optimizer, parameter count to match. */
    static Map<String, Object> spec(Config cfg, TrainBench.Result ours, TrainBench.Options o) {
        Config.Model m = cfg.model();
        Config.Train t = cfg.train();
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("width", m.width());
        s.put("depth", m.depth());
        s.put("heads", m.heads());
        s.put("mlp_ratio", m.mlpRatio());
        s.put("embed", m.embedDim());
        s.put("dropout", m.dropout());
        s.put("drop_path", m.dropPath());
        s.put("logit_scale_init", m.logitScaleInit());
        s.put("logit_scale_max", m.logitScaleMax());
        Map<String, Object> mods = new LinkedHashMap<>();
        ModalitySpec.Text text = cfg.modalities().text();
        for (Modality x : cfg.activeModalities()) {
            if (x == Modality.TEXT && text.isPretrained()) {
                mods.put(x.key(), Map.of("sentence", text.pretrained().width()));
            } else if (x == Modality.TEXT) {
                mods.put(x.key(), Map.of("tokens", ours.tokens().get(x), "vocab", text.vocabSize()));
            } else {
                long per = new ai.djl.ndarray.types.Shape(cfg.modalities().inputShape(x, cfg.data().clipSeconds())).size();
                int n = ours.tokens().get(x);
                mods.put(x.key(), Map.of("tokens", n, "patch", per / n));
            }
        }
        s.put("modalities", mods);
        s.put("pairs", cfg.objectives().contrastive().pairs().stream()
                .filter(p -> cfg.activeModalities().contains(p.a()) && cfg.activeModalities().contains(p.b()))
                .map(p -> List.of(p.a().key(), p.b().key())).toList());
        s.put("batch", t.batchSize());
        s.put("accumulate", t.accumulate());
        s.put("lr", t.lr());
        s.put("beta1", t.beta1());
        s.put("beta2", t.beta2());
        s.put("eps", t.eps());
        s.put("weight_decay", t.weightDecay());
        s.put("clip", t.clipGradNorm());
        s.put("threads", ours.threads());
        s.put("steps", o.steps());
        s.put("warmup", o.warmup());
        s.put("params", ours.params());
        return s;
    }

    /** Runs the replica on the config's shapes with python, after Sensorium's measurement (never at the same time). */
    public static Outcome run(String python, Config cfg, TrainBench.Result ours, TrainBench.Options o) throws IOException {
        String why = unsupported(cfg);
        if (why != null) {
            return Outcome.skipped(why);
        }
        Path script = Files.createTempFile("sensorium-torch-replica", ".py");
        try {
            try (InputStream in = TorchPeer.class.getResourceAsStream(SCRIPT)) {
                if (in == null) {
                    throw new IOException("resource " + SCRIPT + " is missing from the jar");
                }
                Files.write(script, in.readAllBytes());
            }
            Process p = new ProcessBuilder(python, script.toString(), JSON.writeValueAsString(spec(cfg, ours, o)))
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int code = p.waitFor();
            String last = out.strip().lines().reduce((a, b) -> b).orElse("");
            JsonNode n;
            try {
                n = JSON.readTree(last);
            } catch (IOException e) {
                return Outcome.skipped("the peer failed (exit " + code + "): " + out.strip());
            }
            if (code != 0 || n.has("error")) {
                return Outcome.skipped("the peer failed (exit " + code + "): " + (n.has("error") ? n.get("error").asText() : out.strip()));
            }
            List<Double> times = new ArrayList<>();
            n.get("step_s").forEach(x -> times.add(x.asDouble()));
            List<Double> peak = new ArrayList<>();
            n.path("peak_s").forEach(x -> peak.add(x.asDouble()));
            return new Outcome(python, n.get("torch").asText(), times, peak, null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Outcome.skipped("interrupted");
        } finally {
            Files.deleteIfExists(script);
        }
    }
}
