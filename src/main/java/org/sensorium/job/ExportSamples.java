package org.sensorium.job;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sensorium.config.Config;
import org.sensorium.config.Json;
import org.sensorium.config.Modality;
import org.sensorium.data.Batch;
import org.sensorium.data.Loader;
import org.sensorium.data.Manifest;
import org.sensorium.data.ManifestEntry;
import org.sensorium.modality.Adapters;
import org.sensorium.modality.Item;
import org.sensorium.modality.ModalityAdapter;
import org.sensorium.modality.SkipLog;
import org.sensorium.model.Safetensors;
import org.sensorium.model.SensoriumModel;

/**
 * samples.safetensors of an export: the preprocessed inputs of a manifest's samples, exactly the tensors
 * Sensorium feeds its stems, with Sensorium's own embeddings of them, so that a port of the model (the PyTorch
 * reference, or anyone's) can be checked number for number. Each sample is cut to its centred clip, decoded as
 * evaluation decodes it; a broken sample is skipped and reported. Meant for a handful of samples: all their
 * inputs are held in memory.
 *
 * <p>Per modality m, over the n_m samples that have it, in manifest order:
 * <pre>
 *   input.m      (n_m, ...)  the stem's input: video (n, T, H, W, 3), audio (n, F, M) or (n, S), imu (n, W, C),
 *                            text ids (n, L) as I64 (scratch tower), or the tower's vectors (n, W) / states (n, L, W)
 *   valid.m      (n_m, N)    BOOL, only for modalities with padding (text): false at padded tokens
 *   embedding.m  (n_m, E)    Sensorium's unit embedding of the sample
 * </pre>
 * Metadata: "ids.m", a JSON list of the sample ids of each modality's rows; "manifest", its file name and sha256.
 */
final class ExportSamples {
    private ExportSamples() {}

    /** What was written: rows per modality and the samples skipped (id -> reason). */
    record Written(Map<Modality, Integer> rows, Map<String, String> skipped) {}

    static Written write(Path file, Path manifest, Config cfg, SensoriumModel model, NDManager root) throws IOException,
            InterruptedException {
        List<ManifestEntry> entries = Manifest.read(manifest);
        SkipLog skips = new SkipLog(false);
        Map<Modality, ModalityAdapter> adapters = new EnumMap<>(Modality.class);
        try (NDManager sm = root.newSubManager()) {
            for (Modality m : cfg.activeModalities()) {
                adapters.put(m, Adapters.create(m, cfg.modalities(), cfg.data().clipSeconds()));
            }
            List<Batch.Decoded> decoded = Loader.decodeAll(entries, adapters, cfg.data().clipSeconds(), 0, 1,
                    cfg.data().loaderThreads(), cfg.run().seed(), skips);
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            Map<String, String> metadata = new LinkedHashMap<>();
            metadata.put("manifest", manifest.getFileName() + " sha256 " + Manifest.sha256(manifest));
            metadata.put("clips", "the centred clip of data.clip_seconds of each sample, decoded as evaluation does");
            Map<Modality, Integer> rows = new EnumMap<>(Modality.class);
            for (Modality m : cfg.activeModalities()) {
                List<Batch.Decoded> have = decoded.stream().filter(d -> d.items().containsKey(m)).toList();
                if (have.isEmpty()) {
                    continue;
                }
                put(tensors, m, have, cfg, model, sm);
                metadata.put("ids." + m.key(), Json.line(have.stream().map(d -> d.entry().id()).toList()));
                rows.put(m, have.size());
            }
            if (tensors.isEmpty()) {
                throw new org.sensorium.config.ConfigException("--samples", manifest + ": no sample has a modality of the model "
                        + cfg.activeModalities() + " (" + skips.reasons().size() + " skipped)");
            }
            Safetensors.write(file, tensors, metadata);
            return new Written(rows, skips.reasons());
        } finally {
            adapters.values().forEach(ModalityAdapter::close);
        }
    }

    /** input.m, valid.m and embedding.m of the samples that have m. */
    private static void put(Map<String, NDArray> tensors, Modality m, List<Batch.Decoded> have, Config cfg, SensoriumModel model,
            NDManager sm) {
        Item first = have.get(0).items().get(m);
        int n = have.size(), per = first.values().length;
        long[] shape = new long[first.shape().length + 1];
        shape[0] = n;
        System.arraycopy(first.shape(), 0, shape, 1, first.shape().length);
        float[] values = new float[n * per];
        boolean[] valid = first.valid() == null ? null : new boolean[n * first.valid().length];
        for (int i = 0; i < n; i++) {
            Item it = have.get(i).items().get(m);
            System.arraycopy(it.values(), 0, values, i * per, per);
            if (valid != null) {
                System.arraycopy(it.valid(), 0, valid, i * it.valid().length, it.valid().length);
            }
        }
        boolean ids = m == Modality.TEXT && !cfg.modalities().text().isPretrained();
        NDArray input = sm.create(values, new Shape(shape));                             // (n, ...)
        tensors.put("input." + m.key(), ids ? input.toType(ai.djl.ndarray.types.DataType.INT64, false) : input);
        if (valid != null) {
            tensors.put("valid." + m.key(), sm.create(valid, new Shape(n, valid.length / n))); // (n, N)
        }
        tensors.put("embedding." + m.key(), embed(m, have, cfg.eval().batchSize(), model, sm));
    }

    /** Sensorium's embeddings of the samples, eval.batch_size at a time: (n, E). */
    private static NDArray embed(Modality m, List<Batch.Decoded> have, int batchSize, SensoriumModel model, NDManager sm) {
        List<float[]> rows = new ArrayList<>();
        long e = 0;
        for (int from = 0; from < have.size(); from += batchSize) {
            try (NDManager step = sm.newSubManager()) {
                Batch b = Batch.only(step, have.subList(from, Math.min(have.size(), from + batchSize)), m);
                Map<Modality, NDArray> valid = b.valid(m) == null ? Map.of() : Map.of(m, b.valid(m));
                NDArray out = model.forward(Map.of(m, b.input(m)), valid, false).embedding(m); // (b, E)
                e = out.getShape().get(1);
                rows.add(out.toFloatArray());
            }
        }
        float[] all = new float[(int) (have.size() * e)];
        int at = 0;
        for (float[] r : rows) {
            System.arraycopy(r, 0, all, at, r.length);
            at += r.length;
        }
        return sm.create(all, new Shape(have.size(), e));
    }
}
