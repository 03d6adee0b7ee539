package org.sensorium.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Held-out retrieval at scale: n random unit vectors of width 512 as queries against n others as candidates
 * (n = 100,000 unless -Dretrieval.n= says otherwise; -Dretrieval.floor=true also times the products alone). Prints wall time, the peak resident set of this JVM
 * (VmHWM) and the load average; docs/measured/data.md has the numbers. Random pairs: R@1 near chance 1/n, mean
 * rank near (n + 1) / 2.
 */
@Tag("slow")
class RetrievalScaleSlowTest {

    @Test
    void retrievalOver100000UnitVectorsOfWidth512() throws IOException {
        int n = Integer.getInteger("retrieval.n", 100_000), width = 512;
        Random rnd = new Random(2026);
        List<float[]> q = new ArrayList<>(n), c = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            q.add(RetrievalTest.unit(rnd, width));
            c.add(RetrievalTest.unit(rnd, width));
        }
        String load = Files.readString(Path.of("/proc/loadavg")).trim();
        long t0 = System.nanoTime();
        Retrieval.Result r = Retrieval.direction("a->b", q, c);
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("retrieval n=%d width=%d: %.1f s, peak RSS %s, threads %s, load before %s, after %s; R@1 %.6f mean rank %.1f%n",
                n, width, seconds, vmHwm(), System.getProperty("ai.djl.pytorch.num_threads"), load,
                Files.readString(Path.of("/proc/loadavg")).trim(), r.r1(), r.meanRank());
        if (Boolean.getBoolean("retrieval.floor")) {
            t0 = System.nanoTime();
            productsOnly(q, c);
            System.out.printf("the float32 products alone (same blocks, no ranks): %.1f s, load %s%n", (System.nanoTime() - t0) / 1e9,
                    Files.readString(Path.of("/proc/loadavg")).trim());
        }
        assertEquals(n, r.n());
        assertTrue(Math.abs(r.meanRank() - (n + 1) / 2.0) < 0.01 * n, "random pairs rank near the middle: " + r.meanRank());
    }

    /** The floor: the same blocked products with nothing read back but one number per block. */
    static void productsOnly(List<float[]> q, List<float[]> c) {
        int n = q.size(), width = q.get(0).length;
        int rows = BlockedDots.blockRows(n, BlockedDots.BLOCK_FLOATS), cols = BlockedDots.blockCols(n, rows, BlockedDots.BLOCK_FLOATS);
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray all = BlockedDots.candidates(manager, c, width);
            for (int from = 0; from < n; from += rows) {
                try (NDManager block = manager.newSubManager()) {
                    NDArray qb = BlockedDots.rows(block, q, from, Math.min(n, from + rows), width);
                    for (int c0 = 0; c0 < n; c0 += cols) {
                        try (NDManager part = block.newSubManager()) {
                            NDArray cb = all.get(new NDIndex("{}:{}", c0, Math.min(n, c0 + cols)));
                            cb.tempAttach(part);
                            NDArray s = qb.matMul(cb.transpose());
                            s.tempAttach(part);
                            s.get(0, 0).getFloat();
                        }
                    }
                }
            }
        }
    }

    static String vmHwm() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("VmHWM:"))
                .map(l -> l.substring(6).trim()).findFirst().orElse("?");
    }
}
