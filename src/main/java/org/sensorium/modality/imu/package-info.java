/**
 * Inertial measurements: {@link org.sensorium.modality.imu.ImuAdapter} low-pass filters, resamples, normalises and
 * augments accelerometer and gyroscope channels read by {@link org.sensorium.modality.imu.ImuReaders}
 * (CSV, HMP text, GoPro GPMF).
 *
 * <p>Imports: config and modality.
 *
 * <p>Shape letters (the model package's legend): W IMU window (samples), C channels. Output (W, C). In
 * ImuReaders, N counts a channel's raw samples.
 */
package org.sensorium.modality.imu;
