package org.sqlflow.playground.cluster;

import org.sqlflow.playground.testing.StrictMockTestCluster;
import org.sqlflow.playground.testing.TestCluster;

/**
 * The warm pool's scenarios on fabric8's mock API server (fast tier), with delete preconditions honoured: the
 * pool's deletes are guarded by the resourceVersion it listed, and a claim must be able to win that race.
 */
class WarmPoolMockTest extends WarmPoolScenarios {

    @Override
    protected TestCluster newCluster() {
        return new StrictMockTestCluster();
    }
}
