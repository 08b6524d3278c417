package org.sqlflow.playground.bench;

import static org.sqlflow.playground.bench.Format.log;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * create_db for new users (stand-in kubelet delay {@code --delay}) and for users who have a database; (a) users
 * beating round-robin over kept-alive connections; (b) a new TLS connection with a full handshake per beat;
 * resident memory after it all. Also the warm pool's figure: create_db for new users with and without a pool.
 */
final class HeartbeatSection implements Section {

    private static final Pattern POOL_READY =
            Pattern.compile("(?m)^playground_pool_size\\{state=\"ready\"[^}]*} ([0-9.eE+]+)$");

    @Override
    public void run(Run run) throws Exception {
        Options opt = run.opt;
        Map<String, Object> out = new LinkedHashMap<>();
        // No warm pool here: these rows are create_db without one (pool() measures it with one).
        try (Server s = run.local(
                run.dir("heartbeat"),
                List.of(
                        "--playground.local.database-start-delay=" + opt.delay,
                        "--playground.database.max-databases=1000000",
                        "--playground.pool.size=0"))) {
            out.put("ms_to_first_200", s.firstOkMillis);
            TlsClient admin = s.client("admin");
            int n = opt.users;
            String[] users = Heartbeats.users("ka-", 5, n);
            out.put("create_db", createDb(run, s, admin, users));

            Heartbeats.warmUp(run, "warm-up", admin, users);
            AtomicLong next = new AtomicLong();
            out.put(
                    "a_keep_alive_1000_users",
                    Heartbeats.keepAlive(
                            run,
                            s,
                            admin,
                            users,
                            next,
                            opt.phase("a") ? Heartbeats.LEVELS : new int[0],
                            "(a) heart_beat keep-alive",
                            "(a) keep-alive"));

            // (b) a new TLS connection (full handshake: fresh client session cache) per request.
            Map<String, Object> b = new LinkedHashMap<>();
            for (int conc : opt.phase("b") ? Heartbeats.LEVELS : new int[0]) {
                Map<String, Long> before = s.apiCounts();
                Stats st = Load.run(
                        "(b) heart_beat new connection, c=" + conc,
                        conc,
                        10_000_000,
                        opt.seconds,
                        true,
                        admin,
                        (c, i) -> Heartbeats.beat(c, users[(int) (next.getAndIncrement() % n)]));
                Map<String, Long> d = ApiCalls.diff(before, s.apiCounts());
                Map<String, Object> j = st.json();
                j.put("api_writes_per_beat", ApiCalls.writesPer(d, st.ok));
                b.put("c" + conc, j);
                run.results.row(
                        "(b) new TLS conn",
                        "c=" + conc + ": req/s, p50/p99",
                        Format.rate(st.rate()) + ", " + st.p50p99(),
                        "");
            }
            out.put("b_new_connection_per_request", b);
            Map<String, Object> mem = s.memory();
            out.put("memory_after_load", mem);
            run.results.row(
                    "memory",
                    "RSS after create_db + (a) + (b) (" + n + " users)",
                    mem.get("rss_mb") + " MB",
                    "< 300 MB");
        }
        run.results.put("heartbeat", out);
    }

    /**
     * create_db for new users (a first sample at concurrency 8, then the rest at 64: the setup of (a)), the warm
     * pool's figure, then for the same users again: the first repeat and repeated at c=1 and c=8.
     */
    private static Map<String, Object> createDb(Run run, Server s, TlsClient admin, String[] users) throws Exception {
        Options opt = run.opt;
        int n = users.length;
        int sample = Math.min(32, n);
        Map<String, Long> before = s.apiCounts();
        Stats newSmall = Load.run(
                "create_db new user, c=8",
                8,
                sample,
                120,
                false,
                admin,
                (c, i) -> Heartbeats.createDb(c, users[(int) i]));
        Map<String, Long> createCalls = ApiCalls.diff(before, s.apiCounts());
        Stats newBulk = n > sample
                ? Load.run(
                        "create_db new user, c=64",
                        64,
                        n - sample,
                        300,
                        false,
                        admin,
                        (c, i) -> Heartbeats.createDb(c, users[(int) (sample + i)]))
                : null;
        Map<String, Object> create = new LinkedHashMap<>();
        create.put("database_start_delay", opt.delay);
        create.put("new_user_c8", newSmall.json());
        create.put("new_user_api_calls_per_create", ApiCalls.perOp(createCalls, sample));
        if (newBulk != null) {
            create.put("new_user_c64", newBulk.json());
        }
        run.results.row("create_db", "new user, c=8 (start delay " + opt.delay + ") p50/p99", newSmall.p50p99(), "");
        if (newBulk != null) {
            run.results.row(
                    "create_db", "new user, c=64 (start delay " + opt.delay + ") p50/p99", newBulk.p50p99(), "");
        }
        if (opt.poolSize > 0) {
            create.put("new_user_warm_pool", pool(run));
        }
        if (opt.phase("existing")) {
            // Each user's first create_db after the one that made the database: the full read of root, Secret
            // and Service. The timed levels below are repeats, which this instance answers from its watch-fed
            // cache (cluster/KnownDatabases) within half a TTL.
            before = s.apiCounts();
            Stats first = Load.run(
                    "create_db existing user, first repeat, c=8",
                    8,
                    n,
                    300,
                    false,
                    admin,
                    (c, i) -> Heartbeats.createDb(c, users[(int) i]));
            Map<String, Object> j = first.json();
            j.put("api_calls_per_request", ApiCalls.perOp(ApiCalls.diff(before, s.apiCounts()), first.ok));
            create.put("existing_user_first_repeat_c8", j);
            run.results.row(
                    "create_db",
                    "existing user, first repeat, c=8 p50/p99 (" + Format.rate(first.rate()) + ")",
                    first.p50p99(),
                    "");
            for (int conc : new int[] {1, 8}) {
                before = s.apiCounts();
                Stats st = Load.run(
                        "create_db existing user, c=" + conc,
                        conc,
                        1_000_000,
                        opt.seconds,
                        false,
                        admin,
                        (c, i) -> Heartbeats.createDb(c, users[(int) (i % n)]));
                Map<String, Object> r = st.json();
                r.put("api_calls_per_request", ApiCalls.perOp(ApiCalls.diff(before, s.apiCounts()), st.ok));
                create.put("existing_user_c" + conc, r);
                run.results.row(
                        "create_db",
                        "existing user, repeated, c=" + conc + " p50/p99 (" + Format.rate(st.rate()) + ")",
                        st.p50p99(),
                        "p99 < 20 ms");
            }
        }
        return create;
    }

    /**
     * The warm pool: create_db for new users on a server started with --playground.pool.size=N and a 30 s
     * stand-in kubelet delay, once the server's own gauge says the pooled databases are Ready; then the same
     * without a pool (size 0, same delay), which is the 503 the notebook gets after the ready-wait. New users
     * arrive four at a time, N in all, so the pool is not drained faster than the measurement draws from it.
     */
    private static Map<String, Object> pool(Run run) throws Exception {
        Options opt = run.opt;
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("pool_size", opt.poolSize);
        j.put("database_start_delay", "30s");
        int warmups = 4;
        for (int size : new int[] {opt.poolSize + warmups, 0}) {
            Path dir = run.dir("pool-" + size);
            try (Server s = run.local(
                    dir,
                    List.of(
                            "--playground.local.database-start-delay=30s",
                            "--playground.pool.size=" + size,
                            "--playground.database.max-databases=1000000"))) {
                TlsClient admin = s.client("admin");
                // A fresh JVM answers its first requests slowly: warm it with beats and a few claims (with a
                // pool), then let the pool fill up again before measuring.
                Load.run(
                        "warm-up: heart_beat",
                        4,
                        200,
                        60,
                        true,
                        admin,
                        (c, i) -> Heartbeats.beat(c, "warm-" + (i % 4)));
                if (size > 0) {
                    awaitPoolReady(s, size, j);
                    Load.run(
                            "warm-up: create_db new user",
                            1,
                            warmups,
                            60,
                            true,
                            admin,
                            (c, i) -> Heartbeats.createDb(c, "warm-" + i));
                    awaitPoolReady(s, size, j);
                }
                Map<String, Long> before = s.apiCounts();
                String label = size > 0 ? "warm pool" : "no pool";
                Stats st = Load.run(
                        "create_db new user, " + label,
                        4,
                        opt.poolSize,
                        120,
                        true,
                        admin,
                        (c, i) -> Heartbeats.createDb(c, "new-" + i));
                Map<String, Object> fig = st.json();
                fig.put(
                        "api_calls_per_create",
                        ApiCalls.perOp(ApiCalls.diff(before, s.apiCounts()), Math.max(1, st.ok)));
                j.put(size > 0 ? "with_pool" : "without_pool", fig);
                String value = st.ok > 0
                        ? st.p50p99()
                        : "0 of " + opt.poolSize + " answered 200 ("
                                + String.valueOf(st.firstError)
                                        .replaceAll("(?s)^(\\d+) .*\"error\":\"([a-z_]+)\".*$", "$1 $2")
                                + ")";
                run.results.row(
                        "create_db",
                        "new user, " + label + " (start delay 30s, new TLS conn) p50/p99",
                        value,
                        size > 0 ? "p99 < 500 ms" : "");
            }
        }
        return j;
    }

    /** Waits (up to 2 minutes) until the server's own gauge shows the pool's databases Ready. */
    private static void awaitPoolReady(Server s, int size, Map<String, Object> j) throws Exception {
        long t0 = System.nanoTime();
        double ready = 0;
        while (ready < size && System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(120)) {
            Thread.sleep(500);
            Matcher m = POOL_READY.matcher(s.managementGet("/actuator/prometheus"));
            ready = m.find() ? Double.parseDouble(m.group(1)) : 0;
        }
        long took = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
        log("warm pool: %.0f of %d pooled databases Ready after %d s", ready, size, took);
        j.put("pool_ready_after_seconds", took);
    }
}
