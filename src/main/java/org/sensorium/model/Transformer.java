package org.sensorium.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Activation;
import java.util.ArrayList;
import java.util.List;
import org.sensorium.model.Layers.Linear;
import org.sensorium.model.Layers.Norm;

/**
 * A stack of pre-norm transformer blocks (ViT / VATT): x + Attn(LN(x)), then x + MLP(LN(x)), with
 * a final LayerNorm. Attention is fused-QKV multi-head self-attention with a key-padding mask.
 */
public final class Transformer {
    /** Additive bias for padded keys: large enough to zero their softmax weight, finite so a row of padding stays finite. */
    static final float MASKED = -1e9f;

    private final List<Block> blocks = new ArrayList<>();
    private final Norm finalNorm;

    /**
     * @param dropPath stochastic-depth rate of the last block; block i drops its residual branches with
     *     rate dropPath * i / (depth - 1) (DeiT's linear rule), so the first block is never dropped
     */
    public Transformer(Params p, String name, int width, int depth, int heads, int mlpRatio, float dropout, float dropPath) {
        for (int i = 0; i < depth; i++) {
            float rate = depth == 1 ? dropPath : dropPath * i / (depth - 1);
            blocks.add(new Block(p, name + "." + i, width, heads, mlpRatio, dropout, rate));
        }
        finalNorm = Norm.create(p, name + ".norm", width);
    }

    /**
     * @param x (B, N, D) tokens
     * @param valid (B, N) boolean, false for padding; null when every token is valid
     * @return (B, N, D)
     */
    public NDArray forward(NDArray x, NDArray valid, boolean training) {
        NDArray bias = valid == null ? null : keyBias(valid);
        for (Block b : blocks) {
            x = b.forward(x, bias, training);
        }
        return finalNorm.forward(x);
    }

    /**
     * The residual stream after each block (no final norm): data2vec's teacher averages the top K of these.
     *
     * @return depth arrays of (B, N, D), first block first
     */
    public List<NDArray> blockOutputs(NDArray x, NDArray valid, boolean training) {
        NDArray bias = valid == null ? null : keyBias(valid);
        List<NDArray> out = new ArrayList<>();
        for (Block b : blocks) {
            x = b.forward(x, bias, training);
            out.add(x);
        }
        return out;
    }

    public int depth() {
        return blocks.size();
    }

    /** (B, N) valid -> (B, 1, 1, N): 0 where valid, MASKED where padded, broadcast over heads and queries. */
    static NDArray keyBias(NDArray valid) {
        long b = valid.getShape().get(0), n = valid.getShape().get(1);
        return valid.logicalNot().toType(ai.djl.ndarray.types.DataType.FLOAT32, false).mul(MASKED).reshape(b, 1, 1, n);
    }

    /** Pre-norm block: attention then MLP, each as a residual branch with dropout and drop-path. */
    static final class Block {
        private final Norm norm1, norm2;
        private final Attention attn;
        private final Linear fc1, fc2;
        private final float dropout, dropPath;

        Block(Params p, String name, int width, int heads, int mlpRatio, float dropout, float dropPath) {
            norm1 = Norm.create(p, name + ".norm1", width);
            attn = new Attention(p, name + ".attn", width, heads, dropout);
            norm2 = Norm.create(p, name + ".norm2", width);
            fc1 = Linear.create(p, name + ".mlp.fc1", width, mlpRatio * width);
            fc2 = Linear.create(p, name + ".mlp.fc2", mlpRatio * width, width);
            this.dropout = dropout;
            this.dropPath = dropPath;
        }

        NDArray forward(NDArray x, NDArray keyBias, boolean training) {
            NDArray a = Layers.dropout(attn.forward(norm1.forward(x), keyBias, training), dropout, training);
            x = x.add(dropPath(a, dropPath, training));                         // (B, N, D)
            NDArray h = Activation.gelu(fc1.forward(norm2.forward(x)));        // (B, N, mlpRatio*D)
            h = Layers.dropout(fc2.forward(Layers.dropout(h, dropout, training)), dropout, training);
            return x.add(dropPath(h, dropPath, training));                      // (B, N, D)
        }

        /** Stochastic depth (Huang et al. 2016): zero a sample's whole branch with probability rate, scale the rest by 1/(1-rate). */
        static NDArray dropPath(NDArray branch, float rate, boolean training) {
            if (!training || rate == 0f) {
                return branch;
            }
            long b = branch.getShape().get(0);
            NDArray keep = branch.getManager().randomUniform(0f, 1f, new ai.djl.ndarray.types.Shape(b, 1, 1))
                    .gte(rate).toType(ai.djl.ndarray.types.DataType.FLOAT32, false).div(1f - rate); // (B, 1, 1)
            return branch.mul(keep);
        }
    }

    /** Multi-head self-attention, softmax(Q K^T / sqrt(Dh) + bias) V, with one fused QKV projection. */
    static final class Attention {
        private final Linear qkv, proj;
        private final int heads;
        private final float dropout;

        Attention(Params p, String name, int width, int heads, float dropout) {
            qkv = Linear.create(p, name + ".qkv", width, 3 * width);
            proj = Linear.create(p, name + ".proj", width, width);
            this.heads = heads;
            this.dropout = dropout;
        }

        NDArray forward(NDArray x, NDArray keyBias, boolean training) {
            long b = x.getShape().get(0), n = x.getShape().get(1), d = x.getShape().get(2), dh = d / heads;
            // split, not three selects of one (3, B, H, N, Dh) array: a select's backward fills a zero array of the
            // whole (3, B, H, N, Dh) shape and the three are added (measured: 9% of a tiny step), a split's is one cat
            NDList qkvs = qkv.forward(x).split(3, 2);                       // 3 x (B, N, D)
            NDArray q = perHead(Layers.scale(qkvs.get(0), (float) (1.0 / Math.sqrt(dh))), b, n, dh); // (B, H, N, Dh), / sqrt(Dh)
            NDArray k = perHead(qkvs.get(1), b, n, dh), v = perHead(qkvs.get(2), b, n, dh);       // (B, H, N, Dh)
            NDArray scores = q.matMul(k.transpose(0, 1, 3, 2));             // (B, H, N, N)
            if (keyBias != null) {
                scores = scores.add(keyBias);
            }
            NDArray weights = Layers.dropout(scores.softmax(-1), dropout, training);
            NDArray out = weights.matMul(v)                                 // (B, H, N, Dh)
                    .transpose(0, 2, 1, 3)                                  // (B, N, H, Dh)
                    .reshape(b, n, d);                                      // (B, N, D)
            return proj.forward(out);
        }

        /** (B, N, D) -> (B, H, N, Dh). */
        private NDArray perHead(NDArray x, long b, long n, long dh) {
            return x.reshape(b, n, heads, dh).transpose(0, 2, 1, 3);
        }
    }
}
