/**
 * Audio: {@link org.sensorium.modality.audio.AudioAdapter} reads the sound track of any container FFmpeg
 * reads and gives a log-mel spectrogram (VATT's audio input) through its own
 * {@link org.sensorium.modality.audio.MelFilterbank}, or the raw waveform.
 *
 * <p>Imports: config and modality.
 *
 * <p>Shape letters (the model package's legend): F spectrogram frames, M mel bands, S waveform samples.
 * Outputs: (F, M) or (S). Inside MelFilterbank, K counts FFT bins, not prototypes.
 */
package org.sensorium.modality.audio;
