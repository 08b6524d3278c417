package org.sqlflow.playground.local;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlflow.playground.cluster.DatabaseRoot;
import org.sqlflow.playground.cluster.PlaygroundLabels;

/**
 * Plays the deployment controller and the kubelet for an API server that has neither (fabric8's mock server):
 * a configurable time after a database Deployment appears, it reports one ready replica, as a real cluster
 * would once the MySQL pod passed its readiness probe. No database runs: local mode shows the API, not MySQL.
 */
public class StandInKubelet implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(StandInKubelet.class);

    private final KubernetesClient client;
    private final String namespace;
    private final Duration startDelay;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "stand-in-kubelet");
        t.setDaemon(true);
        return t;
    });
    private SharedIndexInformer<Deployment> informer;

    public StandInKubelet(KubernetesClient client, String namespace, Duration startDelay) {
        this.client = client;
        this.namespace = namespace;
        this.startDelay = startDelay;
    }

    public StandInKubelet start() {
        informer = client.apps()
                .deployments()
                .inNamespace(namespace)
                .withLabels(PlaygroundLabels.allDatabases())
                .inform(new ResourceEventHandler<>() {
                    @Override
                    public void onAdd(Deployment d) {
                        schedule(d);
                    }

                    @Override
                    public void onUpdate(Deployment old, Deployment d) {
                        schedule(d);
                    }

                    @Override
                    public void onDelete(Deployment d, boolean unknownFinalState) {
                        // nothing runs, so nothing to stop
                    }
                });
        return this;
    }

    private void schedule(Deployment d) {
        DatabaseRoot database = DatabaseRoot.of(d);
        if (database.isReady() || database.isDeleting() || !database.runsPod()) {
            return;
        }
        String name = d.getMetadata().getName();
        timer.schedule(() -> markReady(name), startDelay.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void markReady(String name) {
        try {
            client.apps().deployments().inNamespace(namespace).withName(name).editStatus(d -> {
                d.setStatus(new DeploymentStatusBuilder()
                        .withReplicas(1)
                        .withReadyReplicas(1)
                        .withAvailableReplicas(1)
                        .withUpdatedReplicas(1)
                        .withObservedGeneration(d.getMetadata().getGeneration())
                        .build());
                return d;
            });
        } catch (KubernetesClientException e) {
            // Deleted meanwhile, or a concurrent update: the informer calls us again if it still matters.
            log.debug("stand-in kubelet could not mark {} ready: HTTP {}", name, e.getCode());
        }
    }

    @Override
    public void close() {
        if (informer != null) {
            informer.close();
        }
        timer.shutdownNow();
    }
}
