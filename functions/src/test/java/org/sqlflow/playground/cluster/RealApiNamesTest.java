package org.sqlflow.playground.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.sqlflow.playground.testing.ClusterScenarios;
import org.sqlflow.playground.testing.PlaygroundParts;
import org.sqlflow.playground.testing.RealApiTier;

/**
 * The real API server's validation (which fabric8's mock server does not have) accepts every name, label value,
 * annotation and heartbeat ConfigMap key the code derives for awkward user ids, created as the playground's
 * ServiceAccount exactly as the code creates them.
 */
@RealApiTier
class RealApiNamesTest extends ClusterScenarios {

    private PlaygroundParts parts;

    @BeforeEach
    void assemble() {
        parts = playground(cluster.database(Duration.ofSeconds(1), 1000));
    }

    @Test
    void everyDerivedNameLabelAnnotationAndKeyIsAccepted() {
        KubernetesClient sa = cluster.client();
        String ns = cluster.namespace();
        for (String id : UserKeyTest.AWKWARD_IDS) {
            UserKey user = UserKey.of(id);
            Deployment root = sa.apps()
                    .deployments()
                    .inNamespace(ns)
                    .resource(parts.objects.root(user))
                    .create();
            sa.secrets()
                    .inNamespace(ns)
                    .resource(parts.objects.secret(user, root, Passwords.generate()))
                    .create();
            sa.services()
                    .inNamespace(ns)
                    .resource(parts.objects.service(user, root))
                    .create();
            parts.beatLedger.beat(user);
        }

        KubernetesClient admin = cluster.admin();
        for (String id : UserKeyTest.AWKWARD_IDS) {
            UserKey user = UserKey.of(id);
            for (Class<? extends HasMetadata> kind : List.of(Deployment.class, Secret.class, Service.class)) {
                HasMetadata stored = admin.resources(kind)
                        .inNamespace(ns)
                        .withName(user.resourceName())
                        .get();
                assertThat(stored).as("%s of %s", kind.getSimpleName(), id).isNotNull();
                assertThat(stored.getMetadata().getLabels()).as(id).containsEntry(PlaygroundLabels.USER, user.key());
                assertThat(stored.getMetadata().getAnnotations()).as(id).containsEntry(PlaygroundLabels.USER_ID, id);
            }
        }
        Map<String, String> beats = new HashMap<>();
        for (String shard : parts.ledger.shardNames()) {
            ConfigMap cm = admin.configMaps().inNamespace(ns).withName(shard).get();
            if (cm != null) {
                beats.putAll(cm.getData());
            }
        }
        for (String id : UserKeyTest.AWKWARD_IDS) {
            assertThat(beats).as(id).containsKey(UserKey.of(id).key());
        }
        assertThat(beats).hasSize(UserKeyTest.AWKWARD_IDS.size());
    }

    /** The control: this API server does validate, so the test above could fail. */
    @Test
    void theApiServerRejectsWhatTheDerivationAvoids() {
        KubernetesClient sa = cluster.client();
        String ns = cluster.namespace();
        Deployment upper = parts.objects.root(UserKey.of("alice"));
        upper.getMetadata().setName("db-Alice");
        assertThatThrownBy(() ->
                        sa.apps().deployments().inNamespace(ns).resource(upper).create())
                .isInstanceOfSatisfying(
                        KubernetesClientException.class,
                        e -> assertThat(e.getCode()).isEqualTo(422));
        ConfigMap dotKey = new ConfigMapBuilder()
                .withNewMetadata()
                .withName("heartbeats-bad")
                .endMetadata()
                .withData(Map.of("..", Instant.now().toString()))
                .build();
        assertThatThrownBy(
                        () -> sa.configMaps().inNamespace(ns).resource(dotKey).create())
                .isInstanceOfSatisfying(
                        KubernetesClientException.class,
                        e -> assertThat(e.getCode()).isEqualTo(422));
        Deployment longLabel = parts.objects.root(UserKey.of("bob"));
        longLabel.getMetadata().getLabels().put(PlaygroundLabels.USER, "x".repeat(64));
        assertThatThrownBy(() -> sa.apps()
                        .deployments()
                        .inNamespace(ns)
                        .resource(longLabel)
                        .create())
                .isInstanceOfSatisfying(
                        KubernetesClientException.class,
                        e -> assertThat(e.getCode()).isEqualTo(422));
    }
}
