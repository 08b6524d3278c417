package org.sqlflow.playground.cluster;

import org.sqlflow.playground.testing.MockTestCluster;
import org.sqlflow.playground.testing.TestCluster;

/** The provisioning scenarios on fabric8's mock API server (fast tier). */
class MockProvisioningTest extends ProvisioningScenarios {

    @Override
    protected TestCluster newCluster() {
        return new MockTestCluster();
    }
}
