package org.sensorium.cli.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.spark.resource.ResourceInformation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.distributed.DistException;
import org.sensorium.cli.GroupRunTest;

/** What a barrier task derives before it joins the group: device, listen address, resume or start. */
class GroupTaskTest {

    static Map<String, ResourceInformation> gpus(String... addresses) {
        return Map.of(GroupTask.GPU, new ResourceInformation(GroupTask.GPU, addresses));
    }

    @Test
    void deviceIsTheTasksOneGpuElseCpu() {
        assertEquals("cpu", GroupTask.device(Map.of()));
        assertEquals("cpu", GroupTask.device(gpus()));
        assertEquals("cuda:3", GroupTask.device(gpus("3")));
        DistException two = assertThrows(DistException.class, () -> GroupTask.device(gpus("0", "1")));
        assertTrue(two.getMessage().startsWith("spark.task.resource.gpu.amount: this task holds GPUs [0, 1]"), two.getMessage());
        DistException name = assertThrows(DistException.class, () -> GroupTask.device(gpus("GPU-5f2a")));
        assertTrue(name.getMessage().startsWith("spark.executor.resource.gpu.discoveryScript: GPU address 'GPU-5f2a'"), name.getMessage());
    }

    @Test
    void workersListenOnTheExecutorsHostUnlessToldOtherwise() throws Exception {
        assertEquals("127.0.0.1", GroupTask.executorHost("127.0.0.1:35211"));
        assertEquals("[::1]", GroupTask.executorHost("[::1]:35211"));
        InetAddress loopback = InetAddress.getLoopbackAddress();
        assertEquals(loopback, GroupTask.bindAddress(null, "127.0.0.1"));
        String lo = NetworkInterface.getByInetAddress(loopback).getName(); // "lo" on Linux
        assertEquals(loopback, GroupTask.bindAddress(lo, "127.0.0.1"));
        assertEquals(loopback, GroupTask.bindAddress("127.0.0.1", "10.0.0.7"));
        DistException e = assertThrows(DistException.class, () -> GroupTask.bindAddress("no-such-host.invalid", "10.0.0.7"));
        assertEquals("--interface: no-such-host.invalid does not resolve on 10.0.0.7", e.getMessage());
    }

    @Test
    void theCheckpointStepSaysWhetherTheGroupResumes(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("runs/r");
        assertEquals(-1, GroupTask.checkpointStep(run));
        GroupRunTest.checkpointState(run, 3);
        assertEquals(3, GroupTask.checkpointStep(run));
    }

    @Test
    void theJobNeverPrintsItsSecret() {
        byte[] secret = new byte[32];
        java.util.Arrays.fill(secret, (byte) 0xab);
        GroupTask.Job job = new GroupTask.Job(2, null, Duration.ofSeconds(30), secret, "/runs/r", List.of("pretrain"),
                List.of("pretrain", "--resume", "/runs/r"));
        assertFalse(job.toString().toLowerCase().contains("abab") || job.toString().contains("secret"), job.toString());
    }
}
