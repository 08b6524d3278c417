package org.sqlflow.playground.bench;

import static org.sqlflow.playground.bench.Format.log;
import static org.sqlflow.playground.bench.Results.map;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * (a) and (c) against a real Kubernetes API server, and, when {@code reap} asks for that size, the sweep over
 * the roots of (c). API calls are counted in the API server's audit log; its controller manager must be stopped
 * (it would make a ReplicaSet for each root).
 */
final class RealApiSection implements Section {

    @Override
    public void run(Run run) throws Exception {
        KubernetesApi api = run.realApi();
        if (api == null) {
            run.results.put(
                    "real_api",
                    map(
                            "skipped",
                            "no env file (start a test cluster with .ci/test-cluster.sh"
                                    + " start, then pass --kube-env=DIR/env)"));
            run.results.row("real API", "(a)/(c) against kube-apiserver", "skipped: no test cluster", "");
            return;
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("api_server", api.url().toString());
        out.put("version", api.version());
        out.put("controller_manager_running", api.controllerManager());
        Path dir = run.dir("realapi");
        try {
            keepAlive(run, dir, out);
            distinctUsersAndSweep(run, dir, out);
        } finally {
            run.results.put("real_api", out);
        }
    }

    /** (a): the users of the heartbeat section, with roots, beating round-robin over kept-alive connections. */
    private static void keepAlive(Run run, Path dir, Map<String, Object> out) throws Exception {
        try (Server s = run.real(dir, List.of("--playground.database.max-databases=1000000"), List.of())) {
            out.put("namespace", s.namespace);
            out.put("ms_to_first_200", s.firstOkMillis);
            TlsClient admin = s.client("admin");
            String[] users = Heartbeats.users("ka-", 5, run.opt.users);
            out.put("a_setup_roots_created_s", Shortcuts.createRoots(s, users));
            Heartbeats.warmUp(run, "real API warm-up", admin, users);
            out.put(
                    "a_keep_alive",
                    Heartbeats.keepAlive(
                            run,
                            s,
                            admin,
                            users,
                            new AtomicLong(),
                            Heartbeats.LEVELS,
                            "real API (a) keep-alive",
                            "real API (a)"));
            Map<String, Object> mem = s.memory();
            out.put("memory_after_a", mem);
            run.results.row(
                    "memory",
                    "RSS after real-API (a) (" + users.length + " users)",
                    mem.get("rss_mb") + " MB",
                    "< 300 MB");
        }
    }

    /** (c), then the sweep over the same roots: a server with a TTL short enough to wait out. */
    private static void distinctUsersAndSweep(Run run, Path dir, Map<String, Object> out) throws Exception {
        int ttlS = 120;
        int m = run.opt.realUsers;
        // The watch-fed cache holds every root as a full fabric8 Deployment: 100,000 of them need over 1 GB of
        // heap, which the 512 MB memory limit of the Knative Service does not have (see the README).
        List<String> bigHeap = m > 20_000 ? List.of("-XX:MaxRAM=3g") : List.of();
        out.put("c_server_extra_jvm_options", bigHeap);
        try (Server s = run.real(
                dir,
                List.of(
                        "--playground.database.max-databases=1000000",
                        "--playground.heartbeat.ttl=" + ttlS + "s",
                        "--playground.heartbeat.precision=5s",
                        "--playground.reaper.schedule=false"),
                bigHeap)) {
            TlsClient admin = s.client("admin");
            out.put("c_namespace", s.namespace);
            String[] users = Heartbeats.users("sc-", 6, m);
            double createS = Shortcuts.createRoots(s, users);
            log("created %d roots in the real API in %.1f s", m, createS);
            out.put("c_setup", map("roots_created_directly", m, "seconds", createS));
            // Most users beat at c=64: at c=1 every beat waits for its own write, so the low levels are kept short.
            out.put(
                    "c_distinct_users",
                    Heartbeats.distinctUsers(
                            run,
                            s,
                            admin,
                            users,
                            Math.min(m / 20, 500),
                            Math.min(m / 10, 2_000),
                            run.opt.realLevelSeconds,
                            "real API (c) distinct users once",
                            "real API (c)"));
            Map<String, Object> mem = s.memory();
            out.put("memory_after_c", mem);
            run.results.row(
                    "memory",
                    "RSS after real-API (c) (" + m + " roots in the watch-fed cache)",
                    mem.get("rss_mb") + " MB",
                    "");
            if (run.opt.has("reap") && Arrays.stream(run.opt.reapSizes).anyMatch(x -> x == m)) {
                Map<String, Object> j = new LinkedHashMap<>();
                j.put("kubernetes_api", "real kube-apiserver (roots of (c))");
                run.results.section("reaper").put("n" + m, j);
                ReapSection.sweep(run, s, admin, users, ttlS, createS, true, j);
            }
        }
    }
}
