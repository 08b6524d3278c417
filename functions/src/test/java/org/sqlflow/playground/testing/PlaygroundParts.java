package org.sqlflow.playground.testing;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.sqlflow.playground.cluster.DatabaseDirectory;
import org.sqlflow.playground.cluster.DatabaseObjects;
import org.sqlflow.playground.cluster.DatabaseProvisioner;
import org.sqlflow.playground.cluster.DatabaseRoots;
import org.sqlflow.playground.cluster.ExpiryPolicy;
import org.sqlflow.playground.cluster.HeartbeatLedger;
import org.sqlflow.playground.cluster.HeartbeatRecorder;
import org.sqlflow.playground.cluster.WarmPool;
import org.sqlflow.playground.config.PlaygroundProperties;

/** The playground's cluster-side parts wired by hand on a test cluster, with a clock of the test's choosing. */
public final class PlaygroundParts implements AutoCloseable {

    public final TestCluster cluster;
    public final DatabaseObjects objects;
    public final DatabaseRoots roots;
    public final DatabaseDirectory directory;
    public final HeartbeatLedger ledger;
    public final ExpiryPolicy expiry;
    public final DatabaseProvisioner provisioner;
    public final HeartbeatRecorder recorder;
    public final WarmPool pool;
    public final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final ExecutorService writers = Executors.newFixedThreadPool(4);

    public static PlaygroundProperties.Database database(Duration readyWait, int maxDatabases) {
        return new PlaygroundProperties.Database("sqlflow/sqlflow:mysql",
                PlaygroundProperties.Entrypoint.SQLFLOW_START_SCRIPT, 3306, "root", "svc.cluster.local", readyWait,
                Duration.ofSeconds(5), null, maxDatabases,
                new PlaygroundProperties.Resources("250m", "1", "512Mi", "1Gi"),
                new PlaygroundProperties.Storage(PlaygroundProperties.StorageKind.EPHEMERAL, "5Gi", ""));
    }

    public PlaygroundParts(TestCluster cluster, Clock clock, Duration readyWait, int maxDatabases, Duration maxAge) {
        this(cluster, clock, cluster.database(readyWait, maxDatabases), maxAge);
    }

    public PlaygroundParts(TestCluster cluster, Clock clock, PlaygroundProperties.Database db, Duration maxAge) {
        this(cluster, clock, db, maxAge, new WarmPool.Settings(0, Duration.ofMinutes(10)));
    }

    public PlaygroundParts(TestCluster cluster, Clock clock, PlaygroundProperties.Database db, Duration maxAge,
            WarmPool.Settings poolSettings) {
        this.cluster = cluster;
        String ns = cluster.namespace();
        this.objects = new DatabaseObjects(db);
        this.roots = new DatabaseRoots(cluster.client(), ns);
        this.directory = new DatabaseDirectory(cluster.client(), ns);
        directory.start();
        this.ledger = new HeartbeatLedger(cluster.client(), ns, 32, Duration.ofSeconds(60), Duration.ofSeconds(10),
                clock, writers);
        this.expiry = new ExpiryPolicy(Duration.ofMinutes(30), maxAge);
        this.pool = new WarmPool(cluster.client(), ns, objects, directory, clock, poolSettings, db.maxDatabases(),
                meters);
        this.provisioner = new DatabaseProvisioner(cluster.client(), ns, objects, roots, directory, ledger, expiry,
                db.readyWait(), db.retryAfter(), db.maxDatabases(), pool);
        this.recorder = new HeartbeatRecorder(roots, directory, ledger, expiry, clock);
    }

    @Override
    public void close() {
        pool.close();
        directory.close();
        writers.shutdownNow();
    }
}
