package org.sqlflow.playground.bench;

import static org.sqlflow.playground.bench.Format.three;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The heartbeat measurements that run both in local mode and against a real API server: (a) users beating
 * round-robin over kept-alive connections, and (c) distinct users each beating once.
 */
final class Heartbeats {

    static final int[] LEVELS = {1, 8, 64};

    private Heartbeats() {}

    /** {@code n} user ids, {@code prefix} and a zero-padded number. */
    static String[] users(String prefix, int digits, int n) {
        String[] users = new String[n];
        for (int i = 0; i < n; i++) {
            users[i] = prefix + String.format(Locale.ROOT, "%0" + digits + "d", i);
        }
        return users;
    }

    static Connection.Response beat(Connection c, String user) throws IOException {
        return c.get("/api/heart_beat?user_id=" + user);
    }

    static Connection.Response createDb(Connection c, String user) throws IOException {
        return c.post("/api/create_db", "{\"user_id\": \"" + user + "\"}");
    }

    /**
     * One round over all users (each user's beat stored and its database confirmed once, as in the steady state
     * of beats every 10 minutes), then the warm-up time's worth more.
     */
    static void warmUp(Run run, String label, TlsClient admin, String[] users) throws InterruptedException {
        int n = users.length;
        Load.run(
                label + ": one round over all users",
                64,
                n,
                300,
                false,
                admin,
                (c, i) -> beat(c, users[(int) (i % n)]));
        Load.run(label, 64, 1_000_000, run.opt.warmup, false, admin, (c, i) -> beat(c, users[(int) (i % n)]));
    }

    /**
     * (a): the users beat round-robin (from {@code next} on) over kept-alive connections at each of {@code levels}
     * concurrency, {@code --seconds} each.
     */
    static Map<String, Object> keepAlive(
            Run run,
            Server s,
            TlsClient admin,
            String[] users,
            AtomicLong next,
            int[] levels,
            String label,
            String tableSection)
            throws Exception {
        int n = users.length;
        Map<String, Object> a = new LinkedHashMap<>();
        for (int conc : levels) {
            Map<String, Long> before = s.apiCounts();
            Stats st = Load.run(
                    label + ", c=" + conc,
                    conc,
                    10_000_000,
                    run.opt.seconds,
                    false,
                    admin,
                    (c, i) -> beat(c, users[(int) (next.getAndIncrement() % n)]));
            Map<String, Long> d = ApiCalls.diff(before, s.apiCounts());
            Map<String, Object> j = st.json();
            j.put("api_calls", d);
            j.put("api_writes_per_beat", ApiCalls.writesPer(d, st.ok));
            a.put("c" + conc, j);
            run.results.row(
                    tableSection,
                    "c=" + conc + ": req/s, p50/p99, writes/beat",
                    Format.rate(st.rate()) + ", " + st.p50p99() + ", " + three(ApiCalls.writesPer(d, st.ok)),
                    conc == 64 ? ">= 5000/s, p99 < 25 ms, <= 0.05" : "");
        }
        return a;
    }

    /**
     * (c): each user beats exactly once, the first {@code n1} at c=1, the next {@code n8} at c=8 and the rest at
     * c=64, each level bounded by {@code levelSeconds}. Returns c1, c8, c64 and all_levels.
     */
    static Map<String, Object> distinctUsers(
            Run run,
            Server s,
            TlsClient admin,
            String[] users,
            int n1,
            int n8,
            double levelSeconds,
            String label,
            String tableSection)
            throws Exception {
        int m = users.length;
        int[][] levels = {{1, 0, n1}, {8, n1, n1 + n8}, {64, n1 + n8, m}};
        Map<String, Object> out = new LinkedHashMap<>();
        Map<String, Long> all = s.apiCounts();
        long okAll = 0;
        for (int[] lv : levels) {
            int conc = lv[0];
            int from = lv[1];
            int count = lv[2] - lv[1];
            Map<String, Long> before = s.apiCounts();
            Stats st = Load.run(
                    label + ", c=" + conc,
                    conc,
                    count,
                    levelSeconds,
                    false,
                    admin,
                    (c, i) -> beat(c, users[(int) (from + i)]));
            okAll += st.ok;
            Map<String, Long> d = ApiCalls.diff(before, s.apiCounts());
            Map<String, Object> j = st.json();
            j.put("users", count);
            j.put("api_calls", d);
            j.put("api_writes_per_beat", ApiCalls.writesPer(d, st.ok));
            out.put("c" + conc, j);
            // "M of N users" when the level's time ran out before every user had beaten.
            String beaten = st.ok >= count ? count + " users" : st.ok + " of " + count + " users";
            run.results.row(
                    tableSection,
                    "c=" + conc + " (" + beaten + "): req/s, p50/p99, writes/beat",
                    Format.rate(st.rate()) + ", " + st.p50p99() + ", " + three(ApiCalls.writesPer(d, st.ok)),
                    conc == 64 ? "<= 0.3 writes/beat" : "");
        }
        Map<String, Long> d = ApiCalls.diff(all, s.apiCounts());
        out.put(
                "all_levels",
                Results.map("beats", okAll, "api_calls", d, "api_writes_per_beat", ApiCalls.writesPer(d, okAll)));
        run.results.row(tableSection, "all levels: writes/beat", three(ApiCalls.writesPer(d, okAll)), "");
        return out;
    }
}
