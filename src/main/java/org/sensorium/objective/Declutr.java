package org.sensorium.objective;

import ai.djl.ndarray.NDArray;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.sensorium.config.Modality;
import org.sensorium.data.Batch;
import org.sensorium.data.Batch.Extra;
import org.sensorium.data.Needs;
import org.sensorium.model.ModelOutput;

/**
 * DeCLUTR (Giorgi et al. 2021) for the text tower: per sample, an anchor span and a positive span of its recording's
 * text document (all its subtitle cues, or its caption), the positive overlapping the anchor, adjacent to it or inside
 * it (the loader draws them: {@link Needs#spanWords}); the other samples' spans are the negatives. Over the n samples
 * of the micro-batch with both spans, a and p their unit span embeddings, tau the temperature (the paper's InfoNCE is
 * SimCLR's NT-Xent over the 2n spans, {@link TwoView#ntXent}):
 * <pre>
 *   Z = [A; P]                           (2n, E)
 *   S = Z Z^T / tau, S_ii = -inf          (2n, 2n)
 *   L = -1/2n sum_i log softmax(S_i)_{p(i)},   p(i) = i + n mod 2n (the other span of i's document)
 * </pre>
 * One anchor and one positive per document; negatives from this worker's micro-batch only. Held-out measure: each
 * held-out recording's anchor span retrieves its document (the text of the recording's clip as training decodes
 * it: the whole subtitle document when the clip covers the recording, as in the built-in sample set) among every
 * held-out document; R@1 counts a document of identical text as found, and chance is the mean share of such documents.
 */
public final class Declutr implements Objective {
    private final int minWords;
    private final float temperature;

    /** @param minWords the shortest span in words; @param temperature tau */
    public Declutr(int minWords, float temperature) {
        this.minWords = minWords;
        this.temperature = temperature;
    }

    @Override
    public Needs needs() {
        return Needs.ofSpans(minWords);
    }

    @Override
    public boolean readsOutput() {
        return false; // the spans are passes of their own (extras)
    }

    @Override
    public Map<String, NDArray> losses(Step step) {
        ModelOutput anchors = step.out(Extra.SPAN_ANCHOR), positives = step.out(Extra.SPAN_POSITIVE);
        if (anchors == null || positives == null) {
            return Map.of();
        }
        boolean[] both = Contrastive.both(step.batch(Extra.SPAN_ANCHOR).present(Modality.TEXT),
                step.batch(Extra.SPAN_POSITIVE).present(Modality.TEXT));
        if (Contrastive.count(both) < 2) {
            return Map.of();
        }
        NDArray a = Contrastive.rows(anchors.embedding(Modality.TEXT), both);     // (n, E)
        NDArray p = Contrastive.rows(positives.embedding(Modality.TEXT), both);   // (n, E)
        return Map.of("declutr/text", TwoView.ntXent(a, p, temperature));
    }

    /** Held-out span-to-document R@1 and its chance ({@link Declutr}). */
    @Override
    public Map<String, Double> measure(HeldOut h) throws InterruptedException {
        List<Batch.Decoded> samples = h.asTrained(Set.of(Modality.TEXT), needs());
        float[][] anchors = new float[samples.size()][], documents = new float[samples.size()][], tokens = new float[samples.size()][];
        h.forEachBatch(samples, (sm, chunk, from) -> {
            Batch docs = Batch.collate(sm, chunk, Map.of(Modality.TEXT, h.shapes().get(Modality.TEXT)));
            rows(h.model().forward(docs.inputs(), docs.valid(), false).embedding(Modality.TEXT), docs.present(Modality.TEXT), from, documents);
            Batch spans = Batch.collate(sm, chunk, Extra.SPAN_ANCHOR);
            if (spans != null) {
                rows(h.model().forward(spans.inputs(), spans.valid(), false).embedding(Modality.TEXT), spans.present(Modality.TEXT), from, anchors);
            }
            for (int i = 0; i < chunk.size(); i++) {
                org.sensorium.modality.Item text = chunk.get(i).items().get(Modality.TEXT);
                tokens[from + i] = text == null ? null : text.values();
            }
        });
        return spanToDocument(anchors, documents, tokens);
    }

    /**
     * R@1 of each anchor i (null: none) against the documents (unit rows; null: none), a document of the same tokens
     * as the anchor's own counting as found; chance = mean over anchors of (documents with its tokens) / documents.
     */
    static Map<String, Double> spanToDocument(float[][] anchors, float[][] documents, float[][] tokens) {
        int hits = 0, queries = 0, n = 0;
        for (float[] d : documents) {
            n += d == null ? 0 : 1;
        }
        double chance = 0;
        for (int q = 0; q < anchors.length; q++) {
            if (anchors[q] == null || documents[q] == null) {
                continue;
            }
            int best = -1, same = 0;
            double bestScore = Double.NEGATIVE_INFINITY;
            for (int d = 0; d < documents.length; d++) {
                if (documents[d] == null) {
                    continue;
                }
                double s = dot(anchors[q], documents[d]);
                if (s > bestScore) {
                    bestScore = s;
                    best = d;
                }
                same += Arrays.equals(tokens[d], tokens[q]) ? 1 : 0;
            }
            hits += Arrays.equals(tokens[best], tokens[q]) ? 1 : 0;
            chance += same / (double) n;
            queries++;
        }
        Map<String, Double> out = new LinkedHashMap<>();
        out.put("declutr/span_to_document_R@1", queries == 0 ? Double.NaN : hits / (double) queries);
        out.put("declutr/chance_R@1", queries == 0 ? Double.NaN : chance / queries);
        return out;
    }

    /** Rows of e (b, E) that are present into rows from index from on. */
    private static void rows(NDArray e, boolean[] present, int from, float[][] into) {
        float[] flat = e.toFloatArray();                                              // (b * E)
        int dim = flat.length / present.length;
        for (int i = 0; i < present.length; i++) {
            if (present[i]) {
                into[from + i] = Arrays.copyOfRange(flat, i * dim, (i + 1) * dim);
            }
        }
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }
}
