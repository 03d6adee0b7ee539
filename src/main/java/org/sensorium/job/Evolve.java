package org.sensorium.job;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.config.ConfigLoader;
import org.sensorium.config.Json;
import org.sensorium.config.Modality;
import org.sensorium.objective.ObjectiveKind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code sensorium ablate --search}: ELo's evolutionary search over the loss weights of the enabled objectives
 * (Piergiovanni, Angelova, Ryoo, "Evolving losses for unsupervised video representation learning", CVPR 2020), at
 * sizes this machine can run. Generation 0 draws {@code population} weight vectors, each weight log-uniform in
 * [0.1, 1]; each is a short pretraining run scored without labels; the better half survives to the next generation
 * (its score kept, not re-run) and the rest is replaced by mutations of the survivors, each weight multiplied by
 * exp(0.5 z), z ~ N(0, 1), clamped to [0.01, 10]. The default score is ELo's: k-means on one modality's embeddings of
 * every sample, and the KL divergence of the sorted cluster sizes from a Zipf distribution (natural classes are
 * Zipf-distributed: a representation whose clusters are too is taken as a better one), lower is better. Each run is
 * an ordinary run folder; the trials and the best weights go to search.json and search.md.
 */
public final class Evolve {
    private static final Logger LOG = LoggerFactory.getLogger(Evolve.class);
    static final double LOW = 0.1, HIGH = 1.0, SIGMA = 0.5, MIN = 0.01, MAX = 10;

    private Evolve() {}

    /**
     * @param fitness "zipf" (KL of the cluster sizes from Zipf, minimised), "mean_r1" (held-out retrieval, maximised)
     *     or the name of an objective's held-out measure (its end value; maximised unless minimise)
     * @param modality whose embeddings the zipf score clusters
     * @param k clusters of the zipf score
     * @param zipfExponent s in q_i proportional to 1 / i^s
     */
    public record Options(Path config, List<String> sets, int steps, int population, int generations, String fitness,
            boolean minimise, Modality modality, int k, double zipfExponent, long seed, Path out) {
        public Options {
            if (steps < 1) {
                throw new ConfigException("--steps", steps + " must be >= 1");
            }
            if (population < 2) {
                throw new ConfigException("--population", population + " must be >= 2 (half survives each generation)");
            }
            if (generations < 1) {
                throw new ConfigException("--generations", generations + " must be >= 1");
            }
            if (k < 2) {
                throw new ConfigException("--zipf-k", k + " must be >= 2");
            }
        }

        boolean lowerIsBetter() {
            return fitness.equals("zipf") || minimise;
        }
    }

    /** One run of the search: its weights, where it ran, the zipf score, held-out R@1 and the fitness it was ranked by. */
    public record Trial(int generation, String name, Map<String, Double> weights, Path run, double zipfKl, double meanR1,
            double fitness) {}

    /** Every trial in the order run, and the best by fitness. */
    public record Result(Path dir, List<String> objectives, List<Trial> trials, Trial best) {}

    public static Result run(Options o) throws IOException, InterruptedException {
        Config base = ConfigLoader.load(o.config(), o.sets()).config();
        List<String> objectives = new ArrayList<>();
        for (ObjectiveKind kind : ObjectiveKind.values()) {
            if (kind.config(base).weight() > 0) {
                objectives.add(kind.key());
            }
        }
        if (objectives.size() < 2) {
            throw new ConfigException("objectives", "the search weighs the enabled objectives against each other, but only "
                    + objectives + " is enabled: switch on another with --set objectives.<name>.weight=1");
        }
        Path dir = o.out() != null ? o.out()
                : Path.of("runs", "search-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        if (Files.exists(dir.resolve("search.json"))) {
            throw new ConfigException("--out", dir + " already holds a search");
        }
        Files.createDirectories(dir);
        SplittableRandom random = new SplittableRandom(o.seed());
        List<Trial> trials = new ArrayList<>();
        List<Trial> alive = new ArrayList<>();
        for (int g = 0; g < o.generations(); g++) {
            List<Map<String, Double>> fresh = new ArrayList<>();
            if (g == 0) {
                for (int i = 0; i < o.population(); i++) {
                    fresh.add(draw(objectives, random));
                }
            } else {
                alive.sort(ranking(o));
                alive = new ArrayList<>(alive.subList(0, (o.population() + 1) / 2)); // the better half survives
                for (int i = 0; alive.size() + fresh.size() < o.population(); i++) {
                    fresh.add(mutate(alive.get(i % alive.size()).weights(), random));
                }
            }
            for (int i = 0; i < fresh.size(); i++) {
                Trial t = trial(o, dir, g, "g" + g + "-t" + i, fresh.get(i));
                trials.add(t);
                alive.add(t);
                LOG.info("search {}: weights {} zipf KL {} mean R@1 {}", t.name(), t.weights(), t.zipfKl(), t.meanR1());
            }
        }
        Trial best = trials.stream().min(ranking(o)).orElseThrow();
        Result r = new Result(dir, objectives, trials, best);
        Json.write(dir.resolve("search.json"), json(r, o));
        Files.writeString(dir.resolve("search.md"), table(r, o));
        return r;
    }

    private static Trial trial(Options o, Path dir, int generation, String name, Map<String, Double> weights)
            throws IOException, InterruptedException {
        List<String> sets = new ArrayList<>(List.of("run.dir=" + dir, "run.name=" + name, "train.steps=" + o.steps(),
                "train.progress=false"));
        sets.addAll(o.sets());
        weights.forEach((key, w) -> sets.add("objectives." + key + ".weight=" + w)); // last: the trial's weights win
        Pretrain.Summary s = Pretrain.start(ConfigLoader.load(o.config(), sets));
        ClusterJob.Result c = ClusterJob.run(new ClusterJob.Options(s.runDir(), o.modality(), o.k(), o.seed(), 100,
                s.runDir().resolve("search-clusters.jsonl"), List.of()));
        double kl = zipfKl(c.sizes(), o.zipfExponent());
        double r1 = s.meanR1();
        double fitness;
        if (o.fitness().equals("zipf")) {
            fitness = kl;
        } else if (o.fitness().equals("mean_r1")) {
            fitness = r1;
        } else {
            Pretrain.HeldOut h = s.heldOut().get(o.fitness());
            if (h == null) {
                throw new ConfigException("--fitness", "the run reported no held-out measure " + o.fitness() + "; it has "
                        + s.heldOut().keySet() + " (or zipf, mean_r1)");
            }
            fitness = h.end();
        }
        return new Trial(generation, name, weights, s.runDir(), kl, r1, fitness);
    }

    /** Best first: by fitness in its direction; a NaN fitness last. */
    static Comparator<Trial> ranking(Options o) {
        Comparator<Trial> byFitness = Comparator.comparingDouble(Trial::fitness);
        Comparator<Trial> c = o.lowerIsBetter() ? byFitness : byFitness.reversed();
        return Comparator.comparing((Trial t) -> Double.isNaN(t.fitness())).thenComparing(c);
    }

    /**
     * KL(p || q) of the cluster sizes from Zipf: p_i the i-th largest cluster's share of the samples, q_i = i^-s / H,
     * H = sum over the k ranks of i^-s; empty clusters add 0 (0 log 0 = 0).
     */
    static double zipfKl(int[] sizes, double s) {
        int[] sorted = java.util.Arrays.stream(sizes).boxed().sorted(Comparator.reverseOrder()).mapToInt(Integer::intValue).toArray();
        double n = java.util.Arrays.stream(sorted).sum(), h = 0;
        for (int i = 1; i <= sorted.length; i++) {
            h += Math.pow(i, -s);
        }
        double kl = 0;
        for (int i = 1; i <= sorted.length; i++) {
            double p = sorted[i - 1] / n, q = Math.pow(i, -s) / h;
            kl += p > 0 ? p * Math.log(p / q) : 0;
        }
        return kl;
    }

    /** Each weight log-uniform in [LOW, HIGH], 3 decimals. */
    static Map<String, Double> draw(List<String> objectives, SplittableRandom random) {
        Map<String, Double> w = new LinkedHashMap<>();
        for (String key : objectives) {
            w.put(key, round(Math.exp(Math.log(LOW) + random.nextDouble() * (Math.log(HIGH) - Math.log(LOW)))));
        }
        return w;
    }

    /** Each weight times exp(SIGMA z), z standard normal (Box-Muller), clamped to [MIN, MAX], 3 decimals. */
    static Map<String, Double> mutate(Map<String, Double> parent, SplittableRandom random) {
        Map<String, Double> w = new LinkedHashMap<>();
        parent.forEach((key, v) -> {
            double z = Math.sqrt(-2 * Math.log(1 - random.nextDouble())) * Math.cos(2 * Math.PI * random.nextDouble());
            w.put(key, round(Math.min(MAX, Math.max(MIN, v * Math.exp(SIGMA * z)))));
        });
        return w;
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    static Map<String, Object> json(Result r, Options o) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("fitness", o.fitness());
        out.put("lower_is_better", o.lowerIsBetter());
        out.put("objectives", r.objectives());
        List<Map<String, Object>> trials = new ArrayList<>();
        for (Trial t : r.trials()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", t.name());
            m.put("generation", t.generation());
            m.put("weights", t.weights());
            m.put("run", t.run().toString());
            m.put("zipf_kl", t.zipfKl());
            m.put("mean_r1", t.meanR1());
            m.put("fitness", t.fitness());
            trials.add(m);
        }
        out.put("trials", trials);
        out.put("best", r.best().name());
        out.put("best_weights", r.best().weights());
        return out;
    }

    /** Markdown: one row per trial, the best marked, and the --set line of the best weights. */
    public static String table(Result r, Options o) {
        StringBuilder sb = new StringBuilder("| trial | generation |");
        r.objectives().forEach(k -> sb.append(' ').append(k).append(" |"));
        sb.append(" zipf KL (").append(o.modality().key()).append(", k ").append(o.k()).append(") | held-out R@1 (mean) | fitness |\n|---|---:|");
        r.objectives().forEach(k -> sb.append("---:|"));
        sb.append("---:|---:|---:|\n");
        for (Trial t : r.trials()) {
            sb.append("| ").append(t.name()).append(t == r.best() ? " (best)" : "").append(" | ").append(t.generation()).append(" |");
            r.objectives().forEach(k -> sb.append(String.format(" %.3f |", t.weights().get(k))));
            sb.append(String.format(" %.4f | %.3f | %.4f |%n", t.zipfKl(), t.meanR1(), t.fitness()));
        }
        sb.append("\nbest (").append(o.fitness()).append(o.lowerIsBetter() ? ", lower is better" : ", higher is better").append("):");
        r.best().weights().forEach((k, w) -> sb.append(" --set objectives.").append(k).append(".weight=").append(w));
        return sb.append('\n').toString();
    }
}
