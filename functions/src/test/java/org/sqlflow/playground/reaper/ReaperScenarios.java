package org.sqlflow.playground.reaper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.sqlflow.playground.testing.Waits.await;

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
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.sqlflow.playground.assembly.Playground;
import org.sqlflow.playground.cluster.DatabaseObjects;
import org.sqlflow.playground.cluster.DatabaseProvisioner;
import org.sqlflow.playground.cluster.DatabaseRoot;
import org.sqlflow.playground.cluster.HeartbeatLedger;
import org.sqlflow.playground.cluster.HeartbeatRecorder;
import org.sqlflow.playground.cluster.PlaygroundLabels;
import org.sqlflow.playground.cluster.UserKey;
import org.sqlflow.playground.cluster.WarmPool;
import org.sqlflow.playground.error.PlaygroundException;
import org.sqlflow.playground.settings.PlaygroundProperties;
import org.sqlflow.playground.testing.ClusterScenarios;
import org.sqlflow.playground.testing.PlaygroundParts;
import org.sqlflow.playground.testing.TestSettings;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The reaper's scenarios on every tier's cluster ({@link ClusterScenarios}): the fast tier runs them on a mock API
 * server, the real-API tier on a real one. The parts are the application's ({@link PlaygroundParts}); time moves
 * only by hand; races are placed exactly with the reaper's {@link Reaper.Interleaving}. Objects are created by the
 * server, so creation timestamps are the server's wall clock, and every instant is computed from what it stored.
 */
abstract class ReaperScenarios extends ClusterScenarios {

    /** playground.heartbeat.ttl's default, which the scenarios' parts have. */
    static final Duration TTL = Duration.ofMinutes(30);
    /** The reaper's orphan age: how long create_db may take to make a database's objects. */
    static final Duration READY_WAIT = Duration.ofSeconds(15);

    static final Duration SECOND = Duration.ofSeconds(1);
    /** The application's settings with every default. */
    static final PlaygroundProperties DEFAULTS = TestSettings.bind(Map.of());

    /** Users in the scale scenario (a tenth of them expired); sweeps page through them 500 at a time. */
    protected int scaleUsers() {
        return 10_000;
    }

    /** How many API requests the cluster has answered, where it can tell. */
    protected OptionalInt requestCount() {
        return OptionalInt.empty();
    }

    KubernetesClient admin() {
        return cluster.admin();
    }

    String ns() {
        return cluster.namespace();
    }

    /**
     * The playground's parts without a maximum age or a warm pool (the pool's scenarios with the reaper among
     * them are its own); create_db answers 503 "starting" at once instead of waiting for a kubelet.
     */
    PlaygroundParts playground() {
        return playground(Duration.ZERO);
    }

    PlaygroundParts playground(Duration maxAge) {
        return playground(
                cluster.database(Duration.ZERO, 1_000_000), maxAge, new WarmPool.Settings(0, Duration.ofMinutes(10)));
    }

    Reaper reaper(PlaygroundParts p) {
        return reaper(p, false, 500, Reaper.Interleaving.NONE);
    }

    /** The reaper as reap_stale runs it, on the parts' roots, ledger and pool, closed when the test ends. */
    Reaper reaper(PlaygroundParts p, boolean forceDryRun, int pageSize, Reaper.Interleaving interleaving) {
        return closeAfterTest(new Reaper(
                cluster.client("reap_stale"),
                p.roots,
                p.ledger,
                p.expiry,
                p.pool,
                clock,
                settings(forceDryRun, pageSize),
                p.meters,
                interleaving));
    }

    /** Reaper settings as reap_stale's by default, with a dry run forced or not and a page size. */
    private Reaper.Settings settings(boolean forceDryRun, int pageSize) {
        return new Reaper.Settings(forceDryRun, 4, pageSize, READY_WAIT, cluster.hasGarbageCollector());
    }

    /** reap_stale's reaper with all its parts on {@code client} (one that fails or writes on cue). */
    Reaper reaperOn(PlaygroundParts p, KubernetesClient client) {
        return assembly(client, p.meters, Map.of()).reaper();
    }

    /**
     * The application's assembly on {@code client} with the scenario's namespace, no pool and {@code settings}
     * (otherwise the defaults, so its reaper is reap_stale's), not started: every read goes to the API. Closed
     * when the test ends.
     */
    Playground assembly(KubernetesClient client, MeterRegistry meters, Map<String, String> settings) {
        Map<String, String> all = new TreeMap<>(settings);
        all.put("namespace", ns());
        all.put("pool.size", "0");
        return closeAfterTest(
                new Playground(client, TestSettings.bind(all), cluster.hasGarbageCollector(), clock, meters));
    }

    /**
     * create_db as the notebook sees it once the database is up; afterwards heart_beat's watch has seen the
     * database, as it would by the time a notebook's first beat arrives.
     */
    DatabaseProvisioner.Provisioned createDb(PlaygroundParts p, String userId) {
        UserKey user = UserKey.of(userId);
        try {
            return p.provisioner.createOrGet(user);
        } catch (PlaygroundException e) {
            assertThat(e.code()).isEqualTo("database_starting");
        }
        cluster.markDatabaseReady(user.resourceName());
        await("the Deployment " + user.resourceName() + " to be ready")
                .until(() -> DatabaseRoot.isReady(admin().apps()
                        .deployments()
                        .inNamespace(ns())
                        .withName(user.resourceName())
                        .get()));
        DatabaseProvisioner.Provisioned made = p.provisioner.createOrGet(user);
        await("heart_beat's watch to see " + user.resourceName()).until(() -> p.beatDirectory.cached(user) != null);
        return made;
    }

    HeartbeatRecorder.Beat beat(PlaygroundParts p, String userId) {
        return p.recorder.beat(UserKey.of(userId));
    }

    Instant storedBeat(PlaygroundParts p, String userId) {
        return p.ledger.lastBeat(UserKey.of(userId));
    }

    // ---------------------------------------------------------------- expiry

    @Test
    void expiresOnlyAfterTheTtlHasPassedSinceTheLastBeat() {
        PlaygroundParts p = playground();
        Reaper reaper = reaper(p);
        createDb(p, "alice");
        clock.advance(Duration.ofMinutes(7));
        HeartbeatRecorder.Beat beat = beat(p, "alice");
        Instant stored = storedBeat(p, "alice");
        assertThat(beat.expiresAt())
                .as("heart_beat tells when the database expires")
                .isEqualTo(stored.plus(TTL));

        clock.set(beat.expiresAt());
        ReapReport atBoundary = reaper.sweep(false);
        assertThat(atBoundary.counts().active())
                .as("exactly at the TTL the database still belongs to the user")
                .isEqualTo(1);
        assertThat(atBoundary.counts().reaped()).isZero();
        assertThat(root("alice")).isNotNull();

        clock.set(beat.expiresAt().plus(SECOND));
        ReapReport after = reaper.sweep(false);
        assertThat(users(after.reaped())).containsExactly("alice");
        assertThat(after.reaped().get(0).reason()).startsWith("idle");
        assertThat(after.reaped().get(0).lastActivity()).isEqualTo(stored.toString());
        assertGone("alice");
        assertThat(storedBeat(p, "alice"))
                .as("the heartbeat entry goes with the database")
                .isNull();
        Event event = reapedEvent("alice");
        assertThat(event.getType()).isEqualTo("Normal");
        assertThat(event.getInvolvedObject().getKind()).isEqualTo("Deployment");
        assertThat(event.getMessage()).contains("alice", stored.toString());
    }

    @Test
    void createDbAfterAReapMakesAFreshDatabase() {
        PlaygroundParts p = playground();
        Reaper reaper = reaper(p);
        DatabaseProvisioner.Provisioned first = createDb(p, "carol");
        String firstUid = root("carol").getMetadata().getUid();
        clock.advance(TTL.plus(SECOND));
        assertThat(users(reaper.sweep(false).reaped())).containsExactly("carol");
        assertGone("carol");

        DatabaseProvisioner.Provisioned second = createDb(p, "carol");
        assertThat(root("carol").getMetadata().getUid()).as("a new root").isNotEqualTo(firstUid);
        assertThat(second.dataSource()).as("a new password").isNotEqualTo(first.dataSource());
        assertThat(admin().secrets().inNamespace(ns()).withName("db-carol").get())
                .isNotNull();
        assertThat(second.expiresAt()).isEqualTo(storedBeat(p, "carol").plus(TTL));
        assertThat(reaper.sweep(false).counts().active())
                .as("the fresh database is active")
                .isEqualTo(1);
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
        PlaygroundParts p = playground();
        AtomicInteger writes = new AtomicInteger();
        Reaper reaper = reaper(p, false, 500, (step, user) -> {
            if (user.userId().equals("frank") && step != Reaper.Step.CONDEMNED) {
                // What the deployment controller does at any moment (on a real cluster: right after the condemning
                // annotation bumped metadata.generation): a status write, so a new resourceVersion.
                writeStatus(user, writes.incrementAndGet());
            }
        });
        createDb(p, "frank");
        clock.advance(TTL.plus(SECOND));

        ReapReport report = reaper.sweep(false);
        assertThat(writes.get())
                .as(() -> "a status write before the condemnation and one before the delete: " + report)
                .isEqualTo(2);
        assertThat(users(report.reaped())).as(report::toString).containsExactly("frank");
        assertGone("frank");
    }

    @Test
    void theControllersOwnAnnotationsDuringTheSweepDoNotSaveAnExpiredDatabase() {
        PlaygroundParts p = playground();
        AtomicInteger writes = new AtomicInteger();
        Reaper reaper = reaper(p, false, 500, (step, user) -> {
            if (user.userId().equals("grace") && step != Reaper.Step.CONDEMNED) {
                // A busy deployment controller makes the first ReplicaSet after the sweep listed the root, and then
                // writes its revision annotation onto the Deployment: not a playground annotation, so no rescue.
                int n = writes.incrementAndGet();
                for (int attempt = 0; ; attempt++) {
                    try {
                        admin().apps()
                                .deployments()
                                .inNamespace(ns())
                                .withName(user.resourceName())
                                .edit(d -> {
                                    d.getMetadata()
                                            .getAnnotations()
                                            .put("deployment.kubernetes.io/revision", Integer.toString(n));
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
        createDb(p, "grace");
        clock.advance(TTL.plus(SECOND));

        ReapReport report = reaper.sweep(false);
        assertThat(writes.get())
                .as(() -> "an annotation before the condemnation and one before the delete: " + report)
                .isEqualTo(2);
        assertThat(users(report.reaped())).as(report::toString).containsExactly("grace");
        assertGone("grace");
    }

    @Test
    void aControllerThatKeepsWritingTheStatusDoesNotSaveAnExpiredDatabase() {
        // On a loaded machine the controllers' writes answering the condemnation land one by one, each of them
        // between the reaper's re-read of the root and its delete: more of them than three tries would take.
        PlaygroundParts p = playground();
        int controllerWrites = 5;
        AtomicInteger writes = new AtomicInteger();
        UserKey kim = UserKey.of("kim");
        try (KubernetesClient busy = intercepting(
                request -> request.method().equals("DELETE")
                        && request.uri().getPath().endsWith("/deployments/" + kim.resourceName())
                        && writes.get() < controllerWrites,
                () -> writeStatus(kim, writes.incrementAndGet()))) {
            Reaper reaper = reaperOn(p, busy);
            createDb(p, "kim");
            clock.advance(TTL.plus(SECOND));

            ReapReport report = reaper.sweep(false);
            assertThat(writes.get()).as(report::toString).isEqualTo(controllerWrites);
            assertThat(users(report.reaped())).as(report::toString).containsExactly("kim");
            assertGone("kim");
        }
    }

    /** A status write as the deployment controller makes it, so a new resourceVersion and nothing else. */
    void writeStatus(UserKey user, int n) {
        for (int attempt = 0; ; attempt++) {
            try {
                admin().apps()
                        .deployments()
                        .inNamespace(ns())
                        .withName(user.resourceName())
                        .editStatus(d -> {
                            d.getStatus().setObservedGeneration(d.getMetadata().getGeneration());
                            d.getStatus()
                                    .setConditions(List.of(new DeploymentConditionBuilder()
                                            .withType("Progressing")
                                            .withStatus("True")
                                            .withReason("NewReplicaSetAvailable")
                                            .withMessage("status write " + n)
                                            .build()));
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
        PlaygroundParts p = playground();
        AtomicReference<HeartbeatRecorder.Beat> answered = new AtomicReference<>();
        AtomicReference<String> sawAnnotation = new AtomicReference<>();
        Reaper reaper = reaper(p, false, 500, (step, user) -> {
            if (step == when && user.userId().equals("dave") && answered.get() == null) {
                sawAnnotation.set(root("dave").getMetadata().getAnnotations().get(PlaygroundLabels.REAPING));
                answered.set(p.recorder.beat(user));
            }
        });
        createDb(p, "dave");
        createDb(p, "erin");
        clock.advance(TTL.plus(Duration.ofMinutes(1)));

        ReapReport report = reaper.sweep(false);
        assertThat(sawAnnotation.get())
                .as("the beat arrived while the root was condemned")
                .isNotNull();
        HeartbeatRecorder.Beat beat = answered.get();
        assertThat(beat.database())
                .as("heart_beat answered with a database")
                .isEqualTo(HeartbeatRecorder.DatabaseState.READY);
        assertThat(users(report.kept())).containsExactly("dave");
        assertThat(report.kept().get(0).reason()).isEqualTo("heartbeat arrived");
        assertThat(users(report.reaped()))
                .as("the sweep went on with the others")
                .containsExactly("erin");

        Deployment survivor = root("dave");
        assertThat(survivor)
                .as("the race rule: a beat answered before the delete keeps the database")
                .isNotNull();
        assertThat(survivor.getMetadata().getAnnotations()).doesNotContainKey(PlaygroundLabels.REAPING);
        assertThat(admin().secrets().inNamespace(ns()).withName("db-dave").get())
                .isNotNull();
        assertThat(admin().services().inNamespace(ns()).withName("db-dave").get())
                .isNotNull();
        assertThat(storedBeat(p, "dave")).isEqualTo(clock.instant().truncatedTo(ChronoUnit.SECONDS));
        assertThat(reapedEvents())
                .noneMatch(e -> e.getInvolvedObject().getName().equals("db-dave"));

        // ... until the last activity is again older than the TTL.
        clock.set(beat.expiresAt());
        assertThat(reaper.sweep(false).counts().reaped()).isZero();
        clock.set(beat.expiresAt().plus(SECOND));
        assertThat(users(reaper.sweep(false).reaped())).containsExactly("dave");
        assertGone("dave");
    }

    @Test
    void aBeatAfterTheDeleteFindsNoDatabase() {
        PlaygroundParts p = playground();
        Reaper reaper = reaper(p);
        createDb(p, "fay");
        clock.advance(TTL.plus(SECOND));
        assertThat(users(reaper.sweep(false).reaped())).containsExactly("fay");
        HeartbeatRecorder.Beat late = beat(p, "fay");
        assertThat(late.database()).isEqualTo(HeartbeatRecorder.DatabaseState.NONE);
        assertThat(late.expiresAt()).isNull();
    }

    // ---------------------------------------------------------------- controls

    @Test
    void aDryRunReportsAndChangesNothing() {
        PlaygroundParts p = playground();
        createDb(p, "idle");
        createDb(p, "demo");
        keep("demo");
        orphanSecret("db-lost");
        orphanService("db-lost");
        clock.advance(TTL.plus(Duration.ofMinutes(1)));
        createDb(p, "busy");
        p.beatLedger.beat(UserKey.of("ghost"));
        clock.advance(TTL.plus(SECOND));
        beat(p, "busy");
        Map<String, String> before = snapshot();

        ReapReport dry = reaper(p).sweep(true);
        assertThat(dry.dryRun()).isTrue();
        assertThat(users(dry.reaped())).as("what would be reaped").containsExactly("idle");
        assertThat(users(dry.kept())).containsExactly("demo");
        assertThat(dry.counts().active()).isEqualTo(1);
        assertThat(dry.orphans())
                .containsExactly(
                        new ReapReport.Orphan(Reaper.KIND_HEARTBEAT_ENTRY, "ghost"),
                        new ReapReport.Orphan("Secret", "db-lost"),
                        new ReapReport.Orphan("Service", "db-lost"));
        assertThat(dry.counts().orphansRemoved()).as("what would be removed").isEqualTo(3);
        assertThat(snapshot()).as("a dry run writes nothing").isEqualTo(before);

        ReapReport forced = reaper(p, true, 500, Reaper.Interleaving.NONE).sweep(false);
        assertThat(forced.dryRun())
                .as("playground.reaper.dry-run forces a dry run")
                .isTrue();
        assertThat(users(forced.reaped())).containsExactly("idle");
        assertThat(snapshot()).isEqualTo(before);

        ReapReport real = reaper(p).sweep(false);
        assertThat(real.dryRun()).isFalse();
        assertThat(users(real.reaped())).containsExactly("idle");
        assertThat(real.counts().orphansRemoved()).isEqualTo(3);
        assertGone("idle");
        assertThat(root("demo")).isNotNull();
        assertThat(root("busy")).isNotNull();
        assertThat(p.meters
                        .counter("playground.reaper.kept", "dry_run", "false")
                        .count())
                .as("the kept demo")
                .isEqualTo(1.0);
        assertThat(p.meters
                        .counter("playground.reaper.reaped", "dry_run", "false")
                        .count())
                .isEqualTo(1.0);
        assertThat(p.meters
                        .counter("playground.reaper.reaped", "dry_run", "true")
                        .count())
                .isEqualTo(2.0);
        assertThat(p.meters
                        .counter("playground.reaper.orphans", "dry_run", "false")
                        .count())
                .isEqualTo(3.0);
        assertThat(p.meters.timer("playground.reaper.sweep", "dry_run", "true").count()
                        + p.meters
                                .timer("playground.reaper.sweep", "dry_run", "false")
                                .count())
                .isEqualTo(3);
    }

    @Test
    void aMaximumAgeEndsEvenAnActiveDatabase() {
        Duration maxAge = Duration.ofHours(2);
        PlaygroundParts aged = playground(maxAge);
        PlaygroundParts unlimited = playground();
        createDb(aged, "grace");
        Instant created = Instant.parse(root("grace").getMetadata().getCreationTimestamp());
        Instant end = created.plus(maxAge);

        clock.set(end.minus(Duration.ofMinutes(10)));
        HeartbeatRecorder.Beat beat = beat(aged, "grace");
        assertThat(beat.expiresAt())
                .as("heart_beat tells the client about the maximum age")
                .isEqualTo(end);

        clock.set(end);
        assertThat(reaper(aged).sweep(false).counts().active()).isEqualTo(1);
        clock.set(end.plus(SECOND));
        beat(aged, "grace");
        assertThat(reaper(unlimited).sweep(false).counts().active())
                .as("without a maximum age: active")
                .isEqualTo(1);
        ReapReport report = reaper(aged).sweep(false);
        assertThat(users(report.reaped())).containsExactly("grace");
        assertThat(report.reaped().get(0).reason()).startsWith("max age");
        assertGone("grace");
    }

    // ---------------------------------------------------------------- orphans

    @Test
    void leftOverObjectsWithoutARootGoOnceOlderThanTheCreateWait() {
        PlaygroundParts p = playground();
        Reaper reaper = reaper(p);
        HasMetadata secret = orphanSecret("db-lost");
        HasMetadata service = orphanService("db-lost");
        createDb(p, "owner");
        Instant newest = Instant.parse(service.getMetadata().getCreationTimestamp());
        Instant oldest = Instant.parse(secret.getMetadata().getCreationTimestamp());

        clock.set(oldest.plus(READY_WAIT));
        ReapReport young = reaper.sweep(false);
        assertThat(young.counts().orphansRemoved())
                .as("create_db may still be making them")
                .isZero();
        assertThat(admin().secrets().inNamespace(ns()).withName("db-lost").get())
                .isNotNull();

        clock.set(newest.plus(READY_WAIT).plus(SECOND));
        ReapReport old = reaper.sweep(false);
        assertThat(old.orphans())
                .containsExactly(
                        new ReapReport.Orphan("Secret", "db-lost"), new ReapReport.Orphan("Service", "db-lost"));
        assertThat(old.counts().orphansRemoved()).isEqualTo(2);
        assertThat(admin().secrets().inNamespace(ns()).withName("db-lost").get())
                .isNull();
        assertThat(admin().services().inNamespace(ns()).withName("db-lost").get())
                .isNull();
        assertThat(admin().secrets().inNamespace(ns()).withName("db-owner").get())
                .as("a root's objects are no orphans")
                .isNotNull();
        assertThat(admin().services().inNamespace(ns()).withName("db-owner").get())
                .isNotNull();
    }

    @Test
    void aLeftOverVolumeClaimGoesWithTheSecretOfItsName() {
        PlaygroundParts p = playground();
        Reaper reaper = reaper(p);
        HasMetadata claim = admin().persistentVolumeClaims()
                .inNamespace(ns())
                .resource(new PersistentVolumeClaimBuilder()
                        .withNewMetadata()
                        .withName("db-old-data")
                        .withLabels(PlaygroundLabels.database(UserKey.of("old-data")))
                        .endMetadata()
                        .withNewSpec()
                        .withAccessModes("ReadWriteOnce")
                        .withNewResources()
                        .addToRequests("storage", new Quantity("1Gi"))
                        .endResources()
                        .endSpec()
                        .build())
                .create();
        HasMetadata secret = orphanSecret("db-old-data");
        Instant newest = Instant.parse(secret.getMetadata().getCreationTimestamp());
        Instant claimed = Instant.parse(claim.getMetadata().getCreationTimestamp());
        clock.set((newest.isAfter(claimed) ? newest : claimed).plus(READY_WAIT).plus(SECOND));

        ReapReport report = reaper.sweep(false);
        assertThat(report.orphans())
                .containsExactly(
                        new ReapReport.Orphan("PersistentVolumeClaim", "db-old-data"),
                        new ReapReport.Orphan("Secret", "db-old-data"));
        PersistentVolumeClaim left = admin().persistentVolumeClaims()
                .inNamespace(ns())
                .withName("db-old-data")
                .get();
        assertThat(left == null || left.getMetadata().getDeletionTimestamp() != null)
                .as("deleted (or going)")
                .isTrue();
        assertThat(admin().secrets().inNamespace(ns()).withName("db-old-data").get())
                .isNull();
    }

    @Test
    void heartbeatEntriesWithoutADatabaseGoOnceOlderThanTheTtl() {
        PlaygroundParts p = playground();
        Reaper reaper = reaper(p);
        p.beatLedger.beat(UserKey.of("ghost"));
        Instant ghostBeat = storedBeat(p, "ghost");
        clock.advance(Duration.ofMinutes(5));
        p.beatLedger.beat(UserKey.of("newer-ghost"));

        clock.set(ghostBeat.plus(TTL));
        assertThat(reaper.sweep(false).counts().orphansRemoved()).isZero();
        assertThat(storedBeat(p, "ghost")).isNotNull();

        clock.set(ghostBeat.plus(TTL).plus(SECOND));
        ReapReport report = reaper.sweep(false);
        assertThat(report.orphans()).isEqualTo(List.of(new ReapReport.Orphan(Reaper.KIND_HEARTBEAT_ENTRY, "ghost")));
        assertThat(report.counts().orphansRemoved()).isEqualTo(1);
        assertThat(storedBeat(p, "ghost")).isNull();
        assertThat(storedBeat(p, "newer-ghost")).as("younger than the TTL").isNotNull();
    }

    @Test
    void aHalfMadeDatabaseIsLeftToCreateDbWhileActiveAndReapedWhenExpired() {
        PlaygroundParts p = playground();
        Reaper reaper = reaper(p);
        createDb(p, "half");
        admin().secrets().inNamespace(ns()).withName("db-half").delete();
        admin().services().inNamespace(ns()).withName("db-half").delete();
        clock.advance(Duration.ofMinutes(10));
        assertThat(reaper.sweep(false).counts().active()).isEqualTo(1);
        assertThat(root("half")).isNotNull();
        assertThat(admin().secrets().inNamespace(ns()).withName("db-half").get())
                .as("the reaper does not repair")
                .isNull();

        clock.advance(TTL);
        assertThat(users(reaper.sweep(false).reaped())).containsExactly("half");
        assertGone("half");
    }

    // ---------------------------------------------------------------- the ledger's shards

    @Test
    void beatsInTheShardsOfAnEarlierShardCountStillCount() {
        PlaygroundParts p = playground();
        // A user whose beats lived in a shard beyond today's count (playground.heartbeat.shards was 40 before).
        Map<String, String> earlier = Map.of("heartbeat.shards", "40");
        HeartbeatLedger before =
                assembly(cluster.client("heart_beat"), p.meters, earlier).ledger();
        // The same 40 shards as the reaper reads them (heart_beat only writes).
        HeartbeatLedger beforeAsReaper =
                assembly(cluster.client("reap_stale"), p.meters, earlier).ledger();
        String olga = IntStream.range(0, 100)
                .mapToObj(i -> "olga" + i)
                .filter(id -> UserKey.of(id).shard(40) >= DEFAULTS.heartbeat().shards())
                .findFirst()
                .orElseThrow();
        Reaper reaper = reaper(p);
        createDb(p, olga);
        clock.advance(Duration.ofMinutes(25));
        Instant beat = before.beat(UserKey.of(olga));
        assertThat(storedBeat(p, olga))
                .as("stored only in the shard of the earlier count")
                .isNotEqualTo(beat);

        clock.advance(Duration.ofMinutes(10));
        ReapReport report = reaper.sweep(false);
        assertThat(report.counts().active())
                .as("35 minutes after creation, 10 after the beat: active")
                .isEqualTo(1);
        assertThat(root(olga)).isNotNull();

        clock.set(beat.plus(TTL).plus(SECOND));
        assertThat(users(reaper.sweep(false).reaped())).containsExactly(olga);
        assertGone(olga);
        assertThat(beforeAsReaper.lastBeat(UserKey.of(olga)))
                .as("its entry in the earlier shard goes with the database")
                .isNull();
    }

    @Test
    void anUnreadableLedgerReapsNothingAndTheNextSweepDoes() {
        PlaygroundParts p = playground();
        AtomicBoolean failing = new AtomicBoolean(true);
        // The sweep's first read: the list of the heartbeat ConfigMaps.
        try (KubernetesClient faulty = failingWhile(
                failing,
                request -> request.method().equals("GET")
                        && request.uri().getPath().endsWith("/configmaps"))) {
            Reaper reaper = reaperOn(p, faulty);
            createDb(p, "omar");
            clock.advance(TTL.plus(SECOND));

            ReapReport first = reaper.sweep(false);
            assertThat(first.counts().reaped()).isZero();
            assertThat(first.counts().failed()).isEqualTo(1);
            assertThat(first.failed().get(0).reason()).contains("reading the heartbeat ledger failed");
            assertThat(DatabaseRoot.of(root("omar")).isCondemned())
                    .as("without the ledger nothing is judged")
                    .isFalse();

            failing.set(false);
            assertThat(users(reaper.sweep(false).reaped())).containsExactly("omar");
            assertGone("omar");
        }
    }

    @Test
    void aFailedRecheckLeavesTheDatabaseCondemnedForTheNextSweep() {
        PlaygroundParts p = playground();
        AtomicBoolean failing = new AtomicBoolean(true);
        // The re-read is a GET of one shard by name; the sweep's first read lists the shards.
        try (KubernetesClient faulty = failingWhile(
                failing,
                request -> request.method().equals("GET")
                        && request.uri().getPath().contains("/configmaps/"))) {
            Reaper reaper = reaperOn(p, faulty);
            createDb(p, "nina");
            clock.advance(TTL.plus(SECOND));

            ReapReport first = reaper.sweep(false);
            assertThat(users(first.failed())).containsExactly("nina");
            assertThat(first.failed().get(0).reason()).contains("re-reading");
            assertThat(DatabaseRoot.of(root("nina")).isCondemned())
                    .as("left condemned, not deleted")
                    .isTrue();

            failing.set(false);
            ReapReport second = reaper.sweep(false);
            assertThat(users(second.reaped())).containsExactly("nina");
            assertGone("nina");
        }
    }

    // ---------------------------------------------------------------- failures

    @Test
    void anApiErrorHalfWayIsFinishedByTheNextSweep() {
        PlaygroundParts p = playground();
        // Where a garbage collector works, it removes a deleted root's Service by itself, usually before the reaper
        // asks: a failed Service delete cannot leave a database half-way there, so only the root's delete fails.
        boolean gc = cluster.hasGarbageCollector();
        AtomicBoolean failing = new AtomicBoolean(true);
        try (KubernetesClient faulty = failingWhile(
                failing,
                request -> request.method().equals("DELETE")
                        && (request.uri().getPath().endsWith("/deployments/db-anna")
                                || !gc && request.uri().getPath().endsWith("/services/db-ben")))) {
            Reaper reaper = reaperOn(p, faulty);
            for (String user : List.of("anna", "ben", "cleo")) {
                createDb(p, user);
            }
            clock.advance(TTL.plus(SECOND));

            ReapReport first = reaper.sweep(false);
            assertThat(users(first.reaped()))
                    .as("one user's failure does not stop the sweep")
                    .isEqualTo(gc ? List.of("ben", "cleo") : List.of("cleo"));
            assertThat(users(first.failed())).isEqualTo(gc ? List.of("anna") : List.of("anna", "ben"));
            assertThat(first.failed().get(0).reason()).contains("500");
            assertThat(root("anna")).as("the delete failed").isNotNull();
            assertThat(root("ben")).isNull();
            if (!gc) {
                assertThat(first.failed().get(1).reason()).contains("Service");
                assertThat(admin().services()
                                .inNamespace(ns())
                                .withName("db-ben")
                                .get())
                        .as("left half-way")
                        .isNotNull();
            }
            assertThat(p.meters
                            .counter("playground.reaper.failed", "dry_run", "false")
                            .count())
                    .isEqualTo(gc ? 1.0 : 2.0);

            failing.set(false);
            clock.advance(SECOND);
            ReapReport second = reaper.sweep(false);
            assertThat(users(second.reaped())).containsExactly("anna");
            assertThat(second.orphans())
                    .isEqualTo(gc ? List.of() : List.of(new ReapReport.Orphan("Service", "db-ben")));
            assertThat(second.counts().failed()).isZero();

            ReapReport third = reaper.sweep(false);
            assertThat(third.counts()).as("nothing left to do").isEqualTo(new ReapReport.Counts(0, 0, 0, 0, 0, 0));
            for (String user : List.of("anna", "ben", "cleo")) {
                assertGone(user);
                assertThat(storedBeat(p, user)).isNull();
            }
        }
    }

    // ---------------------------------------------------------------- report

    @Test
    void theReportIsSnakeCaseJsonWithoutSecrets() {
        PlaygroundParts p = playground();
        DatabaseProvisioner.Provisioned db = createDb(p, "hank");
        String password = db.dataSource().replaceAll("^mysql://[^:]*:([^@]*)@.*$", "$1");
        clock.advance(TTL.plus(SECOND));
        String json = JsonMapper.builder().build().writeValueAsString(reaper(p).sweep(false));
        JsonNode tree = JsonMapper.builder().build().readTree(json);
        assertThat(tree.get("dry_run").booleanValue()).isFalse();
        assertThat(tree.has("started_at")).isTrue();
        assertThat(tree.has("finished_at")).isTrue();
        assertThat(tree.get("counts").get("reaped").intValue()).isEqualTo(1);
        assertThat(tree.get("counts").get("orphans_removed").intValue()).isZero();
        assertThat(tree.get("reaped").get(0).get("user_id").stringValue()).isEqualTo("hank");
        assertThat(tree.get("reaped").get(0).has("last_activity")).isTrue();
        assertThat(password).isNotEmpty();
        assertThat(json).as("the report never carries a password").doesNotContain(password);
    }

    // ---------------------------------------------------------------- scale

    @Test
    void manyUsersAreSweptInPages() throws Exception {
        int users = scaleUsers();
        int expired = users / 10;
        // The reaper alone, its directory not started: a watch would see every one of the set-up's creations.
        Playground p = assembly(cluster.client("reap_stale"), new SimpleMeterRegistry(), Map.of());
        long t0 = System.nanoTime();
        long setupCpu = processCpuNanos();
        List<Deployment> roots = new ArrayList<>();
        for (int i = 0; i < users; i++) {
            roots.add(p.objects().root(UserKey.of(String.format("user%05d", i))));
        }
        createInBulk(roots);
        Instant newest = Instant.EPOCH;
        for (Deployment root :
                admin().apps().deployments().inNamespace(ns()).list().getItems()) {
            Instant created = Instant.parse(root.getMetadata().getCreationTimestamp());
            newest = created.isAfter(newest) ? created : newest;
        }
        clock.set(newest.plus(TTL).plus(Duration.ofMinutes(1)));
        // The active users beat a minute ago; the first 1,000 never did.
        Map<Integer, Map<String, String>> shards = new TreeMap<>();
        for (int i = expired; i < users; i++) {
            UserKey user = UserKey.of(String.format("user%05d", i));
            shards.computeIfAbsent(p.ledger().shardOf(user), s -> new TreeMap<>())
                    .put(
                            user.key(),
                            clock.instant().minus(Duration.ofMinutes(1)).toString());
        }
        shards.forEach((shard, data) -> admin().configMaps()
                .inNamespace(ns())
                .resource(new ConfigMapBuilder()
                        .withNewMetadata()
                        .withName(p.ledger().shardName(shard))
                        .withLabels(PlaygroundLabels.heartbeats())
                        .endMetadata()
                        .withData(data)
                        .build())
                .create());
        long setupMillis = (System.nanoTime() - t0) / 1_000_000;
        long setupCpuMillis = (processCpuNanos() - setupCpu) / 1_000_000;

        int requestsBefore = requestCount().orElse(0);
        long s0 = System.nanoTime();
        long c0 = processCpuNanos();
        ReapReport report = p.reaper().sweep(false);
        long sweepMillis = (System.nanoTime() - s0) / 1_000_000;
        long sweepCpuMillis = (processCpuNanos() - c0) / 1_000_000;
        int requests = requestCount().orElse(0) - requestsBefore;

        assertThat(report.counts().examined()).isEqualTo(users);
        assertThat(report.counts().active()).isEqualTo(users - expired);
        assertThat(report.counts().reaped()).isEqualTo(expired);
        assertThat(report.counts().failed())
                .as(() -> report.failed().toString())
                .isZero();
        assertThat(report.reaped().get(0).userId()).isEqualTo(String.format("user%05d", 0));
        assertThat(report.reaped().get(expired - 1).userId()).isEqualTo(String.format("user%05d", expired - 1));
        assertThat(admin().apps().deployments().inNamespace(ns()).list().getItems())
                .hasSize(users - expired);

        long s1 = System.nanoTime();
        long c1 = processCpuNanos();
        ReapReport again = p.reaper().sweep(false);
        long secondMillis = (System.nanoTime() - s1) / 1_000_000;
        long secondCpuMillis = (processCpuNanos() - c1) / 1_000_000;
        assertThat(again.counts().active()).isEqualTo(users - expired);
        assertThat(again.counts().reaped()).isZero();
        System.out.printf(
                "reaper scale: %,d roots set up in %,d ms (%,d ms CPU); the sweep of %,d users reaping %,d "
                        + "took %,d ms (%,d ms CPU, this JVM)%s; a second sweep with nothing to reap took %,d ms (%,d ms CPU); "
                        + "load average %.1f%n",
                users,
                setupMillis,
                setupCpuMillis,
                users,
                expired,
                sweepMillis,
                sweepCpuMillis,
                requestCount().isPresent() ? String.format(" and %,d API requests", requests) : "",
                secondMillis,
                secondCpuMillis,
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }

    // ---------------------------------------------------------------- helpers

    /** CPU time of this JVM (test, client and, in the fast tier, the mock server): the machine may be busy. */
    static long processCpuNanos() {
        return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getProcessCpuTime()
                : 0;
    }

    /** Creates many objects for set-up: eight clients' worth of create requests at once. */
    protected void createInBulk(List<? extends HasMetadata> objects) throws Exception {
        ExecutorService creators = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> made = new ArrayList<>();
            for (HasMetadata object : objects) {
                made.add(creators.submit(
                        () -> admin().resource(object).inNamespace(ns()).create()));
            }
            for (Future<?> f : made) {
                f.get();
            }
        } finally {
            creators.shutdown();
        }
    }

    Deployment root(String userId) {
        return admin().apps()
                .deployments()
                .inNamespace(ns())
                .withName(UserKey.of(userId).resourceName())
                .get();
    }

    void keep(String userId) {
        admin().apps()
                .deployments()
                .inNamespace(ns())
                .withName(UserKey.of(userId).resourceName())
                .edit(d -> {
                    d.getMetadata().getAnnotations().put(PlaygroundLabels.KEEP, "true");
                    return d;
                });
    }

    HasMetadata orphanService(String name) {
        return admin().services()
                .inNamespace(ns())
                .resource(new ServiceBuilder()
                        .withNewMetadata()
                        .withName(name)
                        .withLabels(PlaygroundLabels.database(UserKey.of(name.substring(UserKey.NAME_PREFIX.length()))))
                        .endMetadata()
                        .withNewSpec()
                        .addNewPort()
                        .withPort(3306)
                        .endPort()
                        .endSpec()
                        .build())
                .create();
    }

    HasMetadata orphanSecret(String name) {
        return admin().secrets()
                .inNamespace(ns())
                .resource(new SecretBuilder()
                        .withNewMetadata()
                        .withName(name)
                        .withLabels(PlaygroundLabels.database(UserKey.of(name.substring(UserKey.NAME_PREFIX.length()))))
                        .endMetadata()
                        .withStringData(Map.of(DatabaseObjects.PASSWORD_KEY, "leftover"))
                        .build())
                .create();
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
        return new KubernetesClientBuilder()
                .withConfig(cluster.client("reap_stale").getConfiguration())
                .withHttpClientBuilderConsumer(b -> b.addOrReplaceInterceptor("faults", interceptor))
                .build();
    }

    /** The database and everything that was made for it are gone (or going, where a garbage collector works). */
    void assertGone(String userId) {
        String name = UserKey.of(userId).resourceName();
        Predicate<HasMetadata> goneOrGoing = o -> o == null || o.getMetadata().getDeletionTimestamp() != null;
        assertThat(goneOrGoing.test(admin().apps()
                        .deployments()
                        .inNamespace(ns())
                        .withName(name)
                        .get()))
                .as(name)
                .isTrue();
        BooleanSupplier dependentsGone = () -> goneOrGoing.test(
                        admin().secrets().inNamespace(ns()).withName(name).get())
                && goneOrGoing.test(
                        admin().services().inNamespace(ns()).withName(name).get())
                && goneOrGoing.test(admin().persistentVolumeClaims()
                        .inNamespace(ns())
                        .withName(name)
                        .get());
        if (cluster.hasGarbageCollector()) {
            // The reaper leaves the root's dependents to the garbage collector: they go soon after.
            await("the Secret, Service and claim of " + name + " to go with it").until(dependentsGone::getAsBoolean);
        } else {
            assertThat(dependentsGone.getAsBoolean())
                    .as("the Secret, Service and claim of " + name + " went with it")
                    .isTrue();
        }
    }

    List<Event> reapedEvents() {
        return admin().v1().events().inNamespace(ns()).list().getItems().stream()
                .filter(e -> Reaper.EVENT_REASON.equals(e.getReason()))
                .toList();
    }

    Event reapedEvent(String userId) {
        String name = UserKey.of(userId).resourceName();
        List<Event> events = reapedEvents().stream()
                .filter(e -> name.equals(e.getInvolvedObject().getName()))
                .toList();
        assertThat(events).as("the Reaped events of " + name).hasSize(1);
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
        put(
                out,
                "Deployment",
                admin().apps().deployments().inNamespace(ns()).list().getItems());
        put(out, "Secret", admin().secrets().inNamespace(ns()).list().getItems());
        put(out, "Service", admin().services().inNamespace(ns()).list().getItems());
        put(
                out,
                "PersistentVolumeClaim",
                admin().persistentVolumeClaims().inNamespace(ns()).list().getItems());
        // The scheduler, controllers and kubelet keep writing Events of their own on the node tier.
        put(
                out,
                "Event",
                admin().v1().events().inNamespace(ns()).list().getItems().stream()
                        .filter(e -> Reaper.COMPONENT.equals(e.getReportingComponent()))
                        .toList());
        List<ConfigMap> configMaps =
                admin().configMaps().inNamespace(ns()).list().getItems();
        put(out, "ConfigMap", configMaps);
        configMaps.forEach(cm -> out.put(
                "ConfigMap/" + cm.getMetadata().getName() + "/data",
                cm.getData() == null ? "" : new TreeMap<>(cm.getData()).toString()));
        return out;
    }

    private static void put(Map<String, String> out, String kind, List<? extends HasMetadata> objects) {
        out.putAll(objects.stream()
                .collect(Collectors.toMap(
                        o -> kind + "/" + o.getMetadata().getName(),
                        o -> o.getMetadata().getResourceVersion())));
    }
}
