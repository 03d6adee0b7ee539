/**
 * Samples and batches: JSONL manifests ({@link org.sensorium.data.Manifest}, {@link org.sensorium.data.ManifestEntry},
 * {@link org.sensorium.data.QaManifest}), manifests built from a folder of recordings
 * ({@link org.sensorium.data.FolderManifest}), the built-in sample set ({@link org.sensorium.data.SampleSetGenerator}),
 * pseudo-label files ({@link org.sensorium.data.PseudoLabelFile}), manifest checks and pictures
 * ({@link org.sensorium.data.Validator}, {@link org.sensorium.data.Inspector}), and the
 * {@link org.sensorium.data.Loader} that decodes samples through the adapters into a {@link org.sensorium.data.Batch}.
 * What an objective needs besides the main clip is a {@link org.sensorium.data.Needs}; the loader decodes the union
 * and hands each extra on in the batch, keyed by that need, so the loader never knows which objective asked.
 * {@link org.sensorium.data.ItemCache} keeps the decoded clips of adapters that draw nothing at random across epochs.
 *
 * <p>Imports: config and modality (with its sub-packages). Here a manifest line becomes a
 * {@link org.sensorium.modality.Recording}; nothing below sees manifests.
 *
 * <p>Shape letters (the model package's legend): B batch, N_m tokens of modality m (the text mask), and the
 * adapters' input shapes: T frames, T' future frames, H, W pixel height and width, gridH, gridW (gh, gw)
 * motion-field cells, F spectrogram frames, M mel bands, W IMU window, C channels.
 */
package org.sensorium.data;
