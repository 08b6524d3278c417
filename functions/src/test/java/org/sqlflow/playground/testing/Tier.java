package org.sqlflow.playground.testing;

import java.util.EnumSet;
import java.util.Set;
import java.util.function.Supplier;
import org.junit.jupiter.api.Assumptions;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * The test tiers, and the one rule for skipping them: a tier that cannot run here is skipped with the reason,
 * except a tier CI requires ({@code CI=true}), which then fails. A test class names its tier with a mark
 * ({@link RealApiTier}, {@link RealNodeTier}, {@link K3sTier}); a class without one is of the fast tier, which
 * always runs. The marks apply {@link TierCondition}, so a skipped class runs none of its set-up.
 */
public enum Tier {

    /** fabric8's mock API server, in process: runs everywhere. */
    FAST("fast", false, () -> null),
    /** A real kube-apiserver and controller manager ({@code .ci/test-cluster.sh start}); required under CI. */
    REAL_API("real-API", true, RealApi::unavailableReason),
    /** The real-API tier plus a kubelet that runs database pods; required under CI, where .ci/run starts it. */
    REAL_NODE("node", true, RealNode::unavailableReason),
    /** A whole k3s in a container (Testcontainers); never required, as it needs a container engine and images. */
    K3S("k3s", false, K3sTestCluster::unavailableReason);

    private static final Set<Tier> WARNED = EnumSet.noneOf(Tier.class);

    private final String label;
    private final boolean requiredUnderCi;
    private final Supplier<String> unavailableReason;

    Tier(String label, boolean requiredUnderCi, Supplier<String> unavailableReason) {
        this.label = label;
        this.requiredUnderCi = requiredUnderCi;
        this.unavailableReason = unavailableReason;
    }

    /** The tier of a test class, by its mark; the fast tier when it has none. */
    public static Tier of(Class<?> testClass) {
        if (AnnotationSupport.isAnnotated(testClass, RealNodeTier.class)) {
            return REAL_NODE;
        }
        if (AnnotationSupport.isAnnotated(testClass, RealApiTier.class)) {
            return REAL_API;
        }
        if (AnnotationSupport.isAnnotated(testClass, K3sTier.class)) {
            return K3S;
        }
        return FAST;
    }

    /** Whether this run is CI's, where the real tiers are required. */
    public static boolean underCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    /**
     * Null when the tier can run here; otherwise the skip message, said once per run on the console too.
     *
     * @throws IllegalStateException when the tier cannot run and CI requires it
     */
    public String skipReason() {
        String reason = unavailableReason.get();
        if (reason == null) {
            return null;
        }
        if (requiredUnderCi && underCi()) {
            throw new IllegalStateException("CI=true and the " + label + " tier cannot run: " + reason);
        }
        String message = label + " tier skipped: " + reason;
        synchronized (WARNED) {
            if (WARNED.add(this)) {
                System.err.println("[WARNING] " + message);
            }
        }
        return message;
    }

    /**
     * For code that reaches a tier from outside a marked class: returns when the tier can run; otherwise skips
     * the current test with the reason, or fails it where CI requires the tier.
     */
    public void require() {
        String skip = skipReason();
        if (skip != null) {
            Assumptions.abort(skip);
        }
    }
}
