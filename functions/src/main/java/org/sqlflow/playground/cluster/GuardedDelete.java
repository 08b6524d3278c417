package org.sqlflow.playground.cluster;

import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.StatusDetails;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.extension.ExtensibleResource;
import java.net.HttpURLConnection;
import java.util.List;

/**
 * A delete conditioned on the resourceVersion the caller decided on, with Background propagation: whoever changed
 * the object since (a heartbeat's rescue, a claim) wins, and the API server says so with 409.
 */
public final class GuardedDelete {

    public enum Outcome {
        DELETED,
        GONE,
        CHANGED
    }

    private GuardedDelete() {}

    public static Outcome ifUnchanged(Resource<?> resource, String resourceVersion) {
        try {
            List<StatusDetails> details;
            if (resource instanceof ExtensibleResource<?> extensible) {
                // fabric8's Resource interface hides withPropagationPolicy behind lockResourceVersion's return type;
                // its implementations are ExtensibleResources, which keep both settings.
                details = extensible
                        .withPropagationPolicy(DeletionPropagation.BACKGROUND)
                        .lockResourceVersion(resourceVersion)
                        .delete();
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

    /**
     * Deletes the object as it is now if it names this owner: without a garbage collector nothing else deletes a
     * deleted root's dependents. Only the owner's own go: a namesake made since (by a newer create_db) stays, and
     * counts as {@link Outcome#GONE} for this owner.
     */
    public static <T extends HasMetadata> Outcome ifOwnedBy(Resource<T> resource, String ownerUid) {
        T object = resource.get();
        if (object == null
                || object.getMetadata().getDeletionTimestamp() != null
                || !DatabaseObjects.ownedBy(object, ownerUid)) {
            return Outcome.GONE;
        }
        return ifUnchanged(resource, object.getMetadata().getResourceVersion());
    }
}
