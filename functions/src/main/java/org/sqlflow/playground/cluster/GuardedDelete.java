package org.sqlflow.playground.cluster;

import java.net.HttpURLConnection;
import java.util.List;

import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.StatusDetails;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.extension.ExtensibleResource;

/**
 * A delete conditioned on the resourceVersion the caller decided on, with Background propagation: whoever changed
 * the object since (a heartbeat's rescue, a claim) wins, and the API server says so with 409.
 */
public final class GuardedDelete {

    public enum Outcome { DELETED, GONE, CHANGED }

    private GuardedDelete() {
    }

    public static Outcome ifUnchanged(Resource<?> resource, String resourceVersion) {
        try {
            List<StatusDetails> details;
            if (resource instanceof ExtensibleResource<?> extensible) {
                // fabric8's Resource interface hides withPropagationPolicy behind lockResourceVersion's return type;
                // its implementations are ExtensibleResources, which keep both settings.
                details = extensible.withPropagationPolicy(DeletionPropagation.BACKGROUND)
                        .lockResourceVersion(resourceVersion).delete();
            } else {
                details = resource.lockResourceVersion(resourceVersion).delete();
            }
            return details.isEmpty() ? Outcome.GONE : Outcome.DELETED;
        } catch (KubernetesClientException e) {
            if (e.getCode() == HttpURLConnection.HTTP_NOT_FOUND) {
                return Outcome.GONE;
            }
            if (e.getCode() == HttpURLConnection.HTTP_CONFLICT) {
                return Outcome.CHANGED;
            }
            throw e;
        }
    }
}
