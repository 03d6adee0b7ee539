package org.sensorium.train;

/** Linear warm-up from 0 to lr over warmup steps, then cosine decay to minLr at the last step. */
public record Schedule(float lr, float minLr, int warmup, int steps) {

    /** Learning rate of step s (0-based). */
    public float at(int s) {
        if (s < warmup) {
            return lr * (s + 1) / warmup;
        }
        int decaySteps = Math.max(1, steps - warmup);
        double progress = Math.min(1.0, (double) (s - warmup) / decaySteps);
        return (float) (minLr + 0.5 * (lr - minLr) * (1 + Math.cos(Math.PI * progress)));
    }
}
