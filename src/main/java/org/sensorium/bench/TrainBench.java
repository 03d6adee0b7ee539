package org.sensorium.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.config.Modality;
import org.sensorium.config.ModalitySpec;
import org.sensorium.data.Batch;
import org.sensorium.data.Loader;
import org.sensorium.data.Needs;
import org.sensorium.distributed.Collective;
import org.sensorium.distributed.DataParallel;
import org.sensorium.model.Layers;
import org.sensorium.model.ModelOutput;
import org.sensorium.model.SensoriumModel;
import org.sensorium.objective.Objective;
import org.sensorium.objective.ObjectiveKind;
import org.sensorium.objective.Step;
import org.sensorium.train.AdamW;
import org.sensorium.train.Trainer;

/**
 * The training step on synthetic inputs of the config's exact shapes (no decoding): the model, objectives, AdamW and
 * {@link Trainer#step} that pretraining builds, fed by a source that does what pretraining's micro-batch does
 * (collate, forward of the main clips, each objective's terms, their values read), so what is timed is what
 * {@code sensorium pretrain} runs minus the wait for data. Warm-up steps are not timed. Then, in the same process and
 * with the same libtorch threads: a profile of further steps split into phases, and the fp32 matmul peak.
 *
 * <p>libtorch on the CPU runs each operation to completion before the call returns (no asynchronous queue as on a
 * GPU), so a wall-clock reading between two calls is that phase's time; reading a loss value ({@code getFloat}) is
 * where pretraining itself synchronises.
 */
public final class TrainBench {
    /** Side of the square fp32 matmul whose speed is the peak. */
    static final int PEAK_SIDE = 1024;
    private static final int PEAK_WARMUP = 3;

    /** Steps traced by libtorch's profiler with --trace. */
    public static final int TRACE_STEPS = 3;

    private TrainBench() {}

    /**
     * @param steps timed steps (after warm-up)
     * @param warmup untimed steps first
     * @param threads libtorch intra-op threads for the whole benchmark; 0 = as the JVM started (-Dai.djl.pytorch.num_threads)
     * @param profileSteps steps of the per-phase profile after the timed ones (0 = none)
     * @param peakReps timed 1024^3 matmuls of the peak
     */
    public record Options(int steps, int warmup, int threads, int profileSteps, int peakReps, java.nio.file.Path trace) {
        public Options {
            if (steps < 1) {
                throw new ConfigException("--steps", steps + " must be >= 1");
            }
            if (warmup < 0) {
                throw new ConfigException("--warmup", warmup + " must be >= 0");
            }
            if (threads < 0) {
                throw new ConfigException("--threads", threads + " must be >= 1 (or 0: as the JVM started)");
            }
            if (profileSteps < 0) {
                throw new ConfigException("--profile-steps", profileSteps + " must be >= 0");
            }
            if (peakReps < 1) {
                throw new ConfigException("peak repetitions", peakReps + " must be >= 1");
            }
        }
    }

    /** One phase of the profile: its mean seconds per step. */
    public record Phase(String name, double seconds) {}

    /**
     * What was measured.
     *
     * @param stepSeconds the timed steps, in order
     * @param samples samples per step (train.batch_size)
     * @param params the model's parameter count
     * @param tokens per modality through the trunk, its tokens per sequence
     * @param peakSeconds the timed matmuls of the peak, in order
     * @param phases the profile, mean seconds per step by phase, "other" last (the rest of the profiled step)
     * @param profiledStep median seconds of the profiled steps
     */
    public record Result(List<Double> stepSeconds, int samples, long params, Map<Modality, Integer> tokens, int threads,
            TrainFlops.Count flops, List<Double> peakSeconds, List<Phase> phases, double profiledStep, List<Double> halfPeakSeconds,
            double tracedStepSeconds) {
        public double median() {
            return Stats.quantile(stepSeconds, 0.5);
        }

        public double samplesPerSecond() {
            return samples / median();
        }

        public double gflops() {
            return flops.step() / median() / 1e9;
        }

        public double peakGflops() {
            return 2.0 * PEAK_SIDE * PEAK_SIDE * PEAK_SIDE / Stats.quantile(peakSeconds, 0.5) / 1e9;
        }

        /** The same matmuls in float16: what a reduced-precision path could reach on this CPU. */
        public double halfPeakGflops() {
            return 2.0 * PEAK_SIDE * PEAK_SIDE * PEAK_SIDE / Stats.quantile(halfPeakSeconds, 0.5) / 1e9;
        }
    }

    /**
     * Runs the benchmark.
     *
     * @throws ConfigException when an enabled objective needs more than the main clips (second views, key frames,
     *     future motion: the synthetic batch has the main clips only)
     */
    public static Result run(Config cfg, Options o) {
        Engine.getInstance(); // loads libtorch, which reads -Dai.djl.pytorch.num_threads, before we change it
        int before = JniUtils.getNumThreads();
        if (o.threads() > 0) {
            JniUtils.setNumThreads(o.threads());
        }
        try (NDManager root = NDManager.newBaseManager(); SensoriumModel model = new SensoriumModel(cfg, root)) {
            Config.Train t = cfg.train();
            Collective group = Collective.local();
            DataParallel dp = new DataParallel(group, model.params()::all, cfg.dist().bucketMb(), cfg.dist().hashEvery());
            List<Objective.Weighted> objectives = ObjectiveKind.enabled(cfg, model, group); // before AdamW: may add parameters
            Needs needs = ObjectiveKind.needs(objectives);
            if (!needs.equals(Needs.NONE)) {
                throw new ConfigException("objectives", "bench train synthesises the main clips only, but the enabled objectives need " + needs);
            }
            AdamW opt = new AdamW(model.params(), t.beta1(), t.beta2(), t.eps(), t.weightDecay());
            Trainer trainer = new Trainer(t, cfg.run().seed(), opt, dp);
            Synthetic data = new Synthetic(cfg, t.microBatch(), t.accumulate());
            boolean readsOutput = objectives.stream().anyMatch(x -> x.objective().readsOutput());
            int[] next = {0};
            Trainer.Source source = sm -> micro(sm, model, data.batch(sm, next[0]++), objectives, readsOutput);
            List<Double> times = new ArrayList<>();
            for (int step = 0; step < o.warmup() + o.steps(); step++) {
                long t0 = System.nanoTime();
                trainer.step(root, step, source);
                if (step >= o.warmup()) {
                    times.add((System.nanoTime() - t0) / 1e9);
                }
            }
            Profile profile = new Profile();
            for (int step = 0; step < o.profileSteps(); step++) {
                profile.step(root, model, opt, objectives, data, cfg, trainer.lr(o.warmup() + o.steps() + step), next);
            }
            double traced = Double.NaN;
            if (o.trace() != null) { // libtorch's own profiler over a few more steps: every operator, its inputs' shapes
                JniUtils.startProfile(false, true, false);
                long t0 = System.nanoTime();
                for (int step = 0; step < TRACE_STEPS; step++) {
                    trainer.step(root, step, source);
                }
                traced = (System.nanoTime() - t0) / 1e9 / TRACE_STEPS;
                JniUtils.stopProfile(o.trace().toString());
            }
            Map<Modality, Integer> tokens = new EnumMap<>(Modality.class);
            for (Modality m : cfg.activeModalities()) {
                if (!(m == Modality.TEXT && cfg.modalities().text().isPretrained())) {
                    tokens.put(m, model.tokens(m));
                }
            }
            List<Double> peak = peak(root, o.peakReps(), DataType.FLOAT32);
            List<Double> halfPeak = peak(root, o.peakReps(), DataType.FLOAT16);
            return new Result(times, t.batchSize(), model.params().count(), tokens, JniUtils.getNumThreads(),
                    TrainFlops.of(cfg, tokens), peak, profile.phases(o.profileSteps()), profile.median(), halfPeak, traced);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } finally {
            JniUtils.setNumThreads(before);
        }
    }

    /** What pretraining's micro-batch does once the loader has delivered (Pretrain.micro): forward, terms, values read. */
    private static Trainer.Micro micro(NDManager sm, SensoriumModel model, Batch batch, List<Objective.Weighted> objectives,
            boolean readsOutput) {
        return Trainer.Micro.of(new Step(batch, readsOutput ? model.forward(batch.inputs(), batch.valid(), true) : null),
                objectives, 0);
    }

    /**
     * Seconds of each of reps PEAK_SIDE^3 matmuls of type t, after a few untimed ones. (Not bfloat16: with DJL 0.36 a
     * cast to it aborts the JVM, "terminate called without an active exception".)
     */
    static List<Double> peak(NDManager root, int reps, DataType t) {
        List<Double> times = new ArrayList<>();
        try (NDManager m = root.newSubManager()) {
            Shape s = new Shape(PEAK_SIDE, PEAK_SIDE);
            NDArray a = m.randomNormal(s).toType(t, false), b = m.randomNormal(s).toType(t, false);
            for (int i = 0; i < PEAK_WARMUP + reps; i++) {
                long t0 = System.nanoTime();
                NDArray c = a.matMul(b);
                double dt = (System.nanoTime() - t0) / 1e9;
                c.close();
                if (i >= PEAK_WARMUP) {
                    times.add(dt);
                }
            }
        }
        return times;
    }

    /**
     * The step of {@link Trainer#step} taken apart, with a clock between the parts: inputs, each modality's forward
     * (stem, trunk, head) on its own, the objectives' terms, backward, the gradient norms (clipping), the AdamW
     * update and the zeroing of the gradients. It makes the same calls as the trainer (one forward per modality
     * instead of one over all: the model runs its modalities one after the other either way), so its steps take
     * about as long as the timed ones; the result shows both.
     */
    private static final class Profile {
        private final Map<String, Double> seconds = new LinkedHashMap<>();
        private final List<Double> steps = new ArrayList<>();

        void step(NDManager root, SensoriumModel model, AdamW opt, List<Objective.Weighted> objectives, Synthetic data,
                Config cfg, float lr, int[] next) {
            Config.Train t = cfg.train();
            long start = System.nanoTime();
            try (NDManager sm = root.newSubManager()) {
                Engine.getInstance().setRandomSeed((int) Loader.mix(cfg.run().seed(), steps.size(), 0));
                long c = System.nanoTime();
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    for (int micro = 0; micro < t.accumulate(); micro++) {
                        Batch batch = data.batch(sm, next[0]++);
                        c = lap("inputs", c);
                        Map<Modality, NDArray> tokens = new EnumMap<>(Modality.class), embeddings = new EnumMap<>(Modality.class);
                        Map<Modality, NDArray> bags = new EnumMap<>(Modality.class), bagValid = new EnumMap<>(Modality.class);
                        NDArray scale = null;
                        for (Modality m : batch.modalities()) {
                            Map<Modality, NDArray> valid = batch.valid(m) == null ? Map.of() : Map.of(m, batch.valid(m));
                            ModelOutput one = model.forward(Map.of(m, batch.input(m)), valid, true);
                            tokens.putAll(one.tokens());
                            embeddings.putAll(one.embeddings());
                            bags.putAll(one.bags());
                            bagValid.putAll(one.bagValid());
                            scale = one.logitScale();
                            c = lap("forward " + m.key(), c);
                        }
                        Step step = new Step(batch, new ModelOutput(tokens, embeddings, scale, bags, bagValid));
                        NDArray total = null;
                        for (Objective.Weighted o : objectives) {
                            for (NDArray term : o.objective().losses(step).values()) {
                                term.getFloat();
                                NDArray weighted = Layers.scale(term, o.weight() / t.accumulate());
                                total = total == null ? weighted : total.add(weighted);
                            }
                        }
                        c = lap("losses", c);
                        if (total != null) {
                            gc.backward(total);
                            total.getFloat();
                        }
                        c = lap("backward", c);
                    }
                }
                AdamW.GradNorms norms = opt.norms(sm);
                c = lap("gradient norms (clipping)", c);
                float clip = t.clipGradNorm() > 0 && norms.global() > t.clipGradNorm() ? t.clipGradNorm() / norms.global() : 1f;
                if (Float.isFinite(norms.global())) {
                    opt.step(sm, norms, lr, clip);
                }
                c = lap("optimizer (AdamW)", c);
                opt.zeroGradients(sm);
                lap("zero gradients", c);
            }
            steps.add((System.nanoTime() - start) / 1e9);
        }

        private long lap(String phase, long since) {
            long now = System.nanoTime();
            seconds.merge(phase, (now - since) / 1e9, Double::sum);
            return now;
        }

        List<Phase> phases(int n) {
            if (n == 0) {
                return List.of();
            }
            List<Phase> out = new ArrayList<>();
            double sum = 0;
            for (Map.Entry<String, Double> e : seconds.entrySet()) {
                out.add(new Phase(e.getKey(), e.getValue() / n));
                sum += e.getValue();
            }
            out.add(new Phase("other (sub-manager, closing arrays)", Math.max(0, steps.stream().mapToDouble(x -> x).sum() - sum) / n));
            return out;
        }

        double median() {
            return steps.isEmpty() ? Double.NaN : Stats.quantile(steps, 0.5);
        }
    }

    /**
     * Inputs of the config's exact shapes, one set per micro-batch of a step, made once: random values (video,
     * audio, IMU, motion in roughly their normalised range; sentence vectors of unit norm), token ids below the
     * vocabulary with each text padded after a random length from half to all of L, every modality present.
     */
    static final class Synthetic {
        private final List<Map<Modality, float[]>> values = new ArrayList<>();
        private final List<Map<Modality, boolean[]>> valid = new ArrayList<>();
        private final Map<Modality, long[]> shapes = new EnumMap<>(Modality.class);
        private final Map<Modality, long[]> validShapes = new EnumMap<>(Modality.class);
        private final int b;

        Synthetic(Config cfg, int b, int micros) {
            this.b = b;
            SplittableRandom rnd = new SplittableRandom(cfg.run().seed());
            ModalitySpec.Text text = cfg.modalities().text();
            for (Modality m : cfg.activeModalities()) {
                long[] one = cfg.modalities().inputShape(m, cfg.data().clipSeconds());
                long[] shape = new long[one.length + 1];
                shape[0] = b;
                System.arraycopy(one, 0, shape, 1, one.length);
                shapes.put(m, shape);
                if (m == Modality.TEXT) { // the token mask as the text adapter gives it (Batch.valid)
                    long rows = !text.isPretrained() ? new Shape(one).size()                 // K*L ids
                            : text.pretrained().learnedPooling() ? text.maxLength()          // L token states
                            : text.bag();                                                    // K sentence vectors
                    validShapes.put(m, new long[] {b, rows});
                }
            }
            for (int k = 0; k < micros; k++) {
                Map<Modality, float[]> v = new EnumMap<>(Modality.class);
                Map<Modality, boolean[]> ok = new EnumMap<>(Modality.class);
                for (Map.Entry<Modality, long[]> e : shapes.entrySet()) {
                    Modality m = e.getKey();
                    float[] x = new float[(int) new Shape(e.getValue()).size()];
                    if (m == Modality.TEXT && !text.isPretrained()) {
                        int l = text.maxLength();
                        boolean[] mask = new boolean[x.length];
                        for (int row = 0; row < x.length / l; row++) {
                            int len = l / 2 + rnd.nextInt(l - l / 2 + 1);
                            for (int i = 0; i < len; i++) {
                                x[row * l + i] = rnd.nextInt(text.vocabSize());
                                mask[row * l + i] = true;
                            }
                        }
                        ok.put(m, mask);
                    } else {
                        for (int i = 0; i < x.length; i++) {
                            x[i] = (float) (rnd.nextDouble() * 2 - 1);
                        }
                        if (m == Modality.TEXT) {
                            boolean[] mask = new boolean[(int) new Shape(validShapes.get(m)).size()];
                            java.util.Arrays.fill(mask, true);
                            ok.put(m, mask);
                        }
                    }
                    v.put(m, x);
                }
                values.add(v);
                valid.add(ok);
            }
        }

        /** The i-th micro-batch (cycling through the sets) as tensors of sm, as the loader's collate makes them. */
        Batch batch(NDManager sm, int i) {
            int k = i % values.size();
            Map<Modality, NDArray> inputs = new EnumMap<>(Modality.class);
            Map<Modality, NDArray> masks = new EnumMap<>(Modality.class);
            Map<Modality, boolean[]> present = new EnumMap<>(Modality.class);
            for (Map.Entry<Modality, float[]> e : values.get(k).entrySet()) {
                Modality m = e.getKey();
                inputs.put(m, sm.create(FloatBuffer.wrap(e.getValue()), new Shape(shapes.get(m))));
                boolean[] all = new boolean[b];
                java.util.Arrays.fill(all, true);
                present.put(m, all);
                boolean[] mask = valid.get(k).get(m);
                if (mask != null) {
                    masks.put(m, sm.create(mask, new Shape(validShapes.get(m))));
                }
            }
            List<String> ids = new ArrayList<>();
            for (int s = 0; s < b; s++) {
                ids.add("synthetic-" + s);
            }
            return new Batch(ids, Collections.nCopies(b, null), inputs, present, masks);
        }
    }

    /** Order statistics of a sample. */
    static final class Stats {
        private Stats() {}

        /** The q-quantile (0..1) by linear interpolation between order statistics. */
        static double quantile(List<Double> xs, double q) {
            List<Double> s = new ArrayList<>(xs);
            Collections.sort(s);
            double pos = q * (s.size() - 1);
            int lo = (int) Math.floor(pos), hi = (int) Math.ceil(pos);
            return s.get(lo) + (pos - lo) * (s.get(hi) - s.get(lo));
        }
    }
}
