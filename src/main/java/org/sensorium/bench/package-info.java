/**
 * Benchmarks. The data path: {@link org.sensorium.bench.DataBench} measures video decoding against the FFmpeg
 * command line, motion fields against plain decoding, log-mel and IMU windows against real time, and the share of a
 * training step spent waiting for data. The training step: {@link org.sensorium.bench.TrainBench} times
 * pretraining's step on synthetic inputs against the fp32 matmul peak of the same libtorch (model FLOPs counted by
 * {@link org.sensorium.bench.TrainFlops}) and against a PyTorch-eager replica run by {@link org.sensorium.bench.TorchPeer},
 * with a per-phase profile; {@link org.sensorium.bench.TraceTop} reads libtorch's profiler trace of a few steps and
 * ranks its operators by self time. {@link org.sensorium.bench.BenchTable} holds the ratios and prints them. Every result is a
 * ratio to a peer measured in the same run, so numbers compare across machines.
 *
 * <p>Imports: config, distributed (a group of one), modality (with its sub-packages), data, model, objective (the
 * Objective contract), train and job.
 *
 * <p>Shape letters: B samples of a micro-batch, N tokens of a sequence, D trunk width, E embedding, P values per patch.
 */
package org.sensorium.bench;
