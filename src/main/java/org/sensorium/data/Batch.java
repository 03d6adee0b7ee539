package org.sensorium.data;

import org.sensorium.modality.Spans;
import org.sensorium.modality.Item;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
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
 * @param timing where each sample's clip sits in its recording, B
 */
public record Batch(List<String> ids, List<String> labels, Map<Modality, NDArray> inputs,
        Map<Modality, boolean[]> present, Map<Modality, NDArray> valid, List<Timing> timing) {

    /**
     * Where a clip sits in its recording.
     *
     * @param start seconds from the start of the sample's span to the clip's start
     * @param span how long the sample's span is in seconds ({@link Spans#seconds}); NaN when unknown
     * @param speed playback speed of the clip's video (1 except in RSPNet's second views)
     */
    public record Timing(double start, double span, double speed) {
        public static final Timing UNKNOWN = new Timing(0, Double.NaN, 1);
    }

    /** Clips at the start of spans of unknown length, at normal speed. */
    public Batch(List<String> ids, List<String> labels, Map<Modality, NDArray> inputs,
            Map<Modality, boolean[]> present, Map<Modality, NDArray> valid) {
        this(ids, labels, inputs, present, valid, Collections.nCopies(ids.size(), Timing.UNKNOWN));
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

    /** Playback speed of each sample's video, B. */
    public float[] speeds() {
        float[] s = new float[size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = (float) timing.get(i).speed();
        }
        return s;
    }

    /** Where each sample's clip starts, seconds from the start of its span, B. */
    public double[] starts() {
        return timing.stream().mapToDouble(Timing::start).toArray();
    }

    /** How long each sample's span is in seconds, B; NaN when unknown. */
    public double[] spans() {
        return timing.stream().mapToDouble(Timing::span).toArray();
    }

    /**
     * Collates decoded samples into tensors owned by {@code manager}.
     *
     * @param samples B decoded samples; a sample's items map lacks the modalities it does not have
     * @param shapes input shape of one sample for every modality of the batch
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
        List<Timing> timing = samples.stream()
                .map(s -> new Timing(s.start(), Spans.seconds(s.entry().recording()), s.speed())).toList();
        return new Batch(ids, labels, inputs, present, valid, timing);
    }

    /** Modality m alone of the samples (every sample must have it), in its items' shape. */
    public static Batch only(NDManager manager, List<Decoded> samples, Modality m) {
        return collate(manager, samples, Map.of(m, samples.get(0).items().get(m).shape()));
    }

    /**
     * The extra e of each sample as a batch of the same samples in the same order, present where the sample has
     * it, in the shape of its items; null when no sample of the list has it.
     */
    public static Batch collate(NDManager manager, List<Decoded> samples, Extra e) {
        Map<Modality, long[]> shapes = new EnumMap<>(Modality.class);
        for (Decoded d : samples) {
            Decoded x = d.extras().get(e);
            if (x != null) {
                x.items().forEach((m, item) -> shapes.putIfAbsent(m, item.shape()));
            }
        }
        if (shapes.isEmpty()) {
            return null;
        }
        List<Decoded> picked = samples.stream()
                .map(d -> d.extras().getOrDefault(e, new Decoded(d.entry(), Map.of()))).toList();
        return collate(manager, picked, shapes);
    }

    /** What the loader decodes per sample, besides its main clip, for one objective's need ({@link Needs}). */
    public enum Extra {
        /** Another clip of the same recording, own augmentation, for the modalities of {@link Needs#secondViews}. */
        SECOND_VIEW(true),
        /** The key frame of the clip's group of pictures as a static video clip (T, H, W, 3). */
        KEYFRAME(true),
        /** The motion field right after the clip, input MOTION's layout (T', gridH, gridW, 2), as a target. */
        FUTURE_MOTION(false),
        /** DeCLUTR's anchor: a span of the recording's text document, as TEXT (L). */
        SPAN_ANCHOR(true),
        /** DeCLUTR's positive: a span overlapping, adjacent to or inside the anchor, as TEXT (L). */
        SPAN_POSITIVE(true);

        private final boolean input;

        Extra(boolean input) {
            this.input = input;
        }

        /** Whether the extra goes through the encoder (a view) or is only read as a target. */
        public boolean input() {
            return input;
        }
    }

    /**
     * One sample after decoding: its manifest entry, an item per modality it has, where its clip starts (seconds from
     * the start of the sample's span) and at which playback speed, and the extras the objectives asked for; an extra
     * is absent where the recording has none (no key frame there, recording ends first).
     */
    public record Decoded(ManifestEntry entry, Map<Modality, Item> items, double start, double speed, Map<Extra, Decoded> extras) {
        public Decoded {
            Map<Extra, Decoded> copy = new EnumMap<>(Extra.class);
            copy.putAll(extras);
            extras = Collections.unmodifiableMap(copy);
        }

        public Decoded(ManifestEntry entry, Map<Modality, Item> items) {
            this(entry, items, 0.0);
        }

        public Decoded(ManifestEntry entry, Map<Modality, Item> items, double start) {
            this(entry, items, start, 1.0, Map.of());
        }

        /** This sample with extra e added. */
        public Decoded with(Extra e, Decoded extra) {
            Map<Extra, Decoded> x = new EnumMap<>(Extra.class);
            x.putAll(extras);
            x.put(e, extra);
            return new Decoded(entry, items, start, speed, x);
        }

        /** Extra e, or null when the sample has none. */
        public Decoded extra(Extra e) {
            return extras.get(e);
        }

        /** The item of modality m of extra e, or null. */
        public Item extraItem(Extra e, Modality m) {
            Decoded x = extras.get(e);
            return x == null ? null : x.items().get(m);
        }

        /** The manifest's free attributes of the sample (e.g. the sample set's colour and shape). */
        public Map<String, String> attributes() {
            return entry.attributes();
        }
    }
}
