package org.sensorium.distributed;

import ai.djl.Device;
import ai.djl.engine.Engine;
import java.util.ArrayList;
import java.util.List;

/**
 * Device names as launchers write them ("cpu", "cuda:0", "cuda:1", ...; PyTorch's spelling) and the
 * assignment of devices to local workers.
 */
public final class Devices {
    private Devices() {}

    /**
     * The DJL device of a name.
     *
     * @throws DistException naming SENSORIUM_DEVICE when the name is neither cpu nor cuda:i
     */
    public static Device parse(String name) {
        if (name == null || name.isBlank()) {
            throw new DistException(WorkerSpec.DEVICE + ": not set (cpu or cuda:i)");
        }
        String n = name.strip();
        if (n.equals("cpu")) {
            return Device.cpu();
        }
        if (n.startsWith("cuda:")) {
            try {
                int i = Integer.parseInt(n.substring(5));
                if (i >= 0) {
                    return Device.gpu(i);
                }
            } catch (NumberFormatException e) {
                // falls through to the error below
            }
        }
        throw new DistException(WorkerSpec.DEVICE + ": '" + name + "' is not cpu or cuda:i (e.g. cuda:0)");
    }

    /**
     * The devices of N local workers: every worker on the CPU when devices is "cpu", else worker i gets the
     * i-th of the comma-separated list (cuda:0,cuda:1,...), which must name exactly N distinct devices.
     *
     * @throws DistException naming --devices
     */
    public static List<String> assign(String devices, int workers) {
        if (devices == null || devices.isBlank() || devices.strip().equals("cpu")) {
            List<String> out = new ArrayList<>();
            for (int i = 0; i < workers; i++) {
                out.add("cpu");
            }
            return out;
        }
        List<String> list = new ArrayList<>();
        for (String d : devices.split(",")) {
            String s = d.strip();
            try {
                parse(s);
            } catch (DistException e) {
                throw new DistException("--devices: '" + s + "' is not cpu or cuda:i (e.g. cuda:0,cuda:1)");
            }
            if (list.contains(s) && !s.equals("cpu")) {
                throw new DistException("--devices: " + s + " is listed twice (one worker per GPU)");
            }
            list.add(s);
        }
        if (list.size() != workers) {
            throw new DistException("--devices: " + list.size() + " devices for --workers " + workers + " (one per worker, or cpu)");
        }
        return list;
    }

    /**
     * The device, checked against what the loaded libtorch offers.
     *
     * @throws DistException for a GPU when libtorch has no CUDA or fewer GPUs: says how to provide a CUDA libtorch
     */
    public static Device require(String name) {
        Device d = parse(name);
        if (d.isGpu()) {
            Engine engine = Engine.getInstance();
            int gpus = engine.getGpuCount();
            if (gpus <= d.getDeviceId()) {
                throw new DistException(unavailable(name, gpus, engine.getVersion()));
            }
        }
        return d;
    }

    /** The error for a GPU the loaded libtorch cannot see (separate so it can be tested without a GPU). */
    static String unavailable(String name, int gpus, String libtorch) {
        String why = gpus == 0 ? "the loaded libtorch " + libtorch + " has no CUDA (Maven Central ships only the CPU build)"
                : "libtorch sees only " + gpus + " GPU(s)";
        return WorkerSpec.DEVICE + ": " + name + " is not available: " + why + "; to train on GPUs, install libtorch 2.7.1 with"
                + " CUDA on every node and set PYTORCH_LIBRARY_PATH to its lib folder (with PYTORCH_VERSION=2.7.1 and"
                + " PYTORCH_FLAVOR=cu124 or your CUDA's flavor), or run with --devices cpu";
    }
}
