package org.sqlflow.playground.cluster;

import org.sqlflow.playground.testing.RealApiTier;

/**
 * The warm pool's scenarios on a real API server (real-API tier): the playground under its Role, real
 * Deployment/ReplicaSet controllers writing status under the claims, and the garbage collector taking a claimed
 * database with its user's root.
 */
@RealApiTier
class RealApiWarmPoolTest extends WarmPoolScenarios {}
