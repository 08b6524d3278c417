package org.sqlflow.playground.cluster;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentCondition;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a database's Deployment means, read in one place: a user's root (its user, whether the reaper condemned it,
 * whether it is kept, which warm-pool database it claims) or a warm-pool database (claimed or not), and what both
 * share (created at, being deleted, Ready, running a pod). The playground's labels and annotations are read here
 * and nowhere else; {@link DatabaseObjects} writes them on new objects, and the changes the protocols make
 * (condemn, rescue, claim) are derived here as copies.
 *
 * <p>A view of the Deployment as it was read: it never changes it, so a value stays what it was when judged.
 * Making one costs one allocation: the watch-fed cache's callers wrap every cached Deployment.
 */
public final class DatabaseRoot {

    private final Deployment deployment;

    private DatabaseRoot(Deployment deployment) {
        this.deployment = Objects.requireNonNull(deployment, "deployment");
    }

    public static DatabaseRoot of(Deployment deployment) {
        return new DatabaseRoot(deployment);
    }

    /** The Deployment as read. Do not change it: derive a copy ({@link #condemned}, {@link #rescued}, ...). */
    public Deployment deployment() {
        return deployment;
    }

    public String name() {
        return deployment.getMetadata().getName();
    }

    public String uid() {
        return deployment.getMetadata().getUid();
    }

    public String resourceVersion() {
        return deployment.getMetadata().getResourceVersion();
    }

    /** When the API server made it (its clock, not ours); null only for an object that was never stored. */
    public Instant createdAt() {
        return createdAt(deployment);
    }

    /** When the API server made any object; null only for an object that was never stored. */
    public static Instant createdAt(HasMetadata object) {
        String ts = object.getMetadata() == null ? null : object.getMetadata().getCreationTimestamp();
        return ts == null ? null : Instant.parse(ts);
    }

    public boolean isDeleting() {
        return deployment.getMetadata().getDeletionTimestamp() != null;
    }

    /** The exact user id the root was made for (a claimed warm-pool database carries its user's too), or null. */
    public String userId() {
        return annotation(PlaygroundLabels.USER_ID);
    }

    /** Whether it was made for exactly this user id: two ids whose keys collide never share a database. */
    public boolean belongsTo(UserKey user) {
        return user.userId().equals(userId());
    }

    /** The user whose root this is, or null when its user-id annotation is missing or does not match its name. */
    public UserKey user() {
        String userId = userId();
        if (!UserKey.isValidUserId(userId)) {
            return null;
        }
        UserKey user = UserKey.of(userId);
        return user.resourceName().equals(name()) ? user : null;
    }

    /** The reaper condemned it and has not deleted it yet; a beat that sees this takes it back. */
    public boolean isCondemned() {
        Map<String, String> a = deployment.getMetadata().getAnnotations();
        return a != null && a.containsKey(PlaygroundLabels.REAPING);
    }

    /** A person asked the reaper never to take it (demos). */
    public boolean isKept() {
        return "true".equalsIgnoreCase(annotation(PlaygroundLabels.KEEP));
    }

    /** A warm-pool database, claimed or not: no user's root. */
    public boolean isPooled() {
        Map<String, String> labels = deployment.getMetadata().getLabels();
        return labels != null && labels.containsKey(PlaygroundLabels.POOL);
    }

    /** A warm-pool database that no root owns yet. */
    public boolean isUnclaimed() {
        Map<String, String> labels = deployment.getMetadata().getLabels();
        List<?> owners = deployment.getMetadata().getOwnerReferences();
        return isPooled()
                && PlaygroundLabels.POOL_UNCLAIMED.equals(labels.get(PlaygroundLabels.POOL_STATE))
                && (owners == null || owners.isEmpty());
    }

    /** The warm-pool database this root claims, or null for an ordinary root. */
    public String claims() {
        return annotation(PlaygroundLabels.CLAIMS);
    }

    /** Whether it runs a database pod (a root that claims a warm-pool database runs none: its pooled one does). */
    public boolean runsPod() {
        return deployment.getSpec() == null
                || deployment.getSpec().getReplicas() == null
                || deployment.getSpec().getReplicas() > 0;
    }

    /** At least one pod Ready: SQLFlow can connect with the password create_db returns. */
    public boolean isReady() {
        return deployment.getStatus() != null
                && deployment.getStatus().getReadyReplicas() != null
                && deployment.getStatus().getReadyReplicas() >= 1;
    }

    /** Null-tolerant {@link #isReady()}, for what a cache or a lookup may not have. */
    public static boolean isReady(Deployment deployment) {
        return deployment != null && of(deployment).isReady();
    }

    /** Since when it has not been Ready: the Available condition's last flip to False, else its creation. */
    public Instant notReadySince() {
        if (deployment.getStatus() != null && deployment.getStatus().getConditions() != null) {
            for (DeploymentCondition c : deployment.getStatus().getConditions()) {
                if ("Available".equals(c.getType())
                        && "False".equals(c.getStatus())
                        && c.getLastTransitionTime() != null) {
                    return Instant.parse(c.getLastTransitionTime());
                }
            }
        }
        return createdAt();
    }

    /**
     * The same object with the same playground annotations and no deletion under way. Everything else may have
     * changed: the deployment controller writes the status and its own annotations (deployment.kubernetes.io/revision
     * appears once it has made the first ReplicaSet, which on a busy cluster can be after the sweep listed the root).
     * A rescue, a keep or another sweep's condemnation all change a playground annotation.
     */
    public boolean sameJudgementAs(DatabaseRoot before) {
        return !isDeleting()
                && Objects.equals(uid(), before.uid())
                && playgroundAnnotations().equals(before.playgroundAnnotations());
    }

    private Map<String, String> playgroundAnnotations() {
        Map<String, String> all = deployment.getMetadata().getAnnotations();
        Map<String, String> ours = new HashMap<>();
        if (all != null) {
            all.forEach((key, value) -> {
                if (key.startsWith(PlaygroundLabels.DOMAIN)) {
                    ours.put(key, value);
                }
            });
        }
        return ours;
    }

    /** A copy carrying the reaper's condemnation, made at {@code at}. */
    public Deployment condemned(Instant at) {
        return withAnnotation(PlaygroundLabels.REAPING, at.toString());
    }

    /** A copy without the reaper's condemnation. */
    public Deployment rescued() {
        return withAnnotation(PlaygroundLabels.REAPING, null);
    }

    /** A copy of this root that claims another warm-pool database instead. */
    public Deployment claiming(String pooledName) {
        return withAnnotation(PlaygroundLabels.CLAIMS, pooledName);
    }

    /** A copy of this root that claims nothing and runs a database pod of its own (its pod spec is the ordinary one). */
    public Deployment ordinary() {
        Deployment copy = withAnnotation(PlaygroundLabels.CLAIMS, null);
        copy.getSpec().setReplicas(1);
        return copy;
    }

    /** A copy of this warm-pool database, claimed for the user of {@code root}, which becomes its owner. */
    public Deployment claimedBy(DatabaseRoot root, UserKey user) {
        Deployment claimed = withAnnotation(PlaygroundLabels.USER_ID, user.userId());
        Map<String, String> labels = new LinkedHashMap<>(claimed.getMetadata().getLabels());
        labels.put(PlaygroundLabels.POOL_STATE, PlaygroundLabels.POOL_CLAIMED);
        claimed.getMetadata().setLabels(labels);
        claimed.getMetadata().setOwnerReferences(List.of(DatabaseObjects.ownerReference(root.deployment())));
        return claimed;
    }

    private String annotation(String key) {
        Map<String, String> a = deployment.getMetadata().getAnnotations();
        return a == null ? null : a.get(key);
    }

    /** A deep copy with one annotation set (or removed, for null); the resourceVersion stays, so updates are guarded. */
    private Deployment withAnnotation(String key, String value) {
        Deployment copy = new DeploymentBuilder(deployment).build();
        Map<String, String> annotations = copy.getMetadata().getAnnotations() == null
                ? new LinkedHashMap<>()
                : new LinkedHashMap<>(copy.getMetadata().getAnnotations());
        if (value == null) {
            annotations.remove(key);
        } else {
            annotations.put(key, value);
        }
        copy.getMetadata().setAnnotations(annotations);
        return copy;
    }

    @Override
    public String toString() {
        return "DatabaseRoot[" + name() + "]";
    }
}
