package org.sqlflow.playground.reaper;

import org.sqlflow.playground.testing.RealApiTier;

/**
 * The reaper's scenarios on a real API server (real-API tier): the reaper runs as knative/rbac.yaml's
 * ServiceAccount under its Role, with real delete preconditions, paging, a deployment controller that writes
 * status and a garbage collector.
 */
@RealApiTier
class RealApiReaperTest extends ReaperScenarios {

    /**
     * 1,000 here (the fast tier sweeps 10,000): the real controllers make a ReplicaSet and a Pod for every
     * Deployment, so 10,000 users would be 30,000 objects on a 2-core CI machine. Two pages still show the
     * real server's continue tokens.
     */
    @Override
    protected int scaleUsers() {
        return 1_000;
    }
}
