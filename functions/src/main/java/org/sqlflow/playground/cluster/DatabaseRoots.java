package org.sqlflow.playground.cluster;

import java.net.HttpURLConnection;
import java.util.HashMap;
import java.util.Map;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import org.sqlflow.playground.PlaygroundError;

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
        return client.apps().deployments().inNamespace(namespace).withName(user.resourceName()).get();
    }

    /**
     * Throws unless the root was made for exactly this user id: two ids whose derived keys collide must never
     * share a database (and its password).
     */
    public static void checkOwner(Deployment root, UserKey user) {
        Map<String, String> annotations = root.getMetadata().getAnnotations();
        String owner = annotations == null ? null : annotations.get(PlaygroundLabels.USER_ID);
        if (!user.userId().equals(owner)) {
            throw PlaygroundError.USER_ID_CONFLICT.exception();
        }
    }

    public static boolean isCondemned(Deployment root) {
        Map<String, String> a = root.getMetadata().getAnnotations();
        return a != null && a.containsKey(PlaygroundLabels.REAPING);
    }

    /**
     * Takes back the reaper's condemnation of a root, with optimistic concurrency: if this update wins, the
     * reaper's delete (which is conditioned on the condemned resourceVersion) fails. Returns the root as it is
     * now, or null when the reaper was first and the database is gone.
     */
    public Deployment rescue(Deployment root) {
        Deployment current = root;
        for (int attempt = 0; attempt < 5; attempt++) {
            if (current == null || current.getMetadata().getDeletionTimestamp() != null) {
                return null;
            }
            if (!isCondemned(current)) {
                return current;
            }
            Map<String, String> annotations = new HashMap<>(current.getMetadata().getAnnotations());
            annotations.remove(PlaygroundLabels.REAPING);
            current.getMetadata().setAnnotations(annotations);
            try {
                return client.apps().deployments().inNamespace(namespace).resource(current).update();
            } catch (KubernetesClientException e) {
                if (e.getCode() == HttpURLConnection.HTTP_NOT_FOUND) {
                    return null;
                }
                if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
                    throw e;
                }
                current = client.apps().deployments().inNamespace(namespace)
                        .withName(root.getMetadata().getName()).get();
            }
        }
        throw PlaygroundError.CONFLICT.exception();
    }
}
