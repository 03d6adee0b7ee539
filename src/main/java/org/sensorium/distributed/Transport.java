package org.sensorium.distributed;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * What carries a group's all-reduce: the TCP ring ({@link RingAllReduce}), shared memory between the ranks of one
 * host ({@link ShmAllReduce}, the ring's links then carry only its barriers), or auto: shared memory when every peer
 * is on a loopback address and {@link ShmAllReduce#DIR} is a writable directory, else the ring.
 */
public enum Transport {
    AUTO, TCP, SHM;

    /** The environment key a launcher sets to the config's dist.transport (absent: tcp). */
    public static final String ENV = "SENSORIUM_TRANSPORT";

    /**
     * @param key the config key or option named in the error
     * @throws DistException one line naming key when s is not auto, tcp or shm
     */
    public static Transport parse(String key, String s) {
        if (s != null) {
            for (Transport t : values()) {
                if (t.key().equals(s.strip().toLowerCase(Locale.ROOT))) {
                    return t;
                }
            }
        }
        throw new DistException(key + ": '" + s + "' is not auto, tcp or shm");
    }

    /** The transport a launcher asked for in env, auto when it set none (dist.transport's default). */
    public static Transport fromEnv(Map<String, String> env) {
        String v = env.get(ENV);
        return v == null || v.isBlank() ? AUTO : parse(ENV, v);
    }

    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** auto's answer for a group: shm when every peer is on a loopback address and dir is a writable directory. */
    static boolean sameHost(WorkerSpec spec, Path dir) {
        for (InetSocketAddress a : spec.peers()) {
            try {
                if (!InetAddress.getByName(a.getHostString()).isLoopbackAddress()) {
                    return false;
                }
            } catch (UnknownHostException e) {
                return false;
            }
        }
        return Files.isDirectory(dir) && Files.isWritable(dir);
    }
}
