package org.sensorium.distributed;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The collectives a data-parallel trainer needs, whatever carries them: one worker ({@link #local()}) or a
 * worker group over TCP ({@link Group}). Every rank calls every collective in the same order with the same sizes
 * (all-gather's blocks may differ); with one worker each returns its input, so callers never branch on the
 * transport, only, where the arithmetic differs, on {@link #worldSize()}.
 */
public interface Collective extends AutoCloseable {

    int rank();

    int worldSize();

    /** Sums data across all ranks in place; every rank ends with bitwise the same sum. */
    void allReduce(float[] data);

    /**
     * Sums the float32 values of a direct buffer in native byte order (position to limit) across all ranks in
     * place; every rank ends with bitwise the same sums. No copy into Java arrays: this is the gradients' path.
     *
     * @throws IllegalArgumentException when data is not direct, not in native order, or not whole floats
     */
    void allReduce(ByteBuffer data);

    /** The contract of {@link #allReduce(ByteBuffer)}'s argument, checked by every implementation. */
    static void checkFloats(ByteBuffer data) {
        if (!data.isDirect() || data.order() != ByteOrder.nativeOrder() || data.remaining() % Float.BYTES != 0) {
            throw new IllegalArgumentException(String.format("all-reduce needs a direct buffer of float32 in native order (%s), got %s"
                    + " %s with %d bytes", ByteOrder.nativeOrder(), data.isDirect() ? "a direct" : "a heap", data.order(), data.remaining()));
        }
    }

    /** Every rank's block, in rank order (blocks may differ in length). */
    float[][] allGather(float[] mine);

    /** Every rank's bytes, in rank order. */
    byte[][] allGatherBytes(byte[] mine);

    /** Root's bytes on every rank. */
    byte[] broadcastBytes(byte[] data, int root);

    /** Root's floats copied into data on every rank (data's length must be the same everywhere). */
    void broadcast(float[] data, int root);

    /** Returns once every rank has called it. */
    void barrier();

    /** Seconds spent in collectives since the last call (the data-parallel overhead of a step). */
    double takeSeconds();

    @Override
    void close();

    /** One worker: every collective returns its input at once. */
    static Collective local() {
        return new Local();
    }

    /** The collective of a single worker. */
    final class Local implements Collective {
        private Local() {}

        @Override
        public int rank() {
            return 0;
        }

        @Override
        public int worldSize() {
            return 1;
        }

        @Override
        public void allReduce(float[] data) {}

        @Override
        public void allReduce(ByteBuffer data) {
            checkFloats(data);
        }

        @Override
        public float[][] allGather(float[] mine) {
            return new float[][] {mine.clone()};
        }

        @Override
        public byte[][] allGatherBytes(byte[] mine) {
            return new byte[][] {mine};
        }

        @Override
        public byte[] broadcastBytes(byte[] data, int root) {
            return data;
        }

        @Override
        public void broadcast(float[] data, int root) {}

        @Override
        public void barrier() {}

        @Override
        public double takeSeconds() {
            return 0;
        }

        @Override
        public void close() {}
    }
}
