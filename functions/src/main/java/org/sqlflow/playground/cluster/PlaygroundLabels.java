package org.sqlflow.playground.cluster;

import java.util.LinkedHashMap;
import java.util.Map;

/** Names of the labels and annotations the playground puts on everything it makes, in one place. */
public final class PlaygroundLabels {

    public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
    public static final String PART_OF = "app.kubernetes.io/part-of";
    public static final String COMPONENT = "app.kubernetes.io/component";
    public static final String NAME = "app.kubernetes.io/name";
    public static final String PRODUCT = "sqlflow-playground";

    /** The prefix of the playground's own labels and annotations; other keys belong to Kubernetes or to people. */
    public static final String DOMAIN = "sqlflow-playground.org/";

    /** Label: the user's derived key (label values cannot hold every user id). */
    public static final String USER = "sqlflow-playground.org/user";
    /** Annotation: the exact user id, checked on every read against the caller's. */
    public static final String USER_ID = "sqlflow-playground.org/user-id";
    /** Annotation on a database root: the reaper has condemned it; a beat that sees it takes it back. */
    public static final String REAPING = "sqlflow-playground.org/reaping-since";
    /** Annotation on a database root: never reap it (demos). */
    public static final String KEEP = "sqlflow-playground.org/keep";

    /** Label on a warm-pool database and its pod: the pooled database's name (the claimed user's Service selects it). */
    public static final String POOL = "sqlflow-playground.org/pool";
    /** Label on a warm-pool database: {@link #POOL_UNCLAIMED} or {@link #POOL_CLAIMED}. */
    public static final String POOL_STATE = "sqlflow-playground.org/pool-state";

    public static final String POOL_UNCLAIMED = "unclaimed";
    public static final String POOL_CLAIMED = "claimed";
    /**
     * Annotation on a user's root: the warm-pool database the root claims (then the root itself runs no pod). The
     * root names at most one pooled database at a time; a pooled database is claimed only for the root naming it.
     */
    public static final String CLAIMS = "sqlflow-playground.org/pooled-database";

    /**
     * Pod label: Istio injects no sidecar into a pod labelled {@code "false"}. Database pods carry it: MySQL is a
     * server-first protocol, which a sidecar on a PERMISSIVE port breaks, and the SQLFlow server that connects to
     * them need not be in the mesh; the NetworkPolicy of knative/ decides who may connect (docs/deploy.md, "The
     * mesh and database pods").
     */
    public static final String SIDECAR_INJECT = "sidecar.istio.io/inject";

    public static final String COMPONENT_DATABASE = "database";
    public static final String COMPONENT_HEARTBEATS = "heartbeats";

    private PlaygroundLabels() {}

    /** Labels every object the playground makes carries. */
    public static Map<String, String> common(String component) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(MANAGED_BY, PRODUCT);
        labels.put(PART_OF, PRODUCT);
        labels.put(COMPONENT, component);
        return labels;
    }

    /** Labels of one user's database objects; also the pod selector of its Deployment and Service. */
    public static Map<String, String> database(UserKey user) {
        Map<String, String> labels = common(COMPONENT_DATABASE);
        labels.put(NAME, "mysql");
        labels.put(USER, user.key());
        return labels;
    }

    /** Labels of one warm-pool database's objects; also the pod selector of its Deployment. */
    public static Map<String, String> pooled(String name) {
        Map<String, String> labels = common(COMPONENT_DATABASE);
        labels.put(NAME, "mysql");
        labels.put(POOL, name);
        return labels;
    }

    /** The selector that finds the warm pool's unclaimed databases. */
    public static Map<String, String> unclaimedPool() {
        Map<String, String> labels = allDatabases();
        labels.put(POOL_STATE, POOL_UNCLAIMED);
        return labels;
    }

    /** The selector that finds every database object. */
    public static Map<String, String> allDatabases() {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(MANAGED_BY, PRODUCT);
        labels.put(COMPONENT, COMPONENT_DATABASE);
        return labels;
    }

    public static Map<String, String> heartbeats() {
        return common(COMPONENT_HEARTBEATS);
    }
}
