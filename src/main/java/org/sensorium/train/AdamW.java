package org.sensorium.train;

import org.sensorium.config.Json;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.ndarray.index.NDIndex;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sensorium.model.Params;

/**
 * AdamW (Loshchilov &amp; Hutter 2019) with the habits DJL's own lacks: decoupled weight decay only on
 * the parameters {@link Params#decayed} marks (never norms, biases, position/modality embeddings or
 * the logit scale); a parameter whose gradient is exactly zero this step (its modality was absent)
 * is left untouched, moments and bias-correction count included; every piece of state can be saved.
 * <pre>
 *   g = clip * grad;   m = b1 m + (1-b1) g;   v = b2 v + (1-b2) g^2;   t = t + 1
 *   p = p (1 - lr wd) - lr (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
 * </pre>
 */
public final class AdamW {
    private final Params params;
    private final float beta1, beta2, eps, weightDecay;
    private final NDManager stateManager;
    private final Map<String, NDArray> m = new LinkedHashMap<>();
    private final Map<String, NDArray> v = new LinkedHashMap<>();
    private final Map<String, Integer> t = new HashMap<>();

    public AdamW(Params params, float beta1, float beta2, float eps, float weightDecay) {
        this.params = params;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.stateManager = params.manager().newSubManager();
        for (Map.Entry<String, NDArray> e : params.all().entrySet()) {
            m.put(e.getKey(), stateManager.zeros(e.getValue().getShape()));
            v.put(e.getKey(), stateManager.zeros(e.getValue().getShape()));
            t.put(e.getKey(), 0);
        }
    }

    /** Global L2 norm of all gradients and each parameter's squared norm, in one device sync. */
    public record GradNorms(float global, Map<String, Float> squared) {}

    /** Reads the gradients' norms; wrappers and temporaries go to {@code step}. */
    public GradNorms norms(NDManager step) {
        List<String> names = new ArrayList<>(params.all().keySet());
        NDList squares = new NDList();
        for (String name : names) {
            NDArray g = params.all().get(name).getGradient();
            g.attach(step);
            squares.add(g.square().sum());
        }
        float[] sq = NDArrays.stack(squares).toFloatArray();
        Map<String, Float> byName = new LinkedHashMap<>();
        double total = 0;
        for (int i = 0; i < names.size(); i++) {
            byName.put(names.get(i), sq[i]);
            total += sq[i];
        }
        return new GradNorms((float) Math.sqrt(total), byName);
    }

    /**
     * One update of every parameter that received a gradient, with autograd off: libtorch's grad mode is per thread
     * and starts on, and DJL's gradient collector restores the mode it found when it closes, so on a thread that
     * never switched it off the in-place updates below would be recorded ("a leaf Variable that requires grad is
     * being used in an in-place operation").
     *
     * @param gradScale multiplies every gradient first (global-norm clipping, 1/accumulation)
     */
    public void step(NDManager step, GradNorms norms, float lr, float gradScale) {
        JniUtils.setGradMode(false);
        for (Map.Entry<String, NDArray> e : params.all().entrySet()) {
            String name = e.getKey();
            if (norms.squared().get(name) == 0f) {
                continue;
            }
            NDArray p = e.getValue();
            NDArray g = p.getGradient();
            g.attach(step);
            int tp = t.merge(name, 1, Integer::sum);
            double bc1 = 1 - Math.pow(beta1, tp), bc2 = 1 - Math.pow(beta2, tp);
            // libtorch's own update, one native call per parameter (was twelve): with g = gradScale grad,
            //   p -= lr wd p;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  p -= lrc m / (sqrt(v) + epsc)
            // and lrc = lr sqrt(bc2) / bc1, epsc = eps sqrt(bc2) this is the update above, since
            //   lr (m / bc1) / (sqrt(v / bc2) + eps) = lr sqrt(bc2) / bc1 * m / (sqrt(v) + eps sqrt(bc2))
            float decay = weightDecay > 0 && params.decayed(name) ? weightDecay : 0f;
            JniUtils.adamUpdate((PtNDArray) p, (PtNDArray) g, (PtNDArray) m.get(name), (PtNDArray) v.get(name), lr,
                    (float) (lr * Math.sqrt(bc2) / bc1), decay, gradScale, -1f, beta1, beta2, (float) (eps * Math.sqrt(bc2)), true);
        }
    }

    /** Sets every gradient to zero for the next step (DJL's collector accumulates across backward calls). */
    public void zeroGradients(NDManager step) {
        JniUtils.setGradMode(false);
        for (NDArray p : params.all().values()) {
            NDArray g = p.getGradient();
            g.attach(step);
            g.set(new NDIndex("..."), 0f);
        }
    }

    /** Writes m, v (NDList encoding, names m/NAME and v/NAME) and the per-parameter step counts. */
    public void save(Path dir) throws IOException {
        NDList list = new NDList();
        for (String name : m.keySet()) {
            list.add(named(m.get(name), "m/" + name));
            list.add(named(v.get(name), "v/" + name));
        }
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(dir.resolve("optimizer.ndlist")))) {
            list.encode(out);
        }
        Json.write(dir.resolve("optimizer.json"), Map.of("steps", new LinkedHashMap<>(t), "beta1", beta1,
                "beta2", beta2, "eps", eps, "weight_decay", weightDecay));
    }

    /**
     * Restores m, v and the step counts. As in {@link Params#load}, an objective parameter's state may be
     * missing (the objective was switched on at --resume: its moments start at zero) or extra (ignored).
     */
    public void load(Path dir) throws IOException {
        try (NDManager tmp = stateManager.newSubManager();
                InputStream in = new BufferedInputStream(Files.newInputStream(dir.resolve("optimizer.ndlist")))) {
            NDList list = NDList.decode(tmp, in);
            for (NDArray a : list) {
                String name = a.getName();
                String param = name.substring(2);
                NDArray dst = (name.startsWith("m/") ? m : v).get(param);
                if (dst == null && Params.ofObjective(param)) {
                    continue;
                }
                if (dst == null || !dst.getShape().equals(a.getShape())) {
                    throw new IOException(dir + ": optimizer state " + name + " does not match the model");
                }
                dst.set(a.toFloatArray());
            }
        }
        Map<String, Object> meta = Json.read(dir.resolve("optimizer.json"));
        @SuppressWarnings("unchecked")
        Map<String, Number> steps = (Map<String, Number>) meta.get("steps");
        for (String name : t.keySet()) {
            Number n = steps.get(name);
            if (n == null && !Params.ofObjective(name)) {
                throw new IOException(dir + ": optimizer.json has no step count for " + name);
            }
            t.put(name, n == null ? 0 : n.intValue());
        }
    }

    private static NDArray named(NDArray a, String name) {
        a.setName(name);
        return a;
    }
}
