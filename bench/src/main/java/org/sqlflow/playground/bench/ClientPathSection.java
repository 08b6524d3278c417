package org.sqlflow.playground.bench;

import static org.sqlflow.playground.bench.Format.log;
import static org.sqlflow.playground.bench.Format.round;
import static org.sqlflow.playground.bench.Results.map;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The real client's path, side by side with the original server when a checkout of it is given
 * ({@code --original=DIR}): 200 users' heartbeats, first over 32 kept-alive connections from a fresh start (the
 * first second apart from the steady state, which shows the warm-up), then with a new TLS connection and full
 * handshake per beat at concurrency 8, as the SQLFlow magic's tornado client connects, after a warm-up of three
 * levels' time, with the server's CPU per handshake. This server runs in local mode with the image's JVM flags,
 * and again with C2 on (the image's {@code -XX:TieredStopAtLevel=1} left out): in standalone TLS mode the JVM
 * signs and verifies every handshake.
 */
final class ClientPathSection implements Section {

    static final int USERS = 200;
    static final int KEPT_ALIVE = 32;
    static final int NEW_CONNECTION = 8;
    /** The reference figures for the original, where no checkout is at hand. */
    static final String ORIGINAL_REFERENCE = "the original's 2,319-2,632/s kept-alive, 261-286/s new connection";

    private static final String C1_ONLY = "-XX:TieredStopAtLevel=1";

    @Override
    public void run(Run run) throws Exception {
        Map<String, Object> out = new LinkedHashMap<>();
        run.results.put("client_path", out);
        String[] users = Heartbeats.users("cp-", 3, USERS);
        Map<String, Object> original = null;
        if (run.opt.original != null) {
            try (OriginalServer s =
                    OriginalServer.start(run.opt.originalPython, run.opt.original, run.dir("original"))) {
                log("original server: first 200 after %.0f ms", s.firstOkMillis);
                original = measure(run, "original (one-way TLS, stores nothing)", s.client(), users, null);
                original.put("server", "sql-machine-learning/playground python/sqlflow_playground/server.py");
                original.put("python", pythonVersions(run.opt.originalPython));
            }
            out.put("original", original);
        }
        Map<String, List<String>> variants = new LinkedHashMap<>();
        variants.put("image_flags", run.opt.serverJvm);
        if (run.opt.serverJvm.contains(C1_ONLY)) {
            List<String> tiered = new ArrayList<>(run.opt.serverJvm);
            tiered.remove(C1_ONLY);
            variants.put("image_flags_with_c2", tiered);
        }
        for (Map.Entry<String, List<String>> variant : variants.entrySet()) {
            String label = "this server, " + variant.getKey().replace('_', ' ');
            try (Server s = run.local(
                    run.dir("client-" + variant.getKey()),
                    List.of("--playground.local.database-start-delay=1h", "--playground.pool.size=0"),
                    variant.getValue())) {
                Shortcuts.createRoots(s, users);
                TlsClient admin = s.client("admin");
                awaitKnown(admin, users[users.length - 1]);
                Map<String, Object> m = measure(run, label, admin, users, s);
                m.put("jvm", variant.getValue());
                m.put("java", run.serverJavaVersion());
                out.put(variant.getKey(), m);
            }
        }
        if (original != null) {
            out.put("original_measured_here", true);
        } else {
            out.put("original_reference", ORIGINAL_REFERENCE);
        }
    }

    /**
     * Kept-alive c=32 on a freshly started server, then new connections at c=8 after a warm-up of the same shape;
     * adds the rows and returns the figures.
     */
    private static Map<String, Object> measure(Run run, String label, TlsClient client, String[] users, Server counted)
            throws Exception {
        double keptSeconds = Math.max(10, run.opt.seconds);
        Load.Op beat = (c, i) -> Heartbeats.beat(c, users[(int) (i % users.length)]);
        WritesSampler writes = counted == null ? null : new WritesSampler(counted, (int) keptSeconds);
        Stats kept = Load.run(
                label + ": kept-alive c=" + KEPT_ALIVE,
                KEPT_ALIVE,
                100_000_000,
                keptSeconds,
                false,
                client,
                beat,
                () -> {
                    if (writes != null) {
                        writes.start();
                    }
                });
        // A long warm-up: C2 (where it runs) needs tens of seconds on 2 cores to compile the handshake's
        // arithmetic, and a server that answers handshakes all day runs that code.
        double warmup = Math.max(run.opt.warmup, 3 * run.opt.seconds);
        Load.run(
                label + ": warm-up, new connection c=" + NEW_CONNECTION,
                NEW_CONNECTION,
                100_000_000,
                warmup,
                true,
                client,
                beat);
        Stats fresh = Load.run(
                label + ": new connection c=" + NEW_CONNECTION,
                NEW_CONNECTION,
                100_000_000,
                run.opt.seconds,
                true,
                client,
                beat);
        long first = kept.perSecond.length > 0 ? kept.perSecond[0] : 0;
        double steady = steadyRate(kept.perSecond);
        Map<String, Object> m = new LinkedHashMap<>();
        Map<String, Object> k = kept.json();
        k.put("first_second", first);
        k.put("steady_per_second", round(steady, 0));
        k.put("each_second", Arrays.stream(kept.perSecond).boxed().toList());
        if (writes != null) {
            // Each user's first beat to a new instance is written through (group commit per shard): the cost of
            // a fresh start that the original, which stores nothing, does not have.
            k.put("api_writes_each_second", writes.stop());
        }
        m.put("kept_alive_c" + KEPT_ALIVE + "_from_start", k);
        Map<String, Object> f = fresh.json();
        f.put("warmup_seconds", warmup);
        m.put("new_connection_c" + NEW_CONNECTION, f);
        run.results.row(
                "client path",
                label + ": kept-alive c=" + KEPT_ALIVE + " from a fresh start, first second / steady",
                first + "/s / " + Format.rate(steady),
                "first second >= 3x the original");
        run.results.row(
                "client path",
                label + ": new TLS conn per beat c=" + NEW_CONNECTION + ", req/s, server (client) CPU per beat",
                Format.rate(fresh.rate()) + ", " + cpuMs(fresh.serverCpuNanos, fresh.ok) + " ("
                        + cpuMs(fresh.clientCpuNanos, fresh.ok) + ")",
                ">= 300/s");
        return m;
    }

    /**
     * The server's Kubernetes API writes, sampled once a second (from its own counter on the management port) from
     * the moment the level's clock starts: the writes of each of its seconds, give or take one scrape's time.
     */
    private static final class WritesSampler {
        private final List<Long> totals = new ArrayList<>();
        private final Thread thread;

        WritesSampler(Server server, int seconds) {
            thread = new Thread(
                    () -> {
                        try {
                            for (int i = 0; i <= seconds; i++) {
                                long t0 = System.nanoTime();
                                long w = ApiCalls.writes(server.apiCounts());
                                synchronized (totals) {
                                    totals.add(w);
                                }
                                Thread.sleep(Math.max(0, 1000 - (System.nanoTime() - t0) / 1_000_000));
                            }
                        } catch (Exception e) {
                            // stopped, or the server went away: the samples so far stand
                        }
                    },
                    "writes-sampler");
            thread.setDaemon(true);
        }

        /** Takes the first sample now and one a second after it. */
        void start() {
            thread.start();
        }

        List<Long> stop() throws InterruptedException {
            thread.join(5000);
            thread.interrupt();
            synchronized (totals) {
                List<Long> each = new ArrayList<>();
                for (int i = 1; i < totals.size(); i++) {
                    each.add(totals.get(i) - totals.get(i - 1));
                }
                return each;
            }
        }
    }

    /** The mean rate over the second half of the whole seconds: the state the warm-up leads to. */
    static double steadyRate(long[] perSecond) {
        if (perSecond.length == 0) {
            return 0;
        }
        int from = perSecond.length / 2;
        long sum = 0;
        for (int i = from; i < perSecond.length; i++) {
            sum += perSecond[i];
        }
        return (double) sum / (perSecond.length - from);
    }

    private static String cpuMs(long nanos, long ops) {
        return ops == 0 ? "n/a" : Format.ms(nanos / 1e6 / ops);
    }

    /** Until this server's cache has the last user's root (the roots were made straight in the API server). */
    private static void awaitKnown(TlsClient client, String user) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try (Connection c = client.open()) {
                if (Heartbeats.beat(c, user).status() == 200) {
                    return;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("heart_beat for " + user + " did not answer 200 within 60 s");
            }
            Thread.sleep(100);
        }
    }

    private static Map<String, Object> pythonVersions(String python) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(
                        python, "-c", "import sys, tornado; print(sys.version.split()[0], tornado.version)")
                .redirectErrorStream(true)
                .start();
        String[] v = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
                .trim()
                .split(" ");
        p.waitFor(30, TimeUnit.SECONDS);
        return map("python", v[0], "tornado", v.length > 1 ? v[1] : "?");
    }
}
