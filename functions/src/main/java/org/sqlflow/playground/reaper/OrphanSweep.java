package org.sqlflow.playground.reaper;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResourceList;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.dsl.MixedOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.sqlflow.playground.cluster.GuardedDelete;
import org.sqlflow.playground.cluster.GuardedDelete.Outcome;
import org.sqlflow.playground.cluster.HeartbeatLedger;
import org.sqlflow.playground.cluster.PlaygroundLabels;

/**
 * What is left over once every root was listed: database objects without their root (a create_db cut short, a
 * delete whose dependents were not all removed) and heartbeat entries without a database. Every removal is guarded
 * by the version seen, and a root that appears meanwhile keeps what is named after it.
 *
 * <p>Secrets are never listed: a list would hand the functions every Secret of the namespace (service account
 * tokens, certificates), so the Role grants none. A user's Secret shares its name with the user's Service and claim
 * and is looked up by that name; on a real cluster the garbage collector removes any Secret whose root is gone
 * anyway (the owner reference).
 */
final class OrphanSweep {

    private final Sweep sweep;
    private final HeartbeatLedger ledger;
    private final Set<String> rootNames;
    private final Set<String> secretsLookedUp = ConcurrentHashMap.newKeySet();

    OrphanSweep(Sweep sweep, HeartbeatLedger ledger, Set<String> rootNames) {
        this.sweep = sweep;
        this.ledger = ledger;
        this.rootNames = rootNames;
    }

    /** @param shards the ledger as the sweep began, every heartbeat ConfigMap by name */
    void run(Map<String, Map<String, Instant>> shards) {
        sweepObjects(sweep.client.services(), "Service");
        sweepObjects(sweep.client.persistentVolumeClaims(), "PersistentVolumeClaim");
        sweepEntries(shards);
    }

    private <T extends HasMetadata, L extends KubernetesResourceList<T>> void sweepObjects(
            MixedOperation<T, L, ? extends Resource<T>> ops, String kind) {
        String next = null;
        do {
            L page;
            try {
                page = ops.inNamespace(sweep.namespace)
                        .withLabels(PlaygroundLabels.allDatabases())
                        .list(sweep.page(next));
            } catch (RuntimeException e) {
                sweep.tally.failed("listing " + kind + "s failed; the next sweep goes on: " + Tally.describe(e));
                return;
            }
            List<Runnable> work = new ArrayList<>();
            for (T object : page.getItems()) {
                if (sweep.policy.isOrphan(object, rootNames, sweep.now)) {
                    work.add(remover(ops, kind, object));
                }
            }
            sweep.runAll(work);
            next = page.getMetadata() == null ? null : page.getMetadata().getContinue();
        } while (next != null && !next.isEmpty());
    }

    private <T extends HasMetadata> Runnable remover(
            MixedOperation<T, ?, ? extends Resource<T>> ops, String kind, T object) {
        String name = object.getMetadata().getName();
        if (sweep.dryRun) {
            sweep.tally.orphan(kind, name, true);
            return () -> orphanSecret(name);
        }
        String version = object.getMetadata().getResourceVersion();
        return () -> {
            try {
                // The listing of roots is older than this: ask again before deleting.
                if (sweep.client
                                .apps()
                                .deployments()
                                .inNamespace(sweep.namespace)
                                .withName(name)
                                .get()
                        != null) {
                    return;
                }
                orphanSecret(name);
                if (GuardedDelete.ifUnchanged(ops.inNamespace(sweep.namespace).withName(name), version)
                        == Outcome.DELETED) {
                    sweep.tally.orphan(kind, name, true);
                }
            } catch (RuntimeException e) {
                sweep.tally.failed("removing the left-over " + kind + " " + name + " failed: " + Tally.describe(e));
            }
        };
    }

    /** The Secret named like a left-over Service or claim, if it is a left-over too (once per name and sweep). */
    private void orphanSecret(String name) {
        if (!secretsLookedUp.add(name)) {
            return;
        }
        try {
            Resource<Secret> resource =
                    sweep.client.secrets().inNamespace(sweep.namespace).withName(name);
            Secret secret = resource.get();
            if (secret == null || !sweep.policy.isOrphan(secret, rootNames, sweep.now)) {
                return;
            }
            if (sweep.dryRun
                    || GuardedDelete.ifUnchanged(resource, secret.getMetadata().getResourceVersion())
                            == Outcome.DELETED) {
                sweep.tally.orphan("Secret", name, true);
            }
        } catch (RuntimeException e) {
            sweep.tally.failed("removing the left-over Secret " + name + " failed: " + Tally.describe(e));
        }
    }

    /** Heartbeat entries without a database, older than the TTL. A beat that lands meanwhile keeps its entry. */
    private void sweepEntries(Map<String, Map<String, Instant>> shards) {
        for (Map.Entry<String, Map<String, Instant>> shard : shards.entrySet()) {
            Map<String, Instant> stale = sweep.policy.staleEntries(shard.getValue(), rootNames, sweep.now);
            if (stale.isEmpty()) {
                continue;
            }
            if (sweep.dryRun) {
                stale.keySet().forEach(key -> sweep.tally.orphan(Reaper.KIND_HEARTBEAT_ENTRY, key, true));
                continue;
            }
            try {
                int removed = ledger.removeIfUnchanged(shard.getKey(), stale);
                stale.keySet().forEach(key -> sweep.tally.orphan(Reaper.KIND_HEARTBEAT_ENTRY, key, false));
                sweep.tally.orphansRemoved(removed);
            } catch (RuntimeException e) {
                sweep.tally.failed(
                        "removing stale heartbeat entries from " + shard.getKey() + " failed: " + Tally.describe(e));
            }
        }
    }
}
