package org.sqlflow.playground.reaper;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlflow.playground.cluster.DatabaseRoots;
import org.sqlflow.playground.cluster.ExpiryPolicy;
import org.sqlflow.playground.cluster.HeartbeatLedger;
import org.sqlflow.playground.cluster.PlaygroundLabels;
import org.sqlflow.playground.cluster.UserKey;
import org.sqlflow.playground.cluster.WarmPool;

/**
 * reap_stale: deletes the databases whose users stopped beating, and what half-made or left-over objects and
 * heartbeat entries remain. One sweep is idempotent; a sweep cut short (API errors, a crash) is finished by the
 * next one.
 *
 * <p>What to do with each root is decided from what was read and the time alone ({@link ReapPolicy}). Per expired
 * root the protocol ({@link Reaping}) is: <b>condemn</b> (an update adding {@link PlaygroundLabels#REAPING}, guarded
 * by the resourceVersion the listing saw), <b>re-check</b> (an authoritative read of the user's heartbeat shard,
 * one read per shard for a whole batch of condemned roots; a beat that landed meanwhile makes the reaper take its
 * condemnation back), <b>delete</b> (guarded by the condemned resourceVersion, propagation Background: the garbage
 * collector takes what the root owns). A heartbeat stores its beat first and then takes back any
 * condemnation it sees ({@link DatabaseRoots#rescue}), which changes the resourceVersion: whichever way the two
 * interleave, once heart_beat has answered, the delete either is not issued or fails with 409.
 */
public class Reaper implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Reaper.class);

    /** The reason of the Kubernetes Event written for each deletion. */
    public static final String EVENT_REASON = "Reaped";
    /** The Event source and the component label of what the reaper writes. */
    public static final String COMPONENT = "sqlflow-playground-reaper";

    public static final String KIND_HEARTBEAT_ENTRY = "HeartbeatEntry";

    /**
     * @param forceDryRun  every sweep is a dry run, whatever the request says (playground.reaper.dry-run)
     * @param parallelism  users worked on at once
     * @param pageSize     objects per list request
     * @param orphanAge    a database object without its root is left alone while younger than this (create_db makes
     *                     the root first and the rest within playground.database.ready-wait)
     * @param garbageCollected a garbage collector deletes what a deleted root owns (every real cluster); without one
     *                     (the embedded API server of local mode) the reaper deletes the Secret, Service and claim
     */
    public record Settings(
            boolean forceDryRun, int parallelism, int pageSize, Duration orphanAge, boolean garbageCollected) {
        public Settings {
            if (parallelism < 1 || pageSize < 1 || orphanAge == null || orphanAge.isNegative()) {
                throw new IllegalArgumentException("invalid reaper settings");
            }
        }
    }

    /** The points between the protocol's steps where another actor may act. */
    public enum Step {
        /** The listed root was judged expired; it has not been condemned yet. */
        JUDGED,
        /** The root carries the condemnation; the ledger has not been re-read (that happens once per batch). */
        CONDEMNED,
        /** The ledger was re-read and still says expired; the delete has not been issued. */
        RECHECKED
    }

    /** Called at each {@link Step}, on the worker thread; lets a test place a heartbeat exactly there. */
    @FunctionalInterface
    public interface Interleaving {
        Interleaving NONE = (step, user) -> {};

        void at(Step step, UserKey user);
    }

    final KubernetesClient client;
    final DatabaseRoots roots;
    final HeartbeatLedger ledger;
    final ExpiryPolicy expiry;
    final WarmPool pool;
    final Clock clock;
    final Settings settings;
    final Interleaving interleaving;
    final ExecutorService workers;
    private final MeterRegistry meters;
    private final ReentrantLock sweeping = new ReentrantLock();
    private volatile ReapReport lastSweep;
    private volatile Instant lastComplete;

    public Reaper(
            KubernetesClient client,
            DatabaseRoots roots,
            HeartbeatLedger ledger,
            ExpiryPolicy expiry,
            WarmPool pool,
            Clock clock,
            Settings settings,
            MeterRegistry meters) {
        this(client, roots, ledger, expiry, pool, clock, settings, meters, Interleaving.NONE);
    }

    public Reaper(
            KubernetesClient client,
            DatabaseRoots roots,
            HeartbeatLedger ledger,
            ExpiryPolicy expiry,
            WarmPool pool,
            Clock clock,
            Settings settings,
            MeterRegistry meters,
            Interleaving interleaving) {
        this.client = client;
        this.roots = roots;
        this.ledger = ledger;
        this.expiry = expiry;
        this.pool = pool;
        this.clock = clock;
        this.settings = settings;
        this.meters = meters;
        this.interleaving = interleaving;
        AtomicInteger n = new AtomicInteger();
        this.workers = Executors.newFixedThreadPool(settings.parallelism(), r -> {
            Thread t = new Thread(r, "reaper-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * One sweep. Sweeps of one instance run one at a time; sweeps of several instances may overlap safely (every
     * write is guarded by a resourceVersion). API errors do not escape: they are in the report's failures.
     */
    public ReapReport sweep(boolean dryRunRequested) {
        boolean dryRun = dryRunRequested || settings.forceDryRun();
        sweeping.lock();
        try {
            Timer.Sample sample = Timer.start(meters);
            ReapReport report = new Sweep(this, dryRun, clock.instant()).run();
            Tags tags = Tags.of("dry_run", Boolean.toString(dryRun));
            meters.counter("playground.reaper.reaped", tags)
                    .increment(report.counts().reaped());
            meters.counter("playground.reaper.kept", tags)
                    .increment(report.counts().kept());
            meters.counter("playground.reaper.failed", tags)
                    .increment(report.counts().failed());
            meters.counter("playground.reaper.orphans", tags)
                    .increment(report.counts().orphansRemoved());
            sample.stop(meters.timer("playground.reaper.sweep", tags));
            lastSweep = report.withoutDetail();
            // Gauges of the last sweep rather than counters alone: the reaper's Knative Service starts a fresh pod
            // for most sweeps, and a counter that a new pod exports already at N shows Prometheus no increase.
            Gauge.builder(
                            "playground.reaper.last_sweep.failed",
                            this,
                            r -> r.lastSweep.counts().failed())
                    .description("users (and listings) the last sweep of this instance failed on")
                    .register(meters);
            if (report.failed().stream().noneMatch(f -> f.userId() == null)) {
                lastComplete = clock.instant();
                // Registered at the first complete sweep: an instance that never completed one exports no
                // series, rather than a made-up time, and the alert on it counts the series' absence.
                Gauge.builder("playground.reaper.last_complete.timestamp", this, r -> r.lastComplete.getEpochSecond())
                        .baseUnit("seconds")
                        .description("when this instance last completed a sweep (every root listed), epoch seconds")
                        .register(meters);
            }
            log.info("reaper sweep{}: {}", dryRun ? " (dry run)" : "", report.counts());
            return report;
        } finally {
            sweeping.unlock();
        }
    }

    /**
     * This instance's last sweep, counts only, or null before the first. Held in memory: where another pod sweeps
     * (the reaper's own Knative Service), this one has none, and the metrics are where that sweep shows.
     */
    public ReapReport lastSweep() {
        return lastSweep;
    }

    @Override
    public void close() {
        workers.shutdownNow();
    }
}
