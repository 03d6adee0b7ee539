/**
 * The optimizer step: {@link org.sensorium.train.Trainer} (accumulated micro-batches, gradients averaged over a
 * worker group, clipping, a non-finite step skipped), {@link org.sensorium.train.AdamW},
 * {@link org.sensorium.train.Schedule} (warm-up, then cosine decay), {@link org.sensorium.train.Checkpoint} (written
 * whole, then renamed; also the kept best), {@link org.sensorium.train.Metrics} (one JSON line per step) and
 * {@link org.sensorium.train.TensorBoard} (the same numbers as TensorBoard scalars).
 *
 * <p>Imports: config, distributed, data, model and objective. The loop around the step belongs to a job.
 *
 * <p>Shape letters: none; the step works on whole parameter arrays by name.
 */
package org.sensorium.train;
