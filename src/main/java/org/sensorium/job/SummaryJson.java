package org.sensorium.job;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.sensorium.modality.SkipLog;
import org.sensorium.train.Checkpoint;

/**
 * RUN/summary.json of a pretraining run: what {@link Pretrain.Summary} holds, plus the skip counts and the checkpoint
 * train.keep_best kept ("best": metric, mode, step, value, checkpoint).
 */
final class SummaryJson {
    private SummaryJson() {}

    static Map<String, Object> of(Pretrain.Summary s, SkipLog skips) throws IOException {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("run", s.runDir().toString());
        json.put("checkpoint", String.valueOf(s.checkpoint()));
        json.put("steps", s.steps());
        json.put("wall_seconds", s.seconds());
        json.put("steps_per_second", s.stepsPerSecond());
        json.put("peak_rss_mib", s.peakRssMiB());
        json.put("final_loss", s.losses().isEmpty() ? null : s.losses().get(s.losses().size() - 1));
        Path best = Checkpoint.best(s.runDir()); // train.keep_best
        if (best != null && Checkpoint.readState(best).best() != null) {
            Map<String, Object> b = new LinkedHashMap<>(Checkpoint.readState(best).best().toMap());
            b.put("checkpoint", best.toString());
            json.put("best", b);
        }
        Map<String, Object> ret = new LinkedHashMap<>();
        s.retrieval().forEach((k, v) -> ret.put(k, v.toMap()));
        json.put("retrieval", ret);
        Map<String, Object> nmi = new LinkedHashMap<>();
        s.clusters().forEach((k, v) -> nmi.put(k, v.toMap()));
        json.put("held_out_clusters", nmi);
        if (s.segmentation() != null) {
            json.put("segmentation", s.segmentation().toMap());
        }
        Map<String, Object> held = new LinkedHashMap<>();
        s.heldOut().forEach((k, v) -> held.put(k, Map.of("start", v.start(), "end", v.end())));
        json.put("held_out", held);
        json.put("skipped_samples", skips.reasons().size()); // distinct samples, as the console counts them
        json.put("skip_events", skips.skipped());            // every skip: a bad sample is skipped again each epoch
        json.put("skipped", s.skipped());
        return json;
    }
}
