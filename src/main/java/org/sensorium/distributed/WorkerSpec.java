package org.sensorium.distributed;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Who this worker is in its group, as a launcher says (torchrun's RANK / WORLD_SIZE / MASTER_ADDR, but
 * every peer's address, since the collectives run on a ring of direct connections).
 *
 * @param rank this worker's index, 0 .. worldSize-1; rank 0 broadcasts the initial weights and alone writes
 *     metrics, summaries and checkpoints
 * @param peers every worker's listen address in rank order; peers.get(rank) is this worker's own
 * @param device "cpu" or "cuda:i" (see {@link Devices})
 * @param secret the job's random secret; a connection that cannot prove it knows it is refused ({@link Handshake})
 * @param timeout the longest any blocking call (connect, send, receive) waits before failing, naming the peer
 */
public record WorkerSpec(int rank, int worldSize, List<InetSocketAddress> peers, String device, byte[] secret, Duration timeout) {
    public static final String RANK = "SENSORIUM_RANK", WORLD_SIZE = "SENSORIUM_WORLD_SIZE", PEERS = "SENSORIUM_PEERS",
            DEVICE = "SENSORIUM_DEVICE", SECRET = "SENSORIUM_SECRET", TIMEOUT = "SENSORIUM_TIMEOUT_S";

    /** Fewer bytes than this is not a secret worth the name (HMAC-SHA256 keys: 32 bytes is the hash size). */
    public static final int MIN_SECRET_BYTES = 16;

    public WorkerSpec {
        if (worldSize < 1) {
            throw new DistException(WORLD_SIZE + ": " + worldSize + " must be >= 1");
        }
        if (rank < 0 || rank >= worldSize) {
            throw new DistException(RANK + ": " + rank + " is not in [0, " + worldSize + ")");
        }
        peers = List.copyOf(peers);
        if (peers.size() != worldSize) {
            throw new DistException(PEERS + ": " + peers.size() + " addresses for " + WORLD_SIZE + "=" + worldSize);
        }
        Devices.parse(device); // throws naming the key
        if (secret == null || secret.length < MIN_SECRET_BYTES) {
            throw new DistException(SECRET + ": needs at least " + MIN_SECRET_BYTES + " random bytes (" + 2 * MIN_SECRET_BYTES + " hex digits)");
        }
        secret = secret.clone();
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new DistException(TIMEOUT + ": " + timeout + " must be > 0 seconds");
        }
    }

    /** This worker's own listen address. */
    public InetSocketAddress self() {
        return peers.get(rank);
    }

    @Override
    public byte[] secret() {
        return secret.clone();
    }

    /**
     * Reads SENSORIUM_RANK, SENSORIUM_WORLD_SIZE, SENSORIUM_PEERS (host:port,host:port,... in rank order),
     * SENSORIUM_DEVICE (cpu or cuda:i), SENSORIUM_SECRET (hex) and SENSORIUM_TIMEOUT_S (seconds).
     *
     * @throws DistException one line naming the first key that is missing or malformed
     */
    public static WorkerSpec fromEnv(Map<String, String> env) {
        int world = integer(env, WORLD_SIZE);
        int rank = integer(env, RANK);
        List<InetSocketAddress> peers = new ArrayList<>();
        for (String p : required(env, PEERS).split(",")) {
            peers.add(address(p.strip()));
        }
        String device = required(env, DEVICE);
        byte[] secret;
        try {
            secret = HexFormat.of().parseHex(required(env, SECRET));
        } catch (IllegalArgumentException e) {
            throw new DistException(SECRET + ": not hexadecimal (" + e.getMessage() + ")");
        }
        double seconds;
        try {
            seconds = Double.parseDouble(required(env, TIMEOUT));
        } catch (NumberFormatException e) {
            throw new DistException(TIMEOUT + ": '" + env.get(TIMEOUT) + "' is not a number of seconds");
        }
        if (!(seconds > 0) || Double.isInfinite(seconds)) {
            throw new DistException(TIMEOUT + ": " + seconds + " must be > 0 seconds");
        }
        return new WorkerSpec(rank, world, peers, device, secret, Duration.ofMillis(Math.round(seconds * 1000)));
    }

    /** The environment {@link #fromEnv} reads back (what a launcher sets for each worker process). */
    public Map<String, String> toEnv() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put(RANK, Integer.toString(rank));
        env.put(WORLD_SIZE, Integer.toString(worldSize));
        env.put(PEERS, String.join(",", peers.stream().map(WorkerSpec::format).toList()));
        env.put(DEVICE, device);
        env.put(SECRET, HexFormat.of().formatHex(secret));
        env.put(TIMEOUT, Double.toString(timeout.toMillis() / 1000.0));
        return env;
    }

    /** host:port, [v6]:port for IPv6 literals. */
    public static String format(InetSocketAddress a) {
        String host = a.getHostString();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    /** Parses host:port or [v6]:port (unresolved: resolved when connecting). */
    static InetSocketAddress address(String s) {
        int colon = s.lastIndexOf(':');
        if (colon <= 0 || colon == s.length() - 1) {
            throw new DistException(PEERS + ": '" + s + "' is not host:port");
        }
        String host = s.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(s.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new DistException(PEERS + ": '" + s + "' has no numeric port");
        }
        if (port < 1 || port > 65535) {
            throw new DistException(PEERS + ": '" + s + "': port " + port + " is not in [1, 65535]");
        }
        return InetSocketAddress.createUnresolved(host, port);
    }

    private static String required(Map<String, String> env, String key) {
        String v = env.get(key);
        if (v == null || v.isBlank()) {
            throw new DistException(key + ": not set (the launcher sets it for every worker)");
        }
        return v.strip();
    }

    private static int integer(Map<String, String> env, String key) {
        String v = required(env, key);
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new DistException(key + ": '" + v + "' is not an integer");
        }
    }

    @Override
    public String toString() { // never the secret
        return "WorkerSpec[rank=" + rank + ", worldSize=" + worldSize + ", peers=" + peers.stream().map(WorkerSpec::format).toList()
                + ", device=" + device + ", timeout=" + timeout + "]";
    }
}
