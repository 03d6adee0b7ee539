package org.sensorium.distributed;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Mutual proof of the job's secret on a new connection, without sending it: each side sends a fresh random
 * nonce and answers the other's with an HMAC-SHA256 keyed by the secret over both nonces, both ranks and its
 * role (so an answer cannot be replayed, reflected or moved to another pair of ranks).
 * <pre>
 *   connector -> acceptor   MAGIC, VERSION, rank_c, nonce_c (32 bytes)
 *   acceptor  -> connector  nonce_a, HMAC(secret, "acceptor"  | rank_a | rank_c | nonce_c | nonce_a)
 *   connector -> acceptor   HMAC(secret, "connector" | rank_c | rank_a | nonce_a | nonce_c)
 *   acceptor  -> connector  OK (1 byte)
 * </pre>
 */
final class Handshake {
    static final int MAGIC = 0x534E5352; // "SNSR"
    static final byte VERSION = 1, OK = 1;
    static final int NONCE = 32, MAC = 32;
    private static final SecureRandom RANDOM = new SecureRandom();

    private Handshake() {}

    /** Why a handshake failed; the message says what the other side did. */
    static class Refused extends IOException {
        Refused(String message) {
            super(message);
        }
    }

    /**
     * The connector found the acceptor's proof wrong: the peer at that address holds another secret (or is not
     * the rank expected there). Unlike a closed or silent connection, trying again cannot change this.
     */
    static final class WrongSecret extends Refused {
        WrongSecret(String message) {
            super(message);
        }
    }

    /** The connector's side: proves itself to rank {@code peer} and checks that it knows the secret. */
    static void connect(DataInputStream in, DataOutputStream out, byte[] secret, int rank, int peer) throws IOException {
        byte[] nonceC = nonce();
        out.writeInt(MAGIC);
        out.writeByte(VERSION);
        out.writeInt(rank);
        out.write(nonceC);
        out.flush();
        byte[] nonceA = in.readNBytes(NONCE);
        byte[] macA = in.readNBytes(MAC);
        if (nonceA.length < NONCE || macA.length < MAC) {
            throw new Refused("closed the connection during the handshake (a worker of another job, or it failed)");
        }
        if (!MessageDigest.isEqual(macA, mac(secret, "acceptor", peer, rank, nonceC, nonceA))) {
            throw new WrongSecret("could not prove the job's secret");
        }
        out.write(mac(secret, "connector", rank, peer, nonceA, nonceC));
        out.flush();
        int ok = in.read();
        if (ok != OK) {
            throw new Refused("refused our proof of the secret (does it run with the same job secret?)");
        }
    }

    /**
     * The acceptor's side: checks that the connector is rank {@code expected} and knows the secret.
     *
     * @throws Refused what was wrong with the connection (logged by the caller, which keeps accepting)
     */
    static void accept(DataInputStream in, DataOutputStream out, byte[] secret, int rank, int expected) throws IOException {
        if (in.readInt() != MAGIC || in.readByte() != VERSION) {
            throw new Refused("not a sensorium worker (bad magic or version)");
        }
        int claimed = in.readInt();
        if (claimed != expected) {
            throw new Refused("claims rank " + claimed + ", expected rank " + expected);
        }
        byte[] nonceC = in.readNBytes(NONCE);
        if (nonceC.length < NONCE) {
            throw new Refused("closed the connection during the handshake");
        }
        byte[] nonceA = nonce();
        out.write(nonceA);
        out.write(mac(secret, "acceptor", rank, claimed, nonceC, nonceA));
        out.flush();
        byte[] macC = in.readNBytes(MAC);
        if (!MessageDigest.isEqual(macC, mac(secret, "connector", claimed, rank, nonceA, nonceC))) {
            throw new Refused("failed to prove the job's secret (wrong HMAC)");
        }
        out.writeByte(OK);
        out.flush();
    }

    static byte[] mac(byte[] secret, String role, int from, int to, byte[] n1, byte[] n2) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            mac.update(role.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            mac.update(ByteBuffer.allocate(8).putInt(from).putInt(to).array());
            mac.update(n1);
            mac.update(n2);
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every Java 17 runtime", e);
        }
    }

    /** A new random job secret (32 bytes). */
    static byte[] newSecret() {
        return nonce();
    }

    private static byte[] nonce() {
        byte[] b = new byte[NONCE];
        RANDOM.nextBytes(b);
        return b;
    }
}
