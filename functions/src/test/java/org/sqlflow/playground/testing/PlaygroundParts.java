package org.sqlflow.playground.testing;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.sqlflow.playground.assembly.Playground;
import org.sqlflow.playground.cluster.DatabaseDirectory;
import org.sqlflow.playground.cluster.DatabaseObjects;
import org.sqlflow.playground.cluster.DatabaseProvisioner;
import org.sqlflow.playground.cluster.DatabaseRoots;
import org.sqlflow.playground.cluster.ExpiryPolicy;
import org.sqlflow.playground.cluster.HeartbeatLedger;
import org.sqlflow.playground.cluster.HeartbeatRecorder;
import org.sqlflow.playground.cluster.KnownDatabases;
import org.sqlflow.playground.cluster.WarmPool;
import org.sqlflow.playground.listing.DatabaseListing;
import org.sqlflow.playground.settings.PlaygroundProperties;

/**
 * The playground's cluster-side parts, assembled as the application assembles them, on a test cluster with a
 * clock of the test's choosing. As in the cluster, each function has its own client: {@link #provisioner} runs as create_db (with its own roots,
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
    /** heart_beat's watch-fed directory, from which it answers. */
    public final DatabaseDirectory beatDirectory;

    public final ExpiryPolicy expiry;
    public final DatabaseProvisioner provisioner;
    /** create_db's entry: the provisioner behind the instance's memory of the databases it confirmed. */
    public final KnownDatabases knownDatabases;

    public final HeartbeatRecorder recorder;
    public final WarmPool pool;
    /** GET /api/databases, on its own client as in the cluster. */
    public final DatabaseListing listing;

    public final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    /** One assembly per distinct client: each function's view of the cluster. */
    private final Map<KubernetesClient, Playground> sides = new IdentityHashMap<>();

    /** The application's database settings with a test's ready-wait and capacity. */
    public static PlaygroundProperties.Database database(Duration readyWait, int maxDatabases) {
        return TestSettings.bind(Map.of(
                        "database.ready-wait",
                        readyWait.toString(),
                        "database.max-databases",
                        Integer.toString(maxDatabases)))
                .database();
    }

    public PlaygroundParts(TestCluster cluster, Clock clock, Duration readyWait, int maxDatabases, Duration maxAge) {
        this(cluster, clock, cluster.database(readyWait, maxDatabases), maxAge);
    }

    public PlaygroundParts(TestCluster cluster, Clock clock, PlaygroundProperties.Database db, Duration maxAge) {
        this(cluster, clock, db, maxAge, new WarmPool.Settings(0, Duration.ofMinutes(10)));
    }

    public PlaygroundParts(
            TestCluster cluster,
            Clock clock,
            PlaygroundProperties.Database db,
            Duration maxAge,
            WarmPool.Settings poolSettings) {
        this.cluster = cluster;
        Map<KubernetesClient, List<String>> functionsOf = new IdentityHashMap<>();
        for (String function : List.of("create_db", "heart_beat", "reap_stale", "databases")) {
            functionsOf
                    .computeIfAbsent(cluster.client(function), c -> new ArrayList<>())
                    .add(function);
        }
        // Each client's assembly serves the functions that run on it, as each Knative Service does.
        functionsOf.forEach((client, functions) -> {
            PlaygroundProperties settings = TestSettings.withDatabase(
                    TestSettings.bind(Map.of(
                            "namespace", cluster.namespace(),
                            "api.functions", String.join(",", functions),
                            "reaper.max-age", maxAge.toString(),
                            "pool.size", Integer.toString(poolSettings.size()),
                            "pool.broken-after", poolSettings.brokenAfter().toString())),
                    db);
            sides.put(client, new Playground(client, settings, cluster.hasGarbageCollector(), clock, meters).start());
        });
        Playground create = sides.get(cluster.client("create_db"));
        Playground beat = sides.get(cluster.client("heart_beat"));
        Playground reaper = sides.get(cluster.client("reap_stale"));
        this.objects = reaper.objects();
        this.expiry = reaper.expiry();
        this.roots = reaper.roots();
        this.directory = reaper.directory();
        this.ledger = reaper.ledger();
        this.pool = reaper.pool();
        this.beatLedger = beat.ledger();
        this.beatDirectory = beat.directory();
        this.provisioner = create.provisioner();
        this.knownDatabases = create.knownDatabases();
        this.recorder = beat.recorder();
        this.listing = sides.get(cluster.client("databases")).listing();
    }

    @Override
    public void close() {
        sides.values().forEach(Playground::close);
    }
}
