package org.sqlflow.playground.reaper;

import java.net.HttpURLConnection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResourceList;
import io.fabric8.kubernetes.api.model.ListOptions;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentList;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.MixedOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlflow.playground.cluster.DatabaseObjects;
import org.sqlflow.playground.cluster.DatabaseRoots;
import org.sqlflow.playground.cluster.ExpiryPolicy;
import org.sqlflow.playground.cluster.GuardedDelete;
import org.sqlflow.playground.cluster.GuardedDelete.Outcome;
import org.sqlflow.playground.cluster.HeartbeatLedger;
import org.sqlflow.playground.cluster.PlaygroundLabels;
import org.sqlflow.playground.cluster.UserKey;
import org.sqlflow.playground.cluster.WarmPool;

/**
 * reap_stale: deletes the databases whose users stopped beating, and what half-made or left-over objects and
 * heartbeat entries remain. One sweep is idempotent; a sweep cut short (API errors, a crash) is finished by the
 * next one.
 *
 * <p>Per expired root the protocol is: <b>condemn</b> (an update adding {@link PlaygroundLabels#REAPING}, guarded
 * by the resourceVersion the listing saw), <b>re-check</b> (an authoritative read of the user's heartbeat shard,
 * one read per shard for a whole batch of condemned roots; a beat that landed meanwhile makes the reaper take its
 * condemnation back), <b>delete</b> (guarded by the condemned resourceVersion, propagation Background: the garbage
 * collector takes what the root owns). A heartbeat stores its beat first and then takes back any
 * condemnation it sees ({@link DatabaseRoots#rescue}), which changes the resourceVersion: whichever way the two
 * interleave, once heart_beat has answered, the delete either is not issued or fails with 409.
 */
public class Reaper implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Reaper.class);
    /** Tries of a condemnation or a delete when only the status changed under it (the controllers write it). */
    private static final int WRITE_ATTEMPTS = 3;

    /** Condemned roots held before the ledger is re-read for them: bounds the sweep's memory, not its calls. */
    private static final int RECHECK_BATCH = 2_000;

    /** The reason of the Kubernetes Event written for each deletion. */
    public static final String EVENT_REASON = "Reaped";
    /** The Event source and the component label of what the reaper writes. */
    public static final String COMPONENT = "sqlflow-playground-reaper";

    public static final String KIND_HEARTBEAT_ENTRY = "HeartbeatEntry";

    /**
     * @param forceDryRun  every sweep is a dry run, whatever the request says (playground.reaper.dry-run)
     * @param parallelism  users worked on at once
     * @param pageSize     objects per list request
     * @param orphanAge    a database object without its root is left alone while younger than this (create_db makes
     *                     the root first and the rest within playground.database.ready-wait)
     * @param garbageCollected a garbage collector deletes what a deleted root owns (every real cluster); without one
     *                     (the embedded API server of local mode) the reaper deletes the Secret, Service and claim
     */
    public record Settings(boolean forceDryRun, int parallelism, int pageSize, Duration orphanAge,
            boolean garbageCollected) {
        public Settings {
            if (parallelism < 1 || pageSize < 1 || orphanAge == null || orphanAge.isNegative()) {
                throw new IllegalArgumentException("invalid reaper settings");
            }
        }
    }

    /** The points between the protocol's steps where another actor may act. */
    public enum Step {
        /** The listed root was judged expired; it has not been condemned yet. */
        JUDGED,
        /** The root carries the condemnation; the ledger has not been re-read (that happens once per batch). */
        CONDEMNED,
        /** The ledger was re-read and still says expired; the delete has not been issued. */
        RECHECKED
    }

    /** Called at each {@link Step}, on the worker thread; lets a test place a heartbeat exactly there. */
    @FunctionalInterface
    public interface Interleaving {
        Interleaving NONE = (step, user) -> { };

        void at(Step step, UserKey user);
    }

    private final KubernetesClient client;
    private final String namespace;
    private final DatabaseRoots roots;
    private final HeartbeatLedger ledger;
    private final ExpiryPolicy expiry;
    private final WarmPool pool;
    private final Clock clock;
    private final Settings settings;
    private final MeterRegistry meters;
    private final Interleaving interleaving;
    private final ExecutorService workers;
    private final ReentrantLock sweeping = new ReentrantLock();

    public Reaper(KubernetesClient client, DatabaseRoots roots, HeartbeatLedger ledger, ExpiryPolicy expiry,
            WarmPool pool, Clock clock, Settings settings, MeterRegistry meters) {
        this(client, roots, ledger, expiry, pool, clock, settings, meters, Interleaving.NONE);
    }

    public Reaper(KubernetesClient client, DatabaseRoots roots, HeartbeatLedger ledger, ExpiryPolicy expiry,
            WarmPool pool, Clock clock, Settings settings, MeterRegistry meters, Interleaving interleaving) {
        this.client = client;
        this.namespace = roots.namespace();
        this.roots = roots;
        this.ledger = ledger;
        this.expiry = expiry;
        this.pool = pool;
        this.clock = clock;
        this.settings = settings;
        this.meters = meters;
        this.interleaving = interleaving;
        AtomicInteger n = new AtomicInteger();
        this.workers = Executors.newFixedThreadPool(settings.parallelism(), r -> {
            Thread t = new Thread(r, "reaper-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    public Settings settings() {
        return settings;
    }

    /**
     * One sweep. Sweeps of one instance run one at a time; sweeps of several instances may overlap safely (every
     * write is guarded by a resourceVersion). API errors do not escape: they are in the report's failures.
     */
    public ReapReport sweep(boolean dryRunRequested) {
        boolean dryRun = dryRunRequested || settings.forceDryRun();
        sweeping.lock();
        try {
            Timer.Sample sample = Timer.start(meters);
            ReapReport report = new Sweep(dryRun, clock.instant()).run();
            Tags tags = Tags.of("dry_run", Boolean.toString(dryRun));
            meters.counter("playground.reaper.reaped", tags).increment(report.counts().reaped());
            meters.counter("playground.reaper.kept", tags).increment(report.counts().kept());
            meters.counter("playground.reaper.failed", tags).increment(report.counts().failed());
            meters.counter("playground.reaper.orphans", tags).increment(report.counts().orphansRemoved());
            sample.stop(meters.timer("playground.reaper.sweep", tags));
            log.info("reaper sweep{}: {}", dryRun ? " (dry run)" : "", report.counts());
            return report;
        } finally {
            sweeping.unlock();
        }
    }

    @Override
    public void close() {
        workers.shutdownNow();
    }

    /** The state of one sweep. */
    private final class Sweep {
        private final boolean dryRun;
        private final Instant now;
        private final AtomicInteger examined = new AtomicInteger();
        private final AtomicInteger active = new AtomicInteger();
        private final AtomicInteger orphansRemoved = new AtomicInteger();
        private final List<ReapReport.UserOutcome> reaped = new ArrayList<>();
        private final List<ReapReport.UserOutcome> kept = new ArrayList<>();
        private final List<ReapReport.UserOutcome> failed = new ArrayList<>();
        private final List<ReapReport.Orphan> orphans = new ArrayList<>();
        private final Set<String> rootNames = ConcurrentHashMap.newKeySet();
        private final Set<String> secretsLookedUp = ConcurrentHashMap.newKeySet();
        private volatile WarmPool.Upkeep poolUpkeep;
        /** Heartbeat entries of reaped users to remove, by ConfigMap name, with the values the sweep saw. */
        private final Map<String, Map<String, Instant>> reapedEntries = new ConcurrentHashMap<>();
        /** The ledger as the sweep began: every heartbeat ConfigMap by name. */
        private Map<String, Map<String, Instant>> shards = Map.of();
        private final List<Condemned> awaitingRecheck = Collections.synchronizedList(new ArrayList<>());

        Sweep(boolean dryRun, Instant now) {
            this.dryRun = dryRun;
            this.now = now;
        }

        ReapReport run() {
            try {
                shards = ledger.readAll();
            } catch (RuntimeException e) {
                failed(null, "reading the heartbeat ledger failed, so nothing was reaped: " + describe(e), null);
                return report();
            }
            Map<String, Instant> beats = new HashMap<>();
            for (Map<String, Instant> shard : shards.values()) {
                shard.forEach((key, at) -> beats.merge(key, at, (a, b) -> a.isAfter(b) ? a : b));
            }
            boolean listedAll = sweepRoots(beats);
            finishCondemned();
            removeReapedEntries();
            tendPool();
            if (listedAll) {
                // Orphans are judged against the complete set of roots only. Secrets are never listed: a list would
                // hand the functions every Secret of the namespace (service account tokens, certificates), so the
                // Role grants none. A user's Secret shares its name with the user's Service and claim and is
                // looked up by that name; on a real cluster the garbage collector removes any Secret whose root
                // is gone anyway (the owner reference).
                sweepOrphans(client.services(), "Service");
                sweepOrphans(client.persistentVolumeClaims(), "PersistentVolumeClaim");
                sweepOrphanEntries();
            }
            return report();
        }

        /**
         * Unclaimed pooled databases are never stale: the pool is topped up instead, its broken databases replaced.
         * A dry run only looks.
         */
        private void tendPool() {
            try {
                poolUpkeep = dryRun ? pool.survey() : pool.upkeep(true);
            } catch (RuntimeException e) {
                failed(null, "tending the warm pool failed; the next sweep goes on: " + describe(e), null);
            }
        }

        private boolean sweepRoots(Map<String, Instant> beats) {
            String next = null;
            do {
                DeploymentList page;
                try {
                    page = client.apps().deployments().inNamespace(namespace)
                            .withLabels(PlaygroundLabels.allDatabases()).list(page(next));
                } catch (RuntimeException e) {
                    failed(null, "listing the databases failed; the next sweep goes on: " + describe(e), null);
                    return false;
                }
                List<Runnable> work = new ArrayList<>();
                for (Deployment root : page.getItems()) {
                    rootNames.add(root.getMetadata().getName());
                    Runnable task = examine(root, beats);
                    if (task != null) {
                        work.add(task);
                    }
                }
                runAll(work);
                if (awaitingRecheck.size() >= RECHECK_BATCH) {
                    finishCondemned();
                }
                next = page.getMetadata() == null ? null : page.getMetadata().getContinue();
            } while (next != null && !next.isEmpty());
            return true;
        }

        /** Decides about one root from the listing; returns the API work to do for it, if any. */
        private Runnable examine(Deployment root, Map<String, Instant> beats) {
            if (root.getMetadata().getDeletionTimestamp() != null || DatabaseObjects.isPooled(root)) {
                // A pooled database is no user's root: unclaimed it is the pool's, claimed it goes with its root.
                return null;
            }
            examined.incrementAndGet();
            UserKey user = userOf(root);
            if (user == null) {
                failed(null, "database " + root.getMetadata().getName()
                        + " has no user-id annotation matching its name; left alone", null);
                return null;
            }
            Instant beat = beats.get(user.key());
            Instant last = expiry.lastActivity(beat, root);
            if (!expiry.isExpired(now, beat, root)) {
                active.incrementAndGet();
                if (!dryRun && DatabaseRoots.isCondemned(root)) {
                    // Condemned by a sweep that stopped half-way, and active since: take it back.
                    return () -> {
                        try {
                            roots.rescue(root);
                        } catch (RuntimeException e) {
                            log.warn("could not take back a stale condemnation of {}: {}", root.getMetadata().getName(),
                                    describe(e));
                        }
                    };
                }
                return null;
            }
            if (isKept(root)) {
                kept(user, "keep annotation " + PlaygroundLabels.KEEP + "=true", last);
                return null;
            }
            if (dryRun) {
                reaped(user, whyExpired(beat, root), last);
                return null;
            }
            return () -> {
                try {
                    condemnStale(user, root, last, whyExpired(beat, root));
                } catch (RuntimeException e) {
                    failed(user, describe(e), last);
                }
            };
        }

        /** The first half of reaping: mark the root, so that a beat from now on takes it back. */
        private void condemnStale(UserKey user, Deployment root, Instant last, String why) {
            interleaving.at(Step.JUDGED, user);
            // condemn() writes into the object it is given: keep what was judged.
            Deployment judged = new DeploymentBuilder(root).build();
            Deployment condemned = null;
            Deployment current = root;
            for (int attempt = 0; condemned == null; attempt++) {
                try {
                    condemned = condemn(current);
                } catch (KubernetesClientException e) {
                    if (e.getCode() == HttpURLConnection.HTTP_NOT_FOUND) {
                        kept(user, "already gone", last);
                        return;
                    }
                    if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
                        throw e;
                    }
                    // The controllers may have written the status since the listing; that changes nothing judged.
                    current = attempt < WRITE_ATTEMPTS - 1 ? sameJudgement(judged) : null;
                    if (current == null) {
                        kept(user, "changed during the sweep; the next sweep looks again", last);
                        return;
                    }
                }
            }
            interleaving.at(Step.CONDEMNED, user);
            awaitingRecheck.add(new Condemned(user, condemned, last, why));
        }

        /**
         * The second half, for every root condemned so far: re-read the ledger, then delete. A beat stored before
         * the re-read is seen by it; a beat stored after it reads the root back, finds the condemnation and takes it
         * back, which changes the resourceVersion the delete is conditioned on. One read per shard serves the batch.
         */
        private void finishCondemned() {
            List<Condemned> batch;
            synchronized (awaitingRecheck) {
                batch = List.copyOf(awaitingRecheck);
                awaitingRecheck.clear();
            }
            Map<Integer, Map<String, Instant>> reread = new HashMap<>();
            Map<Integer, String> unreadable = new HashMap<>();
            for (Condemned c : batch) {
                int shard = ledger.shardOf(c.user());
                if (!reread.containsKey(shard) && !unreadable.containsKey(shard)) {
                    try {
                        reread.put(shard, ledger.read(shard));
                    } catch (RuntimeException e) {
                        unreadable.put(shard, describe(e));
                    }
                }
            }
            List<Runnable> work = new ArrayList<>();
            for (Condemned c : batch) {
                int shard = ledger.shardOf(c.user());
                Map<String, Instant> beats = reread.get(shard);
                if (beats == null) {
                    failed(c.user(), "re-reading its heartbeat failed, so it stays condemned and the next sweep "
                            + "decides: " + unreadable.get(shard), c.last());
                    continue;
                }
                work.add(() -> {
                    try {
                        delete(c, shard, beats.get(c.user().key()));
                    } catch (RuntimeException e) {
                        failed(c.user(), describe(e), c.last());
                    }
                });
            }
            runAll(work);
        }

        private void delete(Condemned c, int shard, Instant fresh) {
            UserKey user = c.user();
            Deployment condemned = c.root();
            Instant last = c.last();
            String why = c.why();
            if (!expiry.isExpired(now, fresh, condemned)) {
                roots.rescue(condemned);
                kept(user, "heartbeat arrived", expiry.lastActivity(fresh, condemned));
                return;
            }
            interleaving.at(Step.RECHECKED, user);

            Outcome outcome;
            String keptBecause = "heartbeat arrived";
            Deployment target = condemned;
            for (int attempt = 1; ; attempt++) {
                outcome = GuardedDelete.ifUnchanged(client.apps().deployments().inNamespace(namespace)
                        .withName(target.getMetadata().getName()), target.getMetadata().getResourceVersion());
                if (outcome != Outcome.CHANGED) {
                    break;
                }
                // A rescue (heart_beat, create_db) or a hand edit changes the condemned root's metadata: then it
                // stays. The deployment controller changes the root too, but only its status: on a Deployment the
                // condemning annotation bumps metadata.generation, and the controller answers with
                // status.observedGeneration. Still carrying this condemnation and otherwise unchanged: delete that.
                Deployment again = client.apps().deployments().inNamespace(namespace)
                        .withName(condemned.getMetadata().getName()).get();
                if (again == null) {
                    outcome = Outcome.GONE;
                    break;
                }
                if (!sameMetadata(again, condemned)) {
                    break;
                }
                if (attempt == WRITE_ATTEMPTS) {
                    keptBecause = "changed during the sweep; the next sweep looks again";
                    break;
                }
                target = again;
            }
            if (outcome == Outcome.CHANGED) {
                kept(user, keptBecause, last);
                return;
            }
            if (fresh != null) {
                reapedEntries.computeIfAbsent(ledger.shardName(shard), s -> new ConcurrentHashMap<>())
                        .put(user.key(), fresh);
            }
            // Entries left in shards of an earlier shard count go too (the current shard was just re-read).
            shards.forEach((name, entries) -> {
                Instant older = entries.get(user.key());
                if (older != null && !name.equals(ledger.shardName(shard))) {
                    reapedEntries.computeIfAbsent(name, s -> new ConcurrentHashMap<>()).put(user.key(), older);
                }
            });
            if (outcome == Outcome.GONE) {
                kept(user, "already gone", last);
                return;
            }
            event(condemned, user, why);
            log.info("reaped database {} (user key {}): {}", condemned.getMetadata().getName(), user.key(), why);
            // Where a garbage collector runs, the owner references take the Secret, Service, claim and any claimed
            // pooled database with the root; asking for each would triple the API calls of a large sweep.
            List<String> leftovers = settings.garbageCollected() ? List.of() : deleteDependents(condemned);
            if (leftovers.isEmpty()) {
                reaped(user, why, last);
            } else {
                failed(user, "deleted the database but not its " + String.join(", ", leftovers)
                        + "; the next sweep removes them", last);
            }
        }

        /**
         * The root as it is now, if nothing the sweep judged has changed since the listing (the same object, not being
         * deleted, the same annotations: no rescue, keep or other condemnation); otherwise null.
         */
        private Deployment sameJudgement(Deployment listed) {
            Deployment now = client.apps().deployments().inNamespace(namespace)
                    .withName(listed.getMetadata().getName()).get();
            return now != null && sameMetadata(now, listed) ? now : null;
        }

        private Deployment condemn(Deployment root) {
            Map<String, String> annotations = new HashMap<>(root.getMetadata().getAnnotations());
            annotations.put(PlaygroundLabels.REAPING, now.toString());
            root.getMetadata().setAnnotations(annotations);
            // update() sends the resourceVersion of the listing: 409 if anything changed since.
            return client.apps().deployments().inNamespace(namespace).resource(root).update();
        }

        /**
         * Without a garbage collector (the embedded API server) nothing else deletes these. Only objects owned by the
         * deleted root go: a namesake made by a newer create_db stays.
         */
        private List<String> deleteDependents(Deployment root) {
            String name = root.getMetadata().getName();
            String uid = root.getMetadata().getUid();
            List<String> leftovers = new ArrayList<>();
            String pooled = DatabaseObjects.claimOf(root);
            if (pooled != null) {
                try {
                    Deployment claimed = client.apps().deployments().inNamespace(namespace).withName(pooled).get();
                    if (claimed != null && DatabaseObjects.ownedBy(claimed, uid)) {
                        String pooledUid = claimed.getMetadata().getUid();
                        deleteOwned(client.apps().deployments(), "Deployment", pooled, uid, leftovers);
                        deleteOwned(client.secrets(), "Secret", pooled, pooledUid, leftovers);
                        deleteOwned(client.persistentVolumeClaims(), "PersistentVolumeClaim", pooled, pooledUid,
                                leftovers);
                    }
                } catch (RuntimeException e) {
                    leftovers.add("pooled Deployment " + pooled + " (" + describe(e) + ")");
                }
            }
            deleteOwned(client.secrets(), "Secret", name, uid, leftovers);
            deleteOwned(client.services(), "Service", name, uid, leftovers);
            deleteOwned(client.persistentVolumeClaims(), "PersistentVolumeClaim", name, uid, leftovers);
            return leftovers;
        }

        private <T extends HasMetadata> void deleteOwned(MixedOperation<T, ?, ? extends Resource<T>> ops,
                String kind, String name, String ownerUid, List<String> leftovers) {
            try {
                Resource<T> resource = ops.inNamespace(namespace).withName(name);
                T object = resource.get();
                if (object == null || object.getMetadata().getDeletionTimestamp() != null
                        || !DatabaseObjects.ownedBy(object, ownerUid)) {
                    return;
                }
                GuardedDelete.ifUnchanged(resource, object.getMetadata().getResourceVersion());
            } catch (RuntimeException e) {
                leftovers.add(kind + " (" + describe(e) + ")");
            }
        }

        private <T extends HasMetadata, L extends KubernetesResourceList<T>> void sweepOrphans(
                MixedOperation<T, L, ? extends Resource<T>> ops, String kind) {
            String next = null;
            do {
                L page;
                try {
                    page = ops.inNamespace(namespace).withLabels(PlaygroundLabels.allDatabases()).list(page(next));
                } catch (RuntimeException e) {
                    failed(null, "listing " + kind + "s failed; the next sweep goes on: " + describe(e), null);
                    return;
                }
                List<Runnable> work = new ArrayList<>();
                for (T object : page.getItems()) {
                    String name = object.getMetadata().getName();
                    Instant created = createdAt(object);
                    if (rootNames.contains(name) || object.getMetadata().getDeletionTimestamp() != null
                            || created == null || !now.isAfter(created.plus(settings.orphanAge()))) {
                        continue;
                    }
                    if (dryRun) {
                        orphan(kind, name, true);
                        work.add(() -> orphanSecret(name));
                        continue;
                    }
                    String version = object.getMetadata().getResourceVersion();
                    work.add(() -> {
                        try {
                            // The listing of roots is older than this: ask again before deleting.
                            if (client.apps().deployments().inNamespace(namespace).withName(name).get() != null) {
                                return;
                            }
                            orphanSecret(name);
                            if (GuardedDelete.ifUnchanged(ops.inNamespace(namespace).withName(name), version)
                                    == Outcome.DELETED) {
                                orphan(kind, name, true);
                            }
                        } catch (RuntimeException e) {
                            failed(null, "removing the left-over " + kind + " " + name + " failed: " + describe(e),
                                    null);
                        }
                    });
                }
                runAll(work);
                next = page.getMetadata() == null ? null : page.getMetadata().getContinue();
            } while (next != null && !next.isEmpty());
        }

        /** The Secret named like a left-over Service or claim, if it is a left-over too (once per name and sweep). */
        private void orphanSecret(String name) {
            if (!secretsLookedUp.add(name)) {
                return;
            }
            try {
                Resource<Secret> resource = client.secrets().inNamespace(namespace).withName(name);
                Secret secret = resource.get();
                Instant created = secret == null ? null : createdAt(secret);
                Map<String, String> labels = secret == null ? null : secret.getMetadata().getLabels();
                if (secret == null || secret.getMetadata().getDeletionTimestamp() != null || created == null
                        || !now.isAfter(created.plus(settings.orphanAge())) || labels == null
                        || !labels.entrySet().containsAll(PlaygroundLabels.allDatabases().entrySet())) {
                    return;
                }
                if (dryRun || GuardedDelete.ifUnchanged(resource, secret.getMetadata().getResourceVersion())
                        == Outcome.DELETED) {
                    orphan("Secret", name, true);
                }
            } catch (RuntimeException e) {
                failed(null, "removing the left-over Secret " + name + " failed: " + describe(e), null);
            }
        }

        /** Heartbeat entries without a database, older than the TTL. A beat that lands meanwhile keeps its entry. */
        private void sweepOrphanEntries() {
            for (Map.Entry<String, Map<String, Instant>> shard : shards.entrySet()) {
                Map<String, Instant> stale = new HashMap<>();
                shard.getValue().forEach((key, at) -> {
                    if (!rootNames.contains(UserKey.NAME_PREFIX + key) && now.isAfter(at.plus(expiry.ttl()))) {
                        stale.put(key, at);
                    }
                });
                if (stale.isEmpty()) {
                    continue;
                }
                if (dryRun) {
                    stale.keySet().forEach(key -> orphan(KIND_HEARTBEAT_ENTRY, key, true));
                    continue;
                }
                try {
                    int removed = ledger.removeIfUnchanged(shard.getKey(), stale);
                    stale.keySet().forEach(key -> orphan(KIND_HEARTBEAT_ENTRY, key, false));
                    orphansRemoved.addAndGet(removed);
                } catch (RuntimeException e) {
                    failed(null, "removing stale heartbeat entries from " + shard.getKey() + " failed: "
                            + describe(e), null);
                }
            }
        }

        private void removeReapedEntries() {
            reapedEntries.forEach((shard, entries) -> {
                try {
                    ledger.removeIfUnchanged(shard, new HashMap<>(entries));
                } catch (RuntimeException e) {
                    failed(null, "removing heartbeat entries of reaped users from " + shard
                            + " failed; the next sweep removes them: " + describe(e), null);
                }
            });
        }

        private void event(Deployment root, UserKey user, String why) {
            String at = now.toString();
            Event event = new EventBuilder()
                    .withNewMetadata()
                        .withName(root.getMetadata().getName() + "." + Long.toHexString(now.toEpochMilli())
                                + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0x10000)))
                        .withNamespace(namespace)
                        .withLabels(PlaygroundLabels.common("reaper"))
                    .endMetadata()
                    .withNewInvolvedObject()
                        .withApiVersion("apps/v1").withKind("Deployment").withNamespace(namespace)
                        .withName(root.getMetadata().getName()).withUid(root.getMetadata().getUid())
                        .withResourceVersion(root.getMetadata().getResourceVersion())
                    .endInvolvedObject()
                    .withReason(EVENT_REASON)
                    .withType("Normal")
                    .withMessage("Deleted the database of user " + user.userId() + " (key " + user.key() + "): "
                            + why)
                    .withFirstTimestamp(at).withLastTimestamp(at).withCount(1)
                    .withNewSource().withComponent(COMPONENT).endSource()
                    .withReportingComponent(COMPONENT)
                    .build();
            try {
                client.v1().events().inNamespace(namespace).resource(event).create();
            } catch (RuntimeException e) {
                // The deletion happened; the log is the audit trail of last resort.
                log.warn("could not record the Event for reaping {}: {}", root.getMetadata().getName(), describe(e));
            }
        }

        private String whyExpired(Instant beat, Deployment root) {
            Instant last = expiry.lastActivity(beat, root);
            if (last != null && now.isAfter(last.plus(expiry.ttl()))) {
                return "idle: last activity " + last + ", expired " + last.plus(expiry.ttl());
            }
            return "max age: created " + ExpiryPolicy.createdAt(root) + ", expired " + expiry.expiresAt(beat, root);
        }

        private void runAll(List<Runnable> work) {
            List<Future<?>> running = new ArrayList<>(work.size());
            for (Runnable task : work) {
                running.add(workers.submit(task));
            }
            for (Future<?> f : running) {
                try {
                    f.get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    running.forEach(r -> r.cancel(true));
                    throw new IllegalStateException("interrupted while sweeping", e);
                } catch (ExecutionException e) {
                    failed(null, "a reaper task failed: " + describe(e.getCause()), null);
                }
            }
        }

        private synchronized void reaped(UserKey user, String reason, Instant last) {
            reaped.add(outcome(user, reason, last));
        }

        private synchronized void kept(UserKey user, String reason, Instant last) {
            kept.add(outcome(user, reason, last));
        }

        private synchronized void failed(UserKey user, String reason, Instant last) {
            // The report goes to whoever asked (a CronJob's curl); the log is where a maintainer looks.
            log.warn("reaper: {}{}", user == null ? "" : "user key " + user.key() + ": ", reason);
            failed.add(outcome(user, reason, last));
        }

        private synchronized void orphan(String kind, String name, boolean count) {
            orphans.add(new ReapReport.Orphan(kind, name));
            if (count) {
                orphansRemoved.incrementAndGet();
            }
        }

        private synchronized ReapReport report() {
            Comparator<ReapReport.UserOutcome> byUser = Comparator.comparing(ReapReport.UserOutcome::userId,
                    Comparator.nullsFirst(Comparator.naturalOrder()));
            reaped.sort(byUser);
            kept.sort(byUser);
            failed.sort(byUser);
            orphans.sort(Comparator.comparing(ReapReport.Orphan::kind).thenComparing(ReapReport.Orphan::name));
            ReapReport.Counts counts = new ReapReport.Counts(examined.get(), active.get(), reaped.size(), kept.size(),
                    failed.size(), orphansRemoved.get());
            return new ReapReport(dryRun, now.toString(), clock.instant().toString(), counts, List.copyOf(reaped),
                    List.copyOf(kept), List.copyOf(failed), List.copyOf(orphans), poolUpkeep);
        }

        private ListOptions page(String next) {
            return new ListOptionsBuilder().withLimit((long) settings.pageSize()).withContinue(next).build();
        }
    }

    /** A stale root this sweep has condemned, waiting for the batch's re-read of the ledger. */
    private record Condemned(UserKey user, Deployment root, Instant last, String why) {
    }

    /** The user a root was made for, or null when its annotation is missing or does not match its name. */
    static UserKey userOf(Deployment root) {
        Map<String, String> annotations = root.getMetadata().getAnnotations();
        String userId = annotations == null ? null : annotations.get(PlaygroundLabels.USER_ID);
        if (!UserKey.isValidUserId(userId)) {
            return null;
        }
        UserKey user = UserKey.of(userId);
        return user.resourceName().equals(root.getMetadata().getName()) ? user : null;
    }

    /**
     * The same object with the same playground annotations and no deletion under way. Everything else may have
     * changed: the deployment controller writes the status and its own annotations (deployment.kubernetes.io/revision
     * appears once it has made the first ReplicaSet, which on a busy cluster can be after the sweep listed the root).
     * A rescue, a keep or another sweep's condemnation all change a playground annotation.
     */
    static boolean sameMetadata(Deployment now, Deployment before) {
        return now.getMetadata().getDeletionTimestamp() == null
                && Objects.equals(now.getMetadata().getUid(), before.getMetadata().getUid())
                && playgroundAnnotations(now).equals(playgroundAnnotations(before));
    }

    private static Map<String, String> playgroundAnnotations(Deployment root) {
        Map<String, String> all = root.getMetadata().getAnnotations();
        Map<String, String> ours = new HashMap<>();
        if (all != null) {
            all.forEach((key, value) -> {
                if (key.startsWith(PlaygroundLabels.DOMAIN)) {
                    ours.put(key, value);
                }
            });
        }
        return ours;
    }

    static boolean isKept(Deployment root) {
        Map<String, String> annotations = root.getMetadata().getAnnotations();
        return annotations != null && "true".equalsIgnoreCase(annotations.get(PlaygroundLabels.KEEP));
    }

    private static ReapReport.UserOutcome outcome(UserKey user, String reason, Instant last) {
        return new ReapReport.UserOutcome(user == null ? null : user.userId(), reason,
                last == null ? null : last.toString());
    }

    private static Instant createdAt(HasMetadata object) {
        String ts = object.getMetadata().getCreationTimestamp();
        return ts == null ? null : Instant.parse(ts);
    }

    /** A short reason for the report and the log: status code and the API server's message, never a body. */
    static String describe(Throwable e) {
        if (e instanceof KubernetesClientException k && k.getCode() > 0) {
            String message = k.getStatus() != null && k.getStatus().getMessage() != null ? k.getStatus().getMessage()
                    : k.getMessage();
            return "Kubernetes API answered " + k.getCode() + ": " + truncate(message);
        }
        return e.getClass().getSimpleName() + ": " + truncate(e.getMessage());
    }

    private static String truncate(String s) {
        if (s == null) {
            return "";
        }
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }
}
