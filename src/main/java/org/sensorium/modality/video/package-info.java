/**
 * Video and its compressed domain, decoded by FFmpeg: {@link org.sensorium.modality.video.VideoAdapter}
 * (RGB clips, CVRL's temporally consistent augmentation, RSPNet's playback speed) and
 * {@link org.sensorium.modality.video.MotionAdapter} (the motion field the encoder stored in its motion
 * vectors), both through {@link org.sensorium.modality.video.CompressedVideo}, which uses
 * {@link org.sensorium.modality.video.Decoder}, {@link org.sensorium.modality.video.MotionVectors} and
 * {@link org.sensorium.modality.video.RgbScaler}.
 *
 * <p>Imports: config and modality.
 *
 * <p>Shape letters (the model package's legend): T frames, H, W pixel height and width, gridH, gridW
 * motion-field cells. Outputs: video (T, H, W, 3), motion (T, gridH, gridW, 2).
 */
package org.sensorium.modality.video;
