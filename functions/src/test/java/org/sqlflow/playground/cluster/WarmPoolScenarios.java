package org.sqlflow.playground.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.sqlflow.playground.testing.Waits.await;

import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.sqlflow.playground.error.PlaygroundException;
import org.sqlflow.playground.reaper.ReapReport;
import org.sqlflow.playground.reaper.Reaper;
import org.sqlflow.playground.settings.PlaygroundProperties;
import org.sqlflow.playground.testing.ClusterScenarios;
import org.sqlflow.playground.testing.PlaygroundParts;
import org.sqlflow.playground.testing.SqlflowDataSource;
import org.sqlflow.playground.testing.TestSettings;
import org.sqlflow.playground.testing.Waits;

/**
 * The warm pool against a Kubernetes API: claims racing claims, refills and the reaper; a pool of 0; a full
 * playground; a broken pooled database. The fast tier runs these on the mock server (with delete preconditions
 * honoured), the real-API tier on a real API server under the shipped Role, with real controllers and garbage
 * collector. Here nothing runs pods: a test plays the kubelet for the pooled databases it wants Ready.
 */
public abstract class WarmPoolScenarios extends ClusterScenarios {

    private static final Duration TTL = Duration.ofMinutes(30);
    private static final Duration BROKEN_AFTER = Duration.ofMinutes(10);

    // ---------------------------------------------------------------- claims

    @Test
    void aNewUserClaimsAReadyPooledDatabaseAtOnce() {
        PlaygroundParts p = playground(2, 100);
        fill(p);

        // A zero ready-wait: anything but a Ready database would be a 503.
        DatabaseProvisioner.Provisioned alice = p.provisioner.createOrGet(UserKey.of("alice"));

        Deployment root = root("alice");
        String pooled = DatabaseRoot.of(root).claims();
        assertThat(pooled).as("the root names the pooled database it claimed").startsWith("pool-");
        assertThat(root.getSpec().getReplicas())
                .as("a claiming root runs no pod of its own")
                .isZero();
        Deployment claimed = deployment(pooled);
        assertThat(claimed.getMetadata().getLabels())
                .containsEntry(PlaygroundLabels.POOL_STATE, PlaygroundLabels.POOL_CLAIMED);
        assertThat(claimed.getMetadata().getOwnerReferences())
                .singleElement()
                .satisfies(ref ->
                        assertThat(ref.getUid()).isEqualTo(root.getMetadata().getUid()));
        SqlflowDataSource ds = SqlflowDataSource.parse(alice.dataSource());
        assertThat(ds.password()).as("the pooled database's own password").isEqualTo(passwordOf(pooled));
        assertThat(ds.host()).startsWith(UserKey.of("alice").resourceName() + ".");
        Service service = cluster.admin()
                .services()
                .inNamespace(cluster.namespace())
                .withName(UserKey.of("alice").resourceName())
                .get();
        assertThat(service.getSpec().getSelector()).containsEntry(PlaygroundLabels.POOL, pooled);
        assertThat(p.meters.counter("playground.pool.claims").count()).isEqualTo(1.0);
        await("heart_beat's watch to see the claim")
                .until(() -> p.beatDirectory.cached(pooled) != null
                        && DatabaseRoot.of(p.beatDirectory.cached(
                                                root.getMetadata().getName()))
                                        .claims()
                                != null);
        assertThat(p.recorder.beat(UserKey.of("alice")).database())
                .as("the heartbeat reports the pooled database's readiness")
                .isEqualTo(HeartbeatRecorder.DatabaseState.READY);

        // The claim asked for a refill: the pool is back to its size, and the user keeps the same database.
        await("the background refill").until(() -> unclaimed().size() == 2);
        assertThat(p.provisioner.createOrGet(UserKey.of("alice")).dataSource()).isEqualTo(alice.dataSource());
        assertThat(p.meters.counter("playground.pool.claims").count()).isEqualTo(1.0);
        assertThat(claimedBy(root)).containsExactly(pooled);
    }

    @Test
    void aCreateDbCutShortAfterItsRootIsFinishedByTheNextCall() {
        PlaygroundParts p = playground(1, 100);
        String pooled = fill(p).get(0);
        // What a crash right after creating the root leaves: a root naming a pooled database it has not claimed.
        cluster.client()
                .apps()
                .deployments()
                .inNamespace(cluster.namespace())
                .resource(p.objects.claimingRoot(UserKey.of("gina"), pooled))
                .create();
        assertThat(DatabaseRoot.of(deployment(pooled)).isUnclaimed()).isTrue();

        DatabaseProvisioner.Provisioned gina = p.provisioner.createOrGet(UserKey.of("gina"));

        Deployment root = root("gina");
        assertThat(claimedBy(root)).containsExactly(pooled);
        assertThat(SqlflowDataSource.parse(gina.dataSource()).password()).isEqualTo(passwordOf(pooled));
        assertThat(gina.created()).as("the root was there already").isFalse();
    }

    @Test
    void claimsRacingEachOtherGiveAPooledDatabaseToExactlyOneUser() throws Exception {
        PlaygroundParts p = playground(1, 100);
        String only = fill(p).get(0);
        List<String> users = List.of("u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7");

        Map<String, Object> outcomes = race(
                users.stream()
                        .<Callable<Object>>map(u -> () -> {
                            try {
                                return p.provisioner.createOrGet(UserKey.of(u));
                            } catch (PlaygroundException e) {
                                return e.code();
                            }
                        })
                        .toList(),
                users);

        Deployment owner = null;
        for (String u : users) {
            Deployment root = root(u);
            assertThat(root).as("every user has a root").isNotNull();
            if (only.equals(DatabaseRoot.of(root).claims())) {
                assertThat(owner).as("one root names the pooled database").isNull();
                owner = root;
                assertThat(outcomes.get(u)).isInstanceOf(DatabaseProvisioner.Provisioned.class);
            } else {
                assertThat(DatabaseRoot.of(root).claims())
                        .as("the others became ordinary roots")
                        .isNull();
                assertThat(root.getSpec().getReplicas()).isEqualTo(1);
                assertThat(outcomes.get(u)).as("their own database is starting").isEqualTo("database_starting");
            }
        }
        assertThat(owner).isNotNull();
        String ownerUid = owner.getMetadata().getUid();
        assertThat(deployment(only).getMetadata().getOwnerReferences())
                .singleElement()
                .satisfies(ref -> assertThat(ref.getUid()).isEqualTo(ownerUid));
        assertThat(p.meters.counter("playground.pool.claims").count()).isEqualTo(1.0);
        assertThat(p.meters.counter("playground.pool.misses").count()).isEqualTo(users.size() - 1.0);
    }

    @Test
    void oneUserRacingThemselvesGetsOneDatabase() throws Exception {
        PlaygroundParts p = playground(2, 100);
        fill(p);
        List<String> calls = List.of("c0", "c1", "c2", "c3", "c4", "c5");

        Map<String, Object> outcomes = race(
                calls.stream()
                        .<Callable<Object>>map(c -> () ->
                                p.provisioner.createOrGet(UserKey.of("bob")).dataSource())
                        .toList(),
                calls);

        assertThat(new HashSet<>(outcomes.values()))
                .as("one data source, one password")
                .hasSize(1);
        Deployment root = root("bob");
        assertThat(claimedBy(root))
                .as("one pooled database for bob")
                .containsExactly(DatabaseRoot.of(root).claims());
        assertThat(p.meters.counter("playground.pool.claims").count()).isEqualTo(1.0);
    }

    @Test
    void claimsRacingRefillsOfSeveralInstancesSettleAtThePoolSize() throws Exception {
        PlaygroundParts p = playground(2, 100);
        fill(p);
        // A second server instance, refilling the same pool from its own process.
        WarmPool other = pool(p, 2, 100);
        List<String> users = List.of("r0", "r1", "r2", "r3");
        List<Callable<Object>> work = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (String u : users) {
            work.add(() -> {
                try {
                    return p.provisioner.createOrGet(UserKey.of(u));
                } catch (PlaygroundException e) {
                    return e.code();
                }
            });
            names.add(u);
            work.add(() -> other.upkeep(false));
            names.add("refill-" + u);
        }

        race(work, names);
        markAllPooledReady();

        for (Deployment d : pooledDeployments()) {
            assertThat(
                            d.getMetadata().getOwnerReferences() == null
                                    ? List.of()
                                    : d.getMetadata().getOwnerReferences())
                    .as("at most one owner for %s", d.getMetadata().getName())
                    .hasSizeLessThanOrEqualTo(1);
        }
        for (String u : users) {
            Deployment root = root(u);
            assertThat(claimedBy(root))
                    .as("at most one pooled database for %s", u)
                    .hasSizeLessThanOrEqualTo(1);
            if (DatabaseRoot.of(root).claims() != null) {
                assertThat(claimedBy(root))
                        .containsExactly(DatabaseRoot.of(root).claims());
            }
        }
        // Two instances may overshoot between them; the reaper's upkeep trims the pool back to its size.
        ReapReport report = reaper(p).sweep(false);
        assertThat(report.pool().size()).isEqualTo(2);
        assertThat(unclaimed()).hasSize(2);
    }

    // ---------------------------------------------------------------- the reaper

    @Test
    void theReaperNeverReapsUnclaimedDatabasesAndTakesAClaimedOneWithItsUser() {
        PlaygroundParts p = playground(1, 100);
        String pooled = fill(p).get(0);
        p.provisioner.createOrGet(UserKey.of("carol"));
        await("the background refill").until(() -> unclaimed().size() == 1);
        String spare = unclaimed().get(0).getMetadata().getName();
        cluster.markDatabaseReady(spare);

        clock.advance(TTL.plus(Duration.ofMinutes(1)));
        ReapReport report = reaper(p).sweep(false);

        assertThat(report.reaped()).extracting(ReapReport.UserOutcome::userId).containsExactly("carol");
        assertThat(report.counts().examined())
                .as("pooled databases are no user's")
                .isEqualTo(1);
        assertThat(report.pool().ready()).isEqualTo(1);
        await("carol's pooled database to go with her").until(() -> deploymentOrNull(pooled) == null);
        await("its Secret to go with it").until(() -> secretOrNull(pooled) == null);
        assertThat(deploymentOrNull(spare))
                .as("the unclaimed one stays, however old")
                .isNotNull();
    }

    @Test
    void aClaimRacingTheReaperKeepsTheClaimedDatabase() throws Exception {
        PlaygroundParts p = playground(3, 100);
        fill(p);
        clock.advance(BROKEN_AFTER.plus(Duration.ofMinutes(1)));
        Reaper reaper = reaper(p);
        List<String> users = List.of("d0", "d1", "d2");
        List<Callable<Object>> work = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (String u : users) {
            work.add(() -> p.provisioner.createOrGet(UserKey.of(u)).dataSource());
            names.add(u);
            work.add(() -> reaper.sweep(false));
            names.add("sweep-" + u);
        }

        Map<String, Object> outcomes = race(work, names);

        for (String u : users) {
            Deployment root = root(u);
            String pooled = DatabaseRoot.of(root).claims();
            assertThat(pooled).as("%s claimed a pooled database", u).isNotNull();
            Deployment claimed = deployment(pooled);
            assertThat(claimed.getMetadata().getDeletionTimestamp())
                    .as("%s's database is not deleted", u)
                    .isNull();
            assertThat(SqlflowDataSource.parse((String) outcomes.get(u)).password())
                    .isEqualTo(passwordOf(pooled));
        }
    }

    @Test
    void aBrokenPooledDatabaseIsReplaced() {
        PlaygroundParts p = playground(1, 100);
        p.pool.upkeep(false);
        String broken = unclaimed().get(0).getMetadata().getName();
        // Never Ready (an image that cannot be pulled): within brokenAfter it stays, after it it is replaced.
        clock.advance(BROKEN_AFTER.minus(Duration.ofMinutes(1)));
        ReapReport early = reaper(p).sweep(false);
        assertThat(early.pool().replaced()).isZero();
        assertThat(deploymentOrNull(broken)).isNotNull();

        clock.advance(Duration.ofMinutes(2));
        ReapReport late = reaper(p).sweep(false);

        assertThat(late.pool().replaced()).isEqualTo(1);
        assertThat(late.pool().created()).isEqualTo(1);
        await("the broken pooled database to go").until(() -> deploymentOrNull(broken) == null);
        assertThat(unclaimed())
                .singleElement()
                .satisfies(d -> assertThat(d.getMetadata().getName()).isNotEqualTo(broken));
        assertThat(p.meters.counter("playground.pool.replaced").count()).isEqualTo(1.0);
    }

    // ---------------------------------------------------------------- sizes

    @Test
    void aPoolOfZeroMakesNoPooledDatabases() {
        PlaygroundParts p = playground(0, 100);
        assertThat(p.pool.upkeep(true).created()).isZero();

        assertThatThrownBy(() -> p.provisioner.createOrGet(UserKey.of("erin")))
                .isInstanceOfSatisfying(
                        PlaygroundException.class, e -> assertThat(e.code()).isEqualTo("database_starting"));
        ReapReport report = reaper(p).sweep(false);

        Deployment root = root("erin");
        assertThat(DatabaseRoot.of(root).claims()).isNull();
        assertThat(root.getSpec().getReplicas()).isEqualTo(1);
        assertThat(pooledDeployments()).isEmpty();
        assertThat(report.pool().size()).isZero();
        assertThat(report.pool().created()).isZero();
        assertThat(p.meters.counter("playground.pool.misses").count())
                .as("no pool, no misses")
                .isZero();
    }

    @Test
    void aFullPlaygroundIsNeverOverfilledByThePool() {
        PlaygroundParts p = playground(2, 3);
        fill(p);

        p.provisioner.createOrGet(UserKey.of("f1"));
        await("the refill to the playground's maximum")
                .until(() -> pooledDeployments().size() == 3);
        markAllPooledReady();
        p.provisioner.createOrGet(UserKey.of("f2"));
        // At the maximum: the claim's refill makes nothing, and a third new user finds the playground full.
        assertThat(p.pool.upkeep(false).created()).isZero();
        awaitCandidates(p, 1);
        p.provisioner.createOrGet(UserKey.of("f3"));
        assertThat(p.pool.upkeep(false).created()).isZero();
        awaitCached(p, 6);

        assertThatThrownBy(() -> p.provisioner.createOrGet(UserKey.of("f4")))
                .isInstanceOfSatisfying(
                        PlaygroundException.class, e -> assertThat(e.code()).isEqualTo("playground_full"));
        assertThat(pooledDeployments()).hasSize(3);
        assertThat(root("f4")).isNull();
    }

    /**
     * With persistent storage, each pooled database gets its volume claim, whichever instance makes it: create_db's
     * as it starts, the reaper's when it replaces a broken one. The reaper's own Role must allow that (the
     * least-privilege check sees this scenario's requests).
     */
    @Test
    void aPersistentPoolGetsAVolumeClaimPerPooledDatabase() {
        PlaygroundProperties.Database persistent = TestSettings.withVolumeClaims(cluster.database(Duration.ZERO, 10));
        PlaygroundParts p = started(playground(persistent, Duration.ZERO, new WarmPool.Settings(1, BROKEN_AFTER)), 1);
        Deployment first = unclaimed().get(0);
        await("the claim of the pooled database create_db made").until(() -> volumeClaimOf(p, first) != null);

        // Never Ready: past brokenAfter the reaper replaces it, making the new pooled database and its claim.
        clock.advance(BROKEN_AFTER.plus(Duration.ofMinutes(1)));
        assertThat(reaper(p).sweep(false).pool().replaced()).isEqualTo(1);
        Deployment second = pooledDeployments().stream()
                .filter(d ->
                        !d.getMetadata().getName().equals(first.getMetadata().getName()))
                .findFirst()
                .orElseThrow();
        assertThat(volumeClaimOf(p, second))
                .as("the claim of the pooled database the reaper made")
                .isNotNull();
    }

    private PersistentVolumeClaim volumeClaimOf(PlaygroundParts p, Deployment pooled) {
        return cluster.admin()
                .persistentVolumeClaims()
                .inNamespace(cluster.namespace())
                .withName(p.objects.pooledVolumeClaim(pooled).getMetadata().getName())
                .get();
    }

    // ---------------------------------------------------------------- helpers

    private PlaygroundParts playground(int size, int maxDatabases) {
        return started(
                playground(
                        cluster.database(Duration.ZERO, maxDatabases),
                        Duration.ZERO,
                        new WarmPool.Settings(size, BROKEN_AFTER)),
                size);
    }

    /**
     * create_db's instance fills the pool as it starts, as in the cluster. A scenario begins once that fill is
     * done and the reaper's watch shows it: an upkeep of the scenario's racing it from another instance could
     * overshoot the pool's size, and the scenario would start from a pool it did not expect.
     */
    private PlaygroundParts started(PlaygroundParts p, int size) {
        if (size > 0) {
            await("create_db's fill of the pool at its start")
                    .until(() -> unclaimed().size() >= size
                            && unclaimed().stream()
                                    .allMatch(d -> secretOrNull(d.getMetadata().getName()) != null));
            awaitCached(p, size);
        }
        return p;
    }

    private WarmPool pool(PlaygroundParts p, int size, int maxDatabases) {
        return closeAfterTest(new WarmPool(
                cluster.client(),
                cluster.namespace(),
                p.objects,
                p.directory,
                clock,
                new WarmPool.Settings(size, BROKEN_AFTER),
                maxDatabases,
                new SimpleMeterRegistry()));
    }

    private Reaper reaper(PlaygroundParts p) {
        return closeAfterTest(new Reaper(
                cluster.client("reap_stale"),
                p.roots,
                p.ledger,
                p.expiry,
                p.pool,
                clock,
                new Reaper.Settings(false, 4, 500, Duration.ofSeconds(15), cluster.hasGarbageCollector()),
                p.meters));
    }

    /** Fills the pool, plays the kubelet for it, and waits until the server's watch offers every one as Ready. */
    private List<String> fill(PlaygroundParts p) {
        p.pool.upkeep(false);
        List<String> names = markAllPooledReady();
        awaitCandidates(p, names.size());
        return names;
    }

    private List<String> markAllPooledReady() {
        List<String> names = new ArrayList<>();
        for (Deployment d : unclaimed()) {
            if (!DatabaseRoot.isReady(d)) {
                cluster.markDatabaseReady(d.getMetadata().getName());
            }
            names.add(d.getMetadata().getName());
        }
        return names;
    }

    private void awaitCandidates(PlaygroundParts p, int n) {
        await(n + " Ready pooled databases in the watch")
                .until(() -> p.pool.candidates().size() >= n);
    }

    private void awaitCached(PlaygroundParts p, int n) {
        await(n + " database Deployments in the watch")
                .until(() -> p.directory.all().size() >= n);
    }

    private Map<String, Object> race(List<Callable<Object>> work, List<String> names) throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(work.size());
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Object>> futures = new ArrayList<>();
            for (Callable<Object> c : work) {
                futures.add(threads.submit(() -> {
                    start.await();
                    return c.call();
                }));
            }
            start.countDown();
            Map<String, Object> out = new java.util.LinkedHashMap<>();
            for (int i = 0; i < futures.size(); i++) {
                out.put(names.get(i), futures.get(i).get(Waits.CLUSTER.toSeconds(), TimeUnit.SECONDS));
            }
            return out;
        } finally {
            threads.shutdownNow();
        }
    }

    private List<Deployment> pooledDeployments() {
        return cluster
                .admin()
                .apps()
                .deployments()
                .inNamespace(cluster.namespace())
                .withLabel(PlaygroundLabels.POOL)
                .list()
                .getItems()
                .stream()
                .filter(d -> d.getMetadata().getDeletionTimestamp() == null)
                .toList();
    }

    private List<Deployment> unclaimed() {
        return pooledDeployments().stream()
                .filter(d -> DatabaseRoot.of(d).isUnclaimed())
                .toList();
    }

    /** The pooled databases this root owns. */
    private List<String> claimedBy(Deployment root) {
        Set<String> out = new HashSet<>();
        for (Deployment d : pooledDeployments()) {
            if (d.getMetadata().getOwnerReferences() != null
                    && d.getMetadata().getOwnerReferences().stream()
                            .anyMatch(ref ->
                                    ref.getUid().equals(root.getMetadata().getUid()))) {
                out.add(d.getMetadata().getName());
            }
        }
        return List.copyOf(out);
    }

    private Deployment root(String userId) {
        return deploymentOrNull(UserKey.of(userId).resourceName());
    }

    private Deployment deployment(String name) {
        Deployment d = deploymentOrNull(name);
        assertThat(d).as("Deployment %s", name).isNotNull();
        return d;
    }

    private Deployment deploymentOrNull(String name) {
        Deployment d = cluster.admin()
                .apps()
                .deployments()
                .inNamespace(cluster.namespace())
                .withName(name)
                .get();
        return d == null || d.getMetadata().getDeletionTimestamp() != null ? null : d;
    }

    private Secret secretOrNull(String name) {
        Secret s = cluster.admin()
                .secrets()
                .inNamespace(cluster.namespace())
                .withName(name)
                .get();
        return s == null || s.getMetadata().getDeletionTimestamp() != null ? null : s;
    }

    private String passwordOf(String secretName) {
        Secret s = secretOrNull(secretName);
        assertThat(s).as("Secret %s", secretName).isNotNull();
        String encoded = s.getData() == null ? null : s.getData().get(DatabaseObjects.PASSWORD_KEY);
        return encoded != null
                ? new String(Base64.getDecoder().decode(encoded), StandardCharsets.UTF_8)
                : s.getStringData().get(DatabaseObjects.PASSWORD_KEY);
    }
}
