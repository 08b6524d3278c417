package org.sqlflow.playground.cluster;

/**
 * The warm pool's scenarios on fabric8's mock API server (fast tier), with delete preconditions honoured
 * ({@link org.sqlflow.playground.testing.StrictMockTestCluster}): the pool's deletes are guarded by the
 * resourceVersion it listed, and a claim must be able to win that race.
 */
class WarmPoolMockTest extends WarmPoolScenarios {}
