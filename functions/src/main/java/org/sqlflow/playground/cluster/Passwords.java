package org.sqlflow.playground.cluster;

import java.security.SecureRandom;

/** Random per-user database passwords: base62, so SQLFlow's data source pattern ({@code \w*}) parses them. */
public final class Passwords {

    /** 32 base62 characters carry about 190 bits, well above the 128 the design asks for. */
    public static final int LENGTH = 32;

    private static final char[] ALPHABET =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".toCharArray();
    private static final SecureRandom RANDOM = new SecureRandom();

    private Passwords() {}

    public static String generate() {
        char[] out = new char[LENGTH];
        for (int i = 0; i < LENGTH; i++) {
            out[i] = ALPHABET[RANDOM.nextInt(ALPHABET.length)];
        }
        return new String(out);
    }
}
