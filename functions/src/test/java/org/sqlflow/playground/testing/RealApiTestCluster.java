package org.sqlflow.playground.testing;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.HttpURLConnection;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;
import org.sqlflow.playground.cluster.DatabaseRoot;

/**
 * A scenario's cluster in the real-API tier: a real kube-apiserver with RBAC, a real controller manager
 * (Deployment, ReplicaSet, garbage collector, ServiceAccount and token controllers), no kubelet and no scheduler.
 * Each scenario gets a fresh namespace holding knative/rbac.yaml's objects; {@link #client(String)} is a function's
 * ServiceAccount under that Role, {@link #admin()} the test's own unrestricted identity.
 */
public final class RealApiTestCluster implements TestCluster {

    private static final SecureRandom RANDOM = new SecureRandom();
    /** This JVM's run: every namespace of the tier starts with it, so the audit log can be read per run. */
    public static final String RUN_PREFIX = "pg-" + randomSuffix(6) + "-";

    private static final Map<String, String> NAMESPACES = Collections.synchronizedMap(new LinkedHashMap<>());
    private static final Duration KUBELET_WAIT = Duration.ofSeconds(120);

    private final KubernetesClient admin;
    private final Map<String, KubernetesClient> clients;
    private KubernetesClient standalone;
    private final String namespace;

    /** @param owner the test class, recorded so the least-privilege check knows which classes contributed */
    public RealApiTestCluster(Class<?> owner) {
        Tier.REAL_API.require();
        this.namespace = RUN_PREFIX + randomSuffix(6);
        this.admin = RealApi.newAdminClient();
        Map<String, KubernetesClient> sa = null;
        try {
            admin.namespaces()
                    .resource(new NamespaceBuilder()
                            .withNewMetadata()
                            .withName(namespace)
                            .addToLabels("app.kubernetes.io/part-of", "sqlflow-playground-tests")
                            .endMetadata()
                            .build())
                    .create();
            NAMESPACES.put(namespace, owner.getSimpleName());
            sa = PlaygroundServiceAccount.applyAndLogIn(admin, namespace);
        } catch (RuntimeException e) {
            admin.namespaces().withName(namespace).delete();
            admin.close();
            throw e;
        }
        this.clients = sa;
    }

    private static String randomSuffix(int length) {
        String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < length; i++) {
            b.append(alphabet.charAt(RANDOM.nextInt(alphabet.length())));
        }
        return b.toString();
    }

    /** Namespace to test class, for every namespace this JVM made on the real API server. */
    public static Map<String, String> namespacesOfThisRun() {
        synchronized (NAMESPACES) {
            return Map.copyOf(NAMESPACES);
        }
    }

    @Override
    public KubernetesClient client(String function) {
        KubernetesClient c = clients.get(function);
        if (c == null) {
            throw new IllegalArgumentException("no function " + function);
        }
        return c;
    }

    /**
     * A client for a standalone server that serves every function in one process, as the node tier runs it:
     * a ServiceAccount bound to all three functions' Roles. Made on first use, closed with the cluster.
     */
    public synchronized KubernetesClient standaloneClient() {
        if (standalone == null) {
            standalone = PlaygroundServiceAccount.logInStandalone(admin, namespace);
        }
        return standalone;
    }

    @Override
    public KubernetesClient admin() {
        return admin;
    }

    @Override
    public String namespace() {
        return namespace;
    }

    /**
     * Plays the kubelet: finds the pod the ReplicaSet controller made for this Deployment (Pending, as nothing
     * schedules or runs it), reports it running and Ready through the status subresource, and waits until the
     * ReplicaSet and Deployment controllers have carried that into the Deployment's readyReplicas.
     */
    @Override
    public void markDatabaseReady(String deploymentName) {
        Pod pod = Waits.await(
                        "the ReplicaSet controller to create the pod of Deployment " + namespace + "/" + deploymentName,
                        KUBELET_WAIT)
                .until(() -> podOf(deploymentName), Objects::nonNull);
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        // Where the node tier runs, the scheduler writes an Unschedulable condition into this (tainted-away) pod's
        // status at any moment: like a kubelet, read again and retry on a conflict.
        Waits.await(
                        "the stand-in kubelet's status write for pod "
                                + pod.getMetadata().getName(),
                        KUBELET_WAIT)
                .until(() -> reportReady(pod.getMetadata().getName(), now));
        Waits.await("the controllers to report Deployment " + namespace + "/" + deploymentName + " ready", KUBELET_WAIT)
                .until(() -> DatabaseRoot.isReady(admin.apps()
                        .deployments()
                        .inNamespace(namespace)
                        .withName(deploymentName)
                        .get()));
    }

    /** Writes a running, Ready status into the pod, as its kubelet would; false when another writer came first. */
    private boolean reportReady(String podName, Instant now) {
        try {
            admin.pods().inNamespace(namespace).withName(podName).editStatus(p -> {
                p.setStatus(new PodStatusBuilder(p.getStatus())
                        .withPhase("Running")
                        .withStartTime(now.toString())
                        .withConditions(
                                condition("PodScheduled", now),
                                condition("Initialized", now),
                                condition("ContainersReady", now),
                                condition("Ready", now))
                        .withContainerStatuses(p.getSpec().getContainers().stream()
                                .map(c -> running(c.getName(), c.getImage(), now))
                                .toList())
                        .build());
                return p;
            });
            return true;
        } catch (KubernetesClientException e) {
            if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
                throw e;
            }
            return false;
        }
    }

    private Pod podOf(String deploymentName) {
        Deployment d = admin.apps()
                .deployments()
                .inNamespace(namespace)
                .withName(deploymentName)
                .get();
        if (d == null) {
            return null;
        }
        Set<String> replicaSets = admin.apps().replicaSets().inNamespace(namespace).list().getItems().stream()
                .filter(rs -> ownedBy(
                        rs.getMetadata().getOwnerReferences(), d.getMetadata().getUid()))
                .map(ReplicaSet::getMetadata)
                .map(m -> m.getUid())
                .collect(Collectors.toSet());
        List<Pod> pods = new ArrayList<>();
        for (Pod p : admin.pods().inNamespace(namespace).list().getItems()) {
            if (p.getMetadata().getDeletionTimestamp() == null
                    && replicaSets.stream()
                            .anyMatch(uid -> ownedBy(p.getMetadata().getOwnerReferences(), uid))) {
                pods.add(p);
            }
        }
        return pods.isEmpty() ? null : pods.get(0);
    }

    private static boolean ownedBy(List<OwnerReference> refs, String uid) {
        return refs != null && refs.stream().anyMatch(r -> uid.equals(r.getUid()));
    }

    private static PodCondition condition(String type, Instant at) {
        return new PodConditionBuilder()
                .withType(type)
                .withStatus("True")
                .withLastTransitionTime(at.toString())
                .build();
    }

    private static ContainerStatus running(String name, String image, Instant at) {
        return new ContainerStatusBuilder()
                .withName(name)
                .withImage(image)
                .withImageID("")
                .withReady(true)
                .withStarted(true)
                .withRestartCount(0)
                .withNewState()
                .withNewRunning()
                .withStartedAt(at.toString())
                .endRunning()
                .endState()
                .build();
    }

    @Override
    public boolean hasGarbageCollector() {
        return true;
    }

    @Override
    public void close() {
        try {
            clients.values().forEach(KubernetesClient::close);
            if (standalone != null) {
                standalone.close();
            }
            admin.namespaces().withName(namespace).delete();
        } finally {
            admin.close();
        }
    }
}
