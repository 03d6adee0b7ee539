package org.sensorium.dist.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.resource.ResourceInformation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.dist.DistException;
import org.sensorium.train.Json;

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
        assertEquals("--bind: no-such-host.invalid does not resolve on 10.0.0.7", e.getMessage());
    }

    @Test
    void aRunFolderWithACheckpointIsResumedElseStarted(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("runs/r");
        assertEquals(-1, GroupTask.checkpointStep(run));
        Path ckpt = Files.createDirectories(run.resolve("checkpoints/step-0000003"));
        Map<String, Object> state = new LinkedHashMap<>(Map.of("step", 3, "epoch", 1, "position", 16, "seed", 1234));
        state.put("manifest_sha256", "00");
        Json.write(ckpt.resolve("state.json"), state);
        assertEquals(3, GroupTask.checkpointStep(run));

        GroupTask.Job job = new GroupTask.Job(2, null, Duration.ofSeconds(30), new byte[32], run.toString(), "/exp.yaml",
                List.of("train.steps=6", "run.name=r"), true);
        assertEquals(List.of("--config", "/exp.yaml", "--set", "train.steps=6", "--set", "run.name=r", "--debug"), job.pretrainArgs(false));
        assertEquals(List.of("--resume", run.toString(), "--set", "train.steps=6", "--set", "run.name=r", "--debug"), job.pretrainArgs(true));
        assertFalse(job.toString().contains("secret"), job.toString());
    }
}
