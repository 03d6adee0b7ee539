/**
 * Data-parallel training across JVMs: a worker group of N processes (one per device) joined by a ring of
 * authenticated TCP connections (Java NIO), ring all-reduce of gradient buckets, all-gather, broadcast and
 * barrier, each with a timeout; the local launcher (`sensorium launch`, like torchrun) and the worker entry
 * point a cluster launcher calls ({@link org.sensorium.distributed.Worker#run}).
 *
 * <p>Shape letters: B per-worker batch, N = sum of B over ranks (the global batch), E embedding width,
 * w world size, r rank.
 */
package org.sensorium.distributed;
