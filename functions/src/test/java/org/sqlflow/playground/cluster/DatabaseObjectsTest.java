package org.sqlflow.playground.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentConditionBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.sqlflow.playground.testing.PlaygroundParts;
import org.sqlflow.playground.testing.TestSettings;

/**
 * The database objects as built, and as {@link DatabaseRoot} reads them back: what the pod runs, what the mesh does
 * to it, and what each Deployment means.
 */
class DatabaseObjectsTest {

    private static final DatabaseObjects DEFAULTS =
            new DatabaseObjects(PlaygroundParts.database(Duration.ofSeconds(15), 10));

    private static List<PodTemplateSpec> everyDatabasePod(DatabaseObjects objects) {
        UserKey alice = UserKey.of("alice");
        return List.of(objects.root(alice), objects.pooled("pool-abc12"), objects.claimingRoot(alice, "pool-abc12"))
                .stream()
                .map(Deployment::getSpec)
                .map(s -> s.getTemplate())
                .toList();
    }

    @Test
    void everyDatabasePodStaysOutOfTheMesh() {
        assertThat(everyDatabasePod(DEFAULTS))
                .allSatisfy(pod -> assertThat(pod.getMetadata().getLabels())
                        .containsEntry("sidecar.istio.io/inject", "false")
                        .containsEntry(PlaygroundLabels.COMPONENT, PlaygroundLabels.COMPONENT_DATABASE));
    }

    @Test
    void theDefaultEntrypointRunsUnderPosixShNotBash() {
        Container mysql = DEFAULTS.root(UserKey.of("alice"))
                .getSpec()
                .getTemplate()
                .getSpec()
                .getContainers()
                .get(0);
        // sqlflow/sqlflow:mysql is Alpine: /bin/sh (BusyBox ash) is there, /bin/bash is not.
        assertThat(mysql.getCommand()).hasSize(3).startsWith("/bin/sh", "-c");
        String script = mysql.getCommand().get(2);
        assertThat(script)
                .startsWith("#!/bin/sh\n")
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
        DatabaseObjects image = new DatabaseObjects(
                TestSettings.bind(Map.of("database.image", "mariadb:11", "database.entrypoint", "image"))
                        .database());
        assertThat(everyDatabasePod(image)).allSatisfy(pod -> {
            assertThat(pod.getSpec().getContainers().get(0).getCommand()).isEmpty();
            assertThat(pod.getMetadata().getLabels()).containsEntry("sidecar.istio.io/inject", "false");
        });
    }

    @Test
    void aUsersRootReadsAsItsUsersOnly() {
        UserKey hashed = UserKey.of("Alice.Smith");
        DatabaseRoot root = DatabaseRoot.of(DEFAULTS.root(hashed));
        assertThat(root.user()).isEqualTo(hashed);
        assertThat(root.belongsTo(hashed)).isTrue();
        assertThat(root.belongsTo(UserKey.of("alice.smith"))).isFalse();
        assertThat(root.isPooled()).isFalse();
        assertThat(root.claims()).isNull();
        assertThat(root.runsPod()).isTrue();
        assertThat(root.isCondemned() || root.isKept() || root.isDeleting() || root.isReady())
                .isFalse();

        Deployment renamed = DEFAULTS.root(hashed);
        renamed.getMetadata().setName(UserKey.of("bob").resourceName());
        assertThat(DatabaseRoot.of(renamed).user())
                .as("a user-id that does not match the name")
                .isNull();
    }

    @Test
    void aClaimingRootRunsNoPodAndAFailedClaimMakesItOrdinary() {
        DatabaseRoot claiming = stamped(DEFAULTS.claimingRoot(UserKey.of("alice"), "pool-abc12"));
        assertThat(claiming.claims()).isEqualTo("pool-abc12");
        assertThat(claiming.runsPod()).isFalse();
        assertThat(claiming.claiming("pool-xyz98").getMetadata().getAnnotations())
                .containsEntry(PlaygroundLabels.CLAIMS, "pool-xyz98");

        DatabaseRoot ordinary = DatabaseRoot.of(claiming.ordinary());
        assertThat(ordinary.claims()).isNull();
        assertThat(ordinary.runsPod()).isTrue();
        assertThat(ordinary.resourceVersion()).as("the update stays guarded").isEqualTo("7");
        assertThat(claiming.claims())
                .as("the value it was derived from is unchanged")
                .isEqualTo("pool-abc12");
    }

    @Test
    void aPooledDatabaseIsUnclaimedUntilARootOwnsIt() {
        DatabaseRoot pooled = stamped(DEFAULTS.pooled("pool-abc12"));
        assertThat(pooled.isPooled()).isTrue();
        assertThat(pooled.isUnclaimed()).isTrue();
        assertThat(pooled.user()).isNull();

        DatabaseRoot root = stamped(DEFAULTS.root(UserKey.of("alice")));
        DatabaseRoot claimed = DatabaseRoot.of(pooled.claimedBy(root, UserKey.of("alice")));
        assertThat(claimed.isPooled()).isTrue();
        assertThat(claimed.isUnclaimed()).isFalse();
        assertThat(claimed.belongsTo(UserKey.of("alice"))).isTrue();
        assertThat(DatabaseObjects.ownedBy(claimed.deployment(), root.uid())).isTrue();
        assertThat(pooled.isUnclaimed())
                .as("the value it was derived from is unchanged")
                .isTrue();
    }

    @Test
    void aCondemnationIsTakenBackAndOnlyPlaygroundAnnotationsChangeTheJudgement() {
        DatabaseRoot root = stamped(DEFAULTS.root(UserKey.of("alice")));
        DatabaseRoot condemned = DatabaseRoot.of(root.condemned(Instant.parse("2030-01-01T12:30:00Z")));
        assertThat(condemned.isCondemned()).isTrue();
        assertThat(DatabaseRoot.of(condemned.rescued()).isCondemned()).isFalse();
        assertThat(root.isCondemned()).isFalse();

        Deployment byTheController = copy(condemned);
        byTheController.getMetadata().getAnnotations().put("deployment.kubernetes.io/revision", "1");
        byTheController.getMetadata().setResourceVersion("8");
        assertThat(DatabaseRoot.of(byTheController).sameJudgementAs(condemned)).isTrue();
        assertThat(DatabaseRoot.of(condemned.rescued()).sameJudgementAs(condemned))
                .isFalse();
        Deployment kept = copy(condemned);
        kept.getMetadata().getAnnotations().put(PlaygroundLabels.KEEP, "true");
        assertThat(DatabaseRoot.of(kept).isKept()).isTrue();
        assertThat(DatabaseRoot.of(kept).sameJudgementAs(condemned)).isFalse();
        Deployment going = copy(condemned);
        going.getMetadata().setDeletionTimestamp("2030-01-01T12:31:00Z");
        assertThat(DatabaseRoot.of(going).sameJudgementAs(condemned)).isFalse();
    }

    @Test
    void aDatabaseIsNotReadySinceItsAvailableConditionFlippedElseSinceItsCreation() {
        DatabaseRoot pooled = stamped(DEFAULTS.pooled("pool-abc12"));
        assertThat(pooled.notReadySince()).isEqualTo(Instant.parse("2030-01-01T12:00:00Z"));
        Deployment unavailable = copy(pooled);
        unavailable.setStatus(new DeploymentStatusBuilder()
                .withConditions(new DeploymentConditionBuilder()
                        .withType("Available")
                        .withStatus("False")
                        .withLastTransitionTime("2030-01-01T12:05:00Z")
                        .build())
                .build());
        assertThat(DatabaseRoot.of(unavailable).notReadySince()).isEqualTo(Instant.parse("2030-01-01T12:05:00Z"));
        unavailable.getStatus().setReadyReplicas(1);
        assertThat(DatabaseRoot.isReady(unavailable)).isTrue();
        assertThat(DatabaseRoot.isReady(null)).isFalse();
    }

    private static Deployment copy(DatabaseRoot root) {
        return new DeploymentBuilder(root.deployment()).build();
    }

    /** As the API server stores it: with a creation time, a uid and a resourceVersion. */
    private static DatabaseRoot stamped(Deployment d) {
        d.getMetadata().setCreationTimestamp("2030-01-01T12:00:00Z");
        d.getMetadata().setUid("uid-" + d.getMetadata().getName());
        d.getMetadata().setResourceVersion("7");
        return DatabaseRoot.of(d);
    }
}
