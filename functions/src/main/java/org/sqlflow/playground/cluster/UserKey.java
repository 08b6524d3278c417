package org.sqlflow.playground.cluster;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;
import org.sqlflow.playground.userid.UserIds;

/**
 * The one place where a user id becomes Kubernetes names. A user id is 1 to 63 characters of
 * {@code [A-Za-z0-9._-]}; Kubernetes wants DNS-1035 labels (lowercase, starting with a letter, at most 63).
 *
 * <p>{@link #key()} is the id itself when the id already is a DNS-1035 label without "--" and short enough;
 * otherwise it is a sanitised prefix, "--" and a hash of the exact id. Lossless keys never contain "--" and
 * hashed keys always do, so a lossless key can never equal a hashed one, and two hashed keys differ unless
 * their 40-bit hashes collide (the exact id, kept in an annotation, is checked on every read anyway).
 * The same key names the user's resources, labels them, and is their heartbeat ConfigMap key.
 */
public record UserKey(String userId, String key) {

    /** Valid user ids, as the API contract states them ({@link UserIds}: the one rule). */
    public static final Pattern USER_ID = UserIds.PATTERN;

    /** Every per-user object name is this prefix plus the key, so it starts with a letter. */
    public static final String NAME_PREFIX = "db-";

    private static final int MAX_KEY = 63 - NAME_PREFIX.length();
    private static final int HASH_HEX = 10;
    private static final Pattern LOSSLESS = Pattern.compile("[a-z0-9]([a-z0-9-]*[a-z0-9])?");

    public static boolean isValidUserId(String userId) {
        return UserIds.isValid(userId);
    }

    public static UserKey of(String userId) {
        if (!isValidUserId(userId)) {
            throw new IllegalArgumentException("not a valid user id");
        }
        if (userId.length() <= MAX_KEY && LOSSLESS.matcher(userId).matches() && !userId.contains("--")) {
            return new UserKey(userId, userId);
        }
        String sanitised = userId.toLowerCase()
                .replaceAll("[^a-z0-9-]", "-")
                .replaceAll("-+", "-")
                .replaceAll("^-|-$", "");
        int room = MAX_KEY - 2 - HASH_HEX;
        if (sanitised.length() > room) {
            sanitised = sanitised.substring(0, room).replaceAll("-$", "");
        }
        String hash = sha256Hex(userId).substring(0, HASH_HEX);
        return new UserKey(userId, sanitised.isEmpty() ? "u--" + hash : sanitised + "--" + hash);
    }

    /** Name of the user's Deployment, Secret, Service and volume claim. */
    public String resourceName() {
        return NAME_PREFIX + key;
    }

    /** A stable shard in [0, shards): the same user always beats into the same ConfigMap. */
    public int shard(int shards) {
        byte[] digest = sha256(userId);
        int h = ((digest[0] & 0xff) << 24)
                | ((digest[1] & 0xff) << 16)
                | ((digest[2] & 0xff) << 8)
                | (digest[3] & 0xff);
        return Math.floorMod(h, shards);
    }

    static String sha256Hex(String s) {
        return HexFormat.of().formatHex(sha256(s));
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
