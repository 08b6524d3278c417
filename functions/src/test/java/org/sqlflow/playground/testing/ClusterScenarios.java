package org.sqlflow.playground.testing;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.Deque;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.sqlflow.playground.cluster.WarmPool;
import org.sqlflow.playground.settings.PlaygroundProperties;

/**
 * Scenarios that run unchanged on every tier's cluster. A tier's class extends the scenarios and carries its
 * tier's mark ({@link RealApiTier}, {@link K3sTier}; none for the fast tier); {@link ScenarioClusters} hands each
 * test a fresh {@link #cluster}, and the parts a test assembles on it are closed after it, before the cluster.
 */
@ExtendWith(ScenarioClusters.class)
public abstract class ClusterScenarios {

    protected TestCluster cluster;
    /**
     * The scenario's time, moved only by hand. The API server stamps creation times in whole seconds by its own
     * wall clock: the test clock starts a whole minute after now, so every object a scenario makes is older.
     */
    protected MutableClock clock;

    private final Deque<AutoCloseable> parts = new ArrayDeque<>();

    @BeforeEach
    final void openCluster(TestCluster cluster) {
        this.cluster = cluster;
        this.clock =
                new MutableClock(Instant.now().truncatedTo(ChronoUnit.SECONDS).plus(Duration.ofMinutes(1)));
    }

    @AfterEach
    final void closeParts() throws Exception {
        while (!parts.isEmpty()) {
            parts.pop().close();
        }
    }

    /** Closes {@code part} when the test ends (the last taken, the first closed), before the cluster. */
    protected final <T extends AutoCloseable> T closeAfterTest(T part) {
        parts.push(part);
        return part;
    }

    /** The playground's parts on this scenario's cluster and clock, with a database expiry of {@code maxAge}. */
    protected final PlaygroundParts playground(
            PlaygroundProperties.Database database, Duration maxAge, WarmPool.Settings pool) {
        return closeAfterTest(new PlaygroundParts(cluster, clock, database, maxAge, pool));
    }

    /** As {@link #playground(PlaygroundProperties.Database, Duration, WarmPool.Settings)}, without a pool. */
    protected final PlaygroundParts playground(PlaygroundProperties.Database database) {
        return playground(database, Duration.ZERO, new WarmPool.Settings(0, Duration.ofMinutes(10)));
    }
}
