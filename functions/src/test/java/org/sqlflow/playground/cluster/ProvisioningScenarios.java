package org.sqlflow.playground.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.sqlflow.playground.testing.Waits.await;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.sqlflow.playground.error.PlaygroundException;
import org.sqlflow.playground.testing.ClusterScenarios;
import org.sqlflow.playground.testing.PlaygroundParts;
import org.sqlflow.playground.testing.SqlflowDataSource;
import org.sqlflow.playground.testing.TestSettings;

/**
 * Create-or-get and heartbeats against a Kubernetes API. The fast tier runs these on fabric8's mock server;
 * the real-API tier runs the very same scenarios on a real API server under the shipped Role.
 */
public abstract class ProvisioningScenarios extends ClusterScenarios {

    /**
     * create_db's wait where a stand-in kubelet reports the database Ready: about the longest the configuration
     * allows (the SQLFlow client gives up at 20 s). It only bounds how long a busy machine's controllers may take to make
     * the pod and carry its readiness into the Deployment; the scenarios that test the wait running out set their
     * own short one.
     */
    static final Duration STARTS_WITHIN = Duration.ofSeconds(19);
    /** How long the stand-in kubelet waits for a user's Deployment to appear. */
    private static final Duration KUBELET_WAIT = Duration.ofSeconds(180);

    protected PlaygroundParts playground(Duration readyWait, int maxDatabases) {
        return playground(cluster.database(readyWait, maxDatabases));
    }

    /** Stands in for the kubelet: once a user's Deployment exists, reports it ready. Stops when the test ends. */
    protected void kubeletFor(String... users) {
        ExecutorService kubelet = Executors.newFixedThreadPool(users.length);
        closeAfterTest((AutoCloseable) kubelet::shutdownNow);
        for (String user : users) {
            String name = UserKey.of(user).resourceName();
            kubelet.execute(() -> {
                await("the Deployment " + name + " to appear", KUBELET_WAIT)
                        .until(() -> cluster.admin()
                                        .apps()
                                        .deployments()
                                        .inNamespace(cluster.namespace())
                                        .withName(name)
                                        .get()
                                != null);
                cluster.markDatabaseReady(name);
            });
        }
    }

    /** heart_beat answers from its own watch (another instance in the cluster): until it sees the database. */
    protected static void awaitHeartBeatSees(PlaygroundParts p, UserKey user) {
        await("heart_beat's watch to see " + user.resourceName()).until(() -> p.beatDirectory.cached(user) != null);
    }

    protected <T extends HasMetadata> List<T> owned(Class<T> kind, String user) {
        Map<String, String> selector =
                Map.of(PlaygroundLabels.USER, UserKey.of(user).key());
        return cluster.admin()
                .resources(kind)
                .inNamespace(cluster.namespace())
                .withLabels(selector)
                .list()
                .getItems();
    }

    @Test
    void createMakesOneLabelledOwnedDatabaseAndIsIdempotent() {
        PlaygroundParts p = playground(STARTS_WITHIN, 100);
        kubeletFor("alice");
        DatabaseProvisioner.Provisioned first = p.provisioner.createOrGet(UserKey.of("alice"));
        DatabaseProvisioner.Provisioned again = p.provisioner.createOrGet(UserKey.of("alice"));
        assertThat(first.created()).isTrue();
        assertThat(again.created()).isFalse();
        assertThat(again.dataSource()).isEqualTo(first.dataSource());
        SqlflowDataSource ds = SqlflowDataSource.parse(first.dataSource());
        assertThat(ds.password()).hasSizeGreaterThanOrEqualTo(22).matches("\\w+");

        Deployment root = p.roots.get(UserKey.of("alice"));
        for (Class<? extends HasMetadata> kind : List.of(
                Deployment.class,
                io.fabric8.kubernetes.api.model.Secret.class,
                io.fabric8.kubernetes.api.model.Service.class)) {
            List<? extends HasMetadata> items = owned(kind, "alice");
            assertThat(items).as(kind.getSimpleName()).hasSize(1);
            HasMetadata item = items.get(0);
            assertThat(item.getMetadata().getLabels())
                    .containsEntry(PlaygroundLabels.MANAGED_BY, "sqlflow-playground")
                    .containsEntry(PlaygroundLabels.PART_OF, "sqlflow-playground");
            assertThat(item.getMetadata().getAnnotations()).containsEntry(PlaygroundLabels.USER_ID, "alice");
            if (!(item instanceof Deployment)) {
                assertThat(item.getMetadata().getOwnerReferences())
                        .singleElement()
                        .satisfies(ref -> assertThat(ref.getUid())
                                .isEqualTo(root.getMetadata().getUid()));
            }
        }
    }

    @Test
    void concurrentCreatesForOneUserConvergeOnOneDatabase() throws Exception {
        PlaygroundParts p = playground(STARTS_WITHIN, 100);
        kubeletFor("racer");
        ExecutorService pool = Executors.newFixedThreadPool(32);
        Set<String> sources = new HashSet<>();
        try {
            List<Callable<String>> calls = new ArrayList<>();
            for (int i = 0; i < 32; i++) {
                calls.add(() -> p.provisioner.createOrGet(UserKey.of("racer")).dataSource());
            }
            for (Future<String> f : pool.invokeAll(calls)) {
                sources.add(f.get());
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(sources).hasSize(1);
        assertThat(owned(Deployment.class, "racer")).hasSize(1);
        assertThat(owned(io.fabric8.kubernetes.api.model.Secret.class, "racer")).hasSize(1);
        assertThat(owned(io.fabric8.kubernetes.api.model.Service.class, "racer"))
                .hasSize(1);
    }

    @Test
    void aFullPlaygroundTurnsNewUsersAwayButServesExistingOnes() {
        PlaygroundParts p = playground(STARTS_WITHIN, 2);
        kubeletFor("u1", "u2");
        p.provisioner.createOrGet(UserKey.of("u1"));
        p.provisioner.createOrGet(UserKey.of("u2"));
        await("the directory sees both databases").until(() -> p.directory.databaseCount() == 2);
        assertThatThrownBy(() -> p.provisioner.createOrGet(UserKey.of("u3")))
                .isInstanceOfSatisfying(PlaygroundException.class, e -> {
                    assertThat(e.status()).isEqualTo(503);
                    assertThat(e.code()).isEqualTo("playground_full");
                    assertThat(e.retryAfter(Duration.ofSeconds(5))).isEqualTo(Duration.ofMinutes(1));
                });
        assertThat(p.roots.get(UserKey.of("u3"))).isNull();
        assertThat(p.provisioner.createOrGet(UserKey.of("u1")).created()).isFalse();
    }

    @Test
    void aCreateThatCrashedAfterTheRootIsFinishedByTheNextCall() {
        PlaygroundParts p = playground(STARTS_WITHIN, 100);
        UserKey user = UserKey.of("crashed");
        // What a create_db that died right after its first write leaves behind.
        cluster.client()
                .apps()
                .deployments()
                .inNamespace(cluster.namespace())
                .resource(p.objects.root(user))
                .create();
        assertThat(owned(io.fabric8.kubernetes.api.model.Secret.class, "crashed"))
                .isEmpty();
        kubeletFor("crashed");
        DatabaseProvisioner.Provisioned repaired = p.provisioner.createOrGet(user);
        assertThat(repaired.created()).isFalse();
        assertThat(owned(io.fabric8.kubernetes.api.model.Secret.class, "crashed"))
                .hasSize(1);
        assertThat(owned(io.fabric8.kubernetes.api.model.Service.class, "crashed"))
                .hasSize(1);
        assertThat(p.provisioner.createOrGet(user).dataSource()).isEqualTo(repaired.dataSource());
    }

    @Test
    void aNotReadyDatabaseIsA503ThatTheNextCallResumes() {
        PlaygroundParts p = playground(Duration.ofMillis(300), 100);
        UserKey user = UserKey.of("slow");
        assertThatThrownBy(() -> p.provisioner.createOrGet(user))
                .isInstanceOfSatisfying(PlaygroundException.class, e -> {
                    assertThat(e.status()).isEqualTo(503);
                    assertThat(e.code()).isEqualTo("database_starting");
                    assertThat(e.getMessage()).contains("re-run the cell");
                });
        String uid = p.roots.get(user).getMetadata().getUid();
        cluster.markDatabaseReady(user.resourceName());
        await("the database reports ready").until(() -> DatabaseRoot.isReady(p.roots.get(user)));
        DatabaseProvisioner.Provisioned resumed = p.provisioner.createOrGet(user);
        assertThat(resumed.created()).isFalse();
        assertThat(p.roots.get(user).getMetadata().getUid()).isEqualTo(uid);
    }

    @Test
    void anIdWhoseKeyCollidesWithAnotherUsersDatabaseIsRefused() {
        PlaygroundParts p = playground(Duration.ofSeconds(1), 100);
        UserKey alice = UserKey.of("alice");
        Deployment forged = p.objects.root(alice);
        forged.getMetadata().getAnnotations().put(PlaygroundLabels.USER_ID, "someone-else");
        cluster.client()
                .apps()
                .deployments()
                .inNamespace(cluster.namespace())
                .resource(forged)
                .create();
        assertThatThrownBy(() -> p.provisioner.createOrGet(alice))
                .isInstanceOfSatisfying(
                        PlaygroundException.class, e -> assertThat(e.code()).isEqualTo("user_id_conflict"));
        // heart_beat answers from the watch-fed cache, which sees the forged root a moment after its creation.
        await("heart_beat's cache shows the forged root").until(() -> p.beatDirectory.cached(alice) != null);
        assertThatThrownBy(() -> p.recorder.beat(alice))
                .isInstanceOfSatisfying(
                        PlaygroundException.class, e -> assertThat(e.code()).isEqualTo("user_id_conflict"));
        assertThat(owned(io.fabric8.kubernetes.api.model.Secret.class, "alice")).isEmpty();
    }

    @Test
    void beatsAreStoredOnlyForUsersWithADatabase() {
        PlaygroundParts p = playground(STARTS_WITHIN, 100);
        assertThat(p.recorder.beat(UserKey.of("ghost")).database()).isEqualTo(HeartbeatRecorder.DatabaseState.NONE);
        assertThat(p.ledger.lastBeat(UserKey.of("ghost"))).isNull();

        kubeletFor("beater");
        p.provisioner.createOrGet(UserKey.of("beater"));
        awaitHeartBeatSees(p, UserKey.of("beater"));
        clock.advance(Duration.ofMinutes(10));
        HeartbeatRecorder.Beat beat = p.recorder.beat(UserKey.of("beater"));
        assertThat(beat.database()).isEqualTo(HeartbeatRecorder.DatabaseState.READY);
        Instant stored = p.ledger.lastBeat(UserKey.of("beater"));
        assertThat(stored).isEqualTo(clock.instant().truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
        assertThat(beat.expiresAt()).isEqualTo(stored.plus(Duration.ofMinutes(30)));
    }

    @Test
    void beatsInsideThePrecisionWindowNeedNoWrite() {
        PlaygroundParts p = playground(STARTS_WITHIN, 100);
        kubeletFor("steady");
        p.provisioner.createOrGet(UserKey.of("steady"));
        awaitHeartBeatSees(p, UserKey.of("steady"));
        // The window is per instance: heart_beat's own first beat is what its later beats compare with (create_db
        // runs in another instance, as in the cluster).
        p.recorder.beat(UserKey.of("steady"));
        Instant first = p.ledger.lastBeat(UserKey.of("steady"));
        clock.advance(Duration.ofSeconds(30));
        p.recorder.beat(UserKey.of("steady"));
        assertThat(p.ledger.lastBeat(UserKey.of("steady")))
                .as("within 60 s: not rewritten")
                .isEqualTo(first);
        clock.advance(Duration.ofSeconds(31));
        p.recorder.beat(UserKey.of("steady"));
        assertThat(p.ledger.lastBeat(UserKey.of("steady"))).isAfter(first);
    }

    @Test
    void aBeatTakesBackTheReapersCondemnation() {
        PlaygroundParts p = playground(STARTS_WITHIN, 100);
        kubeletFor("saved");
        UserKey user = UserKey.of("saved");
        p.provisioner.createOrGet(user);
        Deployment root = p.roots.get(user);
        root.getMetadata()
                .getAnnotations()
                .put(PlaygroundLabels.REAPING, clock.instant().toString());
        Deployment condemned = cluster.client()
                .apps()
                .deployments()
                .inNamespace(cluster.namespace())
                .resource(root)
                .update();
        p.recorder.forget(user);
        await("heart_beat's watch to see the condemnation")
                .until(() -> p.beatDirectory.cached(user) != null
                        && DatabaseRoot.of(p.beatDirectory.cached(user)).isCondemned());
        assertThat(p.recorder.beat(user).database()).isNotEqualTo(HeartbeatRecorder.DatabaseState.NONE);
        Deployment after = p.roots.get(user);
        assertThat(after.getMetadata().getAnnotations()).doesNotContainKey(PlaygroundLabels.REAPING);
        assertThat(after.getMetadata().getResourceVersion())
                .as("the reaper's delete, conditioned on the condemned version, can no longer succeed")
                .isNotEqualTo(condemned.getMetadata().getResourceVersion());
    }

    @Test
    void volumeClaimStorageIsMadeOnceOwnedByTheRootAndFinishedAfterACrash() {
        PlaygroundParts p = playground(TestSettings.withVolumeClaims(cluster.database(STARTS_WITHIN, 100)));
        kubeletFor("keeper", "halfway");

        UserKey keeper = UserKey.of("keeper");
        p.provisioner.createOrGet(keeper);
        Deployment root = p.roots.get(keeper);
        assertThat(owned(PersistentVolumeClaim.class, "keeper")).singleElement().satisfies(claim -> {
            assertThat(claim.getMetadata().getName()).isEqualTo(keeper.resourceName());
            assertThat(claim.getMetadata().getOwnerReferences())
                    .singleElement()
                    .satisfies(ref -> assertThat(ref.getUid())
                            .isEqualTo(root.getMetadata().getUid()));
        });
        assertThat(root.getSpec().getTemplate().getSpec().getVolumes())
                .anySatisfy(v ->
                        assertThat(v.getPersistentVolumeClaim().getClaimName()).isEqualTo(keeper.resourceName()));

        // What a create_db that died right after making the claim leaves behind: the root and its claim.
        UserKey halfway = UserKey.of("halfway");
        Deployment halfRoot = cluster.client()
                .apps()
                .deployments()
                .inNamespace(cluster.namespace())
                .resource(p.objects.root(halfway))
                .create();
        String claimUid = cluster.client()
                .persistentVolumeClaims()
                .inNamespace(cluster.namespace())
                .resource(p.objects.volumeClaim(halfway, halfRoot))
                .create()
                .getMetadata()
                .getUid();
        DatabaseProvisioner.Provisioned finished = p.provisioner.createOrGet(halfway);
        assertThat(finished.created()).isFalse();
        assertThat(owned(PersistentVolumeClaim.class, "halfway"))
                .singleElement()
                .satisfies(claim -> assertThat(claim.getMetadata().getUid())
                        .as("the claim is kept, not remade")
                        .isEqualTo(claimUid));
        assertThat(owned(io.fabric8.kubernetes.api.model.Secret.class, "halfway"))
                .hasSize(1);
    }

    @Test
    void deletingTheRootDeletesEverythingItOwns() {
        assumeTrue(cluster.hasGarbageCollector(), "needs a real controller manager's garbage collector");
        PlaygroundParts p = playground(STARTS_WITHIN, 100);
        kubeletFor("gc");
        p.provisioner.createOrGet(UserKey.of("gc"));
        cluster.admin()
                .apps()
                .deployments()
                .inNamespace(cluster.namespace())
                .withName(UserKey.of("gc").resourceName())
                .delete();
        await("the garbage collector removed the Secret and Service")
                .until(() -> owned(io.fabric8.kubernetes.api.model.Secret.class, "gc")
                                .isEmpty()
                        && owned(io.fabric8.kubernetes.api.model.Service.class, "gc")
                                .isEmpty());
    }

    @Test
    void aSecretLeftByAReapedDatabaseIsNotReused() {
        PlaygroundParts p = playground(STARTS_WITHIN, 100);
        UserKey user = UserKey.of("reborn");
        Deployment stand = new io.fabric8.kubernetes.api.model.apps.DeploymentBuilder(p.objects.root(user)).build();
        stand.getMetadata().setUid("00000000-0000-0000-0000-000000000000");
        stand.setApiVersion("apps/v1");
        stand.setKind("Deployment");
        String stale = "StaleOldPassword0123456789abcdef";
        cluster.admin()
                .secrets()
                .inNamespace(cluster.namespace())
                .resource(p.objects.secret(user, stand, stale))
                .create();
        kubeletFor("reborn");
        if (!cluster.hasGarbageCollector()) {
            // create_db deletes nothing: it answers database_deleting until the cluster has removed the old Secret.
            assertThatThrownBy(() -> p.provisioner.createOrGet(user))
                    .isInstanceOfSatisfying(
                            PlaygroundException.class, e -> assertThat(e.code()).isEqualTo("database_deleting"));
            assertThat(owned(io.fabric8.kubernetes.api.model.Secret.class, "reborn"))
                    .singleElement()
                    .satisfies(s -> assertThat(s.getMetadata().getOwnerReferences())
                            .singleElement()
                            .satisfies(ref -> assertThat(ref.getUid())
                                    .isEqualTo(stand.getMetadata().getUid())));
            // No garbage collector runs here: do its part.
            cluster.admin()
                    .secrets()
                    .inNamespace(cluster.namespace())
                    .withName(user.resourceName())
                    .delete();
        }
        String password = await("create_db once the garbage collector removed the old Secret")
                .until(() -> passwordOrNullWhileDeleting(p, user), java.util.Objects::nonNull);
        assertThat(password).isNotEqualTo(stale);
        Deployment root = p.roots.get(user);
        assertThat(owned(io.fabric8.kubernetes.api.model.Secret.class, "reborn"))
                .singleElement()
                .satisfies(secret -> assertThat(secret.getMetadata().getOwnerReferences())
                        .singleElement()
                        .satisfies(ref -> assertThat(ref.getUid())
                                .isEqualTo(root.getMetadata().getUid())));
    }

    private static String passwordOrNullWhileDeleting(PlaygroundParts p, UserKey user) {
        try {
            return SqlflowDataSource.parse(p.provisioner.createOrGet(user).dataSource())
                    .password();
        } catch (PlaygroundException e) {
            if (!e.code().equals("database_deleting")) {
                throw e;
            }
            return null;
        }
    }

    @Test
    void aServiceLeftSelectingAnotherPodIsPointedAtTheUsersOwn() {
        PlaygroundParts p = playground(STARTS_WITHIN, 100);
        UserKey user = UserKey.of("moved");
        kubeletFor("moved");
        p.provisioner.createOrGet(user);
        Map<String, String> own = service(user).getSpec().getSelector();
        cluster.admin()
                .services()
                .inNamespace(cluster.namespace())
                .withName(user.resourceName())
                .edit(s -> new io.fabric8.kubernetes.api.model.ServiceBuilder(s)
                        .editSpec()
                        .withSelector(Map.of(
                                PlaygroundLabels.POOL,
                                "pool-gone",
                                PlaygroundLabels.COMPONENT,
                                PlaygroundLabels.COMPONENT_DATABASE))
                        .endSpec()
                        .build());
        assertThat(service(user).getSpec().getSelector()).isNotEqualTo(own);
        p.provisioner.createOrGet(user);
        assertThat(service(user).getSpec().getSelector())
                .isEqualTo(own)
                .containsEntry(PlaygroundLabels.USER, user.key());
    }

    private io.fabric8.kubernetes.api.model.Service service(UserKey user) {
        return cluster.admin()
                .services()
                .inNamespace(cluster.namespace())
                .withName(user.resourceName())
                .get();
    }

    @Test
    void anUnreadableHeartbeatEntryCanBeRemoved() {
        PlaygroundParts p = playground(STARTS_WITHIN, 100);
        UserKey user = UserKey.of("scribble");
        int shard = p.ledger.shardOf(user);
        cluster.client()
                .configMaps()
                .inNamespace(cluster.namespace())
                .resource(new io.fabric8.kubernetes.api.model.ConfigMapBuilder()
                        .withNewMetadata()
                        .withName(p.ledger.shardName(shard))
                        .withLabels(PlaygroundLabels.heartbeats())
                        .endMetadata()
                        .withData(Map.of(user.key(), "not a time"))
                        .build())
                .create();
        Map<String, Instant> seen = p.ledger.read(shard);
        assertThat(seen).containsEntry(user.key(), Instant.EPOCH);
        assertThat(p.ledger.removeIfUnchanged(shard, new HashMap<>(Map.of(user.key(), Instant.EPOCH))))
                .isEqualTo(1);
        assertThat(p.ledger.read(shard)).doesNotContainKey(user.key());
    }
}
