package org.sensorium.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.config.Config;
import org.sensorium.config.Modality;
import org.sensorium.model.Safetensors;
import org.sensorium.model.SensoriumModel;

/**
 * Runs the PyTorch reference itself (interop/sensorium_torch.py) when a python3 with torch is here (Debian's
 * python3-torch will do; $SENSORIUM_PYTHON picks the interpreter), else is skipped: CI has no torch. It checks that
 * the reference regenerates the committed goldens, and that it matches Sensorium on the model variants the goldens do
 * not cover (CLS pooling, bags of texts, waveform audio, motion, the pretrained text tower's three ways), on random
 * inputs and weights moved well off their initial values.
 */
class InteropPythonTest {
    private static final Path SCRIPT = Path.of("interop/sensorium_torch.py");
    /**
     * The same operations in float32 differ by about 1e-13 in cosine distance here (libtorch 2.7.1 under DJL, torch 1.13
     * in Python); the tanh approximation of GELU in the reference gives 1e-10 to 1e-8 on these variants, which the
     * issue's 1e-4 would let through. This bound catches it and leaves 4 orders of magnitude for other CPUs' kernels.
     */
    private static final double SAME_OPS = 1e-9;

    /** The first interpreter that imports torch, or null. */
    private static String python() {
        List<String> candidates = new ArrayList<>();
        String env = System.getenv("SENSORIUM_PYTHON");
        if (env != null && !env.isBlank()) {
            candidates.add(env);
        }
        candidates.addAll(List.of("python3", "/usr/bin/python3"));
        for (String p : candidates) {
            try {
                if (run(List.of(p, "-c", "import torch"), 60).code() == 0) {
                    return p;
                }
            } catch (IOException e) {
                // not installed: try the next
            }
        }
        return null;
    }

    private record Ran(int code, String output) {}

    private static Ran run(List<String> command, int seconds) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            boolean done = p.waitFor(seconds, TimeUnit.SECONDS);
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!done) {
                p.destroyForcibly();
                throw new IOException(command + " did not finish in " + seconds + " s: " + out);
            }
            return new Ran(p.exitValue(), out);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    private static Ran golden(String python, Path export, Path inputs, Path out) throws IOException {
        return run(List.of(python, SCRIPT.toString(), "golden", "--export", export.toString(), "--inputs", inputs.toString(),
                "--out", out.toString()), 300);
    }

    @Test
    void theReferenceRegeneratesTheCommittedGoldens(@TempDir Path tmp) throws Exception {
        String python = python();
        assumeTrue(python != null, "no python3 with torch here");
        Path out = tmp.resolve("golden.safetensors");
        Ran r = golden(python, InteropGoldenTest.EXPORT, InteropGoldenTest.EXPORT.resolve("samples.safetensors"), out);
        assertEquals(0, r.code(), r.output());
        try (NDManager m = NDManager.newBaseManager()) {
            Safetensors.Contents now = Safetensors.readAll(out, m);
            Safetensors.Contents committed = Safetensors.readAll(InteropGoldenTest.DIR.resolve("golden.safetensors"), m);
            assertEquals(committed.tensors().keySet(), now.tensors().keySet());
            for (String name : committed.tensors().keySet()) {
                NDArray a = committed.tensors().get(name), b = now.tensors().get(name);
                double worst = Arrays.stream(InteropGoldenTest.cosineDistances(a.toFloatArray(), b.toFloatArray(),
                        (int) a.getShape().get(0))).max().orElseThrow();
                assertTrue(worst <= 1e-6, name + ": the reference now gives " + worst + " away from the committed golden");
            }
        }
    }

    @Test
    void theReferenceMatchesSensoriumOnEveryVariantOfTheModel(@TempDir Path tmp) throws Exception {
        String python = python();
        assumeTrue(python != null, "no python3 with torch here");
        Map<String, String[]> variants = new LinkedHashMap<>();
        variants.put("cls-bag-waveform-motion", new String[] {"data.modalities=[video, audio, text, imu, motion]",
            "modalities.text.bag=2", "modalities.audio.input=waveform", "data.clip_seconds=1.0", "modalities.imu.rate_hz=8.0"});
        variants.put("pretrained-mean-linear", new String[] {"modalities.text.tower=pretrained", "model.pool=mean"});
        variants.put("pretrained-learned", new String[] {"modalities.text.tower=pretrained", "modalities.text.pretrained.pooling=learned"});
        variants.put("pretrained-none-bag", new String[] {"modalities.text.tower=pretrained", "modalities.text.pretrained.projection=none",
            "model.embed_dim=384", "modalities.text.bag=3"});
        StringBuilder report = new StringBuilder("worst cosine distance, Sensorium vs the PyTorch reference, per variant:");
        for (Map.Entry<String, String[]> v : variants.entrySet()) {
            Path dir = Files.createDirectories(tmp.resolve(v.getKey()));
            Path export = dir.resolve("export");
            Export.run(new Export.Options(ExportTest.checkpoint(dir, v.getValue()), export, false, null, List.of()));
            try (NDManager root = NDManager.newBaseManager()) {
                Exported exported = Exported.open(export);
                Config cfg = exported.sensoriumConfig(List.of());
                SensoriumModel model = exported.model(root, List.of());
                Map<String, NDArray> inputs = randomInputs(cfg, 5, root);
                Map<Modality, NDArray> ours = InteropGoldenTest.embed(model, cfg, inputs);
                ours.forEach((m, e) -> inputs.put("embedding." + m.key(), e));
                Path in = dir.resolve("inputs.safetensors"), out = dir.resolve("out.safetensors");
                Safetensors.write(in, inputs);
                Ran r = golden(python, export, in, out);
                assertEquals(0, r.code(), v.getKey() + ": " + r.output());
                Map<String, NDArray> theirs = Safetensors.read(out, root);
                report.append("\n  ").append(v.getKey()).append(':');
                for (Map.Entry<Modality, NDArray> e : ours.entrySet()) {
                    NDArray t = theirs.get("embedding." + e.getKey().key());
                    double worst = Arrays.stream(InteropGoldenTest.cosineDistances(e.getValue().toFloatArray(), t.toFloatArray(),
                            (int) t.getShape().get(0))).max().orElseThrow();
                    report.append(String.format(Locale.ROOT, " %s %.2e", e.getKey().key(), worst));
                    assertTrue(worst <= InteropGoldenTest.MAX_COSINE_DISTANCE, v.getKey() + " " + e.getKey() + ": " + worst);
                    assertTrue(worst <= SAME_OPS, v.getKey() + " " + e.getKey() + ": " + worst + " is within 1e-4 but not the"
                            + " float32 noise of the same operations: a different GELU, norm epsilon or scale?");
                }
                model.close();
            }
        }
        System.out.println(report);
    }

    @Test
    void theReferenceNamesTheFileOfADamagedExportOnOneLine(@TempDir Path tmp) throws Exception {
        String python = python();
        assumeTrue(python != null, "no python3 with torch here");
        Path export = tmp.resolve("export");
        copy(InteropGoldenTest.EXPORT, export);
        Path inputs = InteropGoldenTest.EXPORT.resolve("samples.safetensors"), out = tmp.resolve("out.safetensors");
        Path weights = export.resolve("model.safetensors");
        byte[] good = Files.readAllBytes(weights);

        Files.write(weights, Arrays.copyOf(good, 5));
        assertOneLine(golden(python, export, inputs, out), weights + ": truncated header");
        byte[] swapped = good.clone(); // the first tensor's dtype F32 -> I32: same width, so only the type is wrong
        int at = new String(swapped, 8, 200, StandardCharsets.ISO_8859_1).indexOf("\"F32\"");
        System.arraycopy("\"I32\"".getBytes(StandardCharsets.US_ASCII), 0, swapped, 8 + at, 5);
        Files.write(weights, swapped);
        assertOneLine(golden(python, export, inputs, out), weights + ": tensor ");
        Files.write(weights, good);
        Files.delete(export.resolve("config.json"));
        assertOneLine(golden(python, export, inputs, out), export.resolve("config.json") + ": no such file");
    }

    private static void assertOneLine(Ran r, String start) {
        assertEquals(2, r.code(), r.output());
        assertEquals(1, r.output().lines().count(), r.output());
        assertTrue(r.output().startsWith("sensorium_torch.py: error: " + start), r.output());
    }

    private static void copy(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (var files = Files.list(from)) {
            for (Path f : files.toList()) {
                Files.copy(f, to.resolve(f.getFileName()));
            }
        }
    }

    /**
     * n random samples of every modality in the model's input shapes: N(0, 1) signals, token ids below the vocabulary
     * with 1 to L valid tokens, bags whose later rows are sometimes absent, unit sentence vectors for a pretrained tower.
     */
    static Map<String, NDArray> randomInputs(Config cfg, int n, NDManager m) {
        SplittableRandom r = new SplittableRandom(3);
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Modality mod : cfg.activeModalities()) {
            long[] one = cfg.modalities().inputShape(mod, cfg.data().clipSeconds());
            long[] shape = new long[one.length + 1];
            shape[0] = n;
            System.arraycopy(one, 0, shape, 1, one.length);
            int per = (int) new Shape(one).size();
            float[] v = new float[n * per];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) gaussian(r);
            }
            if (mod != Modality.TEXT) {
                out.put("input." + mod.key(), m.create(v, new Shape(shape)));
                continue;
            }
            var text = cfg.modalities().text();
            int k = text.bag();
            boolean states = text.isPretrained() && text.pretrained().learnedPooling();
            int l = text.isPretrained() && !states ? 1 : text.maxLength(); // valid entries per text row
            boolean[] valid = new boolean[n * k * l];
            for (int s = 0; s < n; s++) {
                int rows = 1 + r.nextInt(k);                                  // texts present in the bag
                for (int row = 0; row < rows; row++) {
                    int len = 1 + r.nextInt(l);
                    Arrays.fill(valid, (s * k + row) * l, (s * k + row) * l + len, true);
                }
            }
            if (!text.isPretrained()) {
                for (int i = 0; i < v.length; i++) {
                    v[i] = valid[i] ? r.nextInt(text.vocabSize()) : 0;
                }
                out.put("input.text", m.create(v, new Shape(shape)).toType(DataType.INT64, false));
            } else {
                out.put("input.text", m.create(v, new Shape(shape)));
            }
            out.put("valid.text", m.create(valid, new Shape(n, (long) k * l)));
        }
        return out;
    }

    private static double gaussian(SplittableRandom r) {
        return Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
    }
}
