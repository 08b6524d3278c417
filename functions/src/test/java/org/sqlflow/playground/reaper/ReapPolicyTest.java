package org.sqlflow.playground.reaper;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.sqlflow.playground.cluster.DatabaseObjects;
import org.sqlflow.playground.cluster.DatabaseRoot;
import org.sqlflow.playground.cluster.ExpiryPolicy;
import org.sqlflow.playground.cluster.PlaygroundLabels;
import org.sqlflow.playground.cluster.UserKey;
import org.sqlflow.playground.reaper.ReapPolicy.Decision;
import org.sqlflow.playground.reaper.ReapPolicy.Verdict;
import org.sqlflow.playground.testing.PlaygroundParts;

/**
 * The reaper's decisions from roots, beats and the time alone: no API server. The roots are the Deployments
 * create_db and the warm pool make, with the creation time the API server would have stamped on them.
 */
class ReapPolicyTest {

    private static final Duration TTL = Duration.ofMinutes(30);
    private static final Duration ORPHAN_AGE = Duration.ofSeconds(15);
    private static final Duration SECOND = Duration.ofSeconds(1);
    private static final Instant CREATED = Instant.parse("2030-01-01T12:00:00Z");
    private static final DatabaseObjects OBJECTS = new DatabaseObjects(PlaygroundParts.database(ORPHAN_AGE, 10));
    private static final ReapPolicy POLICY = new ReapPolicy(new ExpiryPolicy(TTL, Duration.ZERO), ORPHAN_AGE);

    // ---------------------------------------------------------------- expiry

    @Test
    void theUserOwnsTheDatabaseUntilTheTtlAfterTheLastBeatAndNotASecondLonger() {
        Instant beat = CREATED.plus(Duration.ofMinutes(7));
        DatabaseRoot alice = root("alice");

        Decision atBoundary = POLICY.decide(alice, beats("alice", beat), beat.plus(TTL));
        assertThat(atBoundary.verdict()).isEqualTo(Verdict.ACTIVE);
        assertThat(atBoundary.lastActivity()).isEqualTo(beat);

        Decision after =
                POLICY.decide(alice, beats("alice", beat), beat.plus(TTL).plus(SECOND));
        assertThat(after.verdict()).isEqualTo(Verdict.CONDEMN);
        assertThat(after.user()).isEqualTo(UserKey.of("alice"));
        assertThat(after.lastActivity()).isEqualTo(beat);
        assertThat(after.reason()).isEqualTo("idle: last activity " + beat + ", expired " + beat.plus(TTL));
    }

    @Test
    void withoutABeatTheCreationIsTheLastActivity() {
        assertThat(POLICY.decide(root("bob"), Map.of(), CREATED.plus(TTL)).verdict())
                .isEqualTo(Verdict.ACTIVE);
        Decision expired =
                POLICY.decide(root("bob"), Map.of(), CREATED.plus(TTL).plus(SECOND));
        assertThat(expired.verdict()).isEqualTo(Verdict.CONDEMN);
        assertThat(expired.lastActivity()).isEqualTo(CREATED);
    }

    @Test
    void aBeatOlderThanTheDatabaseCountsForNothing() {
        // The entry of a reaped predecessor whose removal failed: the new database is as active as it is young.
        Decision d = POLICY.decide(
                root("carol"), beats("carol", CREATED.minus(Duration.ofHours(5))), CREATED.plus(Duration.ofMinutes(1)));
        assertThat(d.verdict()).isEqualTo(Verdict.ACTIVE);
        assertThat(d.lastActivity()).isEqualTo(CREATED);
    }

    @Test
    void clockSkewNeverExpiresADatabaseEarly() {
        // The API server's clock ahead of ours: created "in the future", a beat stored "in the future".
        Instant now = CREATED.minus(Duration.ofMinutes(5));
        Decision future = POLICY.decide(root("dan"), Map.of(), now);
        assertThat(future.verdict()).isEqualTo(Verdict.ACTIVE);
        assertThat(future.lastActivity()).isEqualTo(CREATED);

        Instant aheadBeat = CREATED.plus(TTL).plus(Duration.ofMinutes(2));
        assertThat(POLICY.decide(
                                root("dan"),
                                beats("dan", aheadBeat),
                                CREATED.plus(TTL).plus(SECOND))
                        .verdict())
                .isEqualTo(Verdict.ACTIVE);
    }

    @Test
    void aRootTheApiServerNeverStampedIsNeverExpired() {
        Deployment unstamped = OBJECTS.root(UserKey.of("eve"));
        assertThat(POLICY.decide(DatabaseRoot.of(unstamped), Map.of(), CREATED.plus(Duration.ofDays(365)))
                        .verdict())
                .isEqualTo(Verdict.ACTIVE);
    }

    @Test
    void aMaximumAgeEndsEvenAnActiveDatabase() {
        Duration maxAge = Duration.ofHours(2);
        ReapPolicy aged = new ReapPolicy(new ExpiryPolicy(TTL, maxAge), ORPHAN_AGE);
        Instant end = CREATED.plus(maxAge);
        Map<String, Instant> justBeat = beats("grace", end.minus(Duration.ofMinutes(1)));

        assertThat(aged.decide(root("grace"), justBeat, end).verdict()).isEqualTo(Verdict.ACTIVE);
        Decision over = aged.decide(root("grace"), justBeat, end.plus(SECOND));
        assertThat(over.verdict()).isEqualTo(Verdict.CONDEMN);
        assertThat(over.reason()).isEqualTo("max age: created " + CREATED + ", expired " + end);
        assertThat(POLICY.decide(root("grace"), justBeat, end.plus(SECOND)).verdict())
                .as("without a maximum age")
                .isEqualTo(Verdict.ACTIVE);

        // Idle before the maximum age: the reason says idle.
        Decision idle = aged.decide(root("grace"), Map.of(), CREATED.plus(TTL).plus(SECOND));
        assertThat(idle.reason()).startsWith("idle: last activity " + CREATED);
    }

    @Test
    void beatsAreFoundByTheUsersKeyNotTheirId() {
        String id = "Alice.Smith";
        UserKey key = UserKey.of(id);
        assertThat(key.key()).isNotEqualTo(id);
        Instant beat = CREATED.plus(Duration.ofMinutes(20));
        Instant now = CREATED.plus(TTL).plus(Duration.ofMinutes(1));
        List<Decision> decisions = POLICY.decide(List.of(root(id), root("zoe")), Map.of(key.key(), beat), now);
        assertThat(decisions).extracting(Decision::verdict).containsExactly(Verdict.ACTIVE, Verdict.CONDEMN);
        assertThat(decisions.get(0).lastActivity()).isEqualTo(beat);
    }

    @Test
    void theLatestBeatOverEveryShardCounts() {
        Instant older = CREATED.plus(Duration.ofMinutes(1));
        Instant newer = CREATED.plus(Duration.ofMinutes(9));
        assertThat(ReapPolicy.latestBeats(List.of(Map.of("amy", newer, "ben", older), Map.of("amy", older))))
                .isEqualTo(Map.of("amy", newer, "ben", older));
    }

    // ---------------------------------------------------------------- what is not reaped

    @Test
    void theKeepAnnotationKeepsAnExpiredDatabaseOnly() {
        Instant late = CREATED.plus(Duration.ofDays(3));
        Decision kept = POLICY.decide(root("show", annotate(PlaygroundLabels.KEEP, "TRUE")), Map.of(), late);
        assertThat(kept.verdict()).isEqualTo(Verdict.KEEP);
        assertThat(kept.reason()).isEqualTo("keep annotation " + PlaygroundLabels.KEEP + "=true");
        assertThat(kept.lastActivity()).isEqualTo(CREATED);
        assertThat(POLICY.decide(root("show", annotate(PlaygroundLabels.KEEP, "true")), Map.of(), CREATED.plus(SECOND))
                        .verdict())
                .as("while active it is simply active")
                .isEqualTo(Verdict.ACTIVE);
        assertThat(POLICY.decide(root("show", annotate(PlaygroundLabels.KEEP, "false")), Map.of(), late)
                        .verdict())
                .isEqualTo(Verdict.CONDEMN);
    }

    @Test
    void warmPoolDatabasesAndRootsBeingDeletedAreNotExamined() {
        Instant late = CREATED.plus(Duration.ofDays(3));
        DatabaseRoot unclaimed = stamped(OBJECTS.pooled("pool-abc12"));
        DatabaseRoot root = root("fay");
        DatabaseRoot claimed =
                DatabaseRoot.of(stamped(OBJECTS.pooled("pool-abc12")).claimedBy(root, root.user()));
        DatabaseRoot deleting = root("fay", d -> d.setDeletionTimestamp(late.toString()));
        for (DatabaseRoot r : List.of(unclaimed, claimed, deleting)) {
            Decision d = POLICY.decide(r, Map.of(), late);
            assertThat(d.verdict()).as(r.name()).isEqualTo(Verdict.IGNORE);
            assertThat(d.examined()).isFalse();
        }
        assertThat(POLICY.decide(root, Map.of(), late).examined()).isTrue();
    }

    @Test
    void aRootWhoseUserIdDoesNotMatchItsNameIsLeftAlone() {
        Instant late = CREATED.plus(Duration.ofDays(3));
        DatabaseRoot noId = root("hal", d -> d.getAnnotations().remove(PlaygroundLabels.USER_ID));
        DatabaseRoot otherId = root("hal", annotate(PlaygroundLabels.USER_ID, "ida"));
        DatabaseRoot invalid = root("hal", annotate(PlaygroundLabels.USER_ID, "not a user id"));
        for (DatabaseRoot r : List.of(noId, otherId, invalid)) {
            Decision d = POLICY.decide(r, Map.of(), late);
            assertThat(d.verdict()).isEqualTo(Verdict.UNOWNED);
            assertThat(d.user()).isNull();
            assertThat(d.reason()).isEqualTo("database db-hal has no user-id annotation matching its name; left alone");
        }
    }

    // ---------------------------------------------------------------- condemnations

    @Test
    void aCondemnedRootWhoseUserIsActiveIsTakenBackAndAnExpiredOneCondemnedAgain() {
        DatabaseRoot condemned = DatabaseRoot.of(root("ivy").condemned(CREATED.plus(TTL)));
        assertThat(condemned.isCondemned()).isTrue();
        Instant beat = CREATED.plus(TTL);
        assertThat(POLICY.decide(condemned, beats("ivy", beat), beat.plus(SECOND))
                        .verdict())
                .isEqualTo(Verdict.TAKE_BACK);
        assertThat(POLICY.decide(condemned, beats("ivy", beat), beat.plus(TTL).plus(SECOND))
                        .verdict())
                .isEqualTo(Verdict.CONDEMN);
    }

    @Test
    void aBeatStoredAfterTheListingSparesTheCondemnedRoot() {
        Instant listedBeat = CREATED.plus(Duration.ofMinutes(1));
        Instant now = listedBeat.plus(TTL).plus(Duration.ofMinutes(1));
        Decision condemnation = POLICY.decide(root("jon"), beats("jon", listedBeat), now);
        assertThat(condemnation.verdict()).isEqualTo(Verdict.CONDEMN);

        Instant fresh = now.minus(SECOND);
        Decision spared = POLICY.recheck(condemnation, fresh, now);
        assertThat(spared.verdict()).isEqualTo(Verdict.SPARE);
        assertThat(spared.reason()).isEqualTo("heartbeat arrived");
        assertThat(spared.lastActivity()).isEqualTo(fresh);

        for (Instant unchanged : new Instant[] {null, listedBeat}) {
            Decision delete = POLICY.recheck(condemnation, unchanged, now);
            assertThat(delete.verdict()).isEqualTo(Verdict.DELETE);
            assertThat(delete.reason()).isEqualTo(condemnation.reason());
            assertThat(delete.lastActivity()).isEqualTo(listedBeat);
            assertThat(delete.root()).isSameAs(condemnation.root());
        }
    }

    // ---------------------------------------------------------------- left-overs

    @Test
    void anObjectWithoutItsRootIsAnOrphanOnceOlderThanTheOrphanAge() {
        HasMetadata service = service("db-lost", CREATED, true);
        assertThat(POLICY.isOrphan(service, Set.of(), CREATED.plus(ORPHAN_AGE)))
                .as("create_db may be making it")
                .isFalse();
        assertThat(POLICY.isOrphan(service, Set.of(), CREATED.plus(ORPHAN_AGE).plus(SECOND)))
                .isTrue();

        Instant late = CREATED.plus(Duration.ofHours(1));
        assertThat(POLICY.isOrphan(service, Set.of("db-lost"), late))
                .as("it has a root")
                .isFalse();
        assertThat(POLICY.isOrphan(service("db-lost", CREATED, false), Set.of(), late))
                .as("not the playground's")
                .isFalse();
        assertThat(POLICY.isOrphan(service("db-lost", null, true), Set.of(), late))
                .as("never stored")
                .isFalse();
        HasMetadata going = service("db-lost", CREATED, true);
        going.getMetadata().setDeletionTimestamp(late.toString());
        assertThat(POLICY.isOrphan(going, Set.of(), late)).as("already going").isFalse();
    }

    @Test
    void aHeartbeatEntryWithoutADatabaseIsStaleOnceOlderThanTheTtl() {
        Instant beat = CREATED;
        Map<String, Instant> shard = Map.of("ghost", beat, "owner", beat, "newer", beat.plus(SECOND));
        assertThat(POLICY.staleEntries(shard, Set.of("db-owner"), beat.plus(TTL)))
                .isEmpty();
        assertThat(POLICY.staleEntries(shard, Set.of("db-owner"), beat.plus(TTL).plus(SECOND)))
                .isEqualTo(Map.of("ghost", beat));
    }

    // ---------------------------------------------------------------- helpers

    private static Map<String, Instant> beats(String userId, Instant at) {
        return Map.of(UserKey.of(userId).key(), at);
    }

    private static DatabaseRoot root(String userId) {
        return root(userId, meta -> {});
    }

    private static DatabaseRoot root(String userId, Consumer<ObjectMeta> change) {
        Deployment d = stamped(OBJECTS.root(UserKey.of(userId))).deployment();
        change.accept(d.getMetadata());
        return DatabaseRoot.of(d);
    }

    private static Consumer<ObjectMeta> annotate(String key, String value) {
        return meta -> meta.getAnnotations().put(key, value);
    }

    /** As the API server stores it: with a creation time and a uid. */
    private static DatabaseRoot stamped(Deployment d) {
        d.getMetadata().setCreationTimestamp(CREATED.toString());
        d.getMetadata().setUid("uid-" + d.getMetadata().getName());
        return DatabaseRoot.of(d);
    }

    private static HasMetadata service(String name, Instant created, boolean playgroundLabels) {
        UserKey user = UserKey.of(name.substring(UserKey.NAME_PREFIX.length()));
        return new ServiceBuilder()
                .withNewMetadata()
                .withName(name)
                .withLabels(playgroundLabels ? PlaygroundLabels.database(user) : Map.of("app", "other"))
                .withCreationTimestamp(created == null ? null : created.toString())
                .endMetadata()
                .build();
    }
}
