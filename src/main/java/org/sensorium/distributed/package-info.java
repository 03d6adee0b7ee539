/**
 * The transport under data-parallel training: how N worker JVMs (one per device) find each other and move
 * numbers between them. It knows nothing of models, objectives or the trainer; they sit on top of it.
 *
 * <ul>
 *   <li>{@link org.sensorium.distributed.Collective}: all-reduce, all-gather, broadcast and barrier, whatever
 *       carries them; {@link org.sensorium.distributed.Collective#local()} is the one-worker implementation,
 *       so callers never branch on the transport.
 *   <li>{@link org.sensorium.distributed.Group}: the collectives of a worker group over a ring of TCP
 *       connections (Java NIO, full duplex, every wait bounded by the timeout); its all-reduce
 *       ({@link org.sensorium.distributed.RingAllReduce}) sums a direct buffer in place, sending on one thread
 *       while the caller's receives and adds;
 *       {@link org.sensorium.distributed.Ring} forms that ring, each connection authenticated by the job's
 *       secret ({@link org.sensorium.distributed.Handshake}).
 *   <li>{@link org.sensorium.distributed.ShmAllReduce}: the same all-reduce through shared memory when every rank is
 *       on one host (the ring then carries only its barriers); {@link org.sensorium.distributed.Transport} chooses
 *       (auto, tcp, shm).
 *   <li>{@link org.sensorium.distributed.DataParallel}: gradient sync over a name -&gt; array map (DJL arrays):
 *       rank 0's parameters broadcast once, gradients copied by libtorch into a direct buffer per bucket,
 *       summed there and scaled by 1/w (one bucket on the wire while the next is copied in and the previous copied
 *       back), replicas compared by hash now and then.
 *   <li>{@link org.sensorium.distributed.Worker}: joins the group and runs, as its rank, the body its caller
 *       gives.
 *   <li>{@link org.sensorium.distributed.LocalLauncher}: starts N JVMs of the caller's main class on this
 *       machine and supervises them (torchrun's job); {@link org.sensorium.distributed.WorkerSpec} is what each
 *       is told (rank, world size, peers, device, secret, timeout), {@link org.sensorium.distributed.Devices}
 *       names and assigns the devices.
 *   <li>{@link org.sensorium.distributed.AllReduceBench}: the all-reduce's bus bandwidth between JVMs, per transport.
 * </ul>
 *
 * <p>Imports: the JDK, DJL (arrays in {@link org.sensorium.distributed.DataParallel}, devices and the engine in
 * {@link org.sensorium.distributed.Devices}) and SLF4J, nothing of Sensorium's own packages: the objectives and
 * the trainer import this package, never the other way round, so the transport can be tested and benchmarked
 * alone.
 *
 * <p>Shape letters: w world size (the number of workers, N where a launcher starts them), r rank, 0 .. w-1;
 * rank r sends to rank (r+1) mod w and receives from rank (r-1) mod w. Collectives move flat floats (arrays, or
 * direct buffers in native byte order, which every rank must share), so no tensor shapes appear here: the callers
 * flatten and unflatten.
 */
package org.sensorium.distributed;
