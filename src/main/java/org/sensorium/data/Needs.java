package org.sensorium.data;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.sensorium.config.Modality;

/**
 * What an objective needs decoded per sample besides its main clip. The loader decodes the union of what the
 * run's objectives need, and hands each extra on as {@link Batch.Extra}, keyed by the need.
 *
 * @param secondViews modalities decoded a second time (SimCLR, CVRL: another clip of the same recording, own
 *     augmentation; RSPNet: the video at another speed)
 * @param speeds playback speeds the second video view is drawn from, one per sample; [1] for the same speed
 * @param windows how many consecutive clips tile each sample's span (temporal OT on windows); 1 = one clip
 * @param keyframes the key frame of each clip's group of pictures, as a static video clip (context matching)
 * @param futureSeconds how much motion field right after the clip to decode as a target; 0 = none (motion prediction)
 * @param spanWords above 0: an anchor and a positive span of the recording's text document, each at least this many
 *     words (DeCLUTR); 0 = none
 */
public record Needs(Set<Modality> secondViews, List<Double> speeds, int windows, boolean keyframes, double futureSeconds,
        int spanWords) {
    public static final Needs NONE = new Needs(Set.of(), List.of(1.0), 1, false, 0);

    /** Needs without text spans. */
    public Needs(Set<Modality> secondViews, List<Double> speeds, int windows, boolean keyframes, double futureSeconds) {
        this(secondViews, speeds, windows, keyframes, futureSeconds, 0);
    }

    public Needs {
        secondViews = Set.copyOf(secondViews);
        speeds = List.copyOf(speeds);
        if (windows < 1) {
            throw new IllegalArgumentException("windows must be >= 1, got " + windows);
        }
        if (spanWords < 0) {
            throw new IllegalArgumentException("spanWords must be >= 0, got " + spanWords);
        }
    }

    public static Needs ofSecondViews(Set<Modality> modalities, List<Double> speeds) {
        return new Needs(modalities, speeds, 1, false, 0);
    }

    public static Needs ofWindows(int windows) {
        return new Needs(Set.of(), List.of(1.0), windows, false, 0);
    }

    public static Needs ofKeyframes() {
        return new Needs(Set.of(), List.of(1.0), 1, true, 0);
    }

    public static Needs ofFutureMotion(double seconds) {
        return new Needs(Set.of(), List.of(1.0), 1, false, seconds);
    }

    public static Needs ofSpans(int minWords) {
        return new Needs(Set.of(), List.of(1.0), 1, false, 0, minWords);
    }

    /** Both needs at once: every second view, the speeds that are not [1], the most windows, either context, the longer spans. */
    public Needs and(Needs o) {
        Set<Modality> views = EnumSet.noneOf(Modality.class);
        views.addAll(secondViews);
        views.addAll(o.secondViews);
        List<Double> s = o.speeds.equals(List.of(1.0)) ? speeds : o.speeds;
        return new Needs(views, s, Math.max(windows, o.windows), keyframes || o.keyframes, Math.max(futureSeconds, o.futureSeconds),
                Math.max(spanWords, o.spanWords));
    }
}
