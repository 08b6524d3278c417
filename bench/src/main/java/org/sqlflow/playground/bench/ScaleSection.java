package org.sqlflow.playground.bench;

import static org.sqlflow.playground.bench.Format.log;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * (c) distinct users each beating once, in local mode. Their roots are made straight in the embedded API server
 * ({@link Shortcuts}), because create_db would also store a first beat for each, and the point is to measure the
 * beats' writes. The stand-in kubelet's delay is an hour, so it adds no API traffic while the calls are counted.
 */
final class ScaleSection implements Section {

    @Override
    public void run(Run run) throws Exception {
        Map<String, Object> out = new LinkedHashMap<>();
        int n = run.opt.scaleUsers;
        try (Server s = run.local(
                run.dir("scale"),
                List.of(
                        "--playground.local.database-start-delay=1h",
                        "--playground.heartbeat.shards=" + run.opt.scaleShards))) {
            String[] users = Heartbeats.users("sc-", 6, n);
            double createS = Shortcuts.createRoots(s, users);
            out.put(
                    "setup",
                    Map.of(
                            "roots_created_directly_in_embedded_api",
                            n,
                            "seconds",
                            createS,
                            "shards",
                            run.opt.scaleShards));
            log("created %d roots directly in %.1f s", n, createS);
            out.putAll(Heartbeats.distinctUsers(
                    run,
                    s,
                    s.client("admin"),
                    users,
                    Math.min(n / 20, 2000),
                    Math.min(n / 10, 10_000),
                    600,
                    "(c) distinct users once",
                    "(c) 100k distinct"));
            Map<String, Object> mem = s.memory();
            out.put("memory_after_load", mem);
            run.results.row(
                    "memory",
                    "RSS after (c) (" + n + " roots, embedded API in-process)",
                    mem.get("rss_mb") + " MB",
                    "");
        }
        run.results.put("c_distinct_users", out);
    }
}
