package org.sqlflow.playground.testing;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * The one way a scenario gets its cluster: a {@link TestCluster} parameter, made for the test class's
 * {@link Tier} (the strict mock server in the fast tier, a fresh namespace on the real API server or on k3s in
 * theirs) and closed when the test ends, after its {@code @AfterEach} methods.
 */
public final class ScenarioClusters implements ParameterResolver {

    private static final ExtensionContext.Namespace CLUSTERS =
            ExtensionContext.Namespace.create(ScenarioClusters.class);

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == TestCluster.class;
    }

    @Override
    public TestCluster resolveParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> testClass = context.getRequiredTestClass();
        TestCluster cluster = switch (Tier.of(testClass)) {
            case FAST -> new StrictMockTestCluster();
            case REAL_API, REAL_NODE -> new RealApiTestCluster(testClass);
            case K3S -> new K3sTestCluster();
        };
        // The store closes what it holds when the test's context closes.
        context.getStore(CLUSTERS).put(cluster, cluster);
        return cluster;
    }
}
