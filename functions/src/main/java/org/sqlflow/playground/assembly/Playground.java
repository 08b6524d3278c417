package org.sqlflow.playground.assembly;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
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
import org.sqlflow.playground.reaper.Reaper;
import org.sqlflow.playground.reaper.SweepThrottle;
import org.sqlflow.playground.settings.PlaygroundProperties;

/**
 * The playground's parts, built from its settings on one Kubernetes client. This is the only place that calls
 * their constructors: the application builds one (config/PlaygroundConfiguration), and every test tier builds
 * one per function's client, so tests run what production runs, and every default comes from
 * {@link PlaygroundProperties}.
 */
public final class Playground implements AutoCloseable {

    private final PlaygroundProperties settings;
    private final DatabaseObjects objects;
    private final DatabaseRoots roots;
    private final DatabaseDirectory directory;
    private final ExpiryPolicy expiry;
    private final ExecutorService writers;
    private final HeartbeatLedger ledger;
    private final WarmPool pool;
    private final DatabaseProvisioner provisioner;
    private final KnownDatabases knownDatabases;
    private final HeartbeatRecorder recorder;
    private final Reaper reaper;
    private final SweepThrottle sweepThrottle;
    private final DatabaseListing listing;

    /**
     * @param garbageCollected whether the cluster's garbage collector removes what a deleted database owned (a
     *     real cluster); the embedded API server of local mode has none, so the reaper deletes those itself
     */
    public Playground(
            KubernetesClient client,
            PlaygroundProperties settings,
            boolean garbageCollected,
            Clock clock,
            MeterRegistry meters) {
        this.settings = settings;
        String namespace = settings.namespace();
        PlaygroundProperties.Database database = settings.database();
        PlaygroundProperties.Heartbeat heartbeat = settings.heartbeat();
        objects = new DatabaseObjects(database);
        roots = new DatabaseRoots(client, namespace);
        directory = new DatabaseDirectory(client, namespace);
        expiry = new ExpiryPolicy(heartbeat.ttl(), settings.reaper().maxAge());
        writers = writerThreads(heartbeat.writerThreads());
        ledger = new HeartbeatLedger(
                client,
                namespace,
                heartbeat.shards(),
                heartbeat.precision(),
                settings.kubernetes().writeTimeout(),
                clock,
                writers);
        pool = new WarmPool(
                client,
                namespace,
                objects,
                directory,
                clock,
                new WarmPool.Settings(settings.pool().size(), settings.pool().brokenAfter()),
                database.maxDatabases(),
                meters);
        provisioner = new DatabaseProvisioner(
                client,
                namespace,
                objects,
                roots,
                directory,
                ledger,
                expiry,
                database.readyWait(),
                database.maxDatabases(),
                pool);
        knownDatabases = new KnownDatabases(provisioner, directory, ledger, expiry, clock);
        recorder = new HeartbeatRecorder(roots, directory, ledger, expiry, clock);
        PlaygroundProperties.Reaper r = settings.reaper();
        reaper = new Reaper(
                client,
                roots,
                ledger,
                expiry,
                pool,
                clock,
                new Reaper.Settings(r.dryRun(), r.parallelism(), r.pageSize(), database.readyWait(), garbageCollected),
                meters);
        sweepThrottle = new SweepThrottle(r.minInterval(), clock);
        FunctionCounter.builder("playground.heartbeats.writes", ledger, HeartbeatLedger::writes)
                .description("merge patches of heartbeat shards sent (group commit: several beats per write)")
                .register(meters);
        listing = new DatabaseListing(directory, ledger, expiry, pool, reaper, database.maxDatabases(), meters);
    }

    /**
     * Starts the watch that feeds the directory, and (on an instance serving create_db) the warm pool's first
     * fill; afterwards claims and the reaper keep the pool filled.
     */
    public Playground start() {
        directory.start();
        if (settings.api().functions().contains("create_db")) {
            pool.requestRefill();
        }
        return this;
    }

    public PlaygroundProperties settings() {
        return settings;
    }

    public DatabaseObjects objects() {
        return objects;
    }

    public DatabaseRoots roots() {
        return roots;
    }

    public DatabaseDirectory directory() {
        return directory;
    }

    public ExpiryPolicy expiry() {
        return expiry;
    }

    public HeartbeatLedger ledger() {
        return ledger;
    }

    public WarmPool pool() {
        return pool;
    }

    public DatabaseProvisioner provisioner() {
        return provisioner;
    }

    /** create_db's entry: the provisioner behind this instance's memory of databases it has confirmed. */
    public KnownDatabases knownDatabases() {
        return knownDatabases;
    }

    public HeartbeatRecorder recorder() {
        return recorder;
    }

    public Reaper reaper() {
        return reaper;
    }

    public SweepThrottle sweepThrottle() {
        return sweepThrottle;
    }

    /** GET /api/databases: the operators' view, from the directory and the ledger. */
    public DatabaseListing listing() {
        return listing;
    }

    @Override
    public void close() {
        reaper.close();
        pool.close();
        directory.close();
        writers.shutdownNow();
    }

    private static ExecutorService writerThreads(int count) {
        AtomicInteger n = new AtomicInteger();
        return Executors.newFixedThreadPool(count, r -> {
            Thread t = new Thread(r, "heartbeat-writer-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }
}
