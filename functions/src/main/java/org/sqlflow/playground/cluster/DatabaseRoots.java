package org.sqlflow.playground.cluster;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.HttpURLConnection;
import org.sqlflow.playground.error.PlaygroundError;

/** Authoritative reads and guarded writes of database roots (the per-user Deployments). */
public class DatabaseRoots {

    private final KubernetesClient client;
    private final String namespace;

    public DatabaseRoots(KubernetesClient client, String namespace) {
        this.client = client;
        this.namespace = namespace;
    }

    public String namespace() {
        return namespace;
    }

    public Deployment get(UserKey user) {
        return client.apps()
                .deployments()
                .inNamespace(namespace)
                .withName(user.resourceName())
                .get();
    }

    /**
     * Throws unless the root was made for exactly this user id: two ids whose derived keys collide must never
     * share a database (and its password).
     */
    public static void checkOwner(Deployment root, UserKey user) {
        if (!DatabaseRoot.of(root).belongsTo(user)) {
            throw PlaygroundError.USER_ID_CONFLICT.exception();
        }
    }

    /**
     * Takes back the reaper's condemnation of a root, with optimistic concurrency: if this update wins, the
     * reaper's delete (which is conditioned on the condemned resourceVersion) fails. Returns the root as it is
     * now, or null when the reaper was first and the database is gone.
     */
    public Deployment rescue(Deployment root) {
        Deployment current = root;
        for (int attempt = 0; attempt < 5; attempt++) {
            if (current == null || DatabaseRoot.of(current).isDeleting()) {
                return null;
            }
            if (!DatabaseRoot.of(current).isCondemned()) {
                return current;
            }
            try {
                return client.apps()
                        .deployments()
                        .inNamespace(namespace)
                        .resource(DatabaseRoot.of(current).rescued())
                        .update();
            } catch (KubernetesClientException e) {
                if (e.getCode() == HttpURLConnection.HTTP_NOT_FOUND) {
                    return null;
                }
                if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
                    throw e;
                }
                current = client.apps()
                        .deployments()
                        .inNamespace(namespace)
                        .withName(root.getMetadata().getName())
                        .get();
            }
        }
        throw PlaygroundError.CONFLICT.exception();
    }
}
