/**
 * The model: one stem per modality, a shared pre-norm transformer trunk, one head per modality.
 *
 * <p>Shape letters used in comments throughout:
 * <pre>
 *   B  batch                    N  tokens of one modality (N_m)     D  trunk width
 *   H  attention heads          Dh head width = D / H                E  shared embedding size
 *   T  video frames             H, W  pixel height, width (video)   C  channels (3 RGB, 2 motion, IMU 3..6)
 *   F  spectrogram frames       M  mel bands                         L  text length (ids)
 *   W  IMU window (samples)     t, p, k  tubelet frames, patch side, IMU samples per token
 *   K  prototypes (clusters), or texts in a bag (MIL-NCE)            S  segments (LV-MAE), or waveform samples
 *   G  sequences of frames (temporal OT: clips, or recordings' windows)
 * </pre>
 *
 * <p>Weights in and out: {@link org.sensorium.model.Safetensors} reads and writes the safetensors format, and
 * {@link org.sensorium.model.TorchNames} is the one table of how parameter names become PyTorch module paths.
 *
 * <p>Imports: config only. The model takes maps of tensors by modality, never files, manifests or batches, so
 * training, evaluation and fine-tuning all drive it the same way.
 *
 * <p>Ownership: parameters live in {@link org.sensorium.model.Params}'s manager; every forward pass
 * runs on arrays of the caller's per-step sub-manager, and every op puts the step's array first so
 * its result is owned by the step, never by the parameters' manager. An {@link org.sensorium.model.EmaTeacher}'s
 * arrays live in a sub-manager of the parameters' manager for the whole run.
 */
package org.sensorium.model;
