package org.sensorium.eval;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.commons.math3.ml.clustering.CentroidCluster;
import org.apache.commons.math3.ml.clustering.Clusterable;
import org.apache.commons.math3.ml.clustering.KMeansPlusPlusClusterer;
import org.apache.commons.math3.ml.distance.EuclideanDistance;
import org.apache.commons.math3.random.Well19937c;

/**
 * How well a clustering of n samples agrees with their class labels.
 * <ul>
 *   <li>NMI, normalised mutual information with the arithmetic mean of the two entropies (scikit-learn's
 *       default, {@code average_method='arithmetic'}, so numbers compare with XDC's and DeepCluster's):
 *       NMI = I(U; V) / ((H(U) + H(V)) / 2), in [0, 1]; 1 when the clusters are the classes under any
 *       renaming, 0 when they are independent. As in scikit-learn, two labelings that each have one
 *       value score 1.</li>
 *   <li>purity: the share of samples that belong to their cluster's most common class, in (0, 1].
 *       One cluster per sample scores 1, so read it together with the number of clusters.</li>
 *   <li>chance NMI: NMI of the same cluster sizes dealt to the samples at random (mean over
 *       {@value #SHUFFLES} seeded shuffles). It is above 0 on finite samples, and grows with the number
 *       of clusters per sample (k = 32 over 128 samples is far from 0): compare NMI against it.</li>
 * </ul>
 * Entropies use the natural log; the base cancels in NMI.
 */
public final class ClusterMetrics {
    static final int SHUFFLES = 20;

    private ClusterMetrics() {}

    /** Agreement of a clustering with labels over n samples: k clusters used, c classes. */
    public record Score(int n, int clusters, int classes, double nmi, double purity, double chanceNmi) {
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("n", n);
            m.put("clusters", clusters);
            m.put("classes", classes);
            m.put("nmi", nmi);
            m.put("purity", purity);
            m.put("chance_nmi", chanceNmi);
            return m;
        }
    }

    /**
     * @param clusters cluster of each sample (any ints)
     * @param labels class label of each sample, same order; none null
     * @param seed seeds the shuffles of the chance NMI
     */
    public static Score score(int[] clusters, List<String> labels, long seed) {
        if (clusters.length != labels.size()) {
            throw new IllegalArgumentException(clusters.length + " clusters for " + labels.size() + " labels");
        }
        int[] u = dense(clusters);
        int[] v = codes(labels);
        return new Score(u.length, count(u), count(v), nmi(u, v), purity(u, v), chanceNmi(u, v, seed));
    }

    /** A k-means clustering: the cluster of each point, the size of each cluster, the sum of squared distances to the centres. */
    public record KMeans(int[] assigned, int[] sizes, double inertia) {}

    private record Point(int index, double[] point) implements Clusterable {
        @Override
        public double[] getPoint() {
            return point;
        }
    }

    /** k-means++ seeding (Commons Math, seeded) then at most {@code iterations} Lloyd iterations, Euclidean. */
    public static KMeans kmeans(List<double[]> points, int k, int iterations, long seed) {
        List<Point> ps = new ArrayList<>();
        for (int i = 0; i < points.size(); i++) {
            ps.add(new Point(i, points.get(i)));
        }
        List<CentroidCluster<Point>> clusters =
                new KMeansPlusPlusClusterer<Point>(k, iterations, new EuclideanDistance(), new Well19937c(seed)).cluster(ps);
        int[] assigned = new int[points.size()];
        int[] sizes = new int[clusters.size()];
        double inertia = 0;
        for (int c = 0; c < clusters.size(); c++) {
            double[] centre = clusters.get(c).getCenter().getPoint();
            for (Point p : clusters.get(c).getPoints()) {
                assigned[p.index()] = c;
                sizes[c]++;
                for (int j = 0; j < centre.length; j++) {
                    inertia += (p.point()[j] - centre[j]) * (p.point()[j] - centre[j]);
                }
            }
        }
        return new KMeans(assigned, sizes, inertia);
    }

    /**
     * For each modality of the embeddings: k-means with k = the number of classes among the samples that
     * have both the modality and a label, scored against those labels. How well an encoder separates the
     * classes without being told them (the held-out measure of objectives that are not cross-modal).
     * Left out for a modality with fewer than two samples per class.
     *
     * @param labels the class of each sample id (samples without one are left out)
     */
    public static Map<String, Score> byModality(Retrieval.Embeddings emb, Map<String, String> labels, long seed) {
        Map<String, Score> out = new LinkedHashMap<>();
        emb.rows().forEach((m, rows) -> {
            List<double[]> points = new ArrayList<>();
            List<String> classes = new ArrayList<>();
            for (int i = 0; i < rows.length; i++) {
                String label = labels.get(emb.ids().get(i));
                if (rows[i] != null && label != null) {
                    double[] p = new double[rows[i].length];
                    for (int j = 0; j < p.length; j++) {
                        p[j] = rows[i][j];
                    }
                    points.add(p);
                    classes.add(label);
                }
            }
            int k = (int) classes.stream().distinct().count();
            if (k >= 2 && points.size() >= 2 * k) { // fewer samples than two a class: no measure

                out.put(m.key(), score(kmeans(points, k, 300, seed).assigned(), classes, seed));
            }
        });
        return out;
    }

    /** Arithmetic-mean NMI of two labelings of the same samples (any ints); 1 when both have a single value. */
    public static double nmi(int[] a, int[] b) {
        long[][] c = contingency(a, b);
        int n = a.length;
        long[] rows = new long[c.length], cols = new long[c[0].length];
        for (int i = 0; i < c.length; i++) {
            for (int j = 0; j < c[0].length; j++) {
                rows[i] += c[i][j];
                cols[j] += c[i][j];
            }
        }
        if (rows.length == 1 && cols.length == 1) {
            return 1.0;
        }
        double mi = 0;
        for (int i = 0; i < c.length; i++) {
            for (int j = 0; j < c[0].length; j++) {
                if (c[i][j] > 0) {
                    mi += (double) c[i][j] / n * Math.log((double) n * c[i][j] / ((double) rows[i] * cols[j]));
                }
            }
        }
        double mean = (entropy(rows, n) + entropy(cols, n)) / 2;
        return mi <= 0 || mean <= 0 ? 0.0 : Math.min(1.0, mi / mean);
    }

    /** Share of samples in their cluster's most common class: (1/n) sum_k max_c n_kc. */
    public static double purity(int[] clusters, int[] classes) {
        long[][] c = contingency(clusters, classes);
        long sum = 0;
        for (long[] row : c) {
            long max = 0;
            for (long x : row) {
                max = Math.max(max, x);
            }
            sum += max;
        }
        return (double) sum / clusters.length;
    }

    /** Mean NMI of the clusters shuffled across samples (same sizes, random members) against the classes. */
    static double chanceNmi(int[] clusters, int[] classes, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] shuffled = clusters.clone();
        double sum = 0;
        for (int s = 0; s < SHUFFLES; s++) {
            for (int i = shuffled.length - 1; i > 0; i--) { // Fisher-Yates
                int j = r.nextInt(i + 1);
                int t = shuffled[i];
                shuffled[i] = shuffled[j];
                shuffled[j] = t;
            }
            sum += nmi(shuffled, classes);
        }
        return sum / SHUFFLES;
    }

    /** n_uv: samples with a[i] = u and b[i] = v, values renumbered 0.. in order of first appearance. (|U|, |V|) */
    static long[][] contingency(int[] a, int[] b) {
        if (a.length != b.length || a.length == 0) {
            throw new IllegalArgumentException("two labelings of the same n > 0 samples needed, got " + a.length + " and " + b.length);
        }
        int[] u = dense(a), v = dense(b);
        long[][] c = new long[count(u)][count(v)];
        for (int i = 0; i < u.length; i++) {
            c[u[i]][v[i]]++;
        }
        return c;
    }

    /** Labels as ints 0.. in order of first appearance. */
    public static int[] codes(List<String> labels) {
        Map<String, Integer> index = new HashMap<>();
        int[] out = new int[labels.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = index.computeIfAbsent(labels.get(i), k -> index.size());
        }
        return out;
    }

    private static int[] dense(int[] x) {
        Map<Integer, Integer> index = new HashMap<>();
        int[] out = new int[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = index.computeIfAbsent(x[i], k -> index.size());
        }
        return out;
    }

    private static int count(int[] dense) {
        int max = -1;
        for (int v : dense) {
            max = Math.max(max, v);
        }
        return max + 1;
    }

    private static double entropy(long[] counts, int n) {
        double h = 0;
        for (long c : counts) {
            if (c > 0) {
                double p = (double) c / n;
                h -= p * Math.log(p);
            }
        }
        return h;
    }
}
