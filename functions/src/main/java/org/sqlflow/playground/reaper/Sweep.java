package org.sqlflow.playground.reaper;

import io.fabric8.kubernetes.api.model.ListOptions;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentList;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlflow.playground.cluster.DatabaseRoot;
import org.sqlflow.playground.cluster.DatabaseRoots;
import org.sqlflow.playground.cluster.HeartbeatLedger;
import org.sqlflow.playground.cluster.PlaygroundLabels;
import org.sqlflow.playground.cluster.WarmPool;
import org.sqlflow.playground.reaper.ReapPolicy.Decision;

/**
 * One sweep: read the ledger, page through the roots deciding on each ({@link ReapPolicy}), carry the decisions
 * out ({@link Reaping}), tend the warm pool, and, once every root was listed, remove what is left over
 * ({@link OrphanSweep}). API errors do not escape: they land in the report's failures, and the next sweep finishes
 * what this one could not.
 */
final class Sweep {

    private static final Logger log = LoggerFactory.getLogger(Reaper.class);

    /** Condemned roots held before the ledger is re-read for them: bounds the sweep's memory, not its calls. */
    private static final int RECHECK_BATCH = 2_000;

    final KubernetesClient client;
    final String namespace;
    final Instant now;
    final boolean dryRun;
    final ReapPolicy policy;
    final Tally tally;
    private final int pageSize;
    private final ExecutorService workers;
    private final DatabaseRoots roots;
    private final HeartbeatLedger ledger;
    private final WarmPool pool;
    private final Reaper.Interleaving interleaving;
    private final boolean garbageCollected;
    private final Clock clock;
    /** The name of every root listed, the ignored ones too: what has a root is no orphan. */
    private final Set<String> rootNames = ConcurrentHashMap.newKeySet();

    Sweep(Reaper reaper, boolean dryRun, Instant now) {
        this.client = reaper.client;
        this.namespace = reaper.roots.namespace();
        this.now = now;
        this.dryRun = dryRun;
        this.policy = new ReapPolicy(reaper.expiry, reaper.settings.orphanAge());
        this.tally = new Tally(dryRun, now);
        this.pageSize = reaper.settings.pageSize();
        this.workers = reaper.workers;
        this.roots = reaper.roots;
        this.ledger = reaper.ledger;
        this.pool = reaper.pool;
        this.interleaving = reaper.interleaving;
        this.garbageCollected = reaper.settings.garbageCollected();
        this.clock = reaper.clock;
    }

    ReapReport run() {
        Map<String, Map<String, Instant>> shards;
        try {
            shards = ledger.readAll();
        } catch (RuntimeException e) {
            tally.failed("reading the heartbeat ledger failed, so nothing was reaped: " + Tally.describe(e));
            return tally.report(clock);
        }
        Reaping reaping = new Reaping(this, roots, ledger, shards, interleaving, garbageCollected);
        boolean listedAll = sweepRoots(ReapPolicy.latestBeats(shards.values()), reaping);
        reaping.finishCondemned();
        reaping.removeReapedEntries();
        tendPool();
        if (listedAll) {
            // Orphans are judged against the complete set of roots only.
            new OrphanSweep(this, ledger, rootNames).run(shards);
        }
        return tally.report(clock);
    }

    private boolean sweepRoots(Map<String, Instant> beats, Reaping reaping) {
        String next = null;
        do {
            DeploymentList page;
            try {
                page = client.apps()
                        .deployments()
                        .inNamespace(namespace)
                        .withLabels(PlaygroundLabels.allDatabases())
                        .list(page(next));
            } catch (RuntimeException e) {
                tally.failed("listing the databases failed; the next sweep goes on: " + Tally.describe(e));
                return false;
            }
            List<Runnable> work = new ArrayList<>();
            for (Deployment listed : page.getItems()) {
                rootNames.add(listed.getMetadata().getName());
                Runnable task = carryOut(policy.decide(DatabaseRoot.of(listed), beats, now), reaping);
                if (task != null) {
                    work.add(task);
                }
            }
            runAll(work);
            if (reaping.awaitingRecheck() >= RECHECK_BATCH) {
                reaping.finishCondemned();
            }
            next = page.getMetadata() == null ? null : page.getMetadata().getContinue();
        } while (next != null && !next.isEmpty());
        return true;
    }

    /** Counts a decision on a listed root; returns the API work it needs, if any (a dry run needs none). */
    private Runnable carryOut(Decision d, Reaping reaping) {
        if (d.examined()) {
            tally.examined();
        }
        switch (d.verdict()) {
            case UNOWNED:
                tally.failed(d.reason());
                return null;
            case ACTIVE:
                tally.active();
                return null;
            case TAKE_BACK:
                tally.active();
                // Condemned by a sweep that stopped half-way, and active since: take it back.
                return dryRun
                        ? null
                        : () -> {
                            try {
                                roots.rescue(d.root().deployment());
                            } catch (RuntimeException e) {
                                log.warn(
                                        "could not take back a stale condemnation of {}: {}",
                                        d.root().name(),
                                        Tally.describe(e));
                            }
                        };
            case KEEP:
                tally.kept(d.user(), d.reason(), d.lastActivity());
                return null;
            case CONDEMN:
                if (dryRun) {
                    tally.reaped(d.user(), d.reason(), d.lastActivity());
                    return null;
                }
                return () -> {
                    try {
                        reaping.condemn(d);
                    } catch (RuntimeException e) {
                        tally.failed(d.user(), Tally.describe(e), d.lastActivity());
                    }
                };
            default:
                return null;
        }
    }

    /**
     * Unclaimed pooled databases are never stale: the pool is topped up instead, its broken databases replaced.
     * A dry run only looks.
     */
    private void tendPool() {
        try {
            tally.pool(dryRun ? pool.survey() : pool.upkeep(true));
        } catch (RuntimeException e) {
            tally.failed("tending the warm pool failed; the next sweep goes on: " + Tally.describe(e));
        }
    }

    /** Runs the tasks on the reaper's workers and waits for all of them; a task that throws is a failure. */
    void runAll(List<Runnable> work) {
        List<Future<?>> running = new ArrayList<>(work.size());
        for (Runnable task : work) {
            running.add(workers.submit(task));
        }
        for (Future<?> f : running) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                running.forEach(r -> r.cancel(true));
                throw new IllegalStateException("interrupted while sweeping", e);
            } catch (ExecutionException e) {
                tally.failed("a reaper task failed: " + Tally.describe(e.getCause()));
            }
        }
    }

    ListOptions page(String next) {
        return new ListOptionsBuilder()
                .withLimit((long) pageSize)
                .withContinue(next)
                .build();
    }
}
