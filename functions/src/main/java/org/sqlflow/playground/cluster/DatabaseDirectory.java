package org.sqlflow.playground.cluster;

import java.util.List;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;

/**
 * A watch-fed cache of the database roots in the namespace, so that a heartbeat from a user who has a
 * database costs no API read. The cache may lag the API server by a moment: callers treat "absent" as
 * "ask the API server", and never take a destructive decision from it.
 */
public class DatabaseDirectory implements AutoCloseable {

    private final KubernetesClient client;
    private final String namespace;
    private volatile SharedIndexInformer<Deployment> informer;

    public DatabaseDirectory(KubernetesClient client, String namespace) {
        this.client = client;
        this.namespace = namespace;
    }

    /** Starts the watch; returns once the first list is in, or throws if the API server cannot be reached. */
    public synchronized void start() {
        if (informer == null) {
            informer = client.apps().deployments().inNamespace(namespace)
                    .withLabels(PlaygroundLabels.allDatabases()).inform();
        }
    }

    /** The cached root of this user's database, or null when the cache has none (yet). */
    public Deployment cached(UserKey user) {
        return cached(user.resourceName());
    }

    /** The cached database Deployment of this name (a root or a pooled database), or null. */
    public Deployment cached(String name) {
        SharedIndexInformer<Deployment> i = informer;
        return i == null ? null : i.getStore().getByKey(namespace + "/" + name);
    }

    public List<Deployment> all() {
        SharedIndexInformer<Deployment> i = informer;
        return i == null ? List.of() : i.getStore().list();
    }

    public int count() {
        SharedIndexInformer<Deployment> i = informer;
        return i == null ? 0 : i.getStore().list().size();
    }

    /**
     * The databases that run a pod, as the watch sees them: ordinary roots and pooled databases (claimed or not),
     * not the roots that claim a pooled one. This is what playground.database.max-databases bounds.
     */
    public int databaseCount() {
        SharedIndexInformer<Deployment> i = informer;
        return i == null ? 0 : (int) i.getStore().list().stream().filter(DatabaseObjects::runsPod).count();
    }

    public boolean isWatching() {
        SharedIndexInformer<Deployment> i = informer;
        return i != null && i.isWatching();
    }

    @Override
    public synchronized void close() {
        if (informer != null) {
            informer.close();
            informer = null;
        }
    }
}
