package org.sensorium.modality.video;

import org.sensorium.modality.Recording;
import org.sensorium.modality.BadInputException;
import org.sensorium.modality.Clip;
import org.sensorium.modality.Item;
import org.sensorium.config.Modality;
import org.sensorium.modality.ModalityAdapter;
import org.sensorium.config.ModalitySpec;

/**
 * The compressed-domain motion field of a clip: {@link CompressedVideo#motion} at spec.fps from
 * source.start + clip.start (the same times as the video frames when the rates match), pooled on
 * the spec's grid, divided by spec.scale. Output (T, gridH, gridW, 2), x right and y down. No
 * augmentation: the field is a measurement of the encoder's, used as an input or as a target.
 */
public final class MotionAdapter implements ModalityAdapter {
    private final ModalitySpec.Motion spec;
    private final double clipSeconds;

    public MotionAdapter(ModalitySpec.Motion spec, double clipSeconds) {
        this.spec = spec;
        this.clipSeconds = clipSeconds;
    }

    @Override
    public Modality modality() {
        return Modality.MOTION;
    }

    /** (T, gridH, gridW, 2). */
    @Override
    public long[] inputShape() {
        return spec.inputShape(clipSeconds);
    }

    /** Nothing is drawn: the motion field depends only on the recording and the clip's span. */
    @Override
    public boolean drawsFromSeed() {
        return false;
    }

    @Override
    public Item load(Recording entry, Clip clip) throws BadInputException {
        return new Item(field(entry, clip).values(), spec.inputShape(clip.seconds()), null);
    }

    /**
     * The field as a prediction target: {@link #load}'s values, with valid (T x gridH x gridW) marking the cells the
     * encoder measured (coverage &gt; 0; false for intra-coded cells and every cell of a key frame).
     */
    public Item loadTarget(Recording entry, Clip clip) throws BadInputException {
        Item f = field(entry, clip);
        return new Item(f.values(), spec.inputShape(clip.seconds()), f.valid());
    }

    private Item field(Recording entry, Clip clip) throws BadInputException {
        Recording.Source src = entry.sources().get(Modality.MOTION);
        double t0 = src.start() + clip.start();
        double end = Double.isNaN(src.end()) ? Double.POSITIVE_INFINITY : src.end();
        CompressedVideo.MotionField f;
        try {
            f = CompressedVideo.motion(src.path(), t0, end, spec.frames(clip.seconds()), spec.fps() / clip.speed(),
                    spec.gridH(), spec.gridW());
        } catch (BadInputException e) {
            throw new BadInputException(entry.where() + ": " + e.getMessage(), e);
        }
        float[] v = f.field().clone();
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (v[i] / spec.scale());
        }
        boolean[] measured = new boolean[f.coverage().length];
        for (int i = 0; i < measured.length; i++) {
            measured[i] = f.coverage()[i] > 0;
        }
        return new Item(v, spec.inputShape(clip.seconds()), measured);
    }
}
