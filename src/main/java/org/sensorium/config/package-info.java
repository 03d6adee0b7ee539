/**
 * The configuration of a run: the {@link org.sensorium.config.Config} records, each checking its own keys,
 * and the {@link org.sensorium.config.ConfigLoader} that layers defaults, model preset, experiment file and
 * --set overrides; the {@link org.sensorium.config.Modality} enum and the per-modality
 * {@link org.sensorium.config.ModalitySpec}s; {@link org.sensorium.config.Json} for the run folder's small
 * files. A bad key fails here, before anything runs, with a {@link org.sensorium.config.ConfigException}.
 *
 * <p>Imports: none from Sensorium. This is the lowest floor; every other package may import it.
 *
 * <p>Shape letters (the model package's legend), only in the specs' input shapes of one sample: T video
 * frames, H, W pixel height and width, gridH, gridW motion-field cells, F spectrogram frames, M mel bands,
 * S waveform samples, L text length, K texts in a bag, W IMU window, C IMU channels.
 */
package org.sensorium.config;
