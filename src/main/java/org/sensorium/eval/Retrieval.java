package org.sensorium.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sensorium.config.Config;
import org.sensorium.data.Batch;
import org.sensorium.data.Loader;
import org.sensorium.data.ManifestEntry;
import org.sensorium.modality.SkipLog;
import org.sensorium.modality.ModalityAdapter;
import org.sensorium.model.ModelOutput;
import org.sensorium.model.SensoriumModel;
import org.sensorium.config.Modality;

/**
 * Cross-modal retrieval on a held-out split: every sample's embedding in modality a queries the
 * embeddings of modality b of the samples that have both; the match is the same sample. Chance
 * R@1 is 1/n.
 */
public final class Retrieval {
    private Retrieval() {}

    /** Metrics of one direction (a -> b) over n candidates. Ranks are 1-based. */
    public record Result(String direction, int n, double r1, double r5, double r10, double medianRank,
            double meanRank) {
        public double chance() {
            return 1.0 / n;
        }

        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("n", n);
            m.put("R@1", r1);
            m.put("R@5", r5);
            m.put("R@10", r10);
            m.put("median_rank", medianRank);
            m.put("mean_rank", meanRank);
            m.put("chance_R@1", chance());
            return m;
        }
    }

    /** Embeddings of a split: per modality, one row per sample (null where the sample lacks it). */
    public record Embeddings(List<String> ids, Map<Modality, float[][]> rows) {}

    /** Embeds samples in batches without gradients; arrays live in a sub-manager closed per batch. */
    public static Embeddings embed(SensoriumModel model, List<Batch.Decoded> samples, Map<Modality, long[]> shapes,
            int batchSize, NDManager manager) {
        List<String> ids = new ArrayList<>();
        Map<Modality, float[][]> rows = new EnumMap<>(Modality.class);
        for (Modality m : shapes.keySet()) {
            rows.put(m, new float[samples.size()][]);
        }
        for (int from = 0; from < samples.size(); from += batchSize) {
            List<Batch.Decoded> chunk = samples.subList(from, Math.min(samples.size(), from + batchSize));
            try (NDManager sm = manager.newSubManager()) {
                Batch batch = Batch.collate(sm, chunk, shapes);
                ModelOutput out = model.forward(batch.inputs(), batch.valid(), false);
                for (Modality m : shapes.keySet()) {
                    NDArray e = out.embedding(m);                   // (b, E)
                    long dim = e.getShape().get(1);
                    float[] flat = e.toFloatArray();
                    boolean[] here = batch.present(m);
                    for (int i = 0; i < chunk.size(); i++) {
                        if (here[i]) {
                            rows.get(m)[from + i] = Arrays.copyOfRange(flat, (int) (i * dim), (int) ((i + 1) * dim));
                        }
                    }
                }
            }
            chunk.forEach(d -> ids.add(d.entry().id()));
        }
        return new Embeddings(ids, rows);
    }

    /**
     * Embeddings of every entry with n clips each ({@link Loader#evalClip} k of n, evenly spaced over
     * the span), averaged per sample ({@link #average}); decoded chunk by chunk so a large manifest's
     * clips never sit in memory at once. Broken samples are skipped (and logged); ids in entry order.
     */
    public static Embeddings embedClips(SensoriumModel model, List<ManifestEntry> entries, Map<Modality, ModalityAdapter> adapters,
            double clipSeconds, int clips, int threads, long seed, int batchSize, SkipLog skips, NDManager manager)
            throws InterruptedException {
        Map<Modality, long[]> shapes = new EnumMap<>(Modality.class);
        adapters.forEach((m, a) -> shapes.put(m, a.inputShape()));
        List<String> ids = new ArrayList<>();
        Map<Modality, List<float[]>> rows = new EnumMap<>(Modality.class);
        shapes.keySet().forEach(m -> rows.put(m, new ArrayList<>()));
        for (int from = 0; from < entries.size(); from += CHUNK) {
            List<ManifestEntry> chunk = entries.subList(from, Math.min(entries.size(), from + CHUNK));
            List<Embeddings> views = new ArrayList<>();
            for (int k = 0; k < clips; k++) {
                List<Batch.Decoded> decoded = Loader.decodeAll(chunk, adapters, clipSeconds, k, clips, threads, seed, skips);
                views.add(embed(model, decoded, shapes, batchSize, manager));
            }
            Embeddings e = average(views);
            ids.addAll(e.ids());
            e.rows().forEach((m, r) -> rows.get(m).addAll(Arrays.asList(r)));
        }
        Map<Modality, float[][]> out = new EnumMap<>(Modality.class);
        rows.forEach((m, r) -> out.put(m, r.toArray(float[][]::new)));
        return new Embeddings(ids, out);
    }

    private static final int CHUNK = 256; // samples decoded at a time

    /**
     * Several clips of each sample as one: per modality, the mean of the clips' unit embeddings,
     * L2-normalised again. A sample counts only if every view has it (a sample skipped in one view is
     * dropped), and a modality only if every view has it for that sample.
     */
    public static Embeddings average(List<Embeddings> views) {
        if (views.size() == 1) {
            return views.get(0);
        }
        List<Map<String, Integer>> index = new ArrayList<>();
        for (Embeddings v : views) {
            Map<String, Integer> at = new LinkedHashMap<>();
            for (int i = 0; i < v.ids().size(); i++) {
                at.put(v.ids().get(i), i);
            }
            index.add(at);
        }
        List<String> ids = new ArrayList<>();
        for (String id : views.get(0).ids()) {
            if (index.stream().allMatch(at -> at.containsKey(id))) {
                ids.add(id);
            }
        }
        Map<Modality, float[][]> rows = new EnumMap<>(Modality.class);
        for (Modality m : views.get(0).rows().keySet()) {
            float[][] out = new float[ids.size()][];
            for (int i = 0; i < ids.size(); i++) {
                float[] sum = null;
                for (int v = 0; v < views.size(); v++) {
                    float[] row = views.get(v).rows().get(m)[index.get(v).get(ids.get(i))];
                    if (row == null) {
                        sum = null;
                        break;
                    }
                    sum = sum == null ? row.clone() : add(sum, row);
                }
                out[i] = sum == null ? null : normalise(sum);
            }
            rows.put(m, out);
        }
        return new Embeddings(ids, rows);
    }

    private static float[] add(float[] acc, float[] x) {
        for (int i = 0; i < acc.length; i++) {
            acc[i] += x[i];
        }
        return acc;
    }

    private static float[] normalise(float[] x) {
        double n = Math.sqrt(dot(x, x));
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (x[i] / Math.max(n, 1e-12));
        }
        return x;
    }

    /** Both directions of a pair, over the samples that have both modalities. */
    public static List<Result> pair(Embeddings emb, Config.Pair pair) {
        float[][] a = emb.rows().get(pair.a()), b = emb.rows().get(pair.b());
        List<float[]> qa = new ArrayList<>(), qb = new ArrayList<>();
        for (int i = 0; i < a.length; i++) {
            if (a[i] != null && b[i] != null) {
                qa.add(a[i]);
                qb.add(b[i]);
            }
        }
        return List.of(direction(pair.a().key() + "->" + pair.b().key(), qa, qb),
                direction(pair.b().key() + "->" + pair.a().key(), qb, qa));
    }

    /**
     * Query i's match is candidate i; rank = 1 + other candidates scoring at least as high (ties count against,
     * so a collapsed model ranks last). Scores are float32 matrix products in blocks ({@link BlockedDots}); the
     * ranks equal {@link #scalarRanks}'s.
     */
    public static Result direction(String name, List<float[]> queries, List<float[]> candidates) {
        int n = queries.size();
        if (n == 0) {
            return new Result(name, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        }
        int[] ranks = ranks(queries, candidates);
        int[] sorted = ranks.clone();
        Arrays.sort(sorted);
        double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
        return new Result(name, n, within(ranks, 1), within(ranks, 5), within(ranks, 10), median,
                Arrays.stream(ranks).average().orElse(Double.NaN));
    }

    /**
     * 1-based ranks of each query's match (candidate i for query i) among all n candidates, a tie counting
     * against the query: rank = 1 + #{j != i : dot(q_i, c_j) >= dot(q_i, c_i)}, the dot as {@link #dot}. Float32 products
     * in blocks of up to 256 queries x 8192 candidates (8 MB); a candidate whose float32 score lies within the error bound of
     * the match's is decided by the scalar dot. Non-finite rows fall back to {@link #scalarRanks}.
     */
    static int[] ranks(List<float[]> queries, List<float[]> candidates) {
        return ranks(queries, candidates, BlockedDots.BLOCK_FLOATS);
    }

    /** {@link #ranks(List, List)} with blocks of at most blockFloats scores (tests use small blocks). */
    static int[] ranks(List<float[]> queries, List<float[]> candidates, long blockFloats) {
        int n = queries.size();
        double[] qNorm = BlockedDots.norms(queries), cNorm = BlockedDots.norms(candidates);
        if (!BlockedDots.safe(qNorm) || !BlockedDots.safe(cNorm)) {
            return scalarRanks(queries, candidates);
        }
        int width = queries.get(0).length;
        double slack = BlockedDots.slack(width) * BlockedDots.max(cNorm);
        int[] ranks = new int[n];
        int rows = BlockedDots.blockRows(n, blockFloats), cols = BlockedDots.blockCols(n, rows, blockFloats);
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray all = BlockedDots.candidates(manager, candidates, width);                  // (n, E)
            for (int from = 0; from < n; from += rows) {
                int to = Math.min(n, from + rows);
                try (NDManager block = manager.newSubManager()) {
                    rankBlock(block, queries, candidates, all, from, to, cols, qNorm, slack, ranks);
                }
            }
        }
        return ranks;
    }

    /**
     * Ranks of queries [from, to) against candidates cols at a time: count the float32 scores clearly above the
     * match's scalar score, rescore the band around it with the scalar dot.
     */
    private static void rankBlock(NDManager block, List<float[]> queries, List<float[]> candidates, NDArray all, int from, int to,
            int cols, double[] qNorm, double slack, int[] ranks) {
        int r = to - from, n = candidates.size();
        double[] own = new double[r];
        float[] hi = new float[r], lo = new float[r];
        for (int i = 0; i < r; i++) {
            own[i] = dot(queries.get(from + i), candidates.get(from + i));
            double eps = slack * qNorm[from + i] + BlockedDots.tiny(queries.get(from + i).length);
            hi[i] = Math.nextUp((float) (own[i] + eps));     // float32 score > hi: the scalar dot is > own
            lo[i] = Math.nextDown((float) (own[i] - eps));   // float32 score < lo: the scalar dot is < own
        }
        NDArray q = BlockedDots.rows(block, queries, from, to, (int) all.getShape().get(1));   // (r, E)
        for (int c0 = 0; c0 < n; c0 += cols) {
            int m = Math.min(n, c0 + cols) - c0;
            int first = c0;
            BlockedDots.products(block, q, all, c0, m, s -> {                                   // (r, m) row-major
                // one pass in Java over the block, a row at a time out of libtorch's memory: measured faster than
                // the four libtorch comparisons and the nonzero it replaces (docs/measured/data.md, Retrieval at scale)
                float[] row = new float[m];
                for (int i = 0; i < r; i++) {
                    s.get(i * m, row);
                    float high = hi[i], low = lo[i];
                    int above = 0;
                    for (int j = 0; j < m; j++) {
                        float v = row[j];
                        if (v > high) {
                            above++;
                        } else if (v >= low && from + i != first + j && dot(queries.get(from + i), candidates.get(first + j)) >= own[i]) {
                            above++;
                        }
                    }
                    ranks[from + i] += above;
                }
            });
        }
        for (int i = 0; i < r; i++) {
            ranks[from + i] += 1;
        }
    }

    /** The scalar O(n^2 E) loop the blocked ranks must equal; kept to prove it (RetrievalTest). */
    static int[] scalarRanks(List<float[]> queries, List<float[]> candidates) {
        int n = queries.size();
        int[] ranks = new int[n];
        for (int i = 0; i < n; i++) {
            double own = dot(queries.get(i), candidates.get(i));
            int rank = 1;
            for (int j = 0; j < n; j++) {
                if (j != i && dot(queries.get(i), candidates.get(j)) >= own) {
                    rank++;
                }
            }
            ranks[i] = rank;
        }
        return ranks;
    }

    private static double within(int[] ranks, int k) {
        return Arrays.stream(ranks).filter(r -> r <= k).count() / (double) ranks.length;
    }

    /** The rows of a (n, E) array: n arrays of E. */
    public static List<float[]> rows(NDArray x) {
        int e = (int) x.getShape().get(1);
        float[] flat = x.toFloatArray();
        List<float[]> out = new ArrayList<>();
        for (int i = 0; i < flat.length / e; i++) {
            out.add(Arrays.copyOfRange(flat, i * e, (i + 1) * e));
        }
        return out;
    }

    public static double dot(float[] x, float[] y) {
        double s = 0;
        for (int i = 0; i < x.length; i++) {
            s += x[i] * y[i];
        }
        return s;
    }
}
