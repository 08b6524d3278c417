package org.sqlflow.playground.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class UserKeyTest {

    private static final Pattern DNS_1035 = Pattern.compile("[a-z]([-a-z0-9]*[a-z0-9])?");
    private static final Pattern CONFIG_MAP_KEY = Pattern.compile("[-._a-zA-Z0-9]+");

    /** Ids chosen to trip a naive derivation: case, dots, reserved keys, trailing dashes, the hash shape. */
    public static final List<String> AWKWARD_IDS = List.of(
            "alice",
            "Alice",
            "ALICE",
            "a",
            "A",
            "0",
            "9lives",
            ".",
            "..",
            "...",
            "_",
            "-",
            "--",
            "a--b",
            "a-b",
            "a.b",
            "a_b",
            "a..b",
            "-alice",
            "alice-",
            "alice.",
            "x".repeat(60),
            "x".repeat(61),
            "x".repeat(63),
            "X".repeat(63),
            "a".repeat(62) + ".",
            "alice--0123456789",
            "alice-0123456789",
            "u--0123456789",
            "admin",
            "sqlflow-playground-carol",
            "Ünicode".replace("Ü", "U"),
            "db-alice",
            "heartbeats-00");

    @Test
    void plainLowercaseIdsKeepTheirName() {
        assertThat(UserKey.of("alice").key()).isEqualTo("alice");
        assertThat(UserKey.of("alice").resourceName()).isEqualTo("db-alice");
        assertThat(UserKey.of("bob-2").key()).isEqualTo("bob-2");
    }

    @Test
    void lossyIdsGetAHashSuffixThatSeparatesThem() {
        UserKey lower = UserKey.of("alice");
        UserKey upper = UserKey.of("Alice");
        UserKey shout = UserKey.of("ALICE");
        assertThat(upper.key()).startsWith("alice--").isNotEqualTo(lower.key());
        assertThat(shout.key()).startsWith("alice--").isNotEqualTo(upper.key());
    }

    @Test
    void aLosslessIdCanNeverLookLikeAHashedOne() {
        // "alice--<hash>" as a literal id is itself hashed, so it cannot take Alice's name.
        String hashedName = UserKey.of("Alice").key();
        assertThat(UserKey.of(hashedName).key()).isNotEqualTo(hashedName);
    }

    @Test
    void reservedConfigMapKeysAreNeverProduced() {
        assertThat(UserKey.of(".").key()).isNotIn(".", "..");
        assertThat(UserKey.of("..").key()).isNotIn(".", "..");
        assertThat(UserKey.of(".").key()).isNotEqualTo(UserKey.of("..").key());
    }

    @Test
    void everyDerivedNameIsValidAndDistinct() {
        Map<String, String> seen = new HashMap<>();
        for (String id : AWKWARD_IDS) {
            UserKey key = UserKey.of(id);
            assertThat(key.resourceName()).as(id).matches(DNS_1035).hasSizeLessThanOrEqualTo(63);
            assertThat(key.key()).as(id).matches(CONFIG_MAP_KEY).hasSizeLessThanOrEqualTo(63);
            String before = seen.put(key.key(), id);
            assertThat(before).as("%s and %s share %s", before, id, key.key()).isNull();
        }
    }

    @Test
    void derivationIsDeterministic() {
        for (String id : AWKWARD_IDS) {
            assertThat(UserKey.of(id)).isEqualTo(UserKey.of(id));
        }
    }

    @Test
    void invalidIdsAreRejected() {
        for (String bad : List.of("", "x".repeat(64), "a b", "a/b", "a@b", "ä", "a\nb")) {
            assertThat(UserKey.isValidUserId(bad)).as(bad).isFalse();
            assertThatThrownBy(() -> UserKey.of(bad)).isInstanceOf(IllegalArgumentException.class);
        }
        assertThat(UserKey.isValidUserId(null)).isFalse();
    }

    @Test
    void shardsAreStableAndSpread() {
        int shards = 32;
        int[] counts = new int[shards];
        Set<Integer> used = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            int s = UserKey.of("user" + i).shard(shards);
            assertThat(s).isEqualTo(UserKey.of("user" + i).shard(shards));
            counts[s]++;
            used.add(s);
        }
        assertThat(used).hasSize(shards);
        for (int c : counts) {
            // 10,000 / 32 = 312.5 on average; a good hash stays well within a factor of 1.5.
            assertThat(c).isBetween(200, 450);
        }
    }
}
