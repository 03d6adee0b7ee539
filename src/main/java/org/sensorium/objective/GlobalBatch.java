package org.sensorium.objective;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sensorium.distributed.Collective;
import org.sensorium.model.Layers;

/**
 * Contrastive losses over the whole worker group's batch with exact gradients (CLIP's gather with gradients,
 * done the DJL way). One all-gather brings every rank's embeddings (B_r, E) and presence masks; a loss term is
 * then computed on detached copies X of the gathered matrices (N = sum B_r rows) that record a gradient:
 * <pre>
 *   L_r   = w * share_r(X)          share_r: this rank's rows' part of the group's loss, sum_r share_r = L
 *   G_r   = dL_r / dX               backward of L_r alone: only the copies are in its graph
 *   G     = sum_r G_r               all-reduce
 *   term  = sum_k sum(e_k * G_k[own rows]) + s * dL_r/ds      (G and dL_r/ds constants), shifted to the value L_r
 * </pre>
 * The term's gradient with respect to this rank's embeddings is exactly d(sum_r L_r)/de_local, so once the
 * parameter gradients are averaged over the w ranks the update is that of one worker with the whole batch.
 * Every rank must make the same calls in the same order whatever its batch holds (the collectives match up).
 *
 * <p>share_r reads the logits of this rank's rows only. With the full logits every rank builds all (n, n) of them
 * and weights its own rows; with local logits (dist.local_loss, open_clip's --local-loss) it builds just its own
 * rows against all n columns, (n_r, n): the same share and the same G in exact arithmetic, O(n_r x n) memory
 * instead of O(n x n). The gathered copies X (N, E) and G are needed either way.
 */
final class GlobalBatch {
    private GlobalBatch() {}

    /**
     * What one all-gather brought: per key the group's rows (N, E) row-major and presence (N); this rank's rows
     * are [from, from + b).
     */
    record Gathered(Map<String, float[]> rows, Map<String, boolean[]> present, int total, int from, int b, Map<String, Integer> dims) {
        /** The width of key's rows: E for embeddings, K x E for bags. */
        int dim(String key) {
            return dims.get(key);
        }

        /** 1 for this rank's rows, else 0 (N). */
        float[] own() {
            float[] o = new float[total];
            for (int i = from; i < from + b; i++) {
                o[i] = 1;
            }
            return o;
        }
    }

    /** This rank's share of a loss over the group's rows; null when the term does not exist (the same on every rank). */
    interface Share {
        /**
         * @param x per key the gathered rows (N, E), leaves that record a gradient
         * @param present per key which rows are real (N)
         * @param own this rank's rows (N)
         * @param scale a leaf copy of the logit scale, or null when the term has none
         */
        Part of(Map<String, NDArray> x, Map<String, boolean[]> present, float[] own, NDArray scale);
    }

    /**
     * A share and the shape of the logits it built: rows (queries) x cols (candidates), counted in samples (a bag
     * of K texts is one candidate; NT-Xent's two views are two rows each).
     */
    record Part(NDArray loss, int rows, int cols) {}

    /** A term in the step's graph and the shape of the logits its share built on this rank. */
    record Term(NDArray value, int rows, int cols) {
        /** The logits shape as logged statistics: name/logits_rows and name/logits_cols. */
        Map<String, Double> stats(String name) {
            return Map.of(name + "/logits_rows", (double) rows, name + "/logits_cols", (double) cols);
        }
    }

    /**
     * Where this rank's rows are among the n rows of the group that have what a term needs (keep): in gathered
     * order, so [from, from + count) of them. count may be 0.
     */
    record Own(int n, int from, int count) {
        static Own of(float[] own, boolean[] keep) {
            int n = 0, from = -1, count = 0;
            for (int i = 0; i < keep.length; i++) {
                if (keep[i]) {
                    if (own[i] > 0) {
                        from = from < 0 ? n : from;
                        count++;
                    }
                    n++;
                }
            }
            return new Own(n, Math.max(from, 0), count);
        }

        /** These rows of x (n, ...) -> (count, ...). */
        NDArray rowsOf(NDArray x) {
            return x.get(from + ":" + (from + count));
        }

        /** 1 at (i, from + i), else 0: the positives of this rank's rows among the n columns (count, n). */
        NDArray diagonal(NDManager m) {
            float[] d = new float[count * n];
            for (int i = 0; i < count; i++) {
                d[i * n + from + i] = 1;
            }
            return m.create(d, new Shape(count, n));
        }
    }

    /**
     * Gathers the named embeddings of every rank.
     *
     * @param embeddings per key (B, E) or null where this rank's batch has none (zeros are sent, marked absent)
     * @param present per key which of the B rows are real (ignored where the embedding is null)
     */
    static Gathered gather(Collective group, int b, int embedDim, Map<String, NDArray> embeddings, Map<String, boolean[]> present) {
        Map<String, Integer> dims = new LinkedHashMap<>();
        embeddings.keySet().forEach(k -> dims.put(k, embedDim));
        return gather(group, b, dims, embeddings, present);
    }

    /** {@link #gather} with rows of a width per key (B, dims[key]), e.g. a bag of K embeddings flattened to K x E. */
    static Gathered gather(Collective group, int b, Map<String, Integer> dims, Map<String, NDArray> embeddings,
            Map<String, boolean[]> present) {
        List<String> keys = List.copyOf(embeddings.keySet());
        int width = keys.stream().mapToInt(k -> b * (1 + dims.get(k))).sum();
        float[] mine = new float[1 + width];                           // B, then per key presence (B) and rows (B, dim)
        mine[0] = b;
        int off = 1;
        for (String k : keys) {
            NDArray e = embeddings.get(k);
            int d = dims.get(k);
            if (e != null) {
                boolean[] p = present.get(k);
                for (int i = 0; i < b; i++) {
                    mine[off + i] = p[i] ? 1 : 0;
                }
                System.arraycopy(e.toFloatArray(), 0, mine, off + b, b * d);
            }
            off += b * (1 + d);
        }
        float[][] all = group.allGather(mine);
        int total = 0, from = 0;
        for (int r = 0; r < all.length; r++) {
            if (r == group.rank()) {
                from = total;
            }
            total += (int) all[r][0];
        }
        Map<String, float[]> rows = new LinkedHashMap<>();
        Map<String, boolean[]> pres = new LinkedHashMap<>();
        for (int k = 0; k < keys.size(); k++) {
            int d = dims.get(keys.get(k));
            float[] x = new float[total * d];
            boolean[] p = new boolean[total];
            int row = 0;
            for (float[] block : all) {
                int br = (int) block[0], o = 1;
                for (int j = 0; j < k; j++) {
                    o += br * (1 + dims.get(keys.get(j)));
                }
                for (int i = 0; i < br; i++) {
                    p[row + i] = block[o + i] > 0.5f;
                }
                System.arraycopy(block, o + br, x, row * d, br * d);
                row += br;
            }
            rows.put(keys.get(k), x);
            pres.put(keys.get(k), p);
        }
        return new Gathered(rows, pres, total, from, b, Map.copyOf(dims));
    }

    /**
     * One loss term over the gathered batch (see the class comment), or null when share gives none.
     *
     * @param local this rank's embeddings (B, E) of the keys the term uses (null where absent), in the step's graph
     * @param scale the model's logit scale () in the step's graph, or null
     * @param step the step's manager: owns the term and its constants
     */
    static Term term(Collective group, Gathered g, Map<String, NDArray> local, NDArray scale, NDManager step, Share share) {
        int w = group.worldSize(), n = g.total();
        List<String> keys = List.copyOf(local.keySet());
        int[] offsets = new int[keys.size() + 1];                                  // key k's gradient: [offsets[k], offsets[k+1])
        for (int k = 0; k < keys.size(); k++) {
            offsets[k + 1] = offsets[k] + n * g.dim(keys.get(k));
        }
        float value, scaleGrad = 0;
        int rows, cols;
        float[] grads = new float[offsets[keys.size()]];
        try (NDManager m = step.newSubManager()) {
            Map<String, NDArray> x = new LinkedHashMap<>();
            for (String k : keys) {
                NDArray leaf = m.create(g.rows().get(k), new Shape(n, g.dim(k)));  // (N, dim)
                leaf.setRequiresGradient(true);
                x.put(k, leaf);
            }
            NDArray s = null;
            if (scale != null) {
                s = m.create(scale.getFloat());                                   // ()
                s.setRequiresGradient(true);
            }
            Part part = share.of(x, g.present(), g.own(), s);
            if (part == null) {
                return null;
            }
            rows = part.rows();
            cols = part.cols();
            NDArray loss = Layers.scale(part.loss(), w);                                 // L_r: the ranks' mean is the group's loss
            JniUtils.backward((PtNDArray) loss, (PtNDArray) m.ones(loss.getShape()), false, false);
            value = loss.getFloat();
            for (int k = 0; k < keys.size(); k++) {
                System.arraycopy(x.get(keys.get(k)).getGradient().toFloatArray(), 0, grads, offsets[k], offsets[k + 1] - offsets[k]);
            }
            if (s != null) {
                scaleGrad = s.getGradient().getFloat();
            }
        }
        group.allReduce(grads);                                               // G = sum over ranks
        NDArray surrogate = scale != null ? scale.mul(step.create(scaleGrad)) : step.zeros(new Shape());
        for (int k = 0; k < keys.size(); k++) {
            NDArray el = local.get(keys.get(k));
            int d = g.dim(keys.get(k));
            if (el != null) {
                float[] own = new float[g.b() * d];                               // (B, dim): this rank's rows of G
                System.arraycopy(grads, offsets[k] + g.from() * d, own, 0, g.b() * d);
                surrogate = surrogate.add(el.reshape(g.b(), d).mul(step.create(own, new Shape(g.b(), d))).sum());
            }
        }
        return new Term(surrogate.sub(surrogate.stopGradient()).add(step.create(value)), rows, cols);
    }

    /**
     * This rank's share of symmetric InfoNCE between keys a and b over the rows that have both:
     * -1/(2n) sum over own rows i of [log softmax(S_i)_i + log softmax(S^T_i)_i], S = s A B^T, n the group's count.
     *
     * @param invTemperature multiplies the logits when scale is null (a fixed temperature)
     * @param local build only this rank's rows of S and S^T, (n_r, n) each, instead of S (n, n)
     */
    static Share symmetricInfoNce(String a, String b, float invTemperature, boolean local) {
        return (x, present, own, scale) -> {
            boolean[] both = Contrastive.both(present.get(a), present.get(b));
            int n = Contrastive.count(both);
            if (n < 2) {
                return null;
            }
            NDManager m = x.get(a).getManager();
            NDArray xa = Contrastive.rows(x.get(a), both), xb = Contrastive.rows(x.get(b), both); // (n, E)
            if (local) {
                return localInfoNce(xa, xb, Own.of(own, both), scale, invTemperature);
            }
            NDArray ownRows = m.create(select(own, both));                       // (n)
            NDArray logits = xa.matMul(xb.transpose());                           // (n, n)
            logits = scale != null ? logits.mul(scale) : Layers.scale(logits, invTemperature);
            NDArray eye = m.eye(n);
            NDArray rows = logits.logSoftmax(1).mul(eye).sum(new int[] {1});      // (n)
            NDArray cols = logits.transpose().logSoftmax(1).mul(eye).sum(new int[] {1});
            return new Part(Layers.scale(rows.add(cols).mul(ownRows).sum(), -0.5f / n), n, n);
        };
    }

    /** {@link #symmetricInfoNce}'s share from this rank's rows o of A, B (n, E) against all n rows of the other. */
    private static Part localInfoNce(NDArray xa, NDArray xb, Own o, NDArray scale, float invTemperature) {
        if (o.count() == 0) { // nothing of this rank's: a zero that still reaches the leaves (their gradient is 0)
            return new Part(Layers.scale(xa.sum().add(xb.sum()), 0f), 0, o.n());
        }
        NDArray ab = o.rowsOf(xa).matMul(xb.transpose());                            // (n_r, n): own rows of S
        NDArray ba = o.rowsOf(xb).matMul(xa.transpose());                            // (n_r, n): own rows of S^T
        if (scale != null) {
            ab = ab.mul(scale);
            ba = ba.mul(scale);
        } else {
            ab = Layers.scale(ab, invTemperature);
            ba = Layers.scale(ba, invTemperature);
        }
        NDArray positives = o.diagonal(xa.getManager());                         // (n_r, n)
        NDArray picked = ab.logSoftmax(1).add(ba.logSoftmax(1)).mul(positives).sum();
        return new Part(Layers.scale(picked, -0.5f / o.n()), o.count(), o.n());
    }

    static float[] select(float[] v, boolean[] keep) {
        float[] out = new float[Contrastive.count(keep)];
        for (int i = 0, k = 0; i < v.length; i++) {
            if (keep[i]) {
                out[k++] = v[i];
            }
        }
        return out;
    }
}
