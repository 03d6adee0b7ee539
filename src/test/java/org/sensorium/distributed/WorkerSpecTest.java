package org.sensorium.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WorkerSpecTest {
    static Map<String, String> env() {
        Map<String, String> e = new HashMap<>();
        e.put("SENSORIUM_RANK", "1");
        e.put("SENSORIUM_WORLD_SIZE", "2");
        e.put("SENSORIUM_PEERS", "127.0.0.1:29500, [::1]:29501");
        e.put("SENSORIUM_DEVICE", "cuda:1");
        e.put("SENSORIUM_SECRET", "00112233445566778899aabbccddeeff");
        e.put("SENSORIUM_TIMEOUT_S", "2.5");
        return e;
    }

    @Test
    void readsTheLaunchersEnvironmentAndWritesItBack() {
        WorkerSpec s = WorkerSpec.fromEnv(env());
        assertEquals(1, s.rank());
        assertEquals(2, s.worldSize());
        assertEquals("::1", s.self().getHostString());
        assertEquals(29501, s.self().getPort());
        assertEquals("cuda:1", s.device());
        assertEquals(16, s.secret().length);
        assertEquals(Duration.ofMillis(2500), s.timeout());
        assertEquals(s.toEnv(), WorkerSpec.fromEnv(s.toEnv()).toEnv());
        assertFalse(s.toString().contains("00112233"), "toString never shows the secret");
    }

    @Test
    void eachMissingOrBadKeyIsOneLineNamingIt() {
        Map<String, String> cases = Map.of(
                "SENSORIUM_RANK", "one", "SENSORIUM_WORLD_SIZE", "", "SENSORIUM_PEERS", "127.0.0.1", "SENSORIUM_DEVICE", "gpu",
                "SENSORIUM_SECRET", "xyz", "SENSORIUM_TIMEOUT_S", "-1");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            Map<String, String> e = env();
            e.put(c.getKey(), c.getValue());
            DistException x = assertThrows(DistException.class, () -> WorkerSpec.fromEnv(e), c.getKey());
            assertTrue(x.getMessage().startsWith(c.getKey() + ": "), x.getMessage());
            assertFalse(x.getMessage().contains("\n"));
        }
        Map<String, String> e = env();
        e.remove("SENSORIUM_SECRET");
        assertEquals("SENSORIUM_SECRET: not set (the launcher sets it for every worker)",
                assertThrows(DistException.class, () -> WorkerSpec.fromEnv(e)).getMessage());
        e.putAll(env());
        e.put("SENSORIUM_RANK", "2");
        assertTrue(assertThrows(DistException.class, () -> WorkerSpec.fromEnv(e)).getMessage().startsWith("SENSORIUM_RANK: 2 is not in [0, 2)"));
        e.put("SENSORIUM_RANK", "0");
        e.put("SENSORIUM_WORLD_SIZE", "3");
        assertTrue(assertThrows(DistException.class, () -> WorkerSpec.fromEnv(e)).getMessage().startsWith("SENSORIUM_PEERS: 2 addresses"));
    }

    @Test
    void devicesAreAssignedOnePerWorker() {
        assertEquals(Device.cpu(), Devices.parse("cpu"));
        assertEquals(Device.gpu(3), Devices.parse("cuda:3"));
        assertEquals(List.of("cpu", "cpu", "cpu"), Devices.assign("cpu", 3));
        assertEquals(List.of("cuda:0", "cuda:1"), Devices.assign("cuda:0,cuda:1", 2));
        assertTrue(assertThrows(DistException.class, () -> Devices.assign("cuda:0", 2)).getMessage().startsWith("--devices: 1 devices for --workers 2"));
        assertTrue(assertThrows(DistException.class, () -> Devices.assign("cuda:0,cuda:0", 2)).getMessage().contains("twice"));
        assertTrue(assertThrows(DistException.class, () -> Devices.assign("cuda:0,gpu1", 2)).getMessage().startsWith("--devices: 'gpu1'"));
        assertThrows(DistException.class, () -> Devices.parse("cuda:-1"));
    }

    @Test
    void aGpuWithoutCudaLibtorchSaysHowToProvideIt() {
        // this machine's libtorch is the CPU build from Maven Central
        DistException e = assertThrows(DistException.class, () -> Devices.require("cuda:0"));
        assertTrue(e.getMessage().startsWith("SENSORIUM_DEVICE: cuda:0 is not available"), e.getMessage());
        assertTrue(e.getMessage().contains("PYTORCH_LIBRARY_PATH") && e.getMessage().contains("2.7.1"), e.getMessage());
        assertEquals(Device.cpu(), Devices.require("cpu"));
        assertTrue(Devices.unavailable("cuda:2", 2, "2.7.1").contains("only 2 GPU(s)"));
    }
}
