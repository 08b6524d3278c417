package org.sqlflow.playground.testing;

import java.time.Clock;
import java.time.Duration;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import io.fabric8.kubernetes.client.KubernetesClient;
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

/**
 * The playground's cluster-side parts wired by hand on a test cluster, with a clock of the test's choosing. As in
 * the cluster, each function has its own client: {@link #provisioner} runs as create_db (with its own roots,
 * directory, ledger and pool), {@link #recorder} as heart_beat, and {@link #roots}, {@link #directory},
 * {@link #ledger} and {@link #pool} as the reaper, whose work (reads, pool upkeep, ledger clean-up) scenarios
 * drive through them. Where the cluster hands out one client for all (the mock tiers), they share one wiring.
 */
public final class PlaygroundParts implements AutoCloseable {

    public final TestCluster cluster;
    public final DatabaseObjects objects;
    public final DatabaseRoots roots;
    public final DatabaseDirectory directory;
    public final HeartbeatLedger ledger;
    /** heart_beat's ledger: where a scenario writes a beat of its own. */
    public final HeartbeatLedger beatLedger;
    public final ExpiryPolicy expiry;
    public final DatabaseProvisioner provisioner;
    public final HeartbeatRecorder recorder;
    public final WarmPool pool;
    public final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final ExecutorService writers = Executors.newFixedThreadPool(4);
    private final Map<KubernetesClient, Side> sides = new IdentityHashMap<>();

    /** One function's view of the cluster. */
    private record Side(DatabaseRoots roots, DatabaseDirectory directory, HeartbeatLedger ledger, WarmPool pool) {
    }

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
        this.expiry = new ExpiryPolicy(Duration.ofMinutes(30), maxAge);
        for (String function : List.of("create_db", "heart_beat", "reap_stale")) {
            KubernetesClient client = cluster.client(function);
            sides.computeIfAbsent(client, c -> {
                DatabaseDirectory directory = new DatabaseDirectory(c, ns);
                directory.start();
                return new Side(new DatabaseRoots(c, ns), directory,
                        new HeartbeatLedger(c, ns, 32, Duration.ofSeconds(60), Duration.ofSeconds(10), clock, writers),
                        new WarmPool(c, ns, objects, directory, clock, poolSettings, db.maxDatabases(), meters));
            });
        }
        Side create = sides.get(cluster.client("create_db"));
        Side beat = sides.get(cluster.client("heart_beat"));
        Side reaper = sides.get(cluster.client("reap_stale"));
        this.roots = reaper.roots();
        this.directory = reaper.directory();
        this.ledger = reaper.ledger();
        this.pool = reaper.pool();
        this.beatLedger = beat.ledger();
        this.provisioner = new DatabaseProvisioner(cluster.client("create_db"), ns, objects, create.roots(),
                create.directory(), create.ledger(), expiry, db.readyWait(), db.maxDatabases(),
                create.pool());
        this.recorder = new HeartbeatRecorder(beat.roots(), beat.directory(), beat.ledger(), expiry, clock);
    }

    @Override
    public void close() {
        for (Side side : sides.values()) {
            side.pool().close();
            side.directory().close();
        }
        writers.shutdownNow();
    }
}
