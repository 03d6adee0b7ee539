package org.sensorium.train;

import java.nio.file.Path;

/** Test helper run as its own JVM: takes the run lock of args[0], says so, and holds it until killed. */
public final class HoldRunLock {
    private HoldRunLock() {}

    public static void main(String[] args) throws Exception {
        try (RunLock lock = RunLock.acquire(Path.of(args[0]))) {
            System.out.println("locked");
            System.out.flush();
            Thread.sleep(120_000);
        }
    }
}
