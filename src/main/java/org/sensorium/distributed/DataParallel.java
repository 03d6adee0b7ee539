package org.sensorium.distributed;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The trainer's side of data parallelism (PyTorch DDP's habits): rank 0's parameters are broadcast once;
 * after every step's backward passes the gradients, copied into buckets of about bucketMb (direct buffers), are
 * summed by the group's ring all-reduce and divided by the world size, so every rank steps the same optimizer on the same
 * numbers; every hashEvery steps a hash of all parameters is compared across ranks.
 * With a group of one every call returns at once and changes nothing.
 */
public final class DataParallel {
    private static final Logger LOG = LoggerFactory.getLogger(DataParallel.class);

    private final Collective group;
    private final Supplier<Map<String, NDArray>> params; // name -> parameter, in creation order
    private final long floatsPerBucket;
    private final int hashEvery;
    private List<List<String>> buckets; // made at first use: objectives add parameters after the model
    private List<ByteBuffer> bucketBuffers; // bucket k's gradients, float32 in native order; made at first use
    private ExecutorService allReducer; // runs the all-reduces while the caller copies gradients in and out

    /**
     * @param bucketMb the size of one all-reduce: parameters are packed in creation order until a bucket holds
     *     this many megabytes (a larger parameter is a bucket of its own)
     * @param hashEvery steps between replica checks; 0 = never
     * @param params the arrays to keep in sync, name -> parameter in creation order; asked again at first use,
     *     since objectives may add parameters after the model
     */
    public DataParallel(Collective group, Supplier<Map<String, NDArray>> params, double bucketMb, int hashEvery) {
        this.group = group;
        this.params = params;
        this.hashEvery = hashEvery;
        this.floatsPerBucket = Math.max(1, (long) (bucketMb * (1 << 20)) / Float.BYTES);
    }

    private List<List<String>> buckets() {
        if (buckets == null) {
            buckets = buckets(params.get(), floatsPerBucket);
        }
        return buckets;
    }

    static List<List<String>> buckets(Map<String, NDArray> params, long floatsPerBucket) {
        List<List<String>> out = new ArrayList<>();
        List<String> current = new ArrayList<>();
        long size = 0;
        for (Map.Entry<String, NDArray> e : params.entrySet()) {
            long n = e.getValue().getShape().size();
            if (!current.isEmpty() && size + n > floatsPerBucket) {
                out.add(current);
                current = new ArrayList<>();
                size = 0;
            }
            current.add(e.getKey());
            size += n;
        }
        if (!current.isEmpty()) {
            out.add(current);
        }
        return out;
    }

    public Collective group() {
        return group;
    }

    public boolean distributed() {
        return group.worldSize() > 1;
    }

    public int bucketCount() {
        return buckets().size();
    }

    /** Copies rank 0's parameters into every rank's (the initial weights, or the weights rank 0 resumed from). */
    public void broadcastParameters() {
        if (!distributed()) {
            return;
        }
        for (List<String> bucket : buckets()) {
            float[] flat = flatten(bucket);
            group.broadcast(flat, 0);
            if (group.rank() != 0) {
                int off = 0;
                for (String name : bucket) {
                    NDArray p = params.get().get(name);
                    int n = (int) p.getShape().size();
                    p.set(java.util.Arrays.copyOfRange(flat, off, off + n));
                    off += n;
                }
            }
        }
        LOG.info("rank {}: parameters broadcast from rank 0 ({} buckets, hash {})", group.rank(), buckets().size(), hash());
    }

    /**
     * Replaces every gradient with its mean over the ranks (sum by ring all-reduce, then x 1/w, as a float), bucket
     * by bucket, without Java arrays: each bucket's gradients are copied by libtorch into the bucket's direct buffer,
     * the all-reduce sums that buffer in place on a thread of its own, and the means are copied back by libtorch into
     * the gradient tensors (their storage is kept). Overlapped: bucket k is on the wire while this thread copies
     * bucket k+1 in, and reduced buckets are copied back while later ones are on the wire. The group is used only by
     * the all-reduce thread until this returns. Wrappers and views go to step.
     *
     * @throws DistException when the all-reduce fails (the group must then be closed)
     */
    public void averageGradients(NDManager step) {
        if (!distributed()) {
            return;
        }
        List<List<String>> bs = buckets();
        Map<String, NDArray> ps = params.get();
        if (bucketBuffers == null) {
            bucketBuffers = bucketBuffers(bs, ps);
        }
        List<Future<?>> onWire = new ArrayList<>();
        try {
            for (int k = 0; k < bs.size(); k++) {
                ByteBuffer buf = bucketBuffers.get(k);
                forEachView(bs.get(k), ps, buf, step, (g, view) -> view.set(new NDIndex("..."), g));
                onWire.add(allReducer().submit(() -> group.allReduce(buf)));
            }
            float inv = 1f / group.worldSize();
            for (int k = 0; k < bs.size(); k++) {
                await(onWire.get(k));
                ByteBuffer buf = bucketBuffers.get(k);
                step.create(buf, new Shape(buf.capacity() / Float.BYTES), DataType.FLOAT32).muli(inv); // the sum, x 1/w in place
                forEachView(bs.get(k), ps, buf, step, (g, view) -> g.set(new NDIndex("..."), view)); // in place: g keeps its storage
            }
        } finally {
            onWire.forEach(f -> f.cancel(false)); // after a failure, buckets not yet started are not sent
        }
    }

    /**
     * Calls copy(gradient, view) for every parameter of a bucket, view being the parameter's part of the bucket's
     * buffer as an array of the gradient's shape (libtorch reads and writes the buffer's memory).
     */
    private static void forEachView(List<String> bucket, Map<String, NDArray> ps, ByteBuffer buf, NDManager step,
            java.util.function.BiConsumer<NDArray, NDArray> copy) {
        int off = 0; // bytes
        for (String name : bucket) {
            NDArray g = ps.get(name).getGradient();
            g.attach(step);
            Shape shape = g.getShape();
            int bytes = Math.toIntExact(shape.size() * Float.BYTES);
            NDArray view = step.create(buf.slice(off, bytes).order(ByteOrder.nativeOrder()), shape, DataType.FLOAT32);
            copy.accept(g, view);
            off += bytes;
        }
    }

    /** One direct buffer per bucket (float32, native order), made once and reused at every step. */
    private static List<ByteBuffer> bucketBuffers(List<List<String>> bs, Map<String, NDArray> ps) {
        List<ByteBuffer> out = new ArrayList<>();
        for (List<String> bucket : bs) {
            long floats = 0;
            for (String name : bucket) {
                NDArray p = ps.get(name);
                if (p.getDataType() != DataType.FLOAT32) {
                    throw new DistException("parameter " + name + " is " + p.getDataType() + ": the gradient all-reduce sums float32 only");
                }
                floats += p.getShape().size();
            }
            if (floats * Float.BYTES > Integer.MAX_VALUE) {
                throw new DistException("bucket of " + bucket + " holds " + floats + " floats: one buffer holds at most 2 GB");
            }
            out.add(ByteBuffer.allocateDirect((int) floats * Float.BYTES).order(ByteOrder.nativeOrder()));
        }
        return out;
    }

    /** The all-reduce thread, started at first use (a daemon: it holds nothing that must be closed). */
    private ExecutorService allReducer() {
        if (allReducer == null) {
            allReducer = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "sensorium-allreduce-" + group.rank());
                t.setDaemon(true);
                return t;
            });
        }
        return allReducer;
    }

    private void await(Future<?> f) {
        try {
            f.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r
                    : new DistException("rank " + group.rank() + ": gradient all-reduce failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DistException("rank " + group.rank() + ": interrupted while averaging gradients", e);
        }
    }

    private float[] flatten(List<String> bucket) {
        long total = 0;
        for (String name : bucket) {
            total += params.get().get(name).getShape().size();
        }
        float[] flat = new float[Math.toIntExact(total)];
        int off = 0;
        for (String name : bucket) {
            float[] v = params.get().get(name).toFloatArray();
            System.arraycopy(v, 0, flat, off, v.length);
            off += v.length;
        }
        return flat;
    }

    /** Sums small per-step numbers (loss, sample count) over the ranks. */
    public double[] sum(double... values) {
        if (!distributed()) {
            return values;
        }
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        group.allReduce(f);
        double[] out = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            out[i] = f[i];
        }
        return out;
    }

    /**
     * The mean of each named value over the ranks that logged it (one small all-gather): the loss terms and
     * statistics of a step as the group saw them. A contrastive term's mean over the ranks is its value on the
     * whole batch; a key only some ranks have (a pair absent from the others' batches) is averaged over those.
     */
    public Map<String, Double> meanOverRanks(Map<String, Double> values) {
        if (!distributed()) {
            return values;
        }
        StringBuilder sb = new StringBuilder();
        values.forEach((k, v) -> sb.append(k).append('\t').append(Double.doubleToRawLongBits(v)).append('\n'));
        byte[][] all = group.allGatherBytes(sb.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        Map<String, double[]> sums = new java.util.LinkedHashMap<>();
        values.keySet().forEach(k -> sums.put(k, new double[2])); // this rank's order first
        for (byte[] block : all) {
            for (String line : new String(block, java.nio.charset.StandardCharsets.UTF_8).split("\n")) {
                if (line.isEmpty()) {
                    continue;
                }
                int tab = line.lastIndexOf('\t');
                double[] acc = sums.computeIfAbsent(line.substring(0, tab), k -> new double[2]);
                acc[0] += Double.longBitsToDouble(Long.parseLong(line.substring(tab + 1)));
                acc[1]++;
            }
        }
        Map<String, Double> out = new java.util.LinkedHashMap<>();
        sums.forEach((k, acc) -> out.put(k, acc[0] / acc[1]));
        return out;
    }

    /**
     * Every hashEvery steps (after step stepsDone): all ranks compare a SHA-256 of their parameters; logged.
     *
     * @return the hash when checked, else null
     * @throws DistException when the replicas differ (a bug: they must stay bitwise identical)
     */
    public String checkReplicas(int stepsDone) {
        if (!distributed() || hashEvery <= 0 || stepsDone % hashEvery != 0) {
            return null;
        }
        String mine = hash();
        byte[][] all = group.allGatherBytes(mine.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        for (int r = 0; r < all.length; r++) {
            String theirs = new String(all[r], java.nio.charset.StandardCharsets.US_ASCII);
            if (!theirs.equals(mine)) {
                throw new DistException(String.format("rank %d: after step %d the replicas differ: parameter hash %s here, %s on rank %d",
                        group.rank(), stepsDone, mine, theirs, r));
            }
        }
        LOG.info("rank {}: step {}: parameter hash {} on all {} ranks", group.rank(), stepsDone, mine, all.length);
        return mine;
    }

    /** SHA-256 (first 16 hex digits) over every parameter's name and float bits, in creation order. */
    public String hash() {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (Map.Entry<String, NDArray> e : params.get().entrySet()) {
                md.update(e.getKey().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                float[] v = e.getValue().toFloatArray();
                ByteBuffer b = ByteBuffer.allocate(v.length * Float.BYTES);
                b.asFloatBuffer().put(v);
                md.update(b.array());
            }
            return HexFormat.of().formatHex(md.digest()).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }

    /** Seconds this rank spent in collectives since the last call, the objectives' all-gathers included. */
    public double takeSeconds() {
        return group.takeSeconds();
    }
}
