package org.sqlflow.playground.reaper;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentList;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.MixedOperation;
import io.fabric8.kubernetes.client.dsl.NonNamespaceOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.dsl.RollableScalableResource;
import java.net.HttpURLConnection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlflow.playground.cluster.DatabaseObjects;
import org.sqlflow.playground.cluster.DatabaseRoot;
import org.sqlflow.playground.cluster.DatabaseRoots;
import org.sqlflow.playground.cluster.GuardedDelete;
import org.sqlflow.playground.cluster.GuardedDelete.Outcome;
import org.sqlflow.playground.cluster.HeartbeatLedger;
import org.sqlflow.playground.cluster.UserKey;
import org.sqlflow.playground.reaper.ReapPolicy.Decision;
import org.sqlflow.playground.reaper.ReapPolicy.Verdict;

/**
 * The guarded protocol for the expired roots of one sweep: <b>condemn</b> (an update adding the condemnation,
 * guarded by the resourceVersion the listing saw), <b>re-check</b> (an authoritative read of the user's heartbeat
 * shard, one read per shard for a whole batch), <b>delete</b> (guarded by the condemned resourceVersion, propagation
 * Background), then the Event, and the dependents where no garbage collector takes them.
 *
 * <p>The controllers write a root's status and their own annotations at any moment (the condemnation itself bumps
 * a Deployment's metadata.generation, which the deployment controller answers with a status write), and each write
 * makes a guarded write fail with 409. Such a conflict is retried on the root as re-read as long as nothing the
 * sweep judged has changed ({@link DatabaseRoot#sameJudgementAs}); a rescue, a keep or another sweep's condemnation
 * does change it, and then the root stays.
 */
final class Reaping {

    private static final Logger log = LoggerFactory.getLogger(Reaper.class);

    /**
     * Tries of one condemnation or one delete while only the controllers change the root. A busy controller answers
     * each change with a few writes in a row, spread out on a loaded machine: the pauses between tries let them land.
     */
    static final int WRITE_ATTEMPTS = 10;

    private static final Duration FIRST_PAUSE = Duration.ofMillis(20);
    private static final Duration LONGEST_PAUSE = Duration.ofMillis(320);

    private static final String CHANGING = "changed during the sweep; the next sweep looks again";

    private enum Ending {
        DELETED,
        GONE,
        RESCUED,
        CHANGING
    }

    private final Sweep sweep;
    private final DatabaseRoots roots;
    private final HeartbeatLedger ledger;
    /** The ledger as the sweep began: every heartbeat ConfigMap by name. */
    private final Map<String, Map<String, Instant>> shards;

    private final Reaper.Interleaving interleaving;
    private final boolean garbageCollected;
    private final List<Decision> awaitingRecheck = Collections.synchronizedList(new ArrayList<>());
    /** Heartbeat entries of reaped users to remove, by ConfigMap name, with the values the sweep saw. */
    private final Map<String, Map<String, Instant>> reapedEntries = new ConcurrentHashMap<>();

    Reaping(
            Sweep sweep,
            DatabaseRoots roots,
            HeartbeatLedger ledger,
            Map<String, Map<String, Instant>> shards,
            Reaper.Interleaving interleaving,
            boolean garbageCollected) {
        this.sweep = sweep;
        this.roots = roots;
        this.ledger = ledger;
        this.shards = shards;
        this.interleaving = interleaving;
        this.garbageCollected = garbageCollected;
    }

    int awaitingRecheck() {
        return awaitingRecheck.size();
    }

    /** The first half of reaping: mark the root, so that a beat from now on takes it back. */
    void condemn(Decision d) {
        interleaving.at(Reaper.Step.JUDGED, d.user());
        DatabaseRoot current = d.root();
        for (int attempt = 1; ; attempt++) {
            try {
                // update() sends the resourceVersion of the listing (or of the re-read): 409 if anything changed since.
                Deployment condemned =
                        deployments().resource(current.condemned(sweep.now)).update();
                interleaving.at(Reaper.Step.CONDEMNED, d.user());
                awaitingRecheck.add(d.on(DatabaseRoot.of(condemned)));
                return;
            } catch (KubernetesClientException e) {
                if (e.getCode() == HttpURLConnection.HTTP_NOT_FOUND) {
                    sweep.tally.kept(d.user(), "already gone", d.lastActivity());
                    return;
                }
                if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
                    throw e;
                }
            }
            current = attempt < WRITE_ATTEMPTS ? reread(d.root(), attempt) : null;
            if (current == null || !current.sameJudgementAs(d.root())) {
                sweep.tally.kept(d.user(), CHANGING, d.lastActivity());
                return;
            }
        }
    }

    /**
     * The second half, for every root condemned so far: re-read the ledger, then delete. A beat stored before
     * the re-read is seen by it; a beat stored after it reads the root back, finds the condemnation and takes it
     * back, which changes the resourceVersion the delete is conditioned on. One read per shard serves the batch.
     */
    void finishCondemned() {
        List<Decision> batch;
        synchronized (awaitingRecheck) {
            batch = List.copyOf(awaitingRecheck);
            awaitingRecheck.clear();
        }
        Map<Integer, Map<String, Instant>> reread = new HashMap<>();
        Map<Integer, String> unreadable = new HashMap<>();
        for (Decision c : batch) {
            int shard = ledger.shardOf(c.user());
            if (!reread.containsKey(shard) && !unreadable.containsKey(shard)) {
                try {
                    reread.put(shard, ledger.read(shard));
                } catch (RuntimeException e) {
                    unreadable.put(shard, Tally.describe(e));
                }
            }
        }
        List<Runnable> work = new ArrayList<>();
        for (Decision c : batch) {
            int shard = ledger.shardOf(c.user());
            Map<String, Instant> beats = reread.get(shard);
            if (beats == null) {
                sweep.tally.failed(
                        c.user(),
                        "re-reading its heartbeat failed, so it stays condemned and the next " + "sweep decides: "
                                + unreadable.get(shard),
                        c.lastActivity());
                continue;
            }
            work.add(() -> {
                try {
                    delete(c, shard, beats.get(c.user().key()));
                } catch (RuntimeException e) {
                    sweep.tally.failed(c.user(), Tally.describe(e), c.lastActivity());
                }
            });
        }
        sweep.runAll(work);
    }

    private void delete(Decision condemnation, int shard, Instant fresh) {
        Decision d = sweep.policy.recheck(condemnation, fresh, sweep.now);
        UserKey user = d.user();
        if (d.verdict() == Verdict.SPARE) {
            roots.rescue(d.root().deployment());
            sweep.tally.kept(user, d.reason(), d.lastActivity());
            return;
        }
        interleaving.at(Reaper.Step.RECHECKED, user);
        Ending ending = deleteCondemned(d.root());
        if (ending == Ending.RESCUED || ending == Ending.CHANGING) {
            sweep.tally.kept(user, ending == Ending.RESCUED ? "heartbeat arrived" : CHANGING, d.lastActivity());
            return;
        }
        String shardName = ledger.shardName(shard);
        if (fresh != null) {
            reapedEntries
                    .computeIfAbsent(shardName, s -> new ConcurrentHashMap<>())
                    .put(user.key(), fresh);
        }
        // Entries left in shards of an earlier shard count go too (the current shard was just re-read).
        shards.forEach((name, entries) -> {
            Instant older = entries.get(user.key());
            if (older != null && !name.equals(shardName)) {
                reapedEntries
                        .computeIfAbsent(name, s -> new ConcurrentHashMap<>())
                        .put(user.key(), older);
            }
        });
        if (ending == Ending.GONE) {
            sweep.tally.kept(user, "already gone", d.lastActivity());
            return;
        }
        ReapedEvent.record(sweep.client, sweep.namespace, sweep.now, d.root(), user, d.reason());
        log.info("reaped database {} (user key {}): {}", d.root().name(), user.key(), d.reason());
        // Where a garbage collector runs, the owner references take the Secret, Service, claim and any claimed
        // pooled database with the root; asking for each would triple the API calls of a large sweep.
        List<String> leftovers = garbageCollected ? List.of() : deleteDependents(d.root());
        if (leftovers.isEmpty()) {
            sweep.tally.reaped(user, d.reason(), d.lastActivity());
        } else {
            sweep.tally.failed(
                    user,
                    "deleted the database but not its " + String.join(", ", leftovers)
                            + "; the next sweep removes them",
                    d.lastActivity());
        }
    }

    /** The delete, guarded by the condemned version, retried while only the controllers changed the root. */
    private Ending deleteCondemned(DatabaseRoot condemned) {
        DatabaseRoot target = condemned;
        for (int attempt = 1; ; attempt++) {
            Outcome outcome =
                    GuardedDelete.ifUnchanged(deployments().withName(target.name()), target.resourceVersion());
            if (outcome != Outcome.CHANGED) {
                return outcome == Outcome.DELETED ? Ending.DELETED : Ending.GONE;
            }
            DatabaseRoot again = reread(condemned, attempt);
            if (again == null) {
                return Ending.GONE;
            }
            if (!again.sameJudgementAs(condemned)) {
                return Ending.RESCUED;
            }
            if (attempt == WRITE_ATTEMPTS) {
                return Ending.CHANGING;
            }
            target = again;
        }
    }

    /** The root as it is now, after a pause that grows with the attempt (none before the second); null if gone. */
    private DatabaseRoot reread(DatabaseRoot root, int attempt) {
        if (attempt > 1) {
            long millis = Math.min(FIRST_PAUSE.toMillis() << (attempt - 2), LONGEST_PAUSE.toMillis());
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while sweeping", e);
            }
        }
        Deployment now = deployments().withName(root.name()).get();
        return now == null ? null : DatabaseRoot.of(now);
    }

    /**
     * Without a garbage collector (the embedded API server) nothing else deletes these. Only objects owned by the
     * deleted root go: a namesake made by a newer create_db stays.
     */
    private List<String> deleteDependents(DatabaseRoot root) {
        List<String> leftovers = new ArrayList<>();
        String pooled = root.claims();
        if (pooled != null) {
            try {
                Deployment claimed = deployments().withName(pooled).get();
                if (claimed != null && DatabaseObjects.ownedBy(claimed, root.uid())) {
                    String pooledUid = claimed.getMetadata().getUid();
                    deleteOwned(sweep.client.apps().deployments(), "Deployment", pooled, root.uid(), leftovers);
                    deleteOwned(sweep.client.secrets(), "Secret", pooled, pooledUid, leftovers);
                    deleteOwned(
                            sweep.client.persistentVolumeClaims(),
                            "PersistentVolumeClaim",
                            pooled,
                            pooledUid,
                            leftovers);
                }
            } catch (RuntimeException e) {
                leftovers.add("pooled Deployment " + pooled + " (" + Tally.describe(e) + ")");
            }
        }
        deleteOwned(sweep.client.secrets(), "Secret", root.name(), root.uid(), leftovers);
        deleteOwned(sweep.client.services(), "Service", root.name(), root.uid(), leftovers);
        deleteOwned(sweep.client.persistentVolumeClaims(), "PersistentVolumeClaim", root.name(), root.uid(), leftovers);
        return leftovers;
    }

    private <T extends HasMetadata> void deleteOwned(
            MixedOperation<T, ?, ? extends Resource<T>> ops,
            String kind,
            String name,
            String ownerUid,
            List<String> leftovers) {
        try {
            GuardedDelete.ifOwnedBy(ops.inNamespace(sweep.namespace).withName(name), ownerUid);
        } catch (RuntimeException e) {
            leftovers.add(kind + " (" + Tally.describe(e) + ")");
        }
    }

    void removeReapedEntries() {
        reapedEntries.forEach((shard, entries) -> {
            try {
                ledger.removeIfUnchanged(shard, new HashMap<>(entries));
            } catch (RuntimeException e) {
                sweep.tally.failed("removing heartbeat entries of reaped users from " + shard
                        + " failed; the next sweep removes them: " + Tally.describe(e));
            }
        });
    }

    private NonNamespaceOperation<Deployment, DeploymentList, RollableScalableResource<Deployment>> deployments() {
        return sweep.client.apps().deployments().inNamespace(sweep.namespace);
    }
}
