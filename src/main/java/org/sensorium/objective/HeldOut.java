package org.sensorium.objective;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.LinkedHashMap;
import java.util.function.Function;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.sensorium.config.Modality;
import org.sensorium.data.Batch;
import org.sensorium.data.Needs;
import org.sensorium.model.SensoriumModel;

/**
 * The held-out samples as the objectives' measures read them. The job that trains implements it: it decodes each
 * kind of view once and gives the same samples before the first step and after the last, so the two measures
 * compare the model, not the data.
 */
public interface HeldOut {

    SensoriumModel model();

    /** The manager under which measures open a sub-manager per batch. */
    NDManager manager();

    /** Samples per forward pass (eval.batch_size). */
    int batchSize();

    /** Seeds libtorch's generator the same way at every call, so that measures that draw (masks) draw the same at start and end. */
    void seedRandom();

    /** Input shape of one sample for every modality of the run. */
    Map<Modality, long[]> shapes();

    /**
     * The centred clip of every held-out sample in the given modalities, with the context needs asks for (key frames,
     * the future motion field; second views are ignored), in split order, broken samples skipped.
     */
    List<Batch.Decoded> centred(Set<Modality> modalities, Needs needs) throws InterruptedException;

    /**
     * Every held-out sample as training decodes it: augmented clip, and the second views and context needs asks for,
     * drawn from a seed of the sample's index, so every call gives the same clips.
     */
    List<Batch.Decoded> asTrained(Set<Modality> modalities, Needs needs) throws InterruptedException;

    /**
     * The mean of each named term over the centred held-out clips (every modality of the run), batch by batch of
     * {@link #batchSize}, weighted by batch size; libtorch is seeded first ({@link #seedRandom}).
     */
    default Map<String, Double> meanOverCentred(Function<Batch, Map<String, NDArray>> terms) throws InterruptedException {
        List<Batch.Decoded> samples = centred(shapes().keySet(), Needs.NONE);
        seedRandom();
        Map<String, Double> sums = new LinkedHashMap<>();
        Map<String, Integer> counts = new LinkedHashMap<>();
        forEachBatch(samples, (sm, chunk, from) -> terms.apply(Batch.collate(sm, chunk, shapes())).forEach((k, v) -> {
            sums.merge(k, (double) v.getFloat() * chunk.size(), Double::sum);
            counts.merge(k, chunk.size(), Integer::sum);
        }));
        Map<String, Double> out = new LinkedHashMap<>();
        sums.forEach((k, v) -> out.put(k, v / counts.get(k)));
        return out;
    }

    /**
     * Runs body on every batch of the held-out samples as training decodes them ({@link #asTrained}, every modality
     * of the run, the second views needs asks for), with the model's output on the clips and on their second views,
     * without dropout. body gets the step and the index of the batch's first sample.
     */
    default void forEachAsTrained(Needs needs, java.util.function.ObjIntConsumer<Step> body) throws InterruptedException {
        forEachBatch(asTrained(shapes().keySet(), needs),
                (sm, chunk, from) -> body.accept(Step.forward(model(), sm, chunk, shapes(), true, false), from));
    }

    /** What a measure does with one batch of samples: sm owns its arrays; from is the index of its first sample. */
    @FunctionalInterface
    interface BatchBody {
        void accept(NDManager sm, List<Batch.Decoded> chunk, int from);
    }

    /** A classifier's answers on one held-out batch: how many were right, and the labels they were scored against. */
    record Scored(int hits, int[] truth) {
        static final Scored NONE = new Scored(0, new int[0]);
    }

    /**
     * NAME/accuracy over the scored batches, and NAME/majority beside it, the accuracy of always answering the most
     * frequent of their labels (the trivial baseline); empty when nothing was scored.
     */
    static Map<String, Double> accuracyAndMajority(String name, List<Scored> batches) {
        int hits = batches.stream().mapToInt(Scored::hits).sum();
        int[] truth = batches.stream().flatMapToInt(s -> java.util.Arrays.stream(s.truth())).toArray();
        return truth.length == 0 ? Map.of() : Map.of(name + "/accuracy", hits / (double) truth.length,
                name + "/majority", org.sensorium.eval.Classification.majorityShare(truth));
    }

    /** Runs body on the samples batch by batch of {@link #batchSize}, in order, each batch in its own sub-manager. */
    default void forEachBatch(List<Batch.Decoded> samples, BatchBody body) {
        for (int from = 0; from < samples.size(); from += batchSize()) {
            try (NDManager sm = manager().newSubManager()) {
                body.accept(sm, samples.subList(from, Math.min(samples.size(), from + batchSize())), from);
            }
        }
    }
}
