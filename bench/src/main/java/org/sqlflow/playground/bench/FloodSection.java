package org.sqlflow.playground.bench;

import static org.sqlflow.playground.bench.Format.log;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * Fair use of threads: another user's heart_beat while {@code --flood-callers} (220) create_db calls arrive for
 * one user whose database is still starting (the stand-in kubelet's delay is an hour: it never becomes ready
 * here, so every call that is let in waits the full ready-wait). Two shapes, each for {@code --flood-seconds}:
 * one wave (all callers at the same moment, each answered once) and a sustained flood (each caller re-sends as
 * soon as it is answered, as an attacker would); then the wave again on a server whose create_db limits are out
 * of reach. Every flood call is a new TLS connection with a full handshake, as the SQLFlow client connects; so is
 * every beat of the bystander (bob, c=1). Before the floods, the bystander alone, for comparison.
 */
final class FloodSection implements Section {

    private static final List<String> NEVER_READY = List.of(
            "--playground.local.database-start-delay=1h",
            "--playground.pool.size=0",
            "--playground.database.max-databases=1000000");
    private static final List<String> NO_LIMITS = List.of(
            "--playground.api.limits.create-db-per-user=100000",
            "--playground.api.limits.create-db-per-caller=100000",
            "--playground.api.limits.create-db-in-flight=100000");

    @Override
    public void run(Run run) throws Exception {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("callers", run.opt.floodCallers);
        out.put("database_start_delay", "1h (never ready during the run)");
        try (Server s = run.local(run.dir("flood"), NEVER_READY)) {
            TlsClient bob = s.client("bob");
            // A few of the bystander's beats first, so his confirmation and stored beat are warm.
            Load.run("flood: bystander warm-up", 1, 20, 60, true, bob, (c, i) -> Heartbeats.beat(c, "bob"));
            Stats alone = Load.run(
                    "flood: bystander heart_beat alone",
                    1,
                    1_000_000,
                    run.opt.floodSeconds,
                    true,
                    bob,
                    (c, i) -> Heartbeats.beat(c, "bob"));
            out.put("bystander_alone", alone.json());
            run.results.row("flood", "bystander heart_beat alone, new TLS conn, c=1 p50/p99", alone.p50p99(), "");
            out.put("one_wave", once(run, s, false, "one wave"));
            out.put("sustained", once(run, s, true, "sustained"));
        }
        // What the limits prevent: each call let in holds a request thread for the whole ready-wait.
        List<String> noLimits = new ArrayList<>(NEVER_READY);
        noLimits.addAll(NO_LIMITS);
        try (Server s = run.local(run.dir("flood-no-limits"), noLimits)) {
            Load.run(
                    "flood: bystander warm-up (limits off)",
                    1,
                    20,
                    60,
                    true,
                    s.client("bob"),
                    (c, i) -> Heartbeats.beat(c, "bob"));
            out.put("one_wave_without_limits", once(run, s, false, "one wave, limits off"));
        }
        run.results.put("flood", out);
    }

    /** One flood against {@code s}, with the bystander's beats measured meanwhile. */
    private static Map<String, Object> once(Run run, Server s, boolean sustained, String shape) throws Exception {
        TlsClient alice = s.client("alice");
        Map<Integer, LongAdder> answers = new ConcurrentHashMap<>();
        AtomicReference<String> firstOther = new AtomicReference<>();
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> callers = new ArrayList<>();
        for (int t = 0; t < run.opt.floodCallers; t++) {
            Thread th = new Thread(
                    null,
                    () -> {
                        try {
                            go.await();
                            do {
                                int status;
                                try (Connection c = alice.openFresh()) {
                                    Connection.Response r = Heartbeats.createDb(c, "alice");
                                    status = r.status();
                                    if (status != 429) {
                                        firstOther.compareAndSet(null, r.status() + " " + r.body());
                                    }
                                } catch (Exception e) {
                                    status = -1;
                                    firstOther.compareAndSet(null, String.valueOf(e));
                                }
                                answers.computeIfAbsent(status, k -> new LongAdder())
                                        .increment();
                            } while (sustained && !stop.get());
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    },
                    "flood-" + t,
                    256 * 1024);
            th.start();
            callers.add(th);
        }
        go.countDown();
        Stats during = Load.run(
                "flood (" + shape + "): bystander heart_beat",
                1,
                1_000_000,
                run.opt.floodSeconds,
                true,
                s.client("bob"),
                (c, i) -> Heartbeats.beat(c, "bob"));
        stop.set(true);
        for (Thread th : callers) {
            th.join(TimeUnit.SECONDS.toMillis(60));
        }
        Map<String, Long> byStatus = new TreeMap<>();
        answers.forEach((k, v) -> byStatus.put(k == -1 ? "connection_error" : Integer.toString(k), v.sum()));
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("create_db_answers", byStatus);
        if (firstOther.get() != null) {
            j.put("first_answer_other_than_429", Format.truncate(firstOther.get(), 300));
        }
        j.put("bystander_during", during.json());
        run.results.row(
                "flood",
                "bystander heart_beat during " + run.opt.floodCallers + " create_db (" + shape + ") p50/p99, ok/err",
                during.p50p99() + ", " + during.ok + "/" + during.errors,
                "p99 < 100 ms");
        run.results.row("flood", "create_db answers (" + shape + ")", byStatus.toString(), "");
        log("flood (%s): create_db answers %s", shape, byStatus);
        return j;
    }
}
