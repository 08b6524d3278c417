package org.sqlflow.playground.testing;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.sqlflow.playground.local.EmbeddedKubernetes;

/** The fast tier's cluster: fabric8's mock API server in CRUD mode, no controllers, no RBAC. */
public class MockTestCluster implements TestCluster {

    private final EmbeddedKubernetes embedded;
    private final String namespace;

    public MockTestCluster(String namespace) {
        this(new EmbeddedKubernetes(), namespace);
    }

    /** On an embedded API server with a dispatcher of the caller's (see {@link StrictMockTestCluster}). */
    protected MockTestCluster(EmbeddedKubernetes embedded, String namespace) {
        this.embedded = embedded;
        this.namespace = namespace;
        embedded.client()
                .namespaces()
                .resource(new NamespaceBuilder()
                        .withNewMetadata()
                        .withName(namespace)
                        .endMetadata()
                        .build())
                .create();
    }

    public MockTestCluster() {
        this("playground-test");
    }

    @Override
    public KubernetesClient client(String function) {
        return embedded.client();
    }

    @Override
    public KubernetesClient admin() {
        return embedded.client();
    }

    @Override
    public String namespace() {
        return namespace;
    }

    /** Requests the mock server has answered, to count API calls. */
    public int requestCount() {
        return embedded.requestCount();
    }

    @Override
    public void markDatabaseReady(String deploymentName) {
        client().apps()
                .deployments()
                .inNamespace(namespace)
                .withName(deploymentName)
                .editStatus(d -> {
                    d.setStatus(new DeploymentStatusBuilder()
                            .withReplicas(1)
                            .withReadyReplicas(1)
                            .withAvailableReplicas(1)
                            .build());
                    return d;
                });
    }

    @Override
    public boolean hasGarbageCollector() {
        return false;
    }

    @Override
    public void close() {
        embedded.close();
    }
}
