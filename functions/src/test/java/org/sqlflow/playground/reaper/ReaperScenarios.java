package org.sqlflow.playground.reaper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentConditionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.http.BasicBuilder;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.Interceptor;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.sqlflow.playground.error.PlaygroundException;
import org.sqlflow.playground.cluster.DatabaseDirectory;
import org.sqlflow.playground.cluster.DatabaseObjects;
import org.sqlflow.playground.cluster.DatabaseRoot;
import org.sqlflow.playground.cluster.DatabaseProvisioner;
import org.sqlflow.playground.cluster.DatabaseRoots;
import org.sqlflow.playground.cluster.ExpiryPolicy;
import org.sqlflow.playground.cluster.HeartbeatLedger;
import org.sqlflow.playground.cluster.HeartbeatRecorder;
import org.sqlflow.playground.cluster.PlaygroundLabels;
import org.sqlflow.playground.cluster.UserKey;
import org.sqlflow.playground.cluster.WarmPool;
import org.sqlflow.playground.settings.PlaygroundProperties;
import org.sqlflow.playground.testing.MutableClock;
import org.sqlflow.playground.testing.PlaygroundServiceAccount;
import org.sqlflow.playground.testing.TestCluster;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The reaper's scenarios against any {@link TestCluster}: the fast tier runs them on a mock API server, the
 * real-API tier on a real one. Time moves only by hand ({@link MutableClock}); races are placed exactly with the
 * reaper's {@link Reaper.Interleaving}. Objects are created by the server, so creation timestamps are the
 * server's wall clock; the test clock starts a minute later and every instant is computed from what the
 * server stored.
 */
abstract class ReaperScenarios {

    static final Duration TTL = Duration.ofMinutes(30);
    static final Duration READY_WAIT = Duration.ofSeconds(15);
    static final Duration SECOND = Duration.ofSeconds(1);

    protected TestCluster cluster;
    protected KubernetesClient admin;
    protected String ns;
    protected MutableClock clock;
    protected PlaygroundProperties props;
    private ExecutorService writers;
    private final List<Reaper> reapers = new ArrayList<>();

    /** A fresh cluster (fresh namespace) for one scenario. */
    protected abstract TestCluster newCluster();

    /** Users in the scale scenario (a tenth of them expired); sweeps page through them 500 at a time. */
    protected int scaleUsers() {
        return 10_000;
    }

    /** How many API requests the cluster has answered, where it can tell. */
    protected OptionalInt requestCount() {
        return OptionalInt.empty();
    }

    @BeforeEach
    void startCluster() {
        cluster = newCluster();
        admin = cluster.admin();
        ns = cluster.namespace();
        clock = new MutableClock(Instant.now().truncatedTo(ChronoUnit.SECONDS).plus(Duration.ofMinutes(1)));
        props = new Binder(new MapConfigurationPropertySource(Map.of("playground.namespace", ns)))
                .bindOrCreate("playground", PlaygroundProperties.class);
        writers = Executors.newFixedThreadPool(4);
    }

    @AfterEach
    void stopCluster() {
        reapers.forEach(Reaper::close);
        writers.shutdownNow();
        cluster.close();
    }

    /** The playground's parts as the application wires them, on the test clock. */
    final class Playground {
        final KubernetesClient client;
        final DatabaseObjects objects = new DatabaseObjects(props.database());
        final DatabaseRoots roots;
        final HeartbeatLedger ledger;
        /** heart_beat's ledger: where a scenario writes a beat (the reaper itself never does). */
        final HeartbeatLedger beatLedger;
        final ExpiryPolicy expiry;
        final DatabaseProvisioner provisioner;
        final HeartbeatRecorder recorder;
        final SimpleMeterRegistry meters = new SimpleMeterRegistry();
        final WarmPool pool;

        /**
         * As in the cluster, each function on its own client: the reaper (and the ledger and pool it uses) as
         * reap_stale, create_db as create_db, heartbeats as heart_beat.
         */
        Playground(Duration maxAge) {
            this.client = cluster.client("reap_stale");
            KubernetesClient creator = cluster.client("create_db");
            KubernetesClient beater = cluster.client("heart_beat");
            roots = new DatabaseRoots(client, ns);
            DatabaseDirectory directory = new DatabaseDirectory(client, ns); // not started: every read goes to the API
            ledger = new HeartbeatLedger(client, ns, props.heartbeat().shards(), props.heartbeat().precision(),
                    Duration.ofSeconds(30), clock, writers);
            expiry = new ExpiryPolicy(TTL, maxAge);
            // A zero wait: create_db answers 503 "starting" at once instead of waiting for a kubelet.
            // The pool is off here; the warm pool's scenarios (with the reaper among them) are its own.
            pool = new WarmPool(client, ns, objects, directory, clock, new WarmPool.Settings(0, Duration.ofMinutes(10)),
                    1_000_000, meters);
            DatabaseDirectory createDirectory = new DatabaseDirectory(creator, ns);
            WarmPool createPool = creator == client ? pool : new WarmPool(creator, ns, objects, createDirectory, clock,
                    new WarmPool.Settings(0, Duration.ofMinutes(10)), 1_000_000, meters);
            HeartbeatLedger createLedger = creator == client ? ledger : new HeartbeatLedger(creator, ns,
                    props.heartbeat().shards(), props.heartbeat().precision(), Duration.ofSeconds(30), clock, writers);
            provisioner = new DatabaseProvisioner(creator, ns, objects, new DatabaseRoots(creator, ns),
                    creator == client ? directory : createDirectory, createLedger, expiry, Duration.ZERO,
                    1_000_000, createPool);
            beatLedger = beater == client ? ledger : new HeartbeatLedger(beater, ns,
                    props.heartbeat().shards(), props.heartbeat().precision(), Duration.ofSeconds(30), clock, writers);
            recorder = new HeartbeatRecorder(new DatabaseRoots(beater, ns), new DatabaseDirectory(beater, ns),
                    beatLedger, expiry, clock);
        }

        Reaper reaper() {
            return reaper(false, 500, Reaper.Interleaving.NONE);
        }

        Reaper reaper(boolean forceDryRun, int pageSize, Reaper.Interleaving interleaving) {
            return reaper(client, forceDryRun, pageSize, interleaving);
        }

        Reaper reaper(KubernetesClient reaperClient, boolean forceDryRun, int pageSize,
                Reaper.Interleaving interleaving) {
            Reaper r = new Reaper(reaperClient, new DatabaseRoots(reaperClient, ns), ledger, expiry, pool, clock,
                    new Reaper.Settings(forceDryRun, 4, pageSize, READY_WAIT,
                            cluster.hasGarbageCollector()), meters, interleaving);
            reapers.add(r);
            return r;
        }

        /** The reaper with every part of it, its ledger too, on the given client (e.g. one that fails on cue). */
        Reaper reaperOn(KubernetesClient reaperClient) {
            HeartbeatLedger reaperLedger = new HeartbeatLedger(reaperClient, ns, props.heartbeat().shards(),
                    props.heartbeat().precision(), Duration.ofSeconds(30), clock, writers);
            Reaper r = new Reaper(reaperClient, new DatabaseRoots(reaperClient, ns), reaperLedger, expiry, pool, clock,
                    new Reaper.Settings(false, 4, 500, READY_WAIT, cluster.hasGarbageCollector()), meters);
            reapers.add(r);
            return r;
        }

        /** create_db as the notebook sees it once the database is up. */
        DatabaseProvisioner.Provisioned createDb(String userId) {
            UserKey user = UserKey.of(userId);
            try {
                DatabaseProvisioner.Provisioned p = provisioner.createOrGet(user);
                if (p != null) {
                    return p;
                }
            } catch (PlaygroundException e) {
                assertEquals("database_starting", e.code());
            }
            cluster.markDatabaseReady(user.resourceName());
            admin.apps().deployments().inNamespace(ns).withName(user.resourceName())
                    .waitUntilCondition(DatabaseRoot::isReady, 30, TimeUnit.SECONDS);
            return provisioner.createOrGet(user);
        }

        HeartbeatRecorder.Beat beat(String userId) {
            return recorder.beat(UserKey.of(userId));
        }

        Instant storedBeat(String userId) {
            return ledger.lastBeat(UserKey.of(userId));
        }
    }

    Playground playground() {
        return new Playground(Duration.ZERO);
    }

    // ---------------------------------------------------------------- expiry

    @Test
    void expiresOnlyAfterTheTtlHasPassedSinceTheLastBeat() {
        Playground p = playground();
        Reaper reaper = p.reaper();
        p.createDb("alice");
        clock.advance(Duration.ofMinutes(7));
        HeartbeatRecorder.Beat beat = p.beat("alice");
        Instant stored = p.storedBeat("alice");
        assertEquals(stored.plus(TTL), beat.expiresAt(), "heart_beat tells when the database expires");

        clock.set(beat.expiresAt());
        ReapReport atBoundary = reaper.sweep(false);
        assertEquals(1, atBoundary.counts().active(), "exactly at the TTL the database still belongs to the user");
        assertEquals(0, atBoundary.counts().reaped());
        assertNotNull(root("alice"));

        clock.set(beat.expiresAt().plus(SECOND));
        ReapReport after = reaper.sweep(false);
        assertEquals(List.of("alice"), users(after.reaped()));
        assertTrue(after.reaped().get(0).reason().startsWith("idle"), after.reaped().get(0).reason());
        assertEquals(stored.toString(), after.reaped().get(0).lastActivity());
        assertGone("alice");
        assertNull(p.storedBeat("alice"), "the heartbeat entry goes with the database");
        Event event = reapedEvent("alice");
        assertEquals("Normal", event.getType());
        assertEquals("Deployment", event.getInvolvedObject().getKind());
        assertTrue(event.getMessage().contains("alice") && event.getMessage().contains(stored.toString()),
                event.getMessage());
    }

    @Test
    void createDbAfterAReapMakesAFreshDatabase() {
        Playground p = playground();
        Reaper reaper = p.reaper();
        DatabaseProvisioner.Provisioned first = p.createDb("carol");
        String firstUid = root("carol").getMetadata().getUid();
        clock.advance(TTL.plus(SECOND));
        assertEquals(List.of("carol"), users(reaper.sweep(false).reaped()));
        assertGone("carol");

        DatabaseProvisioner.Provisioned second = p.createDb("carol");
        assertNotEquals(firstUid, root("carol").getMetadata().getUid(), "a new root");
        assertNotEquals(first.dataSource(), second.dataSource(), "a new password");
        assertNotNull(admin.secrets().inNamespace(ns).withName("db-carol").get());
        assertEquals(p.storedBeat("carol").plus(TTL), second.expiresAt());
        assertEquals(1, reaper.sweep(false).counts().active(), "the fresh database is active");
    }

    // ---------------------------------------------------------------- races

    @Test
    void aBeatBetweenCondemnAndRecheckKeepsTheDatabase() {
        assertBeatWins(Reaper.Step.CONDEMNED);
    }

    @Test
    void aBeatBetweenRecheckAndDeleteKeepsTheDatabase() {
        // Only the delete's resourceVersion precondition stands between this beat and a deleted database.
        assertBeatWins(Reaper.Step.RECHECKED);
    }

    @Test
    void statusWritesByTheControllersDuringTheSweepDoNotSaveAnExpiredDatabase() {
        Playground p = playground();
        AtomicInteger writes = new AtomicInteger();
        Reaper reaper = p.reaper(false, 500, (step, user) -> {
            if (user.userId().equals("frank") && step != Reaper.Step.CONDEMNED) {
                // What the deployment controller does at any moment (on a real cluster: right after the condemning
                // annotation bumped metadata.generation): a status write, so a new resourceVersion.
                writeStatus(user, writes.incrementAndGet());
            }
        });
        p.createDb("frank");
        clock.advance(TTL.plus(SECOND));

        ReapReport report = reaper.sweep(false);
        assertEquals(2, writes.get(), () -> "a status write before the condemnation and one before the delete: " + report);
        assertEquals(List.of("frank"), users(report.reaped()), report::toString);
        assertGone("frank");
    }

    @Test
    void theControllersOwnAnnotationsDuringTheSweepDoNotSaveAnExpiredDatabase() {
        Playground p = playground();
        AtomicInteger writes = new AtomicInteger();
        Reaper reaper = p.reaper(false, 500, (step, user) -> {
            if (user.userId().equals("grace") && step != Reaper.Step.CONDEMNED) {
                // A busy deployment controller makes the first ReplicaSet after the sweep listed the root, and then
                // writes its revision annotation onto the Deployment: not a playground annotation, so no rescue.
                int n = writes.incrementAndGet();
                for (int attempt = 0; ; attempt++) {
                    try {
                        admin.apps().deployments().inNamespace(ns).withName(user.resourceName()).edit(d -> {
                            d.getMetadata().getAnnotations().put("deployment.kubernetes.io/revision",
                                    Integer.toString(n));
                            return d;
                        });
                        break;
                    } catch (KubernetesClientException e) {
                        if (e.getCode() != 409 || attempt == 5) {
                            throw e;
                        }
                    }
                }
            }
        });
        p.createDb("grace");
        clock.advance(TTL.plus(SECOND));

        ReapReport report = reaper.sweep(false);
        assertEquals(2, writes.get(), () -> "an annotation before the condemnation and one before the delete: " + report);
        assertEquals(List.of("grace"), users(report.reaped()), report::toString);
        assertGone("grace");
    }

    @Test
    void aControllerThatKeepsWritingTheStatusDoesNotSaveAnExpiredDatabase() {
        // On a loaded machine the controllers' writes answering the condemnation land one by one, each of them
        // between the reaper's re-read of the root and its delete: more of them than three tries would take.
        Playground p = playground();
        int controllerWrites = 5;
        AtomicInteger writes = new AtomicInteger();
        UserKey kim = UserKey.of("kim");
        try (KubernetesClient busy = intercepting(request -> request.method().equals("DELETE")
                && request.uri().getPath().endsWith("/deployments/" + kim.resourceName())
                && writes.get() < controllerWrites, () -> writeStatus(kim, writes.incrementAndGet()))) {
            Reaper reaper = p.reaper(busy, false, 500, Reaper.Interleaving.NONE);
            p.createDb("kim");
            clock.advance(TTL.plus(SECOND));

            ReapReport report = reaper.sweep(false);
            assertEquals(controllerWrites, writes.get(), report::toString);
            assertEquals(List.of("kim"), users(report.reaped()), report::toString);
            assertGone("kim");
        }
    }

    /** A status write as the deployment controller makes it, so a new resourceVersion and nothing else. */
    void writeStatus(UserKey user, int n) {
        for (int attempt = 0; ; attempt++) {
            try {
                admin.apps().deployments().inNamespace(ns).withName(user.resourceName()).editStatus(d -> {
                    d.getStatus().setObservedGeneration(d.getMetadata().getGeneration());
                    d.getStatus().setConditions(List.of(new DeploymentConditionBuilder()
                            .withType("Progressing").withStatus("True").withReason("NewReplicaSetAvailable")
                            .withMessage("status write " + n).build()));
                    return d;
                });
                return;
            } catch (KubernetesClientException e) {
                // A real deployment controller may be writing the status at the same moment.
                if (e.getCode() != 409 || attempt == 5) {
                    throw e;
                }
            }
        }
    }

    private void assertBeatWins(Reaper.Step when) {
        Playground p = playground();
        AtomicReference<HeartbeatRecorder.Beat> answered = new AtomicReference<>();
        AtomicReference<String> sawAnnotation = new AtomicReference<>();
        Reaper reaper = p.reaper(false, 500, (step, user) -> {
            if (step == when && user.userId().equals("dave") && answered.get() == null) {
                sawAnnotation.set(root("dave").getMetadata().getAnnotations().get(PlaygroundLabels.REAPING));
                answered.set(p.recorder.beat(user));
            }
        });
        p.createDb("dave");
        p.createDb("erin");
        clock.advance(TTL.plus(Duration.ofMinutes(1)));

        ReapReport report = reaper.sweep(false);
        assertNotNull(sawAnnotation.get(), "the beat arrived while the root was condemned");
        HeartbeatRecorder.Beat beat = answered.get();
        assertEquals(HeartbeatRecorder.DatabaseState.READY, beat.database(), "heart_beat answered with a database");
        assertEquals(List.of("dave"), users(report.kept()));
        assertEquals("heartbeat arrived", report.kept().get(0).reason());
        assertEquals(List.of("erin"), users(report.reaped()), "the sweep went on with the others");

        Deployment survivor = root("dave");
        assertNotNull(survivor, "the race rule: a beat answered before the delete keeps the database");
        assertFalse(survivor.getMetadata().getAnnotations().containsKey(PlaygroundLabels.REAPING));
        assertNotNull(admin.secrets().inNamespace(ns).withName("db-dave").get());
        assertNotNull(admin.services().inNamespace(ns).withName("db-dave").get());
        assertEquals(clock.instant().truncatedTo(ChronoUnit.SECONDS), p.storedBeat("dave"));
        assertTrue(reapedEvents().stream().noneMatch(e -> e.getInvolvedObject().getName().equals("db-dave")));

        // ... until the last activity is again older than the TTL.
        clock.set(beat.expiresAt());
        assertEquals(0, reaper.sweep(false).counts().reaped());
        clock.set(beat.expiresAt().plus(SECOND));
        assertEquals(List.of("dave"), users(reaper.sweep(false).reaped()));
        assertGone("dave");
    }

    @Test
    void aBeatAfterTheDeleteFindsNoDatabase() {
        Playground p = playground();
        Reaper reaper = p.reaper();
        p.createDb("fay");
        clock.advance(TTL.plus(SECOND));
        assertEquals(List.of("fay"), users(reaper.sweep(false).reaped()));
        HeartbeatRecorder.Beat late = p.beat("fay");
        assertEquals(HeartbeatRecorder.DatabaseState.NONE, late.database());
        assertNull(late.expiresAt());
    }

    // ---------------------------------------------------------------- controls

    @Test
    void aDryRunReportsAndChangesNothing() {
        Playground p = playground();
        p.createDb("idle");
        p.createDb("demo");
        keep("demo");
        orphanSecret("db-lost");
        orphanService("db-lost");
        clock.advance(TTL.plus(Duration.ofMinutes(1)));
        p.createDb("busy");
        p.beatLedger.beat(UserKey.of("ghost"));
        clock.advance(TTL.plus(SECOND));
        p.beat("busy");
        Map<String, String> before = snapshot();

        ReapReport dry = p.reaper().sweep(true);
        assertTrue(dry.dryRun());
        assertEquals(List.of("idle"), users(dry.reaped()), "what would be reaped");
        assertEquals(List.of("demo"), users(dry.kept()));
        assertEquals(1, dry.counts().active());
        assertEquals(List.of(new ReapReport.Orphan(Reaper.KIND_HEARTBEAT_ENTRY, "ghost"),
                new ReapReport.Orphan("Secret", "db-lost"), new ReapReport.Orphan("Service", "db-lost")), dry.orphans());
        assertEquals(3, dry.counts().orphansRemoved(), "what would be removed");
        assertEquals(before, snapshot(), "a dry run writes nothing");

        ReapReport forced = p.reaper(true, 500, Reaper.Interleaving.NONE).sweep(false);
        assertTrue(forced.dryRun(), "playground.reaper.dry-run forces a dry run");
        assertEquals(List.of("idle"), users(forced.reaped()));
        assertEquals(before, snapshot());

        ReapReport real = p.reaper().sweep(false);
        assertFalse(real.dryRun());
        assertEquals(List.of("idle"), users(real.reaped()));
        assertEquals(3, real.counts().orphansRemoved());
        assertGone("idle");
        assertNotNull(root("demo"));
        assertNotNull(root("busy"));
        assertEquals(1.0, p.meters.counter("playground.reaper.kept", "dry_run", "false").count(), "the kept demo");
        assertEquals(1.0, p.meters.counter("playground.reaper.reaped", "dry_run", "false").count());
        assertEquals(2.0, p.meters.counter("playground.reaper.reaped", "dry_run", "true").count());
        assertEquals(3.0, p.meters.counter("playground.reaper.orphans", "dry_run", "false").count());
        assertEquals(3, p.meters.timer("playground.reaper.sweep", "dry_run", "true").count()
                + p.meters.timer("playground.reaper.sweep", "dry_run", "false").count());
    }

    @Test
    void aMaximumAgeEndsEvenAnActiveDatabase() {
        Duration maxAge = Duration.ofHours(2);
        Playground aged = new Playground(maxAge);
        Playground unlimited = playground();
        aged.createDb("grace");
        Instant created = Instant.parse(root("grace").getMetadata().getCreationTimestamp());
        Instant end = created.plus(maxAge);

        clock.set(end.minus(Duration.ofMinutes(10)));
        HeartbeatRecorder.Beat beat = aged.beat("grace");
        assertEquals(end, beat.expiresAt(), "heart_beat tells the client about the maximum age");

        clock.set(end);
        assertEquals(1, aged.reaper().sweep(false).counts().active());
        clock.set(end.plus(SECOND));
        aged.beat("grace");
        assertEquals(1, unlimited.reaper().sweep(false).counts().active(), "without a maximum age: active");
        ReapReport report = aged.reaper().sweep(false);
        assertEquals(List.of("grace"), users(report.reaped()));
        assertTrue(report.reaped().get(0).reason().startsWith("max age"), report.reaped().get(0).reason());
        assertGone("grace");
    }

    // ---------------------------------------------------------------- orphans

    @Test
    void leftOverObjectsWithoutARootGoOnceOlderThanTheCreateWait() {
        Playground p = playground();
        Reaper reaper = p.reaper();
        HasMetadata secret = orphanSecret("db-lost");
        HasMetadata service = orphanService("db-lost");
        p.createDb("owner");
        Instant newest = Instant.parse(service.getMetadata().getCreationTimestamp());
        Instant oldest = Instant.parse(secret.getMetadata().getCreationTimestamp());

        clock.set(oldest.plus(READY_WAIT));
        ReapReport young = reaper.sweep(false);
        assertEquals(0, young.counts().orphansRemoved(), "create_db may still be making them");
        assertNotNull(admin.secrets().inNamespace(ns).withName("db-lost").get());

        clock.set(newest.plus(READY_WAIT).plus(SECOND));
        ReapReport old = reaper.sweep(false);
        assertEquals(List.of(new ReapReport.Orphan("Secret", "db-lost"), new ReapReport.Orphan("Service", "db-lost")),
                old.orphans());
        assertEquals(2, old.counts().orphansRemoved());
        assertNull(admin.secrets().inNamespace(ns).withName("db-lost").get());
        assertNull(admin.services().inNamespace(ns).withName("db-lost").get());
        assertNotNull(admin.secrets().inNamespace(ns).withName("db-owner").get(), "a root's objects are no orphans");
        assertNotNull(admin.services().inNamespace(ns).withName("db-owner").get());
    }

    @Test
    void aLeftOverVolumeClaimGoesWithTheSecretOfItsName() {
        Playground p = playground();
        Reaper reaper = p.reaper();
        HasMetadata claim = admin.persistentVolumeClaims().inNamespace(ns).resource(new PersistentVolumeClaimBuilder()
                .withNewMetadata().withName("db-old-data").withLabels(PlaygroundLabels.database(UserKey.of("old-data")))
                .endMetadata()
                .withNewSpec().withAccessModes("ReadWriteOnce").withNewResources()
                .addToRequests("storage", new Quantity("1Gi")).endResources().endSpec().build()).create();
        HasMetadata secret = orphanSecret("db-old-data");
        Instant newest = Instant.parse(secret.getMetadata().getCreationTimestamp());
        Instant claimed = Instant.parse(claim.getMetadata().getCreationTimestamp());
        clock.set((newest.isAfter(claimed) ? newest : claimed).plus(READY_WAIT).plus(SECOND));

        ReapReport report = reaper.sweep(false);
        assertEquals(List.of(new ReapReport.Orphan("PersistentVolumeClaim", "db-old-data"),
                new ReapReport.Orphan("Secret", "db-old-data")), report.orphans());
        PersistentVolumeClaim left = admin.persistentVolumeClaims().inNamespace(ns).withName("db-old-data").get();
        assertTrue(left == null || left.getMetadata().getDeletionTimestamp() != null, "deleted (or going)");
        assertNull(admin.secrets().inNamespace(ns).withName("db-old-data").get());
    }

    @Test
    void heartbeatEntriesWithoutADatabaseGoOnceOlderThanTheTtl() {
        Playground p = playground();
        Reaper reaper = p.reaper();
        p.beatLedger.beat(UserKey.of("ghost"));
        Instant ghostBeat = p.storedBeat("ghost");
        clock.advance(Duration.ofMinutes(5));
        p.beatLedger.beat(UserKey.of("newer-ghost"));

        clock.set(ghostBeat.plus(TTL));
        assertEquals(0, reaper.sweep(false).counts().orphansRemoved());
        assertNotNull(p.storedBeat("ghost"));

        clock.set(ghostBeat.plus(TTL).plus(SECOND));
        ReapReport report = reaper.sweep(false);
        assertEquals(List.of(new ReapReport.Orphan(Reaper.KIND_HEARTBEAT_ENTRY, "ghost")), report.orphans());
        assertEquals(1, report.counts().orphansRemoved());
        assertNull(p.storedBeat("ghost"));
        assertNotNull(p.storedBeat("newer-ghost"), "younger than the TTL");
    }

    @Test
    void aHalfMadeDatabaseIsLeftToCreateDbWhileActiveAndReapedWhenExpired() {
        Playground p = playground();
        Reaper reaper = p.reaper();
        p.createDb("half");
        admin.secrets().inNamespace(ns).withName("db-half").delete();
        admin.services().inNamespace(ns).withName("db-half").delete();
        clock.advance(Duration.ofMinutes(10));
        assertEquals(1, reaper.sweep(false).counts().active());
        assertNotNull(root("half"));
        assertNull(admin.secrets().inNamespace(ns).withName("db-half").get(), "the reaper does not repair");

        clock.advance(TTL);
        assertEquals(List.of("half"), users(reaper.sweep(false).reaped()));
        assertGone("half");
    }

    // ---------------------------------------------------------------- the ledger's shards

    @Test
    void beatsInTheShardsOfAnEarlierShardCountStillCount() {
        Playground p = playground();
        // A user whose beats lived in a shard beyond today's count (playground.heartbeat.shards was 40 before).
        HeartbeatLedger before = new HeartbeatLedger(cluster.client("heart_beat"), ns, 40, props.heartbeat().precision(),
                Duration.ofSeconds(30), clock, writers);
        // The same 40 shards as the reaper reads them (heart_beat only writes).
        HeartbeatLedger beforeAsReaper = new HeartbeatLedger(p.client, ns, 40, props.heartbeat().precision(),
                Duration.ofSeconds(30), clock, writers);
        String olga = IntStream.range(0, 100).mapToObj(i -> "olga" + i)
                .filter(id -> UserKey.of(id).shard(40) >= props.heartbeat().shards())
                .findFirst().orElseThrow();
        Reaper reaper = p.reaper();
        p.createDb(olga);
        clock.advance(Duration.ofMinutes(25));
        Instant beat = before.beat(UserKey.of(olga));
        assertNotEquals(beat, p.storedBeat(olga), "stored only in the shard of the earlier count");

        clock.advance(Duration.ofMinutes(10));
        ReapReport report = reaper.sweep(false);
        assertEquals(1, report.counts().active(), "35 minutes after creation, 10 after the beat: active");
        assertNotNull(root(olga));

        clock.set(beat.plus(TTL).plus(SECOND));
        assertEquals(List.of(olga), users(reaper.sweep(false).reaped()));
        assertGone(olga);
        assertNull(beforeAsReaper.lastBeat(UserKey.of(olga)), "its entry in the earlier shard goes with the database");
    }

    @Test
    void anUnreadableLedgerReapsNothingAndTheNextSweepDoes() {
        Playground p = playground();
        AtomicBoolean failing = new AtomicBoolean(true);
        // The sweep's first read: the list of the heartbeat ConfigMaps.
        try (KubernetesClient faulty = failingWhile(failing, request -> request.method().equals("GET")
                && request.uri().getPath().endsWith("/configmaps"))) {
            Reaper reaper = p.reaperOn(faulty);
            p.createDb("omar");
            clock.advance(TTL.plus(SECOND));

            ReapReport first = reaper.sweep(false);
            assertEquals(0, first.counts().reaped());
            assertEquals(1, first.counts().failed());
            assertTrue(first.failed().get(0).reason().contains("reading the heartbeat ledger failed"),
                    first.failed().get(0).reason());
            assertFalse(DatabaseRoot.of(root("omar")).isCondemned(), "without the ledger nothing is judged");

            failing.set(false);
            assertEquals(List.of("omar"), users(reaper.sweep(false).reaped()));
            assertGone("omar");
        }
    }

    @Test
    void aFailedRecheckLeavesTheDatabaseCondemnedForTheNextSweep() {
        Playground p = playground();
        AtomicBoolean failing = new AtomicBoolean(true);
        // The re-read is a GET of one shard by name; the sweep's first read lists the shards.
        try (KubernetesClient faulty = failingWhile(failing, request -> request.method().equals("GET")
                && request.uri().getPath().contains("/configmaps/"))) {
            Reaper reaper = p.reaperOn(faulty);
            p.createDb("nina");
            clock.advance(TTL.plus(SECOND));

            ReapReport first = reaper.sweep(false);
            assertEquals(List.of("nina"), users(first.failed()));
            assertTrue(first.failed().get(0).reason().contains("re-reading"), first.failed().get(0).reason());
            assertTrue(DatabaseRoot.of(root("nina")).isCondemned(), "left condemned, not deleted");

            failing.set(false);
            ReapReport second = reaper.sweep(false);
            assertEquals(List.of("nina"), users(second.reaped()));
            assertGone("nina");
        }
    }

    // ---------------------------------------------------------------- failures

    @Test
    void anApiErrorHalfWayIsFinishedByTheNextSweep() {
        Playground p = playground();
        // Where a garbage collector works, it removes a deleted root's Service by itself, usually before the reaper
        // asks: a failed Service delete cannot leave a database half-way there, so only the root's delete fails.
        boolean gc = cluster.hasGarbageCollector();
        AtomicBoolean failing = new AtomicBoolean(true);
        try (KubernetesClient faulty = failingWhile(failing, request -> request.method().equals("DELETE")
                && (request.uri().getPath().endsWith("/deployments/db-anna")
                        || !gc && request.uri().getPath().endsWith("/services/db-ben")))) {
            Reaper reaper = p.reaper(faulty, false, 500, Reaper.Interleaving.NONE);
            for (String user : List.of("anna", "ben", "cleo")) {
                p.createDb(user);
            }
            clock.advance(TTL.plus(SECOND));

            ReapReport first = reaper.sweep(false);
            assertEquals(gc ? List.of("ben", "cleo") : List.of("cleo"), users(first.reaped()),
                    "one user's failure does not stop the sweep");
            assertEquals(gc ? List.of("anna") : List.of("anna", "ben"), users(first.failed()));
            assertTrue(first.failed().get(0).reason().contains("500"), first.failed().get(0).reason());
            assertNotNull(root("anna"), "the delete failed");
            assertNull(root("ben"));
            if (!gc) {
                assertTrue(first.failed().get(1).reason().contains("Service"), first.failed().get(1).reason());
                assertNotNull(admin.services().inNamespace(ns).withName("db-ben").get(), "left half-way");
            }
            assertEquals(gc ? 1.0 : 2.0, p.meters.counter("playground.reaper.failed", "dry_run", "false").count());

            failing.set(false);
            clock.advance(SECOND);
            ReapReport second = reaper.sweep(false);
            assertEquals(List.of("anna"), users(second.reaped()));
            assertEquals(gc ? List.of() : List.of(new ReapReport.Orphan("Service", "db-ben")), second.orphans());
            assertEquals(0, second.counts().failed());

            ReapReport third = reaper.sweep(false);
            assertEquals(new ReapReport.Counts(0, 0, 0, 0, 0, 0), third.counts(), "nothing left to do");
            for (String user : List.of("anna", "ben", "cleo")) {
                assertGone(user);
                assertNull(p.storedBeat(user));
            }
        }
    }

    // ---------------------------------------------------------------- report

    @Test
    void theReportIsSnakeCaseJsonWithoutSecrets() {
        Playground p = playground();
        DatabaseProvisioner.Provisioned db = p.createDb("hank");
        String password = db.dataSource().replaceAll("^mysql://[^:]*:([^@]*)@.*$", "$1");
        clock.advance(TTL.plus(SECOND));
        String json = JsonMapper.builder().build().writeValueAsString(p.reaper().sweep(false));
        JsonNode tree = JsonMapper.builder().build().readTree(json);
        assertFalse(tree.get("dry_run").booleanValue());
        assertTrue(tree.has("started_at") && tree.has("finished_at"));
        assertEquals(1, tree.get("counts").get("reaped").intValue());
        assertEquals(0, tree.get("counts").get("orphans_removed").intValue());
        assertEquals("hank", tree.get("reaped").get(0).get("user_id").stringValue());
        assertTrue(tree.get("reaped").get(0).has("last_activity"));
        assertFalse(password.isEmpty());
        assertFalse(json.contains(password), "the report never carries a password");
    }

    // ---------------------------------------------------------------- scale

    @Test
    void manyUsersAreSweptInPages() throws Exception {
        int users = scaleUsers();
        int expired = users / 10;
        Playground p = playground();
        long t0 = System.nanoTime();
        long setupCpu = processCpuNanos();
        List<Deployment> roots = new ArrayList<>();
        for (int i = 0; i < users; i++) {
            roots.add(p.objects.root(UserKey.of(String.format("user%05d", i))));
        }
        createInBulk(roots);
        Instant newest = Instant.EPOCH;
        for (Deployment root : admin.apps().deployments().inNamespace(ns).list().getItems()) {
            Instant created = Instant.parse(root.getMetadata().getCreationTimestamp());
            newest = created.isAfter(newest) ? created : newest;
        }
        clock.set(newest.plus(TTL).plus(Duration.ofMinutes(1)));
        // The active users beat a minute ago; the first 1,000 never did.
        Map<Integer, Map<String, String>> shards = new TreeMap<>();
        for (int i = expired; i < users; i++) {
            UserKey user = UserKey.of(String.format("user%05d", i));
            shards.computeIfAbsent(p.ledger.shardOf(user), s -> new TreeMap<>())
                    .put(user.key(), clock.instant().minus(Duration.ofMinutes(1)).toString());
        }
        shards.forEach((shard, data) -> admin.configMaps().inNamespace(ns).resource(new ConfigMapBuilder()
                .withNewMetadata().withName(p.ledger.shardName(shard)).withLabels(PlaygroundLabels.heartbeats())
                .endMetadata().withData(data).build()).create());
        long setupMillis = (System.nanoTime() - t0) / 1_000_000;
        long setupCpuMillis = (processCpuNanos() - setupCpu) / 1_000_000;

        int requestsBefore = requestCount().orElse(0);
        long s0 = System.nanoTime();
        long c0 = processCpuNanos();
        ReapReport report = p.reaper().sweep(false);
        long sweepMillis = (System.nanoTime() - s0) / 1_000_000;
        long sweepCpuMillis = (processCpuNanos() - c0) / 1_000_000;
        int requests = requestCount().orElse(0) - requestsBefore;

        assertEquals(users, report.counts().examined());
        assertEquals(users - expired, report.counts().active());
        assertEquals(expired, report.counts().reaped());
        assertEquals(0, report.counts().failed(), () -> report.failed().toString());
        assertEquals(String.format("user%05d", 0), report.reaped().get(0).userId());
        assertEquals(String.format("user%05d", expired - 1), report.reaped().get(expired - 1).userId());
        assertEquals(users - expired, admin.apps().deployments().inNamespace(ns).list().getItems().size());

        long s1 = System.nanoTime();
        long c1 = processCpuNanos();
        ReapReport again = p.reaper().sweep(false);
        long secondMillis = (System.nanoTime() - s1) / 1_000_000;
        long secondCpuMillis = (processCpuNanos() - c1) / 1_000_000;
        assertEquals(users - expired, again.counts().active());
        assertEquals(0, again.counts().reaped());
        System.out.printf("reaper scale: %,d roots set up in %,d ms (%,d ms CPU); the sweep of %,d users reaping %,d took %,d ms "
                + "(%,d ms CPU, this JVM)%s; a second sweep with nothing to reap took %,d ms (%,d ms CPU); "
                + "load average %.1f%n", users, setupMillis, setupCpuMillis, users, expired, sweepMillis, sweepCpuMillis,
                requestCount().isPresent() ? String.format(" and %,d API requests", requests) : "", secondMillis,
                secondCpuMillis, ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }

    // ---------------------------------------------------------------- helpers

    /** CPU time of this JVM (test, client and, in the fast tier, the mock server): the machine may be busy. */
    static long processCpuNanos() {
        return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getProcessCpuTime() : 0;
    }

    /** Creates many objects for set-up: eight clients' worth of create requests at once. */
    protected void createInBulk(List<? extends HasMetadata> objects) throws Exception {
        ExecutorService creators = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> made = new ArrayList<>();
            for (HasMetadata object : objects) {
                made.add(creators.submit(() -> admin.resource(object).inNamespace(ns).create()));
            }
            for (Future<?> f : made) {
                f.get();
            }
        } finally {
            creators.shutdown();
        }
    }

    Deployment root(String userId) {
        return admin.apps().deployments().inNamespace(ns).withName(UserKey.of(userId).resourceName()).get();
    }

    void keep(String userId) {
        admin.apps().deployments().inNamespace(ns).withName(UserKey.of(userId).resourceName()).edit(d -> {
            d.getMetadata().getAnnotations().put(PlaygroundLabels.KEEP, "true");
            return d;
        });
    }

    HasMetadata orphanService(String name) {
        return admin.services().inNamespace(ns).resource(new ServiceBuilder()
                .withNewMetadata().withName(name)
                .withLabels(PlaygroundLabels.database(UserKey.of(name.substring(UserKey.NAME_PREFIX.length()))))
                .endMetadata()
                .withNewSpec().addNewPort().withPort(3306).endPort().endSpec().build()).create();
    }

    HasMetadata orphanSecret(String name) {
        return admin.secrets().inNamespace(ns).resource(new SecretBuilder()
                .withNewMetadata().withName(name)
                .withLabels(PlaygroundLabels.database(UserKey.of(name.substring(UserKey.NAME_PREFIX.length()))))
                .endMetadata()
                .withStringData(Map.of(DatabaseObjects.PASSWORD_KEY, "leftover")).build()).create();
    }

    /** A client of the cluster whose requests matching the rule fail with a 500 while {@code failing} is set. */
    KubernetesClient failingWhile(AtomicBoolean failing, Predicate<HttpRequest> rule) {
        return intercepting(request -> failing.get() && rule.test(request), () -> {
            throw new KubernetesClientException("injected API failure", 500, null);
        });
    }

    /** A client of the cluster (as reap_stale) that runs {@code before} ahead of each request matching the rule. */
    KubernetesClient intercepting(Predicate<HttpRequest> rule, Runnable before) {
        Interceptor interceptor = new Interceptor() {
            @Override
            public void before(BasicBuilder builder, HttpRequest request, Interceptor.RequestTags tags) {
                if (rule.test(request)) {
                    before.run();
                }
            }
        };
        return new KubernetesClientBuilder().withConfig(cluster.client("reap_stale").getConfiguration())
                .withHttpClientBuilderConsumer(b -> b.addOrReplaceInterceptor("faults", interceptor)).build();
    }

    /** The database and everything that was made for it are gone (or going, where a garbage collector works). */
    void assertGone(String userId) {
        String name = UserKey.of(userId).resourceName();
        Predicate<HasMetadata> goneOrGoing = o -> o == null || o.getMetadata().getDeletionTimestamp() != null;
        assertTrue(goneOrGoing.test(admin.apps().deployments().inNamespace(ns).withName(name).get()), name);
        // Where a garbage collector runs, the reaper leaves the root's dependents to it: they go soon after.
        Duration wait = cluster.hasGarbageCollector() ? Duration.ofSeconds(120) : Duration.ZERO;
        PlaygroundServiceAccount.await(() -> goneOrGoing.test(admin.secrets().inNamespace(ns).withName(name).get())
                && goneOrGoing.test(admin.services().inNamespace(ns).withName(name).get())
                && goneOrGoing.test(admin.persistentVolumeClaims().inNamespace(ns).withName(name).get()) ? true : null,
                wait, "the Secret, Service and claim of " + name + " to go with it");
    }

    List<Event> reapedEvents() {
        return admin.v1().events().inNamespace(ns).list().getItems().stream()
                .filter(e -> Reaper.EVENT_REASON.equals(e.getReason())).toList();
    }

    Event reapedEvent(String userId) {
        String name = UserKey.of(userId).resourceName();
        List<Event> events = reapedEvents().stream().filter(e -> name.equals(e.getInvolvedObject().getName()))
                .toList();
        if (events.size() != 1) {
            fail("expected one Reaped event for " + name + ", got " + events.size());
        }
        return events.get(0);
    }

    static List<String> users(List<ReapReport.UserOutcome> outcomes) {
        return outcomes.stream().map(ReapReport.UserOutcome::userId).toList();
    }

    /**
     * Every object the reaper could touch (of the Events, only the playground's), by kind and name, with its
     * resourceVersion (any write changes it).
     */
    Map<String, String> snapshot() {
        Map<String, String> out = new TreeMap<>();
        put(out, "Deployment", admin.apps().deployments().inNamespace(ns).list().getItems());
        put(out, "Secret", admin.secrets().inNamespace(ns).list().getItems());
        put(out, "Service", admin.services().inNamespace(ns).list().getItems());
        put(out, "PersistentVolumeClaim", admin.persistentVolumeClaims().inNamespace(ns).list().getItems());
        // The scheduler, controllers and kubelet keep writing Events of their own on the node tier.
        put(out, "Event", admin.v1().events().inNamespace(ns).list().getItems().stream()
                .filter(e -> Reaper.COMPONENT.equals(e.getReportingComponent())).toList());
        List<ConfigMap> configMaps = admin.configMaps().inNamespace(ns).list().getItems();
        put(out, "ConfigMap", configMaps);
        configMaps.forEach(cm -> out.put("ConfigMap/" + cm.getMetadata().getName() + "/data",
                cm.getData() == null ? "" : new TreeMap<>(cm.getData()).toString()));
        return out;
    }

    private static void put(Map<String, String> out, String kind, List<? extends HasMetadata> objects) {
        out.putAll(objects.stream().collect(Collectors.toMap(o -> kind + "/" + o.getMetadata().getName(),
                o -> o.getMetadata().getResourceVersion())));
    }
}
