package org.sensorium.data;

import org.sensorium.modality.Spans;
import org.sensorium.modality.Item;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.sensorium.config.Modality;

/**
 * A batch of B samples as tensors, per modality, with presence: a sample that lacks a modality has
 * zeros there and present[m][i] == false; objectives only use the pairs present.
 *
 * @param ids sample ids, B
 * @param labels class labels (null where none), B
 * @param inputs per modality (B, ...) in the adapter's input shape
 * @param present per modality, B booleans
 * @param valid per modality with padding (text): (B, N_m) boolean token mask; absent otherwise
 * @param speeds playback speed of each sample's video, B (1 except in RSPNet's second views)
 * @param starts where each sample's clip starts, in seconds from the start of its span, B
 * @param spans how long each sample's span is in seconds ({@link Spans#seconds}), B; NaN when unknown
 */
public record Batch(List<String> ids, List<String> labels, Map<Modality, NDArray> inputs,
        Map<Modality, boolean[]> present, Map<Modality, NDArray> valid, float[] speeds, double[] starts, double[] spans) {

    public Batch(List<String> ids, List<String> labels, Map<Modality, NDArray> inputs,
            Map<Modality, boolean[]> present, Map<Modality, NDArray> valid) {
        this(ids, labels, inputs, present, valid, ones(ids.size()));
    }

    /** Clips at the start of spans of unknown length. */
    public Batch(List<String> ids, List<String> labels, Map<Modality, NDArray> inputs,
            Map<Modality, boolean[]> present, Map<Modality, NDArray> valid, float[] speeds) {
        this(ids, labels, inputs, present, valid, speeds, new double[ids.size()], nans(ids.size()));
    }

    private static double[] nans(int n) {
        double[] s = new double[n];
        Arrays.fill(s, Double.NaN);
        return s;
    }

    private static float[] ones(int n) {
        float[] s = new float[n];
        Arrays.fill(s, 1f);
        return s;
    }

    /** The same batch with the given per-sample playback speeds. */
    public Batch withSpeeds(float[] s) {
        return new Batch(ids, labels, inputs, present, valid, s, starts, spans);
    }

    public int size() {
        return ids.size();
    }

    public List<Modality> modalities() {
        return List.copyOf(inputs.keySet());
    }

    public NDArray input(Modality m) {
        return inputs.get(m);
    }

    /** (B, N_m) token mask, or null when every token of m is valid. */
    public NDArray valid(Modality m) {
        return valid.get(m);
    }

    public boolean[] present(Modality m) {
        return present.get(m);
    }

    /**
     * Collates decoded samples into tensors owned by {@code manager}.
     *
     * @param samples B decoded samples; a sample's items map lacks the modalities it does not have
     * @param shapes input shape of one sample for every modality of the run
     */
    public static Batch collate(NDManager manager, List<Decoded> samples, Map<Modality, long[]> shapes) {
        int b = samples.size();
        Map<Modality, NDArray> inputs = new EnumMap<>(Modality.class);
        Map<Modality, boolean[]> present = new EnumMap<>(Modality.class);
        Map<Modality, NDArray> valid = new EnumMap<>(Modality.class);
        for (Map.Entry<Modality, long[]> e : shapes.entrySet()) {
            Modality m = e.getKey();
            int per = (int) Arrays.stream(e.getValue()).reduce(1, (x, y) -> x * y);
            float[] all = new float[b * per];
            boolean[] here = new boolean[b];
            boolean[] tokenValid = null;
            for (int i = 0; i < b; i++) {
                Item item = samples.get(i).items().get(m);
                if (item == null) {
                    continue;
                }
                here[i] = true;
                System.arraycopy(item.values(), 0, all, i * per, per);
                if (item.valid() != null) {
                    int n = item.valid().length;
                    if (tokenValid == null) {
                        tokenValid = new boolean[b * n];
                    }
                    System.arraycopy(item.valid(), 0, tokenValid, i * n, n);
                }
            }
            long[] shape = new long[e.getValue().length + 1];
            shape[0] = b;
            System.arraycopy(e.getValue(), 0, shape, 1, e.getValue().length);
            inputs.put(m, manager.create(FloatBuffer.wrap(all), new Shape(shape)));
            present.put(m, here);
            if (tokenValid != null) {
                valid.put(m, manager.create(tokenValid, new Shape(b, tokenValid.length / b)));
            }
        }
        List<String> ids = samples.stream().map(s -> s.entry().id()).toList();
        List<String> labels = samples.stream().map(s -> s.entry().label()).toList();
        double[] starts = samples.stream().mapToDouble(Decoded::start).toArray();
        double[] spans = samples.stream().mapToDouble(s -> Spans.seconds(s.entry().recording())).toArray();
        return new Batch(ids, labels, inputs, present, valid, ones(b), starts, spans);
    }

    /**
     * The second views of samples decoded with two views (two-view objectives), as a batch of the
     * same samples in the same order; only the modalities that have second views.
     */
    public static Batch collateSecond(NDManager manager, List<Decoded> samples, Map<Modality, long[]> shapes) {
        Map<Modality, long[]> second = new EnumMap<>(Modality.class);
        for (Decoded d : samples) {
            for (Modality m : d.second().keySet()) {
                second.put(m, shapes.get(m));
            }
        }
        return collate(manager, samples.stream().map(d -> new Decoded(d.entry(), d.second())).toList(), second)
                .withSpeeds(secondSpeeds(samples));
    }

    /**
     * One sample after decoding: its manifest entry, an item per modality it has, and, when a
     * two-view objective is on, a second view (another clip, other augmentation) of some modalities;
     * start is where the (first) clip starts, in seconds from the start of the sample's span.
     *
     * @param keyframe when context matching is on: the key frame of the clip's group of pictures as a static
     *     video clip (T, H, W, 3); null when off or when the recording has none there
     * @param future when motion prediction is on: the motion field right after the clip (T', gridH, gridW, 2);
     *     null when off or when the recording ends first
     */
    public record Decoded(ManifestEntry entry, Map<Modality, Item> items, Map<Modality, Item> second, double secondSpeed,
            double start, Item keyframe, Item future) {
        public Decoded(ManifestEntry entry, Map<Modality, Item> items) {
            this(entry, items, Map.of(), 1.0, 0.0);
        }

        public Decoded(ManifestEntry entry, Map<Modality, Item> items, double start) {
            this(entry, items, Map.of(), 1.0, start);
        }

        public Decoded(ManifestEntry entry, Map<Modality, Item> items, Map<Modality, Item> second, double secondSpeed,
                double start) {
            this(entry, items, second, secondSpeed, start, null, null);
        }
    }

    /**
     * One per-sample item of the decoded samples (e.g. {@link Decoded#keyframe}) as a batch of modality m, the
     * same samples in the same order, present where the item is not null; null when no sample has one. The
     * items' shape is the input shape of m in that batch.
     */
    public static Batch collateOne(NDManager manager, List<Decoded> samples, Modality m, Function<Decoded, Item> pick) {
        Item first = samples.stream().map(pick).filter(java.util.Objects::nonNull).findFirst().orElse(null);
        if (first == null) {
            return null;
        }
        List<Decoded> picked = samples.stream()
                .map(d -> new Decoded(d.entry(), pick.apply(d) == null ? Map.of() : Map.of(m, pick.apply(d))))
                .toList();
        return collate(manager, picked, Map.of(m, first.shape()));
    }

    /** Playback speed of each sample's second video view (RSPNet), B; 1 without second views. */
    public static float[] secondSpeeds(List<Decoded> samples) {
        float[] s = new float[samples.size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = (float) samples.get(i).secondSpeed();
        }
        return s;
    }
}
