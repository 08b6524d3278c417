package org.sqlflow.playground.bench;

import static org.sqlflow.playground.bench.Format.log;
import static org.sqlflow.playground.bench.Format.round;
import static org.sqlflow.playground.bench.Results.map;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * One POST /api/reap_stale over N users of whom 10% are stale, for each of {@code --reap-sizes}: the server runs
 * with a short TTL, the roots are made ({@link Shortcuts}), the TTL is waited out, 90% beat, and the sweep runs.
 * Its report's counts and the API calls it made by kind.
 */
final class ReapSection implements Section {

    @Override
    public void run(Run run) throws Exception {
        Map<String, Object> out = run.results.section("reaper");
        for (int n : run.opt.reapSizes) {
            // The embedded API server scans every stored object on each request, on one thread: 100,000 roots
            // take it hours. Large sweeps run against the real API server when one is configured.
            boolean real = n > run.opt.localReapMax;
            if (real && run.opt.has("realapi") && run.realApi() != null && n == run.opt.realUsers) {
                continue; // swept by the realapi section over the roots of (c), saving a second creation of n roots
            }
            if (real && run.realApi() == null) {
                out.put(
                        "n" + n,
                        map(
                                "skipped",
                                "more than " + run.opt.localReapMax
                                        + " users need the real API server (--kube-env=...), none configured"));
                run.results.row(
                        "reaper",
                        "sweep over " + n + " users",
                        "skipped: needs --kube-env",
                        n == 100_000 ? "< 10 s" : "");
                continue;
            }
            out.put("n" + n, once(run, n, real));
        }
    }

    private static Map<String, Object> once(Run run, int n, boolean real) throws Exception {
        int ttlS = n > 10_000 ? 120 : 30;
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("kubernetes_api", real ? "real kube-apiserver" : "embedded fabric8 mock server");
        List<String> args = new ArrayList<>(List.of(
                "--playground.heartbeat.ttl=" + ttlS + "s",
                "--playground.heartbeat.precision=5s",
                "--playground.reaper.schedule=false",
                "--playground.database.max-databases=1000000",
                // The probe sweep below and the measured one are closer than the default minimum interval.
                "--playground.reaper.min-interval=0s"));
        if (!real) {
            args.add("--playground.local.database-start-delay=1h");
        }
        Path dir = run.dir("reap-" + n);
        try (Server s = real ? run.real(dir, args, List.of()) : run.local(dir, args)) {
            TlsClient admin = s.client("admin");
            try (Connection c = admin.open()) {
                Connection.Response probe = c.post("/api/reap_stale", "{\"dry_run\": true}");
                if (probe.status() == 404 || probe.status() == 405) {
                    run.results.row(
                            "reaper", "sweep over " + n + " users", "not in this build (" + probe.status() + ")", "");
                    j.put(
                            "skipped",
                            "POST /api/reap_stale answers " + probe.status() + ": the reaper is not in this build");
                    return j;
                }
            }
            String[] users = Heartbeats.users("rp-", 6, n);
            double createS = Shortcuts.createRoots(s, users);
            sweep(run, s, admin, users, ttlS, createS, real, j);
        }
        return j;
    }

    /** Waits out the TTL (every root stale), lets 90% of the users beat, and runs one sweep; results into j. */
    static void sweep(
            Run run,
            Server s,
            TlsClient admin,
            String[] users,
            int ttlS,
            double createS,
            boolean real,
            Map<String, Object> j)
            throws Exception {
        int n = users.length;
        log("reap %d: waiting %d s for every root to go stale", n, ttlS + 2);
        Thread.sleep((ttlS + 2) * 1000L);
        int fresh = n - n / 10;
        long tb = System.nanoTime();
        String beatHow;
        if (n <= 1000) {
            beatHow = "heart_beat at c=64";
            Load.run(
                    "reap setup: beat 90%",
                    64, fresh, ttlS / 2.0, false, admin, (c, i) -> Heartbeats.beat(c, users[(int) i]));
        } else {
            beatHow = "written directly into the heartbeat ConfigMaps";
            Shortcuts.writeBeats(s, Arrays.copyOfRange(users, 0, fresh), run.opt.scaleShards);
        }
        double beatS = (System.nanoTime() - tb) / 1e9;
        Map<String, Long> before = s.apiCounts();
        long t0 = System.nanoTime();
        Connection.Response r;
        try (Connection c = admin.open()) {
            c.socket.setSoTimeout(900_000);
            r = c.post("/api/reap_stale", "{\"dry_run\": false}");
        }
        double sweepS = (System.nanoTime() - t0) / 1e9;
        Map<String, Long> d = ApiCalls.diff(before, s.apiCounts());
        String counts = reportCounts(r.body());
        j.put("users", n);
        j.put("stale", n - fresh);
        j.put(
                "setup",
                map("roots_created_directly_s", createS, "beats", beatHow, "beats_s", round(beatS, 1), "ttl_s", ttlS));
        j.put("status", r.status());
        j.put("sweep_s", round(sweepS, 2));
        j.put("report_counts", counts);
        j.put("api_calls", d);
        if (r.status() != 200 || counts == null || !counts.contains("\"failed\":0")) {
            // The report says who or what failed and why.
            j.put("body", Format.truncate(r.body(), 4000));
        }
        log("reap %d: HTTP %d in %.2f s, counts %s, calls %s", n, r.status(), sweepS, counts, d);
        run.results.row(
                "reaper",
                "sweep over " + n + " users, 10% stale (" + (real ? "real API" : "embedded API") + ")",
                String.format(Locale.ROOT, "%.2f s, %s", sweepS, ApiCalls.compact(d)),
                n == 100_000 ? "< 10 s" : "");
        run.results.row("reaper", "  its report (" + n + " users)", String.valueOf(counts), "");
    }

    /** The report's "counts" object on one line, or null when the answer has none. */
    static String reportCounts(String body) {
        try {
            JsonNode counts = Json.read(body).path("counts");
            return counts.isObject() ? Json.compact(counts) : null;
        } catch (RuntimeException notJson) {
            return null;
        }
    }
}
