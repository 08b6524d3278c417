package org.sqlflow.playground.cluster;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.BasicItemStore;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import java.util.List;

/**
 * A watch-fed cache of the database roots in the namespace, so that a heartbeat from a user who has a
 * database costs no API read. The cache may lag the API server by a moment: callers treat "absent" as
 * "ask the API server", and never take a destructive decision from it.
 *
 * <p>It keeps each root's metadata, status and replica count only: the callers read names, uid, annotations,
 * timestamps, readiness and whether it runs a pod, never the rest of the spec, and the pod template and managed
 * fields are most of a Deployment's size (a full fabric8 Deployment took about 12 KB of heap; at 100,000 users that
 * is over a gigabyte, measured by bench/).
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
            SharedIndexInformer<Deployment> i = client.apps()
                    .deployments()
                    .inNamespace(namespace)
                    .withLabels(PlaygroundLabels.allDatabases())
                    .runnableInformer(0);
            i.itemStore(new SlimStore());
            i.run();
            informer = i;
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

    /**
     * Whether the pod that serves this root's user is Ready, as the cache sees it: the root's own, or that of the
     * warm-pool database it claims (not Ready while the cache has not seen that one).
     */
    public boolean isServingReady(Deployment root) {
        String pooled = DatabaseRoot.of(root).claims();
        return DatabaseRoot.isReady(pooled == null ? root : cached(pooled));
    }

    public List<Deployment> all() {
        SharedIndexInformer<Deployment> i = informer;
        return i == null ? List.of() : i.getStore().list();
    }

    /**
     * The databases that run a pod, as the watch sees them: ordinary roots and pooled databases (claimed or not),
     * not the roots that claim a pooled one. This is what playground.database.max-databases bounds.
     */
    public int databaseCount() {
        SharedIndexInformer<Deployment> i = informer;
        return i == null
                ? 0
                : (int) i.getStore().list().stream()
                        .filter(d -> DatabaseRoot.of(d).runsPod())
                        .count();
    }

    /**
     * True while the cache holds a complete list and its watch is open: then a root absent from it is at most as
     * young as the watch's delay (it was created within the last moments), not a root the cache forgot.
     */
    public boolean isSynced() {
        SharedIndexInformer<Deployment> i = informer;
        return i != null && i.hasSynced() && i.isWatching();
    }

    @Override
    public synchronized void close() {
        if (informer != null) {
            informer.close();
            informer = null;
        }
    }

    /** Stores a copy of each root without its spec and managed fields. */
    private static final class SlimStore extends BasicItemStore<Deployment> {

        SlimStore() {
            super(Cache::metaNamespaceKeyFunc);
        }

        @Override
        public Deployment put(String key, Deployment root) {
            return super.put(key, slim(root));
        }

        static Deployment slim(Deployment root) {
            ObjectMeta m = root.getMetadata();
            ObjectMeta meta = m == null
                    ? null
                    : new ObjectMeta(
                            m.getAnnotations(),
                            m.getCreationTimestamp(),
                            m.getDeletionGracePeriodSeconds(),
                            m.getDeletionTimestamp(),
                            m.getFinalizers(),
                            m.getGenerateName(),
                            m.getGeneration(),
                            m.getLabels(),
                            null,
                            m.getName(),
                            m.getNamespace(),
                            m.getOwnerReferences(),
                            m.getResourceVersion(),
                            m.getSelfLink(),
                            m.getUid());
            DeploymentBuilder slim = new DeploymentBuilder()
                    .withApiVersion(root.getApiVersion())
                    .withKind(root.getKind())
                    .withMetadata(meta)
                    .withStatus(root.getStatus());
            if (root.getSpec() != null) {
                // The replicas alone: a root that claims a warm-pool database has none and runs no pod.
                slim.withNewSpec().withReplicas(root.getSpec().getReplicas()).endSpec();
            }
            return slim.build();
        }
    }
}
