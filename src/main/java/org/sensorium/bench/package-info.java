/**
 * Benchmarks of the data path: {@link org.sensorium.bench.DataBench} measures video decoding against the FFmpeg
 * command line, motion fields against plain decoding, log-mel and IMU windows against real time, and the share of a
 * training step spent waiting for data; {@link org.sensorium.bench.BenchTable} holds the ratios and prints them.
 * Every result is a ratio to a peer measured in the same run, so numbers compare across machines.
 *
 * <p>Imports: config, modality (with its sub-packages), data and job.
 *
 * <p>Shape letters: none.
 */
package org.sensorium.bench;
