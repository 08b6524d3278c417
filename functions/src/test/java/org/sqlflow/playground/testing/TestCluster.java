package org.sqlflow.playground.testing;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import org.sqlflow.playground.settings.PlaygroundProperties;

/**
 * A Kubernetes API for a scenario: fabric8's mock server in the fast tier, a real API server in the real-API
 * tier. Scenarios written against this interface run unchanged in both.
 */
public interface TestCluster extends AutoCloseable {

    /**
     * The client create_db uses (in the real-API tier: its ServiceAccount, under its Role); scenarios use it to
     * play a concurrent create_db.
     */
    default KubernetesClient client() {
        return client("create_db");
    }

    /**
     * The client {@code function} (create_db, heart_beat, reap_stale or databases) uses: in the real tiers its own
     * ServiceAccount under its own Role, elsewhere one client for all.
     */
    KubernetesClient client(String function);

    /** A client with every right, for setting up and inspecting. */
    KubernetesClient admin();

    /** The namespace the playground works in; fresh for each scenario. */
    String namespace();

    /**
     * Plays the kubelet for one database: afterwards the Deployment reports a ready replica (in the real tier
     * by making its pod Ready and letting the real controllers propagate that).
     */
    void markDatabaseReady(String deploymentName);

    /**
     * The database settings scenarios use here. The image matters only where pods really run (k3s); elsewhere
     * nothing pulls it.
     */
    default PlaygroundProperties.Database database(Duration readyWait, int maxDatabases) {
        return PlaygroundParts.database(readyWait, maxDatabases);
    }

    /** Whether deleting an owner deletes its dependents (a real controller manager's garbage collector). */
    boolean hasGarbageCollector();

    @Override
    void close();
}
