package org.sensorium.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.config.Config;
import org.sensorium.config.Modality;
import org.sensorium.model.Safetensors;
import org.sensorium.model.SensoriumModel;

/**
 * Sensorium against the golden embeddings that the plain-PyTorch reference (interop/sensorium_torch.py) computed from
 * one exported tiny model and the fixture recordings' preprocessed inputs (src/test/resources/interop/README.md says
 * how they were made). No Python needed: the inputs, the export and the goldens are files in the repository.
 */
class InteropGoldenTest {
    static final Path DIR = Path.of("src/test/resources/interop");
    static final Path EXPORT = DIR.resolve("tiny");
    static final double MAX_COSINE_DISTANCE = 1e-4;

    /** 1 - cos of each row pair of a and b: (n, E), (n, E) -> (n), in double. */
    static double[] cosineDistances(float[] a, float[] b, int rows) {
        int e = a.length / rows;
        double[] d = new double[rows];
        for (int i = 0; i < rows; i++) {
            double ab = 0, aa = 0, bb = 0;
            for (int j = i * e; j < (i + 1) * e; j++) {
                ab += (double) a[j] * b[j];
                aa += (double) a[j] * a[j];
                bb += (double) b[j] * b[j];
            }
            d[i] = 1 - ab / Math.sqrt(aa * bb);
        }
        return d;
    }

    /** Sensorium's embeddings of the inputs file's input.m (and valid.m) for every modality it has: (n_m, E). */
    static Map<Modality, NDArray> embed(SensoriumModel model, Config cfg, Map<String, NDArray> inputs) {
        Map<Modality, NDArray> out = new EnumMap<>(Modality.class);
        for (Modality m : cfg.activeModalities()) {
            NDArray x = inputs.get("input." + m.key());
            if (x != null) {
                NDArray valid = inputs.get("valid." + m.key());
                out.put(m, model.forward(Map.of(m, x), valid == null ? Map.of() : Map.of(m, valid), false).embedding(m));
            }
        }
        return out;
    }

    @Test
    void sensoriumReproducesTheReferenceGoldensOfEveryModality() throws Exception {
        try (NDManager root = NDManager.newBaseManager()) {
            Exported export = Exported.open(EXPORT);
            Config cfg = export.sensoriumConfig(List.of());
            SensoriumModel model = export.model(root, List.of());
            Safetensors.Contents inputs = Safetensors.readAll(EXPORT.resolve("samples.safetensors"), root);
            Safetensors.Contents golden = Safetensors.readAll(DIR.resolve("golden.safetensors"), root);
            Map<Modality, NDArray> ours = embed(model, cfg, inputs.tensors());
            assertEquals(List.of(Modality.VIDEO, Modality.AUDIO, Modality.TEXT, Modality.IMU), List.copyOf(ours.keySet()));
            StringBuilder report = new StringBuilder("worst cosine distance, Sensorium vs the PyTorch reference's goldens:");
            for (Map.Entry<Modality, NDArray> e : ours.entrySet()) {
                String m = e.getKey().key();
                assertEquals(inputs.metadata().get("ids." + m), golden.metadata().get("ids." + m), "the same samples, in order: " + m);
                NDArray g = golden.tensors().get("embedding." + m);
                assertEquals(g.getShape(), e.getValue().getShape(), m);
                double[] d = cosineDistances(e.getValue().toFloatArray(), g.toFloatArray(), (int) g.getShape().get(0));
                double worst = java.util.Arrays.stream(d).max().orElseThrow();
                report.append(String.format(Locale.ROOT, " %s %.2e (n=%d);", m, worst, d.length));
                assertTrue(worst <= MAX_COSINE_DISTANCE, m + ": worst cosine distance " + worst);
            }
            System.out.println(report);
            model.close();
        }
    }

    @Test
    void theFixturesStillDecodeToTheCommittedInputs(@TempDir Path tmp) throws Exception {
        assumeTrue(Files.isDirectory(Path.of(System.getProperty("sensorium.shared", "../shared")).resolve("data/video")),
                "the shared fixtures (../shared/data) are not here");
        try (NDManager root = NDManager.newBaseManager()) {
            Exported export = Exported.open(EXPORT);
            Config cfg = export.sensoriumConfig(List.of());
            SensoriumModel model = export.model(root, List.of());
            Path again = tmp.resolve("samples.safetensors");
            ExportSamples.write(again, DIR.resolve("fixtures.jsonl"), cfg, model, root);
            Safetensors.Contents now = Safetensors.readAll(again, root);
            Safetensors.Contents committed = Safetensors.readAll(EXPORT.resolve("samples.safetensors"), root);
            assertEquals(committed.metadata(), now.metadata(), "the same samples, ids and manifest");
            assertEquals(committed.tensors().keySet(), now.tensors().keySet());
            for (Map.Entry<String, NDArray> e : committed.tensors().entrySet()) {
                NDArray a = e.getValue(), b = now.tensors().get(e.getKey());
                assertEquals(a.getShape(), b.getShape(), e.getKey());
                float diff = a.toType(ai.djl.ndarray.types.DataType.FLOAT32, false)
                        .sub(b.toType(ai.djl.ndarray.types.DataType.FLOAT32, false)).abs().max().getFloat();
                assertTrue(diff <= 1e-5f, e.getKey() + " differs by " + diff + ": decoding changed; regenerate the goldens"
                        + " (src/test/resources/interop/README.md)");
            }
            model.close();
        }
    }
}
