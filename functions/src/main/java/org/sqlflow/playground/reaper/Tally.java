package org.sqlflow.playground.reaper;

import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlflow.playground.cluster.UserKey;
import org.sqlflow.playground.cluster.WarmPool;

/** What one sweep has done so far, from any worker thread; becomes its {@link ReapReport}. */
final class Tally {

    private static final Logger log = LoggerFactory.getLogger(Reaper.class);

    private final boolean dryRun;
    private final Instant startedAt;
    private int examined;
    private int active;
    private int orphansRemoved;
    private final List<ReapReport.UserOutcome> reaped = new ArrayList<>();
    private final List<ReapReport.UserOutcome> kept = new ArrayList<>();
    private final List<ReapReport.UserOutcome> failed = new ArrayList<>();
    private final List<ReapReport.Orphan> orphans = new ArrayList<>();
    private WarmPool.Upkeep pool;

    Tally(boolean dryRun, Instant startedAt) {
        this.dryRun = dryRun;
        this.startedAt = startedAt;
    }

    synchronized void examined() {
        examined++;
    }

    synchronized void active() {
        active++;
    }

    synchronized void reaped(UserKey user, String reason, Instant last) {
        reaped.add(outcome(user, reason, last));
    }

    synchronized void kept(UserKey user, String reason, Instant last) {
        kept.add(outcome(user, reason, last));
    }

    synchronized void failed(UserKey user, String reason, Instant last) {
        // The report goes to whoever asked (a CronJob's curl); the log is where a maintainer looks.
        log.warn("reaper: {}{}", user == null ? "" : "user key " + user.key() + ": ", reason);
        failed.add(outcome(user, reason, last));
    }

    /** A failure that concerns no single user (a listing, a shard, the pool). */
    void failed(String reason) {
        failed(null, reason, null);
    }

    /** A left-over listed (and, unless {@code counted} is false, counted as removed). */
    synchronized void orphan(String kind, String name, boolean counted) {
        orphans.add(new ReapReport.Orphan(kind, name));
        if (counted) {
            orphansRemoved++;
        }
    }

    /** Left-overs removed without a listing of their own (the ledger says how many of a batch it removed). */
    synchronized void orphansRemoved(int n) {
        orphansRemoved += n;
    }

    synchronized void pool(WarmPool.Upkeep upkeep) {
        pool = upkeep;
    }

    synchronized ReapReport report(Clock clock) {
        Comparator<ReapReport.UserOutcome> byUser =
                Comparator.comparing(ReapReport.UserOutcome::userId, Comparator.nullsFirst(Comparator.naturalOrder()));
        reaped.sort(byUser);
        kept.sort(byUser);
        failed.sort(byUser);
        orphans.sort(Comparator.comparing(ReapReport.Orphan::kind).thenComparing(ReapReport.Orphan::name));
        ReapReport.Counts counts =
                new ReapReport.Counts(examined, active, reaped.size(), kept.size(), failed.size(), orphansRemoved);
        return new ReapReport(
                dryRun,
                startedAt.toString(),
                clock.instant().toString(),
                counts,
                List.copyOf(reaped),
                List.copyOf(kept),
                List.copyOf(failed),
                List.copyOf(orphans),
                pool);
    }

    /** A short reason for the report and the log: status code and the API server's message, never a body. */
    static String describe(Throwable e) {
        if (e instanceof KubernetesClientException k && k.getCode() > 0) {
            String message = k.getStatus() != null && k.getStatus().getMessage() != null
                    ? k.getStatus().getMessage()
                    : k.getMessage();
            return "Kubernetes API answered " + k.getCode() + ": " + truncate(message);
        }
        return e.getClass().getSimpleName() + ": " + truncate(e.getMessage());
    }

    private static String truncate(String s) {
        if (s == null) {
            return "";
        }
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }

    private static ReapReport.UserOutcome outcome(UserKey user, String reason, Instant last) {
        return new ReapReport.UserOutcome(
                user == null ? null : user.userId(), reason, last == null ? null : last.toString());
    }
}
