package org.sensorium.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The model's trainable tensors by name ("trunk.0.attn.qkv.weight"), in creation order, owned by
 * one manager. Initial values are drawn in Java from a seeded SplittableRandom, so a model is the
 * same on every machine and worker whatever libtorch's RNG does.
 *
 * <p>Buffers (PyTorch's register_buffer: a normalisation's running statistics) are tensors the model
 * keeps and saves but does not train: they live in a map of their own, never record a gradient and are
 * not in {@link #all()} or {@link #count()}, so the optimizer, gradient clipping, the gradient
 * all-reduce, the replica hash and the export skip them. {@link #save} writes them with the
 * parameters and {@link #load} reads them back. Data-parallel workers do not exchange buffers (PyTorch
 * DDP's broadcast_buffers=False): each rank keeps the running statistics of its own batches, and a
 * checkpoint, written by rank 0, holds rank 0's.
 */
public final class Params implements AutoCloseable {
    private final NDManager manager;
    private final SplittableRandom rng;
    private final Map<String, NDArray> byName = new LinkedHashMap<>();
    private final Map<String, Boolean> decay = new LinkedHashMap<>();
    private final Map<String, NDArray> buffers = new LinkedHashMap<>();

    public Params(NDManager parent, long seed) {
        this.manager = parent.newSubManager();
        this.rng = new SplittableRandom(seed);
    }

    /** A weight drawn from N(0, std^2) truncated at 2 std (ViT / CLIP init). Decayed when 2-D or more. */
    public NDArray normal(String name, float std, long... shape) {
        float[] v = new float[(int) new Shape(shape).size()];
        for (int i = 0; i < v.length; i++) {
            double x;
            do {
                x = gaussian();
            } while (Math.abs(x) > 2);
            v[i] = (float) (x * std);
        }
        return add(name, v, shape, shape.length >= 2);
    }

    /** A tensor filled with one value (LayerNorm gain 1, biases 0); never decayed. */
    public NDArray constant(String name, float value, long... shape) {
        float[] v = new float[(int) new Shape(shape).size()];
        java.util.Arrays.fill(v, value);
        return add(name, v, shape, false);
    }

    /** Positional / modality / CLS embeddings: drawn like weights, but exempt from weight decay. */
    public NDArray embedding(String name, float std, long... shape) {
        NDArray a = normal(name, std, shape);
        decay.put(name, false);
        return a;
    }

    /**
     * A tensor filled with one value that is kept, saved and loaded with the parameters but never trained (a
     * running mean or variance); the owner updates it in place, outside any gradient.
     */
    public NDArray buffer(String name, float value, long... shape) {
        if (byName.containsKey(name) || buffers.containsKey(name)) {
            throw new IllegalArgumentException("buffer " + name + " defined twice");
        }
        float[] v = new float[(int) new Shape(shape).size()];
        java.util.Arrays.fill(v, value);
        NDArray a = manager.create(v, new Shape(shape));
        a.setName(name);
        buffers.put(name, a);
        return a;
    }

    /** The buffers by name, in creation order; not trained, not in {@link #all()}. */
    public Map<String, NDArray> buffers() {
        return Collections.unmodifiableMap(buffers);
    }

    private NDArray add(String name, float[] values, long[] shape, boolean decayed) {
        if (byName.containsKey(name) || buffers.containsKey(name)) {
            throw new IllegalArgumentException("parameter " + name + " defined twice");
        }
        NDArray a = manager.create(values, new Shape(shape));
        a.setName(name);
        a.setRequiresGradient(true);
        byName.put(name, a);
        decay.put(name, decayed);
        return a;
    }

    private double gaussian() {
        // Box-Muller on the seeded stream: reproducible across JVMs (unlike Random.nextGaussian's cache).
        double u = rng.nextDouble(), w = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * w);
    }

    public Map<String, NDArray> all() {
        return Collections.unmodifiableMap(byName);
    }

    public boolean decayed(String name) {
        return decay.get(name);
    }

    /** Makes every array a constant that never records a gradient (an EMA teacher's copy of the encoder). */
    public void freeze() {
        byName.values().forEach(a -> a.setRequiresGradient(false));
    }

    public NDManager manager() {
        return manager;
    }

    public long count() {
        return byName.values().stream().mapToLong(a -> a.getShape().size()).sum();
    }

    /** Writes every parameter, then every buffer, by name, in DJL's NDList encoding. */
    public void save(Path file) throws IOException {
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file))) {
            NDList all = new NDList(byName.values());
            all.addAll(buffers.values());
            all.encode(out);
        }
    }

    /** Parameters an objective owns (clustering prototypes, pseudo-label heads), named objective.*; not part of the encoder. */
    public static boolean ofObjective(String name) {
        return name.startsWith("objective.");
    }

    /**
     * Copies saved values into the existing parameters and buffers. Encoder ones must match: a missing, extra
     * or mis-shaped name is an error. Objective ones ({@link #ofObjective}) may be missing on either
     * side: one the file lacks keeps its initial value (an objective switched on at --resume, or a buffer
     * added after the checkpoint was written), one the model lacks is ignored (an objective switched off,
     * or a model built without objectives to embed).
     *
     * @return the objective parameters and buffers that kept their initial values
     */
    public List<String> load(Path file) throws IOException {
        try (NDManager tmp = manager.newSubManager();
                InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
            NDList saved = NDList.decode(tmp, in);
            Set<String> fresh = new LinkedHashSet<>(byName.keySet());
            fresh.addAll(buffers.keySet());
            for (NDArray s : saved) {
                NDArray p = byName.containsKey(s.getName()) ? byName.get(s.getName()) : buffers.get(s.getName());
                if (p == null && ofObjective(s.getName())) {
                    continue;
                }
                if (p == null || !p.getShape().equals(s.getShape())) {
                    throw new IOException(file + ": parameter " + s.getName() + " " + s.getShape()
                            + " does not match the model (" + (p == null ? "absent" : p.getShape()) + ")");
                }
                p.set(s.toFloatArray());
                fresh.remove(s.getName());
            }
            for (String name : fresh) {
                if (!ofObjective(name)) {
                    throw new IOException(file + ": has no parameter " + name + " (saved by another model?)");
                }
            }
            return List.copyOf(fresh);
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
