package org.sqlflow.playground.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import org.junit.jupiter.api.Test;
import org.sqlflow.playground.config.PlaygroundProperties;
import org.sqlflow.playground.testing.PlaygroundParts;

/** The database pod template: what the pod runs, and what the mesh does to it. */
class DatabaseObjectsTest {

    private static final DatabaseObjects DEFAULTS = new DatabaseObjects(PlaygroundParts.database(Duration.ofSeconds(15), 10));

    private static List<PodTemplateSpec> everyDatabasePod(DatabaseObjects objects) {
        UserKey alice = UserKey.of("alice");
        return List.of(objects.root(alice), objects.pooled("pool-abc12"), objects.claimingRoot(alice, "pool-abc12"))
                .stream().map(Deployment::getSpec).map(s -> s.getTemplate()).toList();
    }

    @Test
    void everyDatabasePodStaysOutOfTheMesh() {
        assertThat(everyDatabasePod(DEFAULTS)).allSatisfy(pod -> assertThat(pod.getMetadata().getLabels())
                .containsEntry("sidecar.istio.io/inject", "false")
                .containsEntry(PlaygroundLabels.COMPONENT, PlaygroundLabels.COMPONENT_DATABASE));
    }

    @Test
    void theDefaultEntrypointRunsUnderPosixShNotBash() {
        Container mysql = DEFAULTS.root(UserKey.of("alice")).getSpec().getTemplate().getSpec().getContainers().get(0);
        // sqlflow/sqlflow:mysql is Alpine: /bin/sh (BusyBox ash) is there, /bin/bash is not.
        assertThat(mysql.getCommand()).hasSize(3).startsWith("/bin/sh", "-c");
        String script = mysql.getCommand().get(2);
        assertThat(script).startsWith("#!/bin/sh\n")
                .doesNotContain("/dev/tcp", "[[", "8890", "/start.bash &")
                .contains("--skip-networking ", "exec mysqld");
        // The password is read from the Secret through the environment, never written into the pod spec.
        assertThat(mysql.getEnv()).anySatisfy(e -> {
            assertThat(e.getName()).isEqualTo("MYSQL_ROOT_PASSWORD");
            assertThat(e.getValue()).isNull();
            assertThat(e.getValueFrom().getSecretKeyRef().getKey()).isEqualTo(DatabaseObjects.PASSWORD_KEY);
        });
    }

    @Test
    void anImageEntrypointKeepsTheImagesOwnCommand() {
        PlaygroundProperties.Database d = PlaygroundParts.database(Duration.ofSeconds(15), 10);
        DatabaseObjects image = new DatabaseObjects(new PlaygroundProperties.Database("mariadb:11",
                PlaygroundProperties.Entrypoint.IMAGE, d.port(), d.user(), d.serviceDomain(), d.readyWait(),
                d.retryAfter(), d.runAsUser(), d.maxDatabases(), d.resources(), d.storage()));
        assertThat(everyDatabasePod(image)).allSatisfy(pod -> {
            assertThat(pod.getSpec().getContainers().get(0).getCommand()).isEmpty();
            assertThat(pod.getMetadata().getLabels()).containsEntry("sidecar.istio.io/inject", "false");
        });
    }
}
