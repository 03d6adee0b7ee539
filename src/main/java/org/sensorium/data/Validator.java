package org.sensorium.data;

import org.sensorium.modality.Recording;
import org.sensorium.modality.Spans;
import org.sensorium.modality.SkipLog;
import org.sensorium.modality.BadInputException;
import org.sensorium.modality.Clip;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.sensorium.config.Modality;
import org.sensorium.modality.ModalityAdapter;

/**
 * Checks that every modality of every manifest line decodes, on the centred evaluation clip, and
 * measures the container duration of each video/audio source so spans shorter than a clip are flagged,
 * as are segments (of a long recording) that end after the source's span.
 */
public final class Validator {
    /** Per modality: samples carrying it, decoded, failed. */
    public record Count(int samples, int decoded, int failed) {}

    /**
     * One video/audio source: the container duration and the span a sample may use, in seconds; segmentsEnd
     * is where the line's last segment ends (NaN without segments).
     */
    public record SourceSpan(String where, Modality modality, String file, double container, double span, boolean tooShort,
            double segmentsEnd) {
        /** The segments say there is more recording than there is (1/100 s of slack for rounding). */
        public boolean segmentsPastEnd() {
            return segmentsEnd > span + 0.01;
        }
    }

    public record Report(Map<Modality, Count> counts, List<String> failures, List<SourceSpan> spans) {
        public boolean ok() {
            return failures.isEmpty();
        }
    }

    /** The outcome of decoding one modality of one line; failure is null on success, span null if not probed. */
    private record Outcome(ManifestEntry entry, Modality modality, String failure, SourceSpan span) {}

    private final Map<Modality, ModalityAdapter> adapters;
    private final double clipSeconds;
    private final long seed;

    public Validator(Map<Modality, ModalityAdapter> adapters, double clipSeconds, long seed) {
        this.adapters = adapters;
        this.clipSeconds = clipSeconds;
        this.seed = seed;
    }

    /**
     * Decodes everything on the given number of threads; results come in manifest order.
     *
     * @throws SkipLog.StrictSkipException at the first failure (in manifest order) when strict
     */
    public Report run(List<ManifestEntry> entries, int threads, boolean strict) throws InterruptedException {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Outcome>> futures = new ArrayList<>();
            for (int i = 0; i < entries.size(); i++) {
                ManifestEntry e = entries.get(i);
                Clip clip = Loader.clip(e, Loader.mix(seed, -1, i), false, clipSeconds);
                for (Modality m : Modality.values()) {
                    if (e.has(m) && adapters.containsKey(m)) {
                        futures.add(pool.submit(() -> check(e, m, clip)));
                    }
                }
            }
            return collect(futures, strict);
        } finally {
            pool.shutdownNow();
        }
    }

    private Report collect(List<Future<Outcome>> futures, boolean strict) throws InterruptedException {
        Map<Modality, int[]> tally = new EnumMap<>(Modality.class);
        List<String> failures = new ArrayList<>();
        List<SourceSpan> spans = new ArrayList<>();
        for (Future<Outcome> f : futures) {
            Outcome o = get(f);
            int[] t = tally.computeIfAbsent(o.modality(), k -> new int[3]);
            t[0]++;
            if (o.failure() == null) {
                t[1]++;
            } else {
                t[2]++;
                failures.add(o.failure());
                if (strict) {
                    throw new SkipLog.StrictSkipException(o.failure() + " (--strict)");
                }
            }
            if (o.span() != null) {
                spans.add(o.span());
            }
        }
        Map<Modality, Count> counts = new EnumMap<>(Modality.class);
        for (Modality m : Modality.values()) {
            int[] t = tally.getOrDefault(m, new int[3]);
            counts.put(m, new Count(t[0], t[1], t[2]));
        }
        return new Report(counts, failures, spans);
    }

    private static Outcome get(Future<Outcome> f) throws InterruptedException {
        try {
            return f.get();
        } catch (ExecutionException ex) {
            throw ex.getCause() instanceof RuntimeException re ? re : new IllegalStateException(ex.getCause());
        }
    }

    private Outcome check(ManifestEntry e, Modality m, Clip clip) {
        try {
            adapters.get(m).load(e.recording(), clip);
        } catch (BadInputException ex) {
            return new Outcome(e, m, ex.getMessage() + " [" + m.key() + "]", null);
        }
        boolean timed = (m == Modality.VIDEO || m == Modality.AUDIO) && e.sources().containsKey(m);
        return new Outcome(e, m, null, timed ? span(e, m) : null);
    }

    /** The container duration (FFmpeg's estimate) and the usable span of a video/audio source; null if unknown. */
    private SourceSpan span(ManifestEntry e, Modality m) {
        Recording.Source src = e.sources().get(m);
        double container = Spans.containerSeconds(src.path());
        if (Double.isNaN(container)) {
            return null;
        }
        double end = Double.isNaN(src.end()) ? container : Math.min(src.end(), container);
        double span = end - src.start();
        double segmentsEnd = e.segments().isEmpty() ? Double.NaN : e.segments().get(e.segments().size() - 1).end();
        return new SourceSpan(e.where(), m, src.path().getFileName().toString(), container, span, span < clipSeconds,
                segmentsEnd);
    }

    /** The report as a table: counts per modality, each source's duration, then each failure on one line. */
    public static String render(Report r, double clipSeconds) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%-8s %8s %8s %8s%n", "modality", "samples", "decoded", "failed"));
        r.counts().forEach((m, c) -> sb.append(String.format("%-8s %8d %8d %8d%n", m.key(), c.samples(), c.decoded(), c.failed())));
        if (!r.spans().isEmpty()) {
            sb.append("video/audio sources (container duration, usable span):\n");
            for (SourceSpan s : r.spans()) {
                sb.append(String.format("  %s %s %s: %.2f s, span %.2f s%s%s%n", s.where(), s.modality().key(), s.file(),
                        s.container(), s.span(), s.tooShort() ? "  SHORT: under data.clip_seconds " + clipSeconds + " s" : "",
                        s.segmentsPastEnd() ? String.format("  SEGMENTS end at %.2f s, past the span", s.segmentsEnd()) : ""));
            }
        }
        if (!r.failures().isEmpty()) {
            sb.append(r.failures().size()).append(" failed:\n");
            r.failures().forEach(f -> sb.append("  ").append(f).append('\n'));
        }
        return sb.toString().stripTrailing();
    }
}
