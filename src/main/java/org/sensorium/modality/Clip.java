package org.sensorium.modality;

/**
 * The time window one sample is cut to, shared by all its modalities so they stay aligned.
 *
 * @param start seconds from the start of the sample's span (not of the file)
 * @param seconds clip length (data.clip_seconds)
 * @param train true for training (augmentation on), false for evaluation (deterministic)
 * @param seed seed of every random draw for this sample at this step (derived from run seed, step, index)
 * @param speed playback speed of a video clip (RSPNet): its frames are speed / fps seconds apart, so
 *     it covers speed * seconds of the recording; 1 for every other use. Only video reads it.
 */
public record Clip(double start, double seconds, boolean train, long seed, double speed) {
    public Clip(double start, double seconds, boolean train, long seed) {
        this(start, seconds, train, seed, 1.0);
    }
}
