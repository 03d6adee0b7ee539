package org.sensorium.modality.text;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * DeCLUTR's span sampling (Giorgi et al. 2021, section 3.1), on the words of a document of n words: the anchor's
 * length is a share p_a ~ Beta(4, 2) of the room between minWords and n (long anchors), the positive's a share
 * p_p ~ Beta(2, 4) of the room between minWords and the anchor's length (short positives), and the positive starts
 * anywhere from positive-length words before the anchor to the anchor's end, so it overlaps the anchor, is adjacent
 * to it or lies inside it. Spans are half-open word ranges [from, to).
 */
public final class DocumentSpans {
    private DocumentSpans() {}

    /** A half-open range of words [from, to). */
    public record Span(int from, int to) {
        public int length() {
            return to - from;
        }

        /** The span's words joined with a space. */
        public String of(List<String> words) {
            return String.join(" ", words.subList(from, to));
        }
    }

    /** An anchor span and its positive. */
    public record Pair(Span anchor, Span positive) {}

    /**
     * @param n words of the document, at least minWords
     * @param minWords the shortest span, >= 1
     */
    public static Pair draw(int n, int minWords, SplittableRandom r) {
        if (minWords < 1 || n < minWords) {
            throw new IllegalArgumentException("a document of " + n + " words has no span of " + minWords + " or more");
        }
        int anchorLength = minWords + (int) Math.floor(beta(4, 2, r) * (n - minWords + 1));  // minWords .. n
        anchorLength = Math.min(n, anchorLength);
        int anchorFrom = r.nextInt(n - anchorLength + 1);
        int positiveLength = Math.min(anchorLength, minWords + (int) Math.floor(beta(2, 4, r) * (anchorLength - minWords + 1)));
        // the positive may start positiveLength words before the anchor (adjacent on the left) up to its end (adjacent
        // on the right), clamped to the document
        int lo = Math.max(0, anchorFrom - positiveLength), hi = Math.min(n - positiveLength, anchorFrom + anchorLength);
        int positiveFrom = lo + r.nextInt(hi - lo + 1);
        return new Pair(new Span(anchorFrom, anchorFrom + anchorLength), new Span(positiveFrom, positiveFrom + positiveLength));
    }

    /** Beta(a, b) for whole a, b: the a-th smallest of a + b - 1 uniforms (its order statistic has that law). */
    static double beta(int a, int b, SplittableRandom r) {
        double[] u = new double[a + b - 1];
        for (int i = 0; i < u.length; i++) {
            u[i] = r.nextDouble();
        }
        Arrays.sort(u);
        return u[a - 1];
    }
}
