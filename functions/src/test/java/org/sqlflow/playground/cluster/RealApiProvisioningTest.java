package org.sqlflow.playground.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.sqlflow.playground.testing.PlaygroundServiceAccount;
import org.sqlflow.playground.testing.RealApiTier;

/**
 * The provisioning scenarios on a real API server (real-API tier): RBAC on, the playground authenticated as the
 * ServiceAccount of knative/rbac.yaml under its Role, real Deployment/ReplicaSet controllers and garbage collector.
 */
@RealApiTier
class RealApiProvisioningTest extends ProvisioningScenarios {

    @Test
    void thePlaygroundActsAsItsServiceAccountNotAsAdmin() {
        assertThat(PlaygroundServiceAccount.isServiceAccountClient(cluster.client()))
                .isTrue();
        assertThat(PlaygroundServiceAccount.isServiceAccountClient(cluster.admin()))
                .isFalse();
        assertThat(cluster.client().getConfiguration().getNamespace()).isEqualTo(cluster.namespace());
    }
}
