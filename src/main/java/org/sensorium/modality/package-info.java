/**
 * Modality adapters and the vocabulary they share: a {@link org.sensorium.modality.ModalityAdapter} turns
 * one {@link org.sensorium.modality.Recording} and one {@link org.sensorium.modality.Clip} into an
 * {@link org.sensorium.modality.Item}, the stem's input for one sample. {@link org.sensorium.modality.Adapters}
 * picks the adapter of each modality; {@link org.sensorium.modality.BadInputException} and
 * {@link org.sensorium.modality.SkipLog} report recordings that cannot be used; {@link org.sensorium.modality.Spans}
 * measures how long a sample's span is. The adapters themselves live in the sub-packages video, audio,
 * text and imu.
 *
 * <p>Imports: config only (and its own sub-packages). An adapter reads recordings, never a manifest line
 * or a loader, so the same code serves training, evaluation, inspection and benchmarks.
 *
 * <p>Shape letters: none here; an Item is a flat array in its adapter's input shape (see the sub-packages).
 */
package org.sensorium.modality;
