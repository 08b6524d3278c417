package org.sqlflow.playground.cluster;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentList;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.NonNamespaceOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.dsl.RollableScalableResource;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.net.HttpURLConnection;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlflow.playground.error.PlaygroundError;

/**
 * Databases started ahead of demand, so that a new user's first create_db answers at once instead of after the
 * tens of seconds a MySQL pod takes (the SQLFlow magic gives up after 20 s).
 *
 * <p>A pooled database is a Deployment named {@code pool-<random>} with its own Secret (its own random password),
 * labelled {@link PlaygroundLabels#POOL_UNCLAIMED}. A new user's root is then made with no replicas, naming one
 * Ready pooled database ({@link PlaygroundLabels#CLAIMS}); the claim is an update of the pooled Deployment, guarded by
 * the resourceVersion just read, that marks it claimed and makes the root its owner. So the API server decides every
 * race: a pooled database goes to exactly one root (the losers' updates fail with 409), and a user has exactly one
 * root (its name is fixed), which names one pooled database at a time and moves on only from one that is gone or
 * someone else's. A root whose claim cannot be settled (the pool ran dry) becomes an ordinary root by getting one
 * replica: its pod spec is the ordinary one.
 *
 * <p>Deleting the root deletes the claimed database with it (the owner reference). Unclaimed databases are never
 * reaped as stale; one that has not been Ready for longer than {@code brokenAfter} is replaced.
 */
public class WarmPool implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(WarmPool.class);
    private static final int SETTLE_ATTEMPTS = 8;
    private static final String NAME_PREFIX = "pool-";
    private static final char[] NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789".toCharArray();
    private static final SecureRandom RANDOM = new SecureRandom();

    /**
     * @param size        unclaimed databases to keep; 0 turns the pool off
     * @param brokenAfter an unclaimed database not Ready for longer than this is replaced
     */
    public record Settings(int size, Duration brokenAfter) {
        public Settings {
            if (size < 0 || brokenAfter == null || brokenAfter.isNegative()) {
                throw new IllegalArgumentException("invalid warm pool settings");
            }
        }
    }

    /** The outcome of settling a root's claim: the root as it is now, and the pooled database it owns, if any. */
    public record Claim(Deployment root, Deployment pooled) {}

    /** What one round of upkeep found and did; part of the reaper's report. Nothing here is secret. */
    public record Upkeep(int size, int ready, int starting, int created, int replaced, int trimmed) {}

    private final KubernetesClient client;
    private final String namespace;
    private final DatabaseObjects objects;
    private final DatabaseDirectory directory;
    private final Clock clock;
    private final Settings settings;
    private final int maxDatabases;
    private final Counter claims;
    private final Counter misses;
    private final Counter replaced;
    private final Timer refillTimer;
    private final ExecutorService refiller;
    private final AtomicBoolean refillQueued = new AtomicBoolean();
    /** Pooled databases this instance made that its watch has not shown yet: they count against the maximum. */
    private final Set<String> createdUnseen = ConcurrentHashMap.newKeySet();

    public WarmPool(
            KubernetesClient client,
            String namespace,
            DatabaseObjects objects,
            DatabaseDirectory directory,
            Clock clock,
            Settings settings,
            int maxDatabases,
            MeterRegistry meters) {
        this.client = client;
        this.namespace = namespace;
        this.objects = objects;
        this.directory = directory;
        this.clock = clock;
        this.settings = settings;
        this.maxDatabases = maxDatabases;
        this.claims = meters.counter("playground.pool.claims");
        this.misses = meters.counter("playground.pool.misses");
        this.replaced = meters.counter("playground.pool.replaced");
        this.refillTimer = meters.timer("playground.pool.refill");
        Gauge.builder("playground.pool.size", this, p -> p.cachedCount(true))
                .tag("state", "ready")
                .description("unclaimed pooled databases, as the watch sees them")
                .register(meters);
        Gauge.builder("playground.pool.size", this, p -> p.cachedCount(false))
                .tag("state", "starting")
                .register(meters);
        Gauge.builder("playground.pool.target", this, p -> p.settings.size()).register(meters);
        this.refiller = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "warm-pool-refill");
            t.setDaemon(true);
            return t;
        });
    }

    public boolean enabled() {
        return settings.size() > 0;
    }

    /** Ready, unclaimed pooled databases as the watch sees them, in random order (concurrent claimers spread out). */
    public List<Deployment> candidates() {
        if (!enabled()) {
            return List.of();
        }
        List<Deployment> ready = new ArrayList<>();
        for (Deployment d : directory.all()) {
            if (isClaimable(DatabaseRoot.of(d)) && DatabaseRoot.of(d).isReady()) {
                ready.add(d);
            }
        }
        Collections.shuffle(ready);
        return ready;
    }

    /** A new user found no Ready pooled database. */
    public void recordMiss() {
        if (enabled()) {
            misses.increment();
        }
    }

    /**
     * Settles the claim of a root: returns the pooled database the root owns now, or no pooled database when the
     * root is (or has become) an ordinary one. Idempotent: any number of calls for one root, concurrent or after a
     * crash half-way, settle on the same pooled database.
     */
    public Claim settle(Deployment root, UserKey user) {
        Deployment current = root;
        Set<String> tried = new HashSet<>();
        for (int attempt = 0; attempt < SETTLE_ATTEMPTS; attempt++) {
            String name = DatabaseRoot.of(current).claims();
            if (name == null) {
                return new Claim(current, null);
            }
            Deployment pooled = deployments().withName(name).get();
            if (pooled != null && pooled.getMetadata().getDeletionTimestamp() == null) {
                if (DatabaseObjects.ownedBy(pooled, current.getMetadata().getUid())) {
                    return new Claim(current, pooled);
                }
                if (DatabaseRoot.of(pooled).isUnclaimed()) {
                    try {
                        // update() sends the resourceVersion read: 409 if anyone else claimed (or touched) it since.
                        Deployment claimed = deployments()
                                .resource(DatabaseRoot.of(pooled).claimedBy(DatabaseRoot.of(current), user))
                                .update();
                        claims.increment();
                        log.info("user key {} claimed pooled database {}", user.key(), name);
                        requestRefill();
                        return new Claim(current, claimed);
                    } catch (KubernetesClientException e) {
                        if (e.getCode() == HttpURLConnection.HTTP_CONFLICT) {
                            // Another claim, or only a status write: read it again.
                            continue;
                        }
                        if (e.getCode() != HttpURLConnection.HTTP_NOT_FOUND) {
                            throw e;
                        }
                    }
                }
            }
            // Gone, or someone else's: name another Ready one, or become an ordinary root.
            tried.add(name);
            Deployment next = candidates().stream()
                    .filter(d -> !tried.contains(d.getMetadata().getName()))
                    .findFirst()
                    .orElse(null);
            Deployment changed = next == null
                    ? DatabaseRoot.of(current).ordinary()
                    : DatabaseRoot.of(current).claiming(next.getMetadata().getName());
            try {
                current = deployments().resource(changed).update();
                if (next == null) {
                    misses.increment();
                    log.info("the warm pool had nothing for user key {}; starting a database of its own", user.key());
                    return new Claim(current, null);
                }
            } catch (KubernetesClientException e) {
                if (e.getCode() == HttpURLConnection.HTTP_NOT_FOUND) {
                    throw PlaygroundError.CONFLICT.exception(e);
                }
                if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
                    throw e;
                }
                current = deployments().withName(root.getMetadata().getName()).get();
                if (current == null) {
                    throw PlaygroundError.CONFLICT.exception(e);
                }
            }
        }
        throw PlaygroundError.CONFLICT.exception();
    }

    /** Tops the pool up in the background; requests while one is queued fold into it. */
    public void requestRefill() {
        if (!enabled() || !refillQueued.compareAndSet(false, true)) {
            return;
        }
        try {
            refiller.execute(() -> {
                refillQueued.set(false);
                try {
                    upkeep(false);
                } catch (RuntimeException e) {
                    log.warn(
                            "refilling the warm pool failed; the next claim or reaper run tries again: {}",
                            e.getMessage());
                }
            });
        } catch (RejectedExecutionException e) {
            refillQueued.set(false);
        }
    }

    /**
     * One round of upkeep from an authoritative list: with {@code replaceBroken}, deletes the unclaimed databases
     * not Ready for longer than brokenAfter, and the unclaimed ones beyond the pool's size (several instances
     * refilling at once); then creates what is missing, never above the playground's maximum of databases.
     * Every delete is guarded by the resourceVersion listed: a claim that lands meanwhile wins.
     */
    public synchronized Upkeep upkeep(boolean replaceBroken) {
        List<Deployment> unclaimed = listUnclaimed();
        int brokenCount = 0;
        int trimmed = 0;
        if (replaceBroken) {
            Instant now = clock.instant();
            List<Deployment> kept = new ArrayList<>();
            for (Deployment d : unclaimed) {
                DatabaseRoot pooled = DatabaseRoot.of(d);
                if (!pooled.isReady() && now.isAfter(pooled.notReadySince().plus(settings.brokenAfter()))) {
                    if (delete(d)) {
                        brokenCount++;
                        replaced.increment();
                        log.warn(
                                "replaced pooled database {}: not Ready since {}",
                                pooled.name(),
                                pooled.notReadySince());
                    }
                } else {
                    kept.add(d);
                }
            }
            // Keep the Ready and the oldest; the not-Ready and the youngest go first.
            kept.sort(Comparator.comparing((Deployment d) -> DatabaseRoot.of(d).isReady() ? 0 : 1)
                    .thenComparing(d -> DatabaseRoot.of(d).createdAt()));
            while (kept.size() > settings.size()) {
                if (delete(kept.remove(kept.size() - 1))) {
                    trimmed++;
                }
            }
            unclaimed = kept;
        }
        int ready = (int) unclaimed.stream().filter(DatabaseRoot::isReady).count();
        int created = 0;
        if (enabled()) {
            Timer.Sample sample = Timer.start();
            Set<String> listed = new HashSet<>();
            unclaimed.forEach(d -> listed.add(d.getMetadata().getName()));
            createdUnseen.removeIf(name -> directory.cached(name) != null || !listed.contains(name));
            int room = maxDatabases - directory.databaseCount() - createdUnseen.size();
            int missing = Math.min(settings.size() - unclaimed.size(), room);
            for (int i = 0; i < missing; i++) {
                createOne();
                created++;
            }
            sample.stop(refillTimer);
        }
        return new Upkeep(settings.size(), ready, unclaimed.size() - ready + created, created, brokenCount, trimmed);
    }

    /** The pool as it is, from an authoritative list; changes nothing (the reaper's dry run). */
    public Upkeep survey() {
        List<Deployment> unclaimed = listUnclaimed();
        int ready = (int) unclaimed.stream().filter(DatabaseRoot::isReady).count();
        return new Upkeep(settings.size(), ready, unclaimed.size() - ready, 0, 0, 0);
    }

    @Override
    public void close() {
        refiller.shutdownNow();
    }

    private List<Deployment> listUnclaimed() {
        List<Deployment> unclaimed = new ArrayList<>();
        for (Deployment d : deployments()
                .withLabels(PlaygroundLabels.unclaimedPool())
                .list()
                .getItems()) {
            if (isClaimable(DatabaseRoot.of(d))) {
                unclaimed.add(d);
            }
        }
        return unclaimed;
    }

    private void createOne() {
        char[] suffix = new char[10];
        for (int i = 0; i < suffix.length; i++) {
            suffix[i] = NAME_CHARS[RANDOM.nextInt(NAME_CHARS.length)];
        }
        String name = NAME_PREFIX + new String(suffix);
        // Deployment first: the Secret and the claim name it as their owner. A crash before the Secret leaves a
        // database that never becomes Ready, which upkeep replaces.
        Deployment pooled = deployments().resource(objects.pooled(name)).create();
        createdUnseen.add(name);
        client.secrets()
                .inNamespace(namespace)
                .resource(objects.pooledSecret(pooled, Passwords.generate()))
                .create();
        if (objects.usesVolumeClaim()) {
            client.persistentVolumeClaims()
                    .inNamespace(namespace)
                    .resource(objects.pooledVolumeClaim(pooled))
                    .create();
        }
        log.info("started pooled database {}", name);
    }

    /** Deletes an unclaimed database as listed; false when it changed meanwhile (a claim) or is gone. */
    private boolean delete(Deployment d) {
        String name = d.getMetadata().getName();
        if (GuardedDelete.ifUnchanged(
                        deployments().withName(name), d.getMetadata().getResourceVersion())
                != GuardedDelete.Outcome.DELETED) {
            return false;
        }
        // Without a garbage collector (fabric8's mock server) nothing else deletes these.
        deleteOwned(client.secrets().inNamespace(namespace).withName(name), d);
        deleteOwned(client.persistentVolumeClaims().inNamespace(namespace).withName(name), d);
        return true;
    }

    private static <T extends HasMetadata> void deleteOwned(Resource<T> resource, Deployment owner) {
        try {
            GuardedDelete.ifOwnedBy(resource, owner.getMetadata().getUid());
        } catch (KubernetesClientException e) {
            log.debug(
                    "left {} to the garbage collector: {}", owner.getMetadata().getName(), e.getMessage());
        }
    }

    /** An unclaimed warm-pool database not being deleted: one a root may claim once it is Ready. */
    private static boolean isClaimable(DatabaseRoot d) {
        return d.isUnclaimed() && !d.isDeleting();
    }

    /** Unclaimed pooled databases that are Ready (or, for false, still starting), as the watch sees them. */
    public int unclaimed(boolean ready) {
        return (int) cachedCount(ready);
    }

    /** The configured size the pool is kept at (playground.pool.size). */
    public int target() {
        return settings.size();
    }

    private double cachedCount(boolean ready) {
        int n = 0;
        for (Deployment d : directory.all()) {
            if (isClaimable(DatabaseRoot.of(d)) && DatabaseRoot.of(d).isReady() == ready) {
                n++;
            }
        }
        return n;
    }

    private NonNamespaceOperation<Deployment, DeploymentList, RollableScalableResource<Deployment>> deployments() {
        return client.apps().deployments().inNamespace(namespace);
    }
}
