import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * The playground benchmark: starts the server in local mode (embedded fabric8 mock API server, stand-in
 * kubelet), drives it over mutual TLS with a small blocking HTTP/1.1 client on plain SSLSockets (one thread per
 * connection, no framework, so the load generator stays out of the way on 2 cores), and prints a table and
 * bench/results/latest.json.
 *
 * <p>Run through {@code bash bench/run.sh} (builds the jar if needed). Options: see {@link Options}.
 * Every loop is bounded in count and time; all traffic goes to 127.0.0.1.
 */
public class Bench {

    static final String HOST = "127.0.0.1";
    static final String NS = "sqlflow-playground";
    static final Map<String, Object> RESULTS = new LinkedHashMap<>();
    static final List<String[]> TABLE = new ArrayList<>();
    static Options opt;
    /** The server being measured, for its CPU time. */
    static volatile Server CURRENT_SERVER;
    static Path root;

    // ------------------------------------------------------------------------------------------------ options

    static final String USAGE = """
            options: --sections=start,heartbeat,scale,reap,flood[,realapi] (realapi is added when --kube-env is given)
              --phases=new,existing,a,b --seconds=10 (per level) --warmup=3 --users=1000 --scale-users=5000
              --reap-sizes=1000,10000,100000 --delay=2s --start-runs=3 --no-cds --server-jvm='...'
              --scale-shards=16 --kube-env=FILE --real-users=100000 --real-level-seconds=300
              --pool-size=20 (create_db for N new users with a warm pool of N and without one; 0 skips)
              --flood-callers=220 --flood-seconds=15 (section flood: a bystander's heart_beat during a create_db flood)
              --out=FILE --work=DIR
              --quick (a smoke run: 3 s per level, 200 users, a 1,000-user sweep)""";

    static final class Options {
        Path jar;
        Path out;
        Path work;
        String sections = "start,heartbeat,scale,reap,flood";
        double seconds = 10;          // measured time per load level
        double warmup = 3;            // warm-up before the measured levels
        int users = 1000;             // (a)
        int scaleUsers = 5_000;       // (c) in local mode: the embedded API server scans all objects per request
        int floodCallers = 220;       // flood: concurrent create_db calls for one user whose database is starting
        double floodSeconds = 15;     // flood: the bystander's measured window in each shape (the ready-wait)

        int[] reapSizes = {1000, 10_000, 100_000};
        String delay = "2s";          // stand-in kubelet start delay for the heartbeat/create_db instance
        int startRuns = 3;
        boolean cds = true;
        /**
         * The container image's JVM flags (functions/pom.xml, Jib jvmFlags), with -XX:MaxRAM standing in for the
         * Knative Service's memory limit (512Mi). --server-jvm='...' replaces them all (--server-jvm= for none).
         */
        List<String> serverJvm = new ArrayList<>(List.of("-XX:MaxRAM=512m", "-XX:MaxRAMPercentage=60",
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:+ExitOnOutOfMemoryError",
                "-XX:MinHeapFreeRatio=10", "-XX:MaxHeapFreeRatio=20"));
        boolean serverJvmSet;
        int scaleShards = 16;
        String phases = "new,existing,a,b";
        Path kubeEnv;                 // env file of .ci/test-cluster.sh: run (a) and (c) against that API server too
        int realUsers = 100_000;
        int localReapMax = 10_000;    // larger sweeps need the real API server
        double realLevelSeconds = 300; // time bound of each (c) level against the real API server
        boolean sectionsSet;
        /**
         * The warm pool's figure: create_db for this many new users on a server with a pool of this size and a
         * 30 s stand-in kubelet delay, and without a pool (see poolFigure()); 0 skips it.
         */
        int poolSize = 20;

        static Options parse(String[] args) {
            Options o = new Options();
            for (String a : args) {
                String k = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
                String v = a.contains("=") ? a.substring(a.indexOf('=') + 1) : "";
                switch (k) {
                    case "--jar" -> o.jar = Path.of(v);
                    case "--out" -> o.out = Path.of(v);
                    case "--work" -> o.work = Path.of(v);
                    case "--sections" -> {
                        o.sections = v;
                        o.sectionsSet = true;
                    }
                    case "--pool-size" -> o.poolSize = Integer.parseInt(v);
                    case "--help" -> {
                        System.out.println(USAGE);
                        System.exit(0);
                    }
                    case "--seconds" -> o.seconds = Double.parseDouble(v);
                    case "--warmup" -> o.warmup = Double.parseDouble(v);
                    case "--users" -> o.users = Integer.parseInt(v);
                    case "--scale-users" -> o.scaleUsers = Integer.parseInt(v);
                    case "--flood-callers" -> o.floodCallers = Integer.parseInt(v);
                    case "--flood-seconds" -> o.floodSeconds = Double.parseDouble(v);
                    case "--reap-sizes" -> o.reapSizes = Arrays.stream(v.split(",")).mapToInt(Integer::parseInt).toArray();
                    case "--delay" -> o.delay = v;
                    case "--start-runs" -> o.startRuns = Integer.parseInt(v);
                    case "--no-cds" -> o.cds = false;
                    case "--server-jvm" -> {
                        if (!o.serverJvmSet) {
                            o.serverJvm.clear();
                            o.serverJvmSet = true;
                        }
                        o.serverJvm.addAll(Arrays.asList(v.trim().split("\\s+")));
                    }
                    case "--scale-shards" -> o.scaleShards = Integer.parseInt(v);
                    case "--phases" -> o.phases = v;
                    case "--kube-env" -> o.kubeEnv = Path.of(v);
                    case "--real-users" -> o.realUsers = Integer.parseInt(v);
                    case "--real-level-seconds" -> o.realLevelSeconds = Double.parseDouble(v);
                    case "--quick" -> {
                        o.seconds = 3;
                        o.warmup = 1;
                        o.users = 200;
                        o.scaleUsers = 5000;
                        o.reapSizes = new int[] {1000};
                        o.startRuns = 2;
                        o.poolSize = 4;
                        o.floodSeconds = 5;
                    }
                    default -> throw new IllegalArgumentException("unknown option " + a + "\n" + USAGE);
                }
            }
            o.serverJvm.removeIf(String::isBlank);
            if (o.kubeEnv != null) {
                // With a real API server, sweeps over more than 1,000 users run there: the embedded one takes
                // minutes to make and sweep 10,000 roots (it scans every object on each request).
                o.localReapMax = 1000;
                if (!o.sectionsSet) {
                    o.sections += ",realapi";
                }
            }
            return o;
        }

        boolean phase(String p) {
            return Arrays.asList(phases.split(",")).contains(p);
        }

        boolean has(String section) {
            return Arrays.asList(sections.split(",")).contains(section);
        }
    }

    // --------------------------------------------------------------------------------------------------- main

    public static void main(String[] args) throws Exception {
        opt = Options.parse(args);
        root = Path.of("").toAbsolutePath();
        if (opt.jar == null) {
            opt.jar = root.resolve("functions/target/sqlflow-playground.jar");
        }
        if (opt.out == null) {
            opt.out = root.resolve("bench/results/latest.json");
        }
        if (opt.work == null) {
            opt.work = Files.createTempDirectory("playground-bench-");
        }
        if (!Files.exists(opt.jar)) {
            throw new IllegalStateException(opt.jar + " is missing: run bash bench/run.sh, which builds it");
        }
        Map<String, Object> env = new LinkedHashMap<>();
        env.put("date", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
        env.put("cores", Runtime.getRuntime().availableProcessors());
        env.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        env.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        env.put("kubernetes_api", "embedded fabric8 mock server (local mode, in the server's JVM)");
        env.put("load_generator", "bench/Bench.java: blocking HTTP/1.1 over JDK SSLSockets, same machine");
        env.put("load_average_before", loadAverage());
        env.put("server_jvm_options", opt.serverJvm);
        env.put("options", map("seconds_per_level", opt.seconds, "users", opt.users, "scale_users",
                opt.scaleUsers, "reap_sizes", Arrays.toString(opt.reapSizes), "database_start_delay", opt.delay));
        RESULTS.put("environment", env);
        log("work dir %s, load average %s", opt.work, loadAverage());

        long t0 = System.nanoTime();
        try {
            if (opt.has("start")) {
                startup();
                writeResults(false); // so far, in case the run is stopped
            }
            if (opt.has("heartbeat")) {
                heartbeat();
                writeResults(false); // so far, in case the run is stopped
            }
            if (opt.has("scale")) {
                scale();
                writeResults(false); // so far, in case the run is stopped
            }
            if (opt.has("reap")) {
                reap();
                writeResults(false); // so far, in case the run is stopped
            }
            if (opt.has("flood")) {
                flood();
                writeResults(false); // so far, in case the run is stopped
            }
            if (opt.has("realapi")) {
                realApi();
                writeResults(false); // so far, in case the run is stopped
            }
        } finally {
            env.put("load_average_after", loadAverage());
            env.put("management_port_needed_mutual_tls", Server.managementOverTls);
            if (realApi != null) {
                env.put("kubernetes_api_real", "kube-apiserver " + realApi.version() + " with etcd (.ci/test-cluster.sh) at "
                        + realApi.url() + ", controller manager " + (realApi.controllerManager() ? "running" : "stopped")
                        + "; API calls counted " + (realApi.auditLog() != null ? "in its audit log (the server's own requests, in its namespace)"
                        : "from its apiserver_request_total metric"));
            }
            env.put("bench_seconds", Math.round((System.nanoTime() - t0) / 1e9));
            writeResults(true);
        }
    }

    // ------------------------------------------------------------------------------------------------ startup

    /**
     * Start to first 200 from /api/heart_beat: the first run makes the dev certificates, later runs reuse them
     * (as a deployed server would find its certificates). Then the same with a class data sharing archive made by
     * a training run on the extracted jar.
     */
    static void startup() throws Exception {
        Map<String, Object> out = new LinkedHashMap<>();
        RESULTS.put("startup", out);
        Path dir = Files.createDirectories(opt.work.resolve("start"));
        List<String> noDelay = List.of("--playground.local.database-start-delay=0s");
        // The first run makes the dev certificates; it is reported apart and not in the medians.
        try (Server s = Server.start(dir, List.of("-jar", opt.jar.toString()), noDelay)) {
            out.put("first_run_including_dev_cert_generation", map("ms", round(s.firstOkMillis, 0),
                    "cpu_ms", round(s.firstOkCpuMillis, 0)));
        }
        out.put("fat_jar", startRuns("fat jar", dir, List.of("-jar", opt.jar.toString()), noDelay));
        if (!opt.cds) {
            return;
        }
        Path ex = opt.work.resolve("extracted");
        Path appJar = ex.resolve(opt.jar.getFileName());
        Path jsa = opt.work.resolve("playground.jsa");
        try {
            run(List.of(java(), "-Djarmode=tools", "-jar", opt.jar.toString(), "extract", "--destination", ex.toString()),
                    opt.work, 120);
            out.put("extracted_jar", startRuns("extracted jar", dir, List.of("-jar", appJar.toString()), noDelay));
            // Training run: a real start with traffic, then a graceful stop, so the archive holds the classes of
            // startup and of serving both endpoints.
            try (Server s = Server.start(dir, List.of("-XX:ArchiveClassesAtExit=" + jsa, "-jar", appJar.toString()), noDelay)) {
                Client admin = s.client("admin");
                try (Conn c = admin.open()) {
                    for (int i = 0; i < 50; i++) {
                        c.send("POST", "/api/create_db", "{\"user_id\": \"train" + (i % 5) + "\"}");
                        c.send("GET", "/api/heart_beat?user_id=train" + (i % 5), null);
                    }
                }
                s.stopGracefully();
            }
            if (!Files.exists(jsa)) {
                throw new IllegalStateException("the training run wrote no archive");
            }
            out.put("cds_archive_mb", round(Files.size(jsa) / 1e6, 1));
            out.put("extracted_jar_with_cds", startRuns("extracted jar + CDS", dir,
                    List.of("-XX:SharedArchiveFile=" + jsa, "-jar", appJar.toString()), noDelay));
            out.put("extracted_jar_with_cds_c1_only", startRuns("extracted jar + CDS + C1 only", dir,
                    List.of("-XX:SharedArchiveFile=" + jsa, "-XX:TieredStopAtLevel=1", "-jar", appJar.toString()), noDelay));
        } catch (Exception e) {
            out.put("cds_error", String.valueOf(e));
            log("CDS measurement failed: %s", e);
        }
    }

    /** Median wall and CPU time from process start to the first 200 from heart_beat, over a few starts. */
    static Map<String, Object> startRuns(String name, Path dir, List<String> launch, List<String> extra) throws Exception {
        List<Double> wall = new ArrayList<>();
        List<Double> cpu = new ArrayList<>();
        for (int i = 0; i < Math.max(1, opt.startRuns); i++) {
            try (Server s = Server.start(dir, launch, extra)) {
                wall.add(round(s.firstOkMillis, 0));
                cpu.add(round(s.firstOkCpuMillis, 0));
                log("start (%s) run %d: %.0f ms to first 200, %.0f ms CPU, load %s", name, i + 1, s.firstOkMillis,
                        s.firstOkCpuMillis, loadAverage());
            }
        }
        row("start", "start to first 200, " + name + ": wall (CPU)", fmtMs(median(wall)) + " (" + fmtMs(median(cpu)) + " CPU)",
                "< 2500 ms");
        return map("wall_ms", wall, "cpu_ms", cpu, "median_wall_ms", median(wall), "median_cpu_ms", median(cpu));
    }

    // ---------------------------------------------------------------------------------------------- heartbeat

    /** create_db (new and existing users), heart_beat (a) kept-alive and (b) new connection per request, RSS. */
    static void heartbeat() throws Exception {
        Map<String, Object> out = new LinkedHashMap<>();
        Path dir = Files.createDirectories(opt.work.resolve("heartbeat"));
        // No warm pool here: these rows are create_db without one (poolFigure() measures it with one).
        try (Server s = Server.start(dir, serverLaunch(), List.of("--playground.local.database-start-delay=" + opt.delay,
                "--playground.database.max-databases=1000000", "--playground.pool.size=0"))) {
            out.put("ms_to_first_200", s.firstOkMillis);
            Client admin = s.client("admin");
            int n = opt.users;
            String[] users = new String[n];
            for (int i = 0; i < n; i++) {
                users[i] = String.format("ka-%05d", i);
            }
            // create_db for new users: a first sample at concurrency 8, then the rest at 64 (the setup of (a)).
            int sample = Math.min(32, n);
            Map<String, Long> before = s.apiCounts();
            Stats newSmall = load("create_db new user, c=8", 8, sample, 120, false, admin,
                    (c, i) -> c.send("POST", "/api/create_db", "{\"user_id\": \"" + users[(int) i] + "\"}"));
            Map<String, Long> createCalls = diff(before, s.apiCounts());
            Stats newBulk = n > sample ? load("create_db new user, c=64", 64, n - sample, 300, false, admin,
                    (c, i) -> c.send("POST", "/api/create_db", "{\"user_id\": \"" + users[(int) (sample + i)] + "\"}")) : null;
            Map<String, Object> create = new LinkedHashMap<>();
            create.put("database_start_delay", opt.delay);
            create.put("new_user_c8", newSmall.json());
            create.put("new_user_api_calls_per_create", perOp(createCalls, sample));
            if (newBulk != null) {
                create.put("new_user_c64", newBulk.json());
            }
            row("create_db", "new user, c=8 (start delay " + opt.delay + ") p50/p99", newSmall.p50p99(), "");
            if (newBulk != null) {
                row("create_db", "new user, c=64 (start delay " + opt.delay + ") p50/p99", newBulk.p50p99(), "");
            }
            if (opt.poolSize > 0) {
                create.put("new_user_warm_pool", poolFigure());
            }
            if (opt.phase("existing")) {
                // Each user's first create_db after the one that made the database: the full read of root,
                // Secret and Service. The timed levels below are repeats, which this instance answers from
                // its watch-fed cache (cluster/KnownDatabases) within half a TTL.
                before = s.apiCounts();
                Stats first = load("create_db existing user, first repeat, c=8", 8, n, 300, false, admin,
                        (c, i) -> c.send("POST", "/api/create_db", "{\"user_id\": \"" + users[(int) i] + "\"}"));
                Map<String, Object> j = first.json();
                j.put("api_calls_per_request", perOp(diff(before, s.apiCounts()), first.ok));
                create.put("existing_user_first_repeat_c8", j);
                row("create_db", "existing user, first repeat, c=8 p50/p99 (" + fmtRate(first.rate()) + ")",
                        first.p50p99(), "");
            }
            for (int conc : opt.phase("existing") ? new int[] {1, 8} : new int[0]) {
                before = s.apiCounts();
                Stats st = load("create_db existing user, c=" + conc, conc, 1_000_000, opt.seconds, false, admin,
                        (c, i) -> c.send("POST", "/api/create_db", "{\"user_id\": \"" + users[(int) (i % n)] + "\"}"));
                Map<String, Long> d = diff(before, s.apiCounts());
                Map<String, Object> j = st.json();
                j.put("api_calls_per_request", perOp(d, st.ok));
                create.put("existing_user_c" + conc, j);
                row("create_db", "existing user, repeated, c=" + conc + " p50/p99 (" + fmtRate(st.rate()) + ")", st.p50p99(),
                        "p99 < 20 ms");
            }
            out.put("create_db", create);

            // (a) kept-alive connections, users round-robin. Warm-up: one full round (each user's beat stored and
            // its database confirmed once, as in the steady state of beats every 10 minutes), then some more.
            load("warm-up: one round over all users", 64, n, 300, false, admin,
                    (c, i) -> c.send("GET", "/api/heart_beat?user_id=" + users[(int) (i % n)], null));
            load("warm-up", 64, 1_000_000, opt.warmup, false, admin,
                    (c, i) -> c.send("GET", "/api/heart_beat?user_id=" + users[(int) (i % n)], null));
            Map<String, Object> a = new LinkedHashMap<>();
            AtomicLong next = new AtomicLong();
            for (int conc : opt.phase("a") ? new int[] {1, 8, 64} : new int[0]) {
                before = s.apiCounts();
                Stats st = load("(a) heart_beat keep-alive, c=" + conc, conc, 10_000_000, opt.seconds, false, admin,
                        (c, i) -> c.send("GET", "/api/heart_beat?user_id=" + users[(int) (next.getAndIncrement() % n)], null));
                Map<String, Long> d = diff(before, s.apiCounts());
                Map<String, Object> j = st.json();
                j.put("api_calls", d);
                j.put("api_writes_per_beat", writesPer(d, st.ok));
                a.put("c" + conc, j);
                row("(a) keep-alive", "c=" + conc + ": req/s, p50/p99, writes/beat",
                        fmtRate(st.rate()) + ", " + st.p50p99() + ", " + fmt3(writesPer(d, st.ok)),
                        conc == 64 ? ">= 5000/s, p99 < 25 ms, <= 0.05" : "");
            }
            out.put("a_keep_alive_1000_users", a);

            // (b) a new TLS connection (full handshake: fresh client session cache) per request.
            Map<String, Object> b = new LinkedHashMap<>();
            for (int conc : opt.phase("b") ? new int[] {1, 8, 64} : new int[0]) {
                before = s.apiCounts();
                Stats st = load("(b) heart_beat new connection, c=" + conc, conc, 10_000_000, opt.seconds, true, admin,
                        (c, i) -> c.send("GET", "/api/heart_beat?user_id=" + users[(int) (next.getAndIncrement() % n)], null));
                Map<String, Long> d = diff(before, s.apiCounts());
                Map<String, Object> j = st.json();
                j.put("api_writes_per_beat", writesPer(d, st.ok));
                b.put("c" + conc, j);
                row("(b) new TLS conn", "c=" + conc + ": req/s, p50/p99", fmtRate(st.rate()) + ", " + st.p50p99(), "");
            }
            out.put("b_new_connection_per_request", b);
            Map<String, Object> mem = s.memory();
            out.put("memory_after_load", mem);
            row("memory", "RSS after create_db + (a) + (b) (" + n + " users)", mem.get("rss_mb") + " MB", "< 300 MB");
        }
        RESULTS.put("heartbeat", out);
    }

    /**
     * Warm pool: create_db for new users on a server started with --playground.pool.size=N and a 30 s stand-in
     * kubelet delay, once the server's own gauge says the N pooled databases are Ready; then the same users'
     * figure without a pool (pool size 0, same delay), which is the start delay itself or the 503 the notebook
     * gets after ready-wait. New users arrive four at a time, N in all, so the pool is not drained faster than
     * the measurement draws from it.
     */
    static Map<String, Object> poolFigure() throws Exception {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("pool_size", opt.poolSize);
        j.put("database_start_delay", "30s");
        int warmups = 4;
        for (int size : new int[] {opt.poolSize + warmups, 0}) {
            Path dir = Files.createDirectories(opt.work.resolve("pool-" + size));
            try (Server s = Server.start(dir, serverLaunch(), List.of("--playground.local.database-start-delay=30s",
                    "--playground.pool.size=" + size, "--playground.database.max-databases=1000000"))) {
                Client admin = s.client("admin");
                // A fresh JVM answers its first requests slowly: warm it with beats and a few claims (with a
                // pool), then let the pool fill up again before measuring.
                load("warm-up: heart_beat", 4, 200, 60, true, admin,
                        (c, i) -> c.send("GET", "/api/heart_beat?user_id=warm-" + (i % 4), null));
                if (size > 0) {
                    awaitPoolReady(s, size, j);
                    load("warm-up: create_db new user", 1, warmups, 60, true, admin,
                            (c, i) -> c.send("POST", "/api/create_db", "{\"user_id\": \"warm-" + i + "\"}"));
                    awaitPoolReady(s, size, j);
                }
                Map<String, Long> before = s.apiCounts();
                String label = size > 0 ? "warm pool" : "no pool";
                Stats st = load("create_db new user, " + label, 4, opt.poolSize, 120, true, admin,
                        (c, i) -> c.send("POST", "/api/create_db", "{\"user_id\": \"new-" + i + "\"}"));
                Map<String, Object> fig = st.json();
                fig.put("api_calls_per_create", perOp(diff(before, s.apiCounts()), Math.max(1, st.ok)));
                j.put(size > 0 ? "with_pool" : "without_pool", fig);
                String value = st.ok > 0 ? st.p50p99() : "0 of " + opt.poolSize + " answered 200 (" + st.firstError.replaceAll("(?s)^(\\d+) .*\"error\":\"([a-z_]+)\".*$", "$1 $2") + ")";
                row("create_db", "new user, " + label + " (start delay 30s, new TLS conn) p50/p99", value,
                        size > 0 ? "p99 < 500 ms" : "");
            }
        }
        return j;
    }

    /** Waits (up to 2 minutes) until the server's own gauge shows the pool's databases Ready. */
    static void awaitPoolReady(Server s, int size, Map<String, Object> j) throws Exception {
        long t0 = System.nanoTime();
        double ready = 0;
        while (ready < size && System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(120)) {
            Thread.sleep(500);
            Matcher m = Pattern.compile("(?m)^playground_pool_size\\{state=\"ready\"[^}]*} ([0-9.eE+]+)$")
                    .matcher(s.managementGet("/actuator/prometheus"));
            ready = m.find() ? Double.parseDouble(m.group(1)) : 0;
        }
        long took = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
        log("warm pool: %.0f of %d pooled databases Ready after %d s", ready, size, took);
        j.put("pool_ready_after_seconds", took);
    }

    // -------------------------------------------------------------------------------------------------- scale

    /**
     * (c) 100,000 distinct users, each beating once. Their database roots are made directly in the embedded API
     * server (bench-only: slim Deployments with the playground's labels and user-id annotation), because going
     * through create_db would also store a first beat for each, and the point is to measure the beats' writes.
     * The stand-in kubelet's delay is an hour, so it adds no API traffic while we count.
     */
    static void scale() throws Exception {
        Map<String, Object> out = new LinkedHashMap<>();
        Path dir = Files.createDirectories(opt.work.resolve("scale"));
        int n = opt.scaleUsers;
        try (Server s = Server.start(dir, serverLaunch(), List.of("--playground.local.database-start-delay=1h",
                "--playground.heartbeat.shards=" + opt.scaleShards))) {
            String[] users = new String[n];
            for (int i = 0; i < n; i++) {
                users[i] = String.format("sc-%06d", i);
            }
            double createS = s.createRootsDirectly(users, 0, n);
            out.put("setup", Map.of("roots_created_directly_in_embedded_api", n, "seconds", createS,
                    "shards", opt.scaleShards));
            log("created %d roots directly in %.1f s", n, createS);
            // Split the users over the three concurrency levels; each user beats exactly once.
            int n1 = Math.min(n / 20, 2000);
            int n8 = Math.min(n / 10, 10_000);
            int[][] levels = {{1, 0, n1}, {8, n1, n1 + n8}, {64, n1 + n8, n}};
            Map<String, Long> all = s.apiCounts();
            long okAll = 0;
            for (int[] lv : levels) {
                int conc = lv[0];
                int from = lv[1];
                int count = lv[2] - lv[1];
                Map<String, Long> before = s.apiCounts();
                Stats st = load("(c) distinct users once, c=" + conc, conc, count, 600, false, s.client("admin"),
                        (c, i) -> c.send("GET", "/api/heart_beat?user_id=" + users[(int) (from + i)], null));
                okAll += st.ok;
                Map<String, Long> d = diff(before, s.apiCounts());
                Map<String, Object> j = st.json();
                j.put("users", count);
                j.put("api_calls", d);
                j.put("api_writes_per_beat", writesPer(d, st.ok));
                out.put("c" + conc, j);
                row("(c) 100k distinct", "c=" + conc + " (" + beaten(st, count) + "): req/s, p50/p99, writes/beat",
                        fmtRate(st.rate()) + ", " + st.p50p99() + ", " + fmt3(writesPer(d, st.ok)),
                        conc == 64 ? "<= 0.3 writes/beat" : "");
            }
            Map<String, Long> d = diff(all, s.apiCounts());
            out.put("all_levels", map("beats", okAll, "api_calls", d, "api_writes_per_beat", writesPer(d, okAll)));
            row("(c) 100k distinct", "all levels: writes/beat", fmt3(writesPer(d, okAll)), "");
            Map<String, Object> mem = s.memory();
            out.put("memory_after_load", mem);
            row("memory", "RSS after (c) (" + n + " roots, embedded API in-process)", mem.get("rss_mb") + " MB", "");
        }
        RESULTS.put("c_distinct_users", out);
    }

    // --------------------------------------------------------------------------------------------------- reap

    /**
     * One sweep over N users of whom 10% are stale. The server runs with a short TTL; roots are made directly in
     * the embedded API (as in scale()), we wait out the TTL, then 90% of the users beat (through heart_beat for
     * small N; for large N written straight into the heartbeat ConfigMaps, because beating 90,000 users through
     * the API takes longer than a TTL short enough to wait for), and one POST /api/reap_stale runs.
     */
    static void reap() throws Exception {
        Map<String, Object> out = new LinkedHashMap<>();
        RESULTS.put("reaper", out);
        for (int n : opt.reapSizes) {
            // The embedded API server scans every stored object on each request, on one thread: 100,000 roots
            // take it hours. Large sweeps run against the real API server when one is configured.
            boolean real = n > opt.localReapMax;
            if (real && opt.has("realapi") && realApiConfig() != null && n == opt.realUsers) {
                continue; // measured by realApi() on the roots of (c), saving a second creation of n roots
            }
            if (real && realApiConfig() == null) {
                out.put("n" + n, map("skipped", "more than " + opt.localReapMax
                        + " users need the real API server (--kube-env=...), none configured"));
                row("reaper", "sweep over " + n + " users", "skipped: needs --kube-env", n == 100_000 ? "< 10 s" : "");
                continue;
            }
            out.put("n" + n, reapOnce(n, real));
        }
    }

    static Map<String, Object> reapOnce(int n, boolean real) throws Exception {
        int ttlS = n > 10_000 ? 120 : 30;
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("kubernetes_api", real ? "real kube-apiserver" : "embedded fabric8 mock server");
        Path dir = Files.createDirectories(opt.work.resolve("reap-" + n));
        List<String> extra = List.of("--playground.heartbeat.ttl=" + ttlS + "s", "--playground.heartbeat.precision=5s",
                "--playground.reaper.schedule=false", "--playground.database.max-databases=1000000",
                // The probe sweep above and the measured one are closer than the default minimum interval.
                "--playground.reaper.min-interval=0s");
        try (Server s = real ? startReal(dir, extra) : Server.start(dir, serverLaunch(),
                concat(extra, List.of("--playground.local.database-start-delay=1h")))) {
            Client admin = s.client("admin");
            try (Conn c = admin.open()) {
                Resp probe = c.send("POST", "/api/reap_stale", "{\"dry_run\": true}");
                if (probe.status == 404 || probe.status == 405) {
                    row("reaper", "sweep over " + n + " users", "not in this build (" + probe.status + ")", "");
                    j.put("skipped", "POST /api/reap_stale answers " + probe.status + ": the reaper is not in this build");
                    return j;
                }
            }
            String[] users = new String[n];
            for (int i = 0; i < n; i++) {
                users[i] = String.format("rp-%06d", i);
            }
            double createS = s.createRootsDirectly(users, 0, n);
            sweep(s, admin, users, ttlS, createS, real, j);
        }
        return j;
    }

    /** Waits out the TTL (every root stale), lets 90% of the users beat, and runs one sweep; results into j. */
    static void sweep(Server s, Client admin, String[] users, int ttlS, double createS, boolean real, Map<String, Object> j)
            throws Exception {
        int n = users.length;
        {
            log("reap %d: waiting %d s for every root to go stale", n, ttlS + 2);
            long staleAt = System.nanoTime() + (long) ((ttlS + 2) * 1e9);
            while (System.nanoTime() < staleAt) {
                Thread.sleep(200);
            }
            int fresh = n - n / 10;
            long tb = System.nanoTime();
            String beatHow;
            if (n <= 1000) {
                beatHow = "heart_beat at c=64";
                load("reap setup: beat 90%", 64, fresh, ttlS / 2.0, false, admin,
                        (c, i) -> c.send("GET", "/api/heart_beat?user_id=" + users[(int) i], null));
            } else {
                beatHow = "written directly into the heartbeat ConfigMaps";
                s.writeBeatsDirectly(Arrays.copyOfRange(users, 0, fresh), opt.scaleShards);
            }
            double beatS = (System.nanoTime() - tb) / 1e9;
            Map<String, Long> before = s.apiCounts();
            long t0 = System.nanoTime();
            Resp r;
            try (Conn c = admin.open()) {
                c.socket.setSoTimeout(900_000);
                r = c.send("POST", "/api/reap_stale", "{\"dry_run\": false}");
            }
            double sweepS = (System.nanoTime() - t0) / 1e9;
            Map<String, Long> d = diff(before, s.apiCounts());
            Matcher counts = Pattern.compile("\"counts\"\\s*:\\s*(\\{[^}]*})").matcher(r.body);
            String countsJson = counts.find() ? counts.group(1) : null;
            j.put("users", n);
            j.put("stale", n - fresh);
            j.put("setup", map("roots_created_directly_s", createS, "beats", beatHow, "beats_s", round(beatS, 1),
                    "ttl_s", ttlS));
            j.put("status", r.status);
            j.put("sweep_s", round(sweepS, 2));
            j.put("report_counts", countsJson);
            j.put("api_calls", d);
            if (r.status != 200 || countsJson == null || !countsJson.contains("\"failed\":0")) {
                // The report says who or what failed and why.
                j.put("body", r.body.length() > 4000 ? r.body.substring(0, 4000) : r.body);
            }
            log("reap %d: HTTP %d in %.2f s, counts %s, calls %s", n, r.status, sweepS, countsJson, d);
            row("reaper", "sweep over " + n + " users, 10% stale (" + (real ? "real API" : "embedded API") + ")",
                    String.format(Locale.ROOT, "%.2f s, %s", sweepS, compact(d)), n == 100_000 ? "< 10 s" : "");
            row("reaper", "  its report (" + n + " users)", String.valueOf(countsJson), "");
        }
    }

    /** "N users", or "M of N users" when the level's time ran out before every user had beaten. */
    static String beaten(Stats st, int users) {
        return st.ok >= users ? users + " users" : st.ok + " of " + users + " users";
    }

    static <T> List<T> concat(List<T> a, List<T> b) {
        List<T> l = new ArrayList<>(a);
        l.addAll(b);
        return l;
    }

    // ------------------------------------------------------------------------------------------------ realapi

    /**
     * (a) and (c) against a real Kubernetes API server (kube-apiserver + etcd from .ci/test-cluster.sh), the
     * server started without --local, with KUBECONFIG (the cluster's admin kubeconfig: fine for a benchmark)
     * and mutual TLS from dev certificates. API calls are counted from the API server's own
     * apiserver_request_total metric, by verb and resource, before and after each phase; nothing else should
     * talk to that API server meanwhile (stop its controller manager: it would create a ReplicaSet per root).
     */
    /** The real API server's connection, from the env file test-cluster.sh writes; null when there is none. */
    record RealApi(Path envFile, Path kubeconfig, Client client, java.net.URI url, String version, boolean controllerManager,
            Path auditLog) {
    }

    static RealApi realApi;

    static RealApi realApiConfig() throws Exception {
        if (realApi != null) {
            return realApi;
        }
        Path envFile = opt.kubeEnv != null ? opt.kubeEnv : Path.of("/tmp/sqlflow-playground-k8s/env");
        if (!Files.exists(envFile)) {
            return null;
        }
        Map<String, String> env = new LinkedHashMap<>();
        for (String line : Files.readAllLines(envFile)) {
            Matcher m = Pattern.compile("^(?:export\\s+)?([A-Z0-9_]+)=['\"]?([^'\"]*)['\"]?$").matcher(line.trim());
            if (m.find()) {
                env.put(m.group(1), m.group(2));
            }
        }
        Path kubeconfig = Path.of(env.get("KUBECONFIG"));
        String kc = Files.readString(kubeconfig);
        java.net.URI api = java.net.URI.create(yamlValue(kc, "server"));
        Client k8s = new Client(Path.of(yamlValue(kc, "certificate-authority")), Path.of(yamlValue(kc, "client-certificate")),
                Path.of(yamlValue(kc, "client-key")), api.getPort());
        Path k8sDir = env.get("PLAYGROUND_K8S_DIR") == null ? null : Path.of(env.get("PLAYGROUND_K8S_DIR"));
        boolean controllerManager = k8sDir != null && Files.exists(k8sDir.resolve("controller-manager.pid"))
                && Files.exists(Path.of("/proc/" + Files.readString(k8sDir.resolve("controller-manager.pid")).trim()));
        realApi = new RealApi(envFile, kubeconfig, k8s, api, env.get("PLAYGROUND_K8S_VERSION"), controllerManager,
                env.get("PLAYGROUND_K8S_AUDIT_LOG") == null ? null : Path.of(env.get("PLAYGROUND_K8S_AUDIT_LOG")));
        return realApi;
    }

    /** The server without --local, against the real API server, in a new namespace, with dev certificates. */
    static Server startReal(Path dir, List<String> more) throws Exception {
        return startReal(dir, more, List.of());
    }

    /** @param jvm JVM flags after the usual ones (a later -XX:MaxRAM wins) */
    static Server startReal(Path dir, List<String> more, List<String> jvm) throws Exception {
        RealApi ra = realApiConfig();
        String ns = "bench-" + Long.toString(System.currentTimeMillis(), 36);
        try (Conn c = ra.client().open()) {
            Resp r = c.send("POST", "/api/v1/namespaces", "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"" + ns + "\"}}",
                    "application/json");
            if (r.status / 100 != 2) {
                throw new IllegalStateException("creating namespace " + ns + ": " + r.status + " " + r.body);
            }
        }
        ensureDevCerts(dir);
        Path certs = dir.resolve("playground-dev-certs");
        List<String> extra = concat(List.of("--ca_crt=" + certs.resolve("ca.crt"), "--server_crt=" + certs.resolve("server.crt"),
                "--server_key=" + certs.resolve("server.key"), "--crl=" + certs.resolve("ca.crl"),
                "--playground.identity.source=tls",
                "--playground.namespace=" + ns), more);
        Server s = Server.start(dir, concat(jvm, serverLaunch()), extra, false, Map.of("KUBECONFIG", ra.kubeconfig().toString()));
        s.k8s = ra.client();
        s.namespace = ns;
        s.apiCounts(); // the audit log is counted from here on
        // Read it every 2 s too: a log that rotates twice between two phases would otherwise lose requests.
        Thread poll = new Thread(() -> {
            while (s.process.isAlive()) {
                try {
                    Thread.sleep(2000);
                    s.apiCounts();
                } catch (Exception e) {
                    return;
                }
            }
        }, "audit-poll");
        poll.setDaemon(true);
        poll.start();
        return s;
    }

    static void realApi() throws Exception {
        Map<String, Object> out = new LinkedHashMap<>();
        RealApi ra = realApiConfig();
        if (ra == null) {
            RESULTS.put("real_api", map("skipped", "no env file (start a test cluster with .ci/test-cluster.sh start,"
                    + " then pass --kube-env=DIR/env)"));
            row("real API", "(a)/(c) against kube-apiserver", "skipped: no test cluster", "");
            return;
        }
        out.put("api_server", ra.url().toString());
        out.put("version", ra.version());
        out.put("controller_manager_running", ra.controllerManager());
        Path dir = Files.createDirectories(opt.work.resolve("realapi"));
        try (Server s = startReal(dir, List.of("--playground.database.max-databases=1000000"))) {
            out.put("namespace", s.namespace);
            out.put("ms_to_first_200", s.firstOkMillis);
            Client admin = s.client("admin");
            // (a) 1,000 users with roots, beating round-robin over kept-alive connections.
            int n = opt.users;
            String[] users = new String[n];
            for (int i = 0; i < n; i++) {
                users[i] = String.format("ka-%05d", i);
            }
            out.put("a_setup_roots_created_s", s.createRootsDirectly(users, 0, n));
            load("real API warm-up: one round over all users", 64, n, 300, false, admin,
                    (c, i) -> c.send("GET", "/api/heart_beat?user_id=" + users[(int) (i % n)], null));
            load("real API warm-up", 64, 1_000_000, opt.warmup, false, admin,
                    (c, i) -> c.send("GET", "/api/heart_beat?user_id=" + users[(int) (i % n)], null));
            AtomicLong next = new AtomicLong();
            Map<String, Object> a = new LinkedHashMap<>();
            for (int conc : new int[] {1, 8, 64}) {
                Map<String, Long> before = s.apiCounts();
                Stats st = load("real API (a) keep-alive, c=" + conc, conc, 10_000_000, opt.seconds, false, admin,
                        (c, i) -> c.send("GET", "/api/heart_beat?user_id=" + users[(int) (next.getAndIncrement() % n)], null));
                Map<String, Long> d = diff(before, s.apiCounts());
                Map<String, Object> j = st.json();
                j.put("api_calls", d);
                j.put("api_writes_per_beat", writesPer(d, st.ok));
                a.put("c" + conc, j);
                row("real API (a)", "c=" + conc + ": req/s, p50/p99, writes/beat",
                        fmtRate(st.rate()) + ", " + st.p50p99() + ", " + fmt3(writesPer(d, st.ok)),
                        conc == 64 ? ">= 5000/s, p99 < 25 ms, <= 0.05" : "");
            }
            out.put("a_keep_alive", a);
            Map<String, Object> mem = s.memory();
            out.put("memory_after_a", mem);
            row("memory", "RSS after real-API (a) (" + n + " users)", mem.get("rss_mb") + " MB", "< 300 MB");
        }
        // (c), then the sweep over the same roots: a server with a TTL short enough to wait out.
        int ttlS = 120;
        // The watch-fed cache holds every root as a full fabric8 Deployment: 100,000 of them need over 1 GB of
        // heap, which the 512 MB memory limit of the Knative Service does not have (see the README).
        List<String> bigHeap = opt.realUsers > 20_000 ? List.of("-XX:MaxRAM=3g") : List.of();
        out.put("c_server_extra_jvm_options", bigHeap);
        try (Server s = startReal(dir, List.of("--playground.database.max-databases=1000000",
                "--playground.heartbeat.ttl=" + ttlS + "s", "--playground.heartbeat.precision=5s",
                "--playground.reaper.schedule=false"), bigHeap)) {
            Client admin = s.client("admin");
            out.put("c_namespace", s.namespace);
            // (c) distinct users each beating once.
            int m = opt.realUsers;
            String[] distinct = new String[m];
            for (int i = 0; i < m; i++) {
                distinct[i] = String.format("sc-%06d", i);
            }
            double createS = s.createRootsDirectly(distinct, 0, m);
            log("created %d roots in the real API in %.1f s", m, createS);
            out.put("c_setup", map("roots_created_directly", m, "seconds", createS));
            Map<String, Object> cOut = new LinkedHashMap<>();
            // Most users beat at c=64: at c=1 every beat waits for its own write, so the low levels are kept short.
            int n1 = Math.min(m / 20, 500);
            int n8 = Math.min(m / 10, 2_000);
            int[][] levels = {{1, 0, n1}, {8, n1, n1 + n8}, {64, n1 + n8, m}};
            Map<String, Long> all = s.apiCounts();
            long okAll = 0;
            for (int[] lv : levels) {
                int conc = lv[0];
                int from = lv[1];
                int count = lv[2] - lv[1];
                Map<String, Long> before = s.apiCounts();
                Stats st = load("real API (c) distinct users once, c=" + conc, conc, count, opt.realLevelSeconds, false, admin,
                        (c, i) -> c.send("GET", "/api/heart_beat?user_id=" + distinct[(int) (from + i)], null));
                okAll += st.ok;
                Map<String, Long> d = diff(before, s.apiCounts());
                Map<String, Object> j = st.json();
                j.put("users", count);
                j.put("api_calls", d);
                j.put("api_writes_per_beat", writesPer(d, st.ok));
                cOut.put("c" + conc, j);
                row("real API (c)", "c=" + conc + " (" + beaten(st, count) + "): req/s, p50/p99, writes/beat",
                        fmtRate(st.rate()) + ", " + st.p50p99() + ", " + fmt3(writesPer(d, st.ok)),
                        conc == 64 ? "<= 0.3 writes/beat" : "");
            }
            Map<String, Long> d = diff(all, s.apiCounts());
            cOut.put("all_levels", map("beats", okAll, "api_calls", d, "api_writes_per_beat", writesPer(d, okAll)));
            row("real API (c)", "all levels: writes/beat", fmt3(writesPer(d, okAll)), "");
            out.put("c_distinct_users", cOut);
            Map<String, Object> mem = s.memory();
            out.put("memory_after_c", mem);
            row("memory", "RSS after real-API (c) (" + m + " roots in the watch-fed cache)", mem.get("rss_mb") + " MB", "");
            if (opt.has("reap") && Arrays.stream(opt.reapSizes).anyMatch(x -> x == m)) {
                @SuppressWarnings("unchecked")
                Map<String, Object> reaper = (Map<String, Object>) RESULTS.computeIfAbsent("reaper", k -> new LinkedHashMap<>());
                Map<String, Object> j = new LinkedHashMap<>();
                j.put("kubernetes_api", "real kube-apiserver (roots of (c))");
                reaper.put("n" + m, j);
                sweep(s, admin, distinct, ttlS, createS, true, j);
            }
        } finally {
            RESULTS.put("real_api", out);
        }
    }

    /** A dev-certs directory in {@code dir}: copied from an earlier local run of this benchmark, or made by one. */
    static void ensureDevCerts(Path dir) throws Exception {
        Path target = dir.resolve("playground-dev-certs");
        // ca.crl too: dev certificates from before they came with a CRL are completed by one local run.
        if (Files.exists(target.resolve("admin/client.key")) && Files.exists(target.resolve("ca.crl"))) {
            return;
        }
        try (Server s = Server.start(dir, List.of("-jar", opt.jar.toString()), List.of("--playground.local.database-start-delay=0s"))) {
            log("dev certificates made for the real-API run in %s", target);
        }
    }

    /** The first "name: value" of a kubeconfig (one cluster, one user, as test-cluster.sh writes it). */
    static String yamlValue(String yaml, String name) {
        Matcher m = Pattern.compile("(?m)^\\s*-?\\s*" + Pattern.quote(name) + ":\\s*(\\S+)\\s*$").matcher(yaml);
        if (!m.find()) {
            throw new IllegalStateException("kubeconfig has no " + name + " (only file paths are supported)");
        }
        return m.group(1);
    }

    // ------------------------------------------------------------------------------------------- load runner

    interface Op {
        Resp call(Conn c, long index) throws Exception;
    }

    /**
     * Runs {@code ops} operations over {@code concurrency} threads, each with its own kept-alive connection (or,
     * with {@code newConnection}, a new connection and a full handshake per operation), stopping at the count
     * or after {@code seconds}, whichever comes first. Latency is measured per operation, connection set-up
     * included when it is per operation.
     */
    static Stats load(String name, int concurrency, long ops, double seconds, boolean newConnection, Client client, Op op)
            throws Exception {
        AtomicLong issued = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        AtomicReference<String> firstError = new AtomicReference<>();
        long[][] lat = new long[concurrency][];
        int[] counts = new int[concurrency];
        long[] deadlineBox = new long[1];
        CountDownLatch ready = new CountDownLatch(concurrency);
        CountDownLatch go = new CountDownLatch(1);
        Thread[] threads = new Thread[concurrency];
        long[] startEnd = new long[2];
        for (int t = 0; t < concurrency; t++) {
            int id = t;
            threads[t] = new Thread(null, () -> {
                long[] mine = new long[4096];
                int k = 0;
                Conn conn = null;
                try {
                    if (!newConnection) {
                        conn = client.open();
                    }
                    ready.countDown();
                    go.await();
                    long deadline = deadlineBox[0];
                    while (System.nanoTime() < deadline) {
                        long i = issued.getAndIncrement();
                        if (i >= ops) {
                            break;
                        }
                        long t0 = System.nanoTime();
                        Resp r;
                        try {
                            if (newConnection) {
                                try (Conn c = client.openFresh()) {
                                    r = op.call(c, i);
                                }
                            } else {
                                if (conn.closed) {
                                    // The server ends a kept-alive connection after so many requests (Tomcat:
                                    // max-keep-alive-requests); a browser-like client opens the next one.
                                    conn = client.open();
                                }
                                r = op.call(conn, i);
                            }
                        } catch (IOException e) {
                            r = new Resp(-1, String.valueOf(e));
                            if (conn != null) {
                                conn.close();
                                conn = client.open();
                            }
                        }
                        long dt = System.nanoTime() - t0;
                        if (r.status != 200) {
                            errors.incrementAndGet();
                            firstError.compareAndSet(null, r.status + " " + r.body);
                            continue;
                        }
                        if (k == mine.length) {
                            mine = Arrays.copyOf(mine, k * 2);
                        }
                        mine[k++] = dt;
                    }
                } catch (Exception e) {
                    errors.incrementAndGet();
                    firstError.compareAndSet(null, String.valueOf(e));
                } finally {
                    ready.countDown();
                    if (conn != null) {
                        conn.close();
                    }
                    lat[id] = mine;
                    counts[id] = k;
                }
            }, "load-" + t, 256 * 1024);
            threads[t].start();
        }
        ready.await(120, TimeUnit.SECONDS);
        long serverCpu0 = CURRENT_SERVER == null ? 0 : CURRENT_SERVER.cpuNanos();
        long selfCpu0 = selfCpuNanos();
        startEnd[0] = System.nanoTime();
        deadlineBox[0] = startEnd[0] + (long) (seconds * 1e9);
        go.countDown();
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis((long) seconds + 120));
        }
        startEnd[1] = System.nanoTime();
        long serverCpu = CURRENT_SERVER == null ? 0 : CURRENT_SERVER.cpuNanos() - serverCpu0;
        long selfCpu = selfCpuNanos() - selfCpu0;
        int total = 0;
        for (int c : counts) {
            total += c;
        }
        long[] all = new long[total];
        int p = 0;
        for (int t = 0; t < concurrency; t++) {
            if (lat[t] != null) {
                System.arraycopy(lat[t], 0, all, p, counts[t]);
                p += counts[t];
            }
        }
        Arrays.sort(all, 0, p);
        Stats st = new Stats(name, concurrency, Arrays.copyOf(all, p), errors.get(), (startEnd[1] - startEnd[0]) / 1e9,
                firstError.get());
        st.serverCpuNanos = serverCpu;
        st.clientCpuNanos = selfCpu;
        log("%-44s %s", name, st);
        return st;
    }

    static final class Stats {
        final String name;
        final int concurrency;
        final long[] sorted;
        final long ok;
        final long errors;
        final double seconds;
        final String firstError;
        long serverCpuNanos;
        long clientCpuNanos;

        Stats(String name, int concurrency, long[] sorted, long errors, double seconds, String firstError) {
            this.name = name;
            this.concurrency = concurrency;
            this.sorted = sorted;
            this.ok = sorted.length;
            this.errors = errors;
            this.seconds = seconds;
            this.firstError = firstError;
        }

        double pct(double q) {
            if (sorted.length == 0) {
                return Double.NaN;
            }
            int i = (int) Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
            return sorted[Math.max(0, i)] / 1e6;
        }

        double rate() {
            return ok / seconds;
        }

        String p50p99() {
            return fmtMs(pct(0.50)) + " / " + fmtMs(pct(0.99));
        }

        Map<String, Object> json() {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("concurrency", concurrency);
            j.put("ok", ok);
            j.put("errors", errors);
            if (firstError != null) {
                j.put("first_error", firstError.length() > 300 ? firstError.substring(0, 300) : firstError);
            }
            j.put("seconds", round(seconds, 2));
            j.put("per_second", round(rate(), 1));
            j.put("p50_ms", round(pct(0.5), 2));
            j.put("p90_ms", round(pct(0.9), 2));
            j.put("p99_ms", round(pct(0.99), 2));
            j.put("max_ms", round(pct(1.0), 2));
            // CPU per request: less sensitive to a shared machine than the wall-clock figures.
            j.put("server_cpu_us_per_request", ok == 0 ? null : round(serverCpuNanos / 1e3 / ok, 1));
            j.put("load_generator_cpu_us_per_request", ok == 0 ? null : round(clientCpuNanos / 1e3 / ok, 1));
            return j;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%7d ok %4d err %8.1f/s p50 %7.2f ms p99 %7.2f ms max %7.1f ms cpu/req server %6.0f us client %5.0f us%s", ok,
                    errors, rate(), pct(0.5), pct(0.99), pct(1.0), ok == 0 ? 0 : serverCpuNanos / 1e3 / ok,
                    ok == 0 ? 0 : clientCpuNanos / 1e3 / ok, firstError == null ? "" : "  first error: "
                            + (firstError.length() > 200 ? firstError.substring(0, 200) : firstError));
        }
    }

    // -------------------------------------------------------------------------------------------------- flood

    /**
     * Fair use of threads: another user's heart_beat while {@code --flood-callers} (220) create_db calls arrive for
     * one user whose database is still starting (the stand-in kubelet's delay is an hour: it never becomes ready
     * here, so every call that is let in waits the full ready-wait). Two shapes, each for {@code --flood-seconds}:
     * one wave (all callers at the same moment, each answered once) and a sustained flood (each caller re-sends as
     * soon as it is answered, as an attacker would). Every flood call is a new TLS connection with a full
     * handshake, as the SQLFlow client connects; so is every beat of the bystander (bob, c=1). Before the floods,
     * the bystander alone, for comparison.
     */
    static void flood() throws Exception {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("callers", opt.floodCallers);
        out.put("database_start_delay", "1h (never ready during the run)");
        Path dir = Files.createDirectories(opt.work.resolve("flood"));
        List<String> server = List.of("--playground.local.database-start-delay=1h", "--playground.pool.size=0",
                "--playground.database.max-databases=1000000");
        try (Server s = Server.start(dir, serverLaunch(), server)) {
            Client bob = s.client("bob");
            Op beat = (c, i) -> c.send("GET", "/api/heart_beat?user_id=bob", null);
            // Bob's beats are the bystander's; a few first, so his confirmation and stored beat are warm.
            load("flood: bystander warm-up", 1, 20, 60, true, bob, beat);
            Stats alone = load("flood: bystander heart_beat alone", 1, 1_000_000, opt.floodSeconds, true, bob, beat);
            out.put("bystander_alone", alone.json());
            row("flood", "bystander heart_beat alone, new TLS conn, c=1 p50/p99", alone.p50p99(), "");
            out.put("one_wave", floodOnce(s, false, "one wave"));
            out.put("sustained", floodOnce(s, true, "sustained"));
        }
        // The same wave against a server whose create_db limits are out of reach: what the limits prevent (each
        // call let in holds a request thread for the whole ready-wait).
        Path dir2 = Files.createDirectories(opt.work.resolve("flood-no-limits"));
        List<String> noLimits = new ArrayList<>(server);
        noLimits.addAll(List.of("--playground.api.limits.create-db-per-user=100000",
                "--playground.api.limits.create-db-per-caller=100000",
                "--playground.api.limits.create-db-in-flight=100000"));
        try (Server s = Server.start(dir2, serverLaunch(), noLimits)) {
            Client bob = s.client("bob");
            load("flood: bystander warm-up (limits off)", 1, 20, 60, true, bob,
                    (c, i) -> c.send("GET", "/api/heart_beat?user_id=bob", null));
            out.put("one_wave_without_limits", floodOnce(s, false, "one wave, limits off"));
        }
        RESULTS.put("flood", out);
    }

    /** One flood against {@code s}, with the bystander's beats measured meanwhile. */
    static Map<String, Object> floodOnce(Server s, boolean sustained, String shape) throws Exception {
        Client alice = s.client("alice");
        Client bob = s.client("bob");
        Map<String, Object> j = new LinkedHashMap<>();
        Map<Integer, java.util.concurrent.atomic.LongAdder> answers = new java.util.concurrent.ConcurrentHashMap<>();
        AtomicReference<String> firstOther = new AtomicReference<>();
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> callers = new ArrayList<>();
        for (int t = 0; t < opt.floodCallers; t++) {
            Thread th = new Thread(null, () -> {
                try {
                    go.await();
                    do {
                        int status;
                        try (Conn c = alice.openFresh()) {
                            Resp r = c.send("POST", "/api/create_db", "{\"user_id\": \"alice\"}");
                            status = r.status;
                            if (status != 429) {
                                firstOther.compareAndSet(null, r.status + " " + r.body);
                            }
                        } catch (Exception e) {
                            status = -1;
                            firstOther.compareAndSet(null, String.valueOf(e));
                        }
                        answers.computeIfAbsent(status, k -> new java.util.concurrent.atomic.LongAdder()).increment();
                    } while (sustained && !stop.get());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "flood-" + t, 256 * 1024);
            th.start();
            callers.add(th);
        }
        go.countDown();
        Stats during = load("flood (" + shape + "): bystander heart_beat", 1, 1_000_000, opt.floodSeconds, true, bob,
                (c, i) -> c.send("GET", "/api/heart_beat?user_id=bob", null));
        stop.set(true);
        for (Thread th : callers) {
            th.join(TimeUnit.SECONDS.toMillis(60));
        }
        Map<String, Long> byStatus = new TreeMap<>();
        answers.forEach((k, v) -> byStatus.put(k == -1 ? "connection_error" : Integer.toString(k), v.sum()));
        j.put("create_db_answers", byStatus);
        if (firstOther.get() != null) {
            String f = firstOther.get();
            j.put("first_answer_other_than_429", f.length() > 300 ? f.substring(0, 300) : f);
        }
        j.put("bystander_during", during.json());
        row("flood", "bystander heart_beat during " + opt.floodCallers + " create_db (" + shape + ") p50/p99, ok/err",
                during.p50p99() + ", " + during.ok + "/" + during.errors, "p99 < 100 ms");
        row("flood", "create_db answers (" + shape + ")", byStatus.toString(), "");
        log("flood (%s): create_db answers %s", shape, byStatus);
        return j;
    }

    // ------------------------------------------------------------------------------------------------- server

    /** How the measured server instances are launched: the fat jar, or the extracted jar with the CDS archive. */
    static List<String> serverLaunch() {
        Path jsa = opt.work.resolve("playground.jsa");
        Path extracted = opt.work.resolve("extracted").resolve(opt.jar.getFileName());
        List<String> l = new ArrayList<>();
        if (Files.exists(jsa) && Files.exists(extracted)) {
            l.add("-XX:SharedArchiveFile=" + jsa);
            l.add("-jar");
            l.add(extracted.toString());
        } else {
            l.add("-jar");
            l.add(opt.jar.toString());
        }
        return l;
    }

    static final class Server implements AutoCloseable {
        final Path dir;
        final int port;
        final int managementPort;
        final Process process;
        final Path logFile;
        double firstOkMillis;
        /** CPU time (user + system, all threads) the server used up to its first 200: robust on a busy machine. */
        double firstOkCpuMillis;
        String apiUrl;
        /** The embedded API server's bearer token (local mode). */
        String localApiToken;
        Client managementClient;
        /** Set for a real API server: API calls are counted there, not by the embedded one. */
        Client k8s;
        String namespace = NS;
        /** Against a real API server: the calls this server made, read from the API server's audit log. */
        final AuditCounter audit = new AuditCounter();
        static volatile boolean managementOverTls;

        private Server(Path dir, int port, int managementPort, Process process, Path logFile) {
            this.dir = dir;
            this.port = port;
            this.managementPort = managementPort;
            this.process = process;
            this.logFile = logFile;
        }

        /** Starts {@code java <jvm options> <launch> --local ...} in {@code dir} and waits for a 200 heart_beat. */
        static Server start(Path dir, List<String> launch, List<String> extra) throws Exception {
            return start(dir, launch, extra, true, Map.of());
        }

        static Server start(Path dir, List<String> launch, List<String> extra, boolean local, Map<String, String> env)
                throws Exception {
            int port = freePort();
            int mgmt = freePort();
            List<String> cmd = new ArrayList<>();
            cmd.add(java());
            cmd.addAll(opt.serverJvm);
            cmd.addAll(launch);
            if (local) {
                cmd.add("--local");
            }
            cmd.add("--port=" + port);
            cmd.add("--management.server.port=" + mgmt);
            cmd.addAll(extra);
            Path logFile = dir.resolve("server-" + port + ".log");
            long t0 = System.nanoTime();
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(logFile.toFile());
            pb.environment().putIfAbsent("MALLOC_ARENA_MAX", "2"); // as the image sets it (functions/pom.xml)
            // The embedded API server requires a bearer token; the setup shortcuts below talk to it directly, so
            // the benchmark chooses it, through the environment (a command line is readable by every local user).
            String token = Long.toHexString(new java.security.SecureRandom().nextLong())
                    + Long.toHexString(new java.security.SecureRandom().nextLong());
            pb.environment().put("PLAYGROUND_LOCAL_API_TOKEN", token);
            pb.environment().putAll(env);
            Process p = pb.start();
            Server s = new Server(dir, port, mgmt, p, logFile);
            s.localApiToken = token;
            try {
                s.awaitFirstOk(t0, 180);
            } catch (Exception e) {
                s.close();
                throw e;
            }
            CURRENT_SERVER = s;
            Matcher m = Pattern.compile("in-memory Kubernetes API at (http\\S+)").matcher(Files.readString(logFile));
            s.apiUrl = m.find() ? m.group(1) : null;
            return s;
        }

        void awaitFirstOk(long t0, int seconds) throws Exception {
            long deadline = t0 + seconds * 1_000_000_000L;
            Path certs = dir.resolve("playground-dev-certs");
            Client alice = null;
            while (System.nanoTime() < deadline) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("server exited with " + process.exitValue() + "; see " + logFile
                            + ":\n" + tail(logFile, 30));
                }
                if (alice == null && Files.exists(certs.resolve("alice/client.key"))
                        && Files.exists(certs.resolve("admin/client.key"))) {
                    try {
                        alice = new Client(certs, "alice", port);
                    } catch (Exception e) {
                        // files still being written
                    }
                }
                if (alice != null) {
                    try (Conn c = alice.open()) {
                        Resp r = c.send("GET", "/api/heart_beat?user_id=alice", null);
                        if (r.status == 200) {
                            firstOkMillis = (System.nanoTime() - t0) / 1e6;
                            firstOkCpuMillis = cpuNanos() / 1e6;
                            return;
                        }
                    } catch (IOException e) {
                        // not listening yet
                    }
                }
                Thread.sleep(10);
            }
            throw new IllegalStateException("no 200 from heart_beat within " + seconds + " s; see " + logFile);
        }

        /**
         * The management port. It is meant to be plain HTTP, but in standalone TLS mode Spring Boot applies
         * server.ssl.* (client-auth=need) to it too, so ask over mutual TLS when plain HTTP is refused.
         */
        String managementGet(String path) throws IOException {
            // The management port opens a moment after the API port's first 200: wait for it (up to 30 s).
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (true) {
                try {
                    return managementGetOnce(path);
                } catch (java.net.ConnectException e) {
                    if (System.nanoTime() > deadline || !process.isAlive()) {
                        throw e;
                    }
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                        throw e;
                    }
                }
            }
        }

        private String managementGetOnce(String path) throws IOException {
            try {
                return plainGet(managementPort, path);
            } catch (IOException plainRefused) {
                try {
                    if (managementClient == null) {
                        managementClient = new Client(dir.resolve("playground-dev-certs"), "admin", managementPort);
                    }
                    try (Conn c = managementClient.open()) {
                        Resp r = c.send("GET", path, null);
                        if (r.status != 200) {
                            throw new IOException("GET " + path + ": " + r.status);
                        }
                        managementOverTls = true;
                        return r.body;
                    }
                } catch (IOException e) {
                    throw e;
                } catch (Exception e) {
                    throw new IOException(e);
                }
            }
        }

        Client client(String who) throws Exception {
            return new Client(dir.resolve("playground-dev-certs"), who, port);
        }

        /** playground_local_api_requests_total by "VERB resource", from the management port. */
        Map<String, Long> apiCounts() throws IOException {
            Map<String, Long> out = new TreeMap<>();
            if (k8s != null && realApi != null && realApi.auditLog() != null && Files.exists(realApi.auditLog())) {
                return audit.counts(realApi.auditLog(), namespace);
            }
            if (k8s != null) {
                String text;
                try (Conn c = k8s.open()) {
                    text = c.send("GET", "/metrics", null).body;
                }
                Matcher m = Pattern.compile("(?m)^apiserver_request_total\\{([^}]*)} ([0-9.eE+]+)$").matcher(text);
                while (m.find()) {
                    Map<String, String> labels = new TreeMap<>();
                    Matcher l = Pattern.compile("(\\w+)=\"([^\"]*)\"").matcher(m.group(1));
                    while (l.find()) {
                        labels.put(l.group(1), l.group(2));
                    }
                    String resource = labels.getOrDefault("resource", "");
                    if (resource.isEmpty()) {
                        continue; // non-resource URLs (/metrics, /healthz)
                    }
                    String sub = labels.getOrDefault("subresource", "");
                    String kind = verbOf(labels.get("verb")) + " " + resource + (sub.isEmpty() ? "" : "/" + sub);
                    out.merge(kind, (long) Double.parseDouble(m.group(2)), Long::sum);
                }
                return out;
            }
            String text = managementGet("/actuator/prometheus");
            Matcher m = Pattern.compile("(?m)^playground_local_api_requests_total\\{request=\"([^\"]+)\"[^}]*} ([0-9.eE+]+)$")
                    .matcher(text);
            while (m.find()) {
                out.put(m.group(1), (long) Double.parseDouble(m.group(2)));
            }
            return out;
        }

        /** utime + stime of the server process, from /proc (clock ticks of 10 ms). */
        long cpuNanos() {
            try {
                String stat = Files.readString(Path.of("/proc/" + process.pid() + "/stat"));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10_000_000L;
            } catch (Exception e) {
                return 0;
            }
        }

        Map<String, Object> memory() throws IOException {
            Map<String, Object> m = new LinkedHashMap<>();
            for (String line : Files.readAllLines(Path.of("/proc/" + process.pid() + "/status"))) {
                if (line.startsWith("VmRSS:") || line.startsWith("VmHWM:")) {
                    long kb = Long.parseLong(line.replaceAll("[^0-9]", ""));
                    m.put(line.startsWith("VmRSS") ? "rss_mb" : "peak_rss_mb", Math.round(kb / 1024.0));
                }
            }
            return m;
        }

        /**
         * Bench-only setup: database roots POSTed straight to the embedded API server (local mode's fabric8 mock
         * server, plain HTTP on 127.0.0.1), with the labels and annotation the playground reads.
         */
        double createRootsDirectly(String[] users, int from, int to) throws Exception {
            if (apiUrl == null && k8s == null) {
                throw new IllegalStateException("embedded API URL not found in " + logFile);
            }
            int apiPort = k8s != null ? k8s.port : java.net.URI.create(apiUrl).getPort();
            long t0 = System.nanoTime();
            int threads = k8s != null ? 16 : 4;
            AtomicInteger next = new AtomicInteger(from);
            AtomicReference<String> error = new AtomicReference<>();
            Thread[] ts = new Thread[threads];
            String path = "/apis/apps/v1/namespaces/" + namespace + "/deployments";
            for (int t = 0; t < threads; t++) {
                ts[t] = new Thread(() -> {
                    try (Conn c = k8s != null ? k8s.open() : Conn.plain(apiPort).bearer(localApiToken)) {
                        int i;
                        while ((i = next.getAndIncrement()) < to && error.get() == null) {
                            Resp r = c.send("POST", path, slimRoot(users[i], namespace), "application/json");
                            if (r.status != 201 && r.status != 200) {
                                error.compareAndSet(null, r.status + " " + r.body);
                            }
                        }
                    } catch (Exception e) {
                        error.compareAndSet(null, String.valueOf(e));
                    }
                });
                ts[t].start();
            }
            for (Thread t : ts) {
                t.join(TimeUnit.MINUTES.toMillis(30));
            }
            if (error.get() != null) {
                throw new IllegalStateException("creating roots: " + error.get());
            }
            return round((System.nanoTime() - t0) / 1e9, 1);
        }

        /** Bench-only setup: beats "now" for these users, merge-patched straight into the heartbeat ConfigMaps. */
        void writeBeatsDirectly(String[] users, int shards) throws Exception {
            String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
            List<List<String>> byShard = new ArrayList<>();
            for (int i = 0; i < shards; i++) {
                byShard.add(new ArrayList<>());
            }
            for (String u : users) {
                byShard.get(shard(u, shards)).add(u);
            }
            try (Conn c = k8s != null ? k8s.open()
                    : Conn.plain(java.net.URI.create(apiUrl).getPort()).bearer(localApiToken)) {
                for (int i = 0; i < shards; i++) {
                    StringBuilder data = new StringBuilder();
                    for (String u : byShard.get(i)) {
                        data.append(data.length() == 0 ? "" : ",").append('"').append(u).append("\":\"").append(now).append('"');
                    }
                    String name = String.format("heartbeats-%02d", i);
                    String p = "/api/v1/namespaces/" + namespace + "/configmaps";
                    Resp r = c.send("PATCH", p + "/" + name, "{\"data\":{" + data + "}}", "application/merge-patch+json");
                    if (r.status == 404) {
                        r = c.send("POST", p, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\""
                                + name + "\",\"labels\":{\"app.kubernetes.io/managed-by\":\"sqlflow-playground\","
                                + "\"app.kubernetes.io/part-of\":\"sqlflow-playground\","
                                + "\"app.kubernetes.io/component\":\"heartbeats\"}},\"data\":{" + data + "}}", "application/json");
                    }
                    if (r.status / 100 != 2) {
                        throw new IllegalStateException("writing beats into " + name + ": " + r.status + " " + r.body);
                    }
                }
            }
        }

        void stopGracefully() throws InterruptedException {
            process.destroy(); // SIGTERM: Spring's graceful shutdown, JVM exit hooks (CDS archive dump)
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }

        @Override
        public void close() throws InterruptedException {
            if (process.isAlive()) {
                stopGracefully();
            }
        }
    }

    /** A slim Deployment that the playground takes for a user's database root. */
    static String slimRoot(String user, String namespace) {
        String labels = "{\"app.kubernetes.io/managed-by\":\"sqlflow-playground\",\"app.kubernetes.io/part-of\":"
                + "\"sqlflow-playground\",\"app.kubernetes.io/component\":\"database\",\"app.kubernetes.io/name\":"
                + "\"mysql\",\"sqlflow-playground.org/user\":\"" + user + "\"}";
        return "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"db-" + user
                + "\",\"namespace\":\"" + namespace + "\",\"labels\":" + labels
                + ",\"annotations\":{\"sqlflow-playground.org/user-id\":\"" + user + "\"}},"
                + "\"spec\":{\"replicas\":1,\"selector\":{\"matchLabels\":{\"sqlflow-playground.org/user\":\"" + user
                + "\"}},\"template\":{\"metadata\":{\"labels\":" + labels + "},\"spec\":{\"containers\":[{\"name\":"
                + "\"mysql\",\"image\":\"bench\"}]}}}}";
    }

    /** The playground's shard of a user id: the first four bytes of SHA-256(id), mod shards (cluster/UserKey). */
    static int shard(String userId, int shards) throws Exception {
        byte[] d = MessageDigest.getInstance("SHA-256").digest(userId.getBytes(StandardCharsets.UTF_8));
        int h = ((d[0] & 0xff) << 24) | ((d[1] & 0xff) << 16) | ((d[2] & 0xff) << 8) | (d[3] & 0xff);
        return Math.floorMod(h, shards);
    }

    // ------------------------------------------------------------------------------------------------- client

    /** One identity (a dev-certs bundle) against one server port. */
    static final class Client {
        final int port;
        final KeyManager[] keys;
        final TrustManager[] trust;
        final SSLSocketFactory shared;

        Client(Path certs, String who, int port) throws Exception {
            this(certs.resolve("ca.crt"), certs.resolve(who).resolve("client.crt"), certs.resolve(who).resolve("client.key"), port);
        }

        Client(Path caFile, Path certFile, Path keyFile, int port) throws Exception {
            this.port = port;
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            KeyStore ts = KeyStore.getInstance("PKCS12");
            ts.load(null, null);
            int i = 0;
            try (InputStream in = Files.newInputStream(caFile)) {
                for (Certificate c : cf.generateCertificates(in)) {
                    ts.setCertificateEntry("ca" + i++, c);
                }
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ts);
            List<Certificate> chain = new ArrayList<>();
            try (InputStream in = Files.newInputStream(certFile)) {
                chain.addAll(cf.generateCertificates(in));
            }
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("client", readKey(keyFile), new char[0],
                    chain.toArray(Certificate[]::new));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, new char[0]);
            keys = kmf.getKeyManagers();
            trust = tmf.getTrustManagers();
            shared = context().getSocketFactory();
        }

        SSLContext context() throws Exception {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(keys, trust, null);
            return ctx;
        }

        /** A kept-alive connection; the handshake may resume a cached session. */
        Conn open() throws IOException {
            return Conn.tls(shared, port);
        }

        /** A new connection with a full handshake, like a client that keeps no TLS session (tornado). */
        Conn openFresh() throws Exception {
            return Conn.tls(context().getSocketFactory(), port);
        }
    }

    static PrivateKey readKey(Path file) throws Exception {
        String pem = Files.readString(file);
        if (!pem.contains("BEGIN PRIVATE KEY")) {
            throw new IllegalArgumentException(file + ": expected an unencrypted PKCS#8 key");
        }
        byte[] der = Base64.getMimeDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", ""));
        for (String alg : new String[] {"EC", "RSA", "Ed25519"}) {
            try {
                return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (Exception e) {
                // try the next algorithm
            }
        }
        throw new IllegalArgumentException(file + ": unsupported key algorithm");
    }

    record Resp(int status, String body) {
    }

    /** HTTP/1.1 over one socket, kept alive. */
    static final class Conn implements Closeable {
        final Socket socket;
        final InputStream in;
        final OutputStream out;
        final String hostHeader;
        volatile boolean closed;
        /** Sent as "Authorization: Bearer ..." when set (the embedded API server). */
        String bearer;

        private Conn(Socket socket, int port) throws IOException {
            this.socket = socket;
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(60_000);
            this.in = new BufferedInputStream(socket.getInputStream(), 8192);
            this.out = new BufferedOutputStream(socket.getOutputStream(), 4096);
            this.hostHeader = HOST + ":" + port;
        }

        static Conn tls(SSLSocketFactory f, int port) throws IOException {
            SSLSocket s = (SSLSocket) f.createSocket();
            s.connect(new InetSocketAddress(HOST, port), 5000);
            s.startHandshake();
            return new Conn(s, port);
        }

        Conn bearer(String token) {
            this.bearer = token;
            return this;
        }

        static Conn plain(int port) throws IOException {
            Socket s = new Socket();
            s.connect(new InetSocketAddress(HOST, port), 5000);
            return new Conn(s, port);
        }

        Resp send(String method, String path, String body) throws IOException {
            // Like the SQLFlow magic (tornado): JSON labelled as a form.
            return send(method, path, body, "application/x-www-form-urlencoded");
        }

        Resp send(String method, String path, String body, String contentType) throws IOException {
            byte[] b = body == null ? null : body.getBytes(StandardCharsets.UTF_8);
            StringBuilder h = new StringBuilder(160).append(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: ")
                    .append(hostHeader).append("\r\n");
            if (bearer != null) {
                h.append("Authorization: Bearer ").append(bearer).append("\r\n");
            }
            if (b != null) {
                h.append("Content-Type: ").append(contentType).append("\r\nContent-Length: ").append(b.length).append("\r\n");
            }
            h.append("\r\n");
            out.write(h.toString().getBytes(StandardCharsets.ISO_8859_1));
            if (b != null) {
                out.write(b);
            }
            out.flush();
            return read();
        }

        private Resp read() throws IOException {
            String status = line();
            if (status == null) {
                throw new IOException("connection closed");
            }
            int code = Integer.parseInt(status.substring(9, 12));
            long length = -1;
            boolean chunked = false;
            boolean close = false;
            String l;
            while ((l = line()) != null && !l.isEmpty()) {
                int colon = l.indexOf(':');
                if (colon < 0) {
                    continue;
                }
                String name = l.substring(0, colon).trim().toLowerCase(Locale.ROOT);
                String value = l.substring(colon + 1).trim();
                switch (name) {
                    case "content-length" -> length = Long.parseLong(value);
                    case "transfer-encoding" -> chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
                    case "connection" -> close = value.equalsIgnoreCase("close");
                    default -> { }
                }
            }
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            if (chunked) {
                while (true) {
                    String size = line();
                    int n = Integer.parseInt(size.split(";")[0].trim(), 16);
                    if (n == 0) {
                        while ((l = line()) != null && !l.isEmpty()) {
                            // trailers
                        }
                        break;
                    }
                    body.write(in.readNBytes(n));
                    line();
                }
            } else if (length >= 0) {
                body.write(in.readNBytes((int) length));
            } else if (close) {
                body.write(in.readAllBytes());
            }
            if (close) {
                close();
            }
            return new Resp(code, body.toString(StandardCharsets.UTF_8));
        }

        private String line() throws IOException {
            StringBuilder sb = new StringBuilder(64);
            int c;
            while ((c = in.read()) != -1) {
                if (c == '\n') {
                    int len = sb.length();
                    return len > 0 && sb.charAt(len - 1) == '\r' ? sb.substring(0, len - 1) : sb.toString();
                }
                sb.append((char) c);
            }
            return sb.length() == 0 ? null : sb.toString();
        }

        @Override
        public void close() {
            closed = true;
            try {
                socket.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }

    static String plainGet(int port, String path) throws IOException {
        try (Conn c = Conn.plain(port)) {
            Resp r = c.send("GET", path, null);
            if (r.status != 200) {
                throw new IOException("GET " + path + " on " + port + ": " + r.status);
            }
            return r.body;
        }
    }

    // ----------------------------------------------------------------------------------------------- helpers

    /** A map literal that allows nulls and keeps its order. */
    static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i + 1 < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    static Map<String, Long> diff(Map<String, Long> before, Map<String, Long> after) {
        Map<String, Long> d = new TreeMap<>();
        after.forEach((k, v) -> {
            long x = v - before.getOrDefault(k, 0L);
            if (x != 0) {
                d.put(k, x);
            }
        });
        return d;
    }

    /** kube-apiserver's verbs (CREATE, LIST, ...) as the HTTP verbs the embedded server counts. */
    /**
     * Counts, from the API server's audit log (JSON lines, Metadata level), the requests the playground server
     * made: user agent fabric8 (the bench's own setup requests carry none), in the server's namespace, one per
     * request (stage ResponseComplete). Only what was appended since the counter's first call is read; a rotated
     * log (audit-TIME.log beside it) is followed by inode.
     */
    static final class AuditCounter {
        private static final Pattern STAGE = Pattern.compile("\"stage\":\"ResponseComplete\"");
        private static final Pattern VERB = Pattern.compile("\"verb\":\"(\\w+)\"");
        private static final Pattern UA = Pattern.compile("\"userAgent\":\"fabric8");
        private static final Pattern REF = Pattern.compile("\"objectRef\":\\{([^}]*)}");
        private static final Pattern FIELD = Pattern.compile("\"(resource|namespace|subresource)\":\"([^\"]*)\"");
        private final Map<Object, Long> offsets = new java.util.HashMap<>();
        private final Map<String, Long> counts = new TreeMap<>();
        private boolean started;

        synchronized Map<String, Long> counts(Path log, String namespace) throws IOException {
            String base = log.getFileName().toString().replaceAll("\\.log$", "");
            List<Path> files = new ArrayList<>();
            try (var siblings = Files.list(log.getParent())) {
                siblings.filter(p -> p.getFileName().toString().startsWith(base + "-")).sorted().forEach(files::add);
            }
            files.add(log);
            for (Path f : files) {
                Object inode = Files.getAttribute(f, "unix:ino");
                long size = Files.size(f);
                if (!started) {
                    offsets.put(inode, size);
                    continue;
                }
                long from = offsets.getOrDefault(inode, 0L);
                if (size <= from) {
                    continue;
                }
                try (var ch = java.nio.channels.FileChannel.open(f)) {
                    ch.position(from);
                    var in = new java.io.BufferedReader(java.nio.channels.Channels.newReader(ch, StandardCharsets.UTF_8));
                    long read = from;
                    String line;
                    while ((line = in.readLine()) != null) {
                        if (!line.endsWith("}")) {
                            break; // a line still being written: read it next time
                        }
                        read += line.getBytes(StandardCharsets.UTF_8).length + 1;
                        count(line, namespace);
                    }
                    offsets.put(inode, read);
                }
            }
            started = true;
            return new TreeMap<>(counts);
        }

        private void count(String line, String namespace) {
            if (!STAGE.matcher(line).find() || !UA.matcher(line).find()) {
                return;
            }
            Matcher ref = REF.matcher(line);
            Matcher verb = VERB.matcher(line);
            if (!ref.find() || !verb.find()) {
                return;
            }
            Map<String, String> f = new java.util.HashMap<>();
            Matcher m = FIELD.matcher(ref.group(1));
            while (m.find()) {
                f.put(m.group(1), m.group(2));
            }
            if (!namespace.equals(f.get("namespace")) || f.get("resource") == null) {
                return;
            }
            String v = switch (verb.group(1)) {
                case "create" -> "POST";
                case "update" -> "PUT";
                case "patch" -> "PATCH";
                case "delete", "deletecollection" -> "DELETE";
                case "list" -> "LIST";
                case "watch" -> "WATCH";
                default -> verb.group(1).toUpperCase(Locale.ROOT);
            };
            String sub = f.get("subresource");
            counts.merge(v + " " + f.get("resource") + (sub == null ? "" : "/" + sub), 1L, Long::sum);
        }
    }

    static String verbOf(String apiVerb) {
        return switch (apiVerb == null ? "" : apiVerb) {
            case "CREATE" -> "POST";
            case "UPDATE" -> "PUT";
            case "LIST" -> "GET(list)";
            case "WATCH" -> "GET(watch)";
            case "DELETECOLLECTION" -> "DELETE";
            case "APPLY" -> "PATCH";
            default -> apiVerb;
        };
    }

    static boolean isWrite(String kind) {
        String verb = kind.split(" ")[0];
        return verb.equals("POST") || verb.equals("PUT") || verb.equals("PATCH") || verb.equals("DELETE");
    }

    static double writesPer(Map<String, Long> d, long ops) {
        long w = d.entrySet().stream().filter(e -> isWrite(e.getKey())).mapToLong(Map.Entry::getValue).sum();
        return ops == 0 ? Double.NaN : round((double) w / ops, 4);
    }

    static Map<String, Object> perOp(Map<String, Long> d, long ops) {
        Map<String, Object> m = new TreeMap<>();
        d.forEach((k, v) -> m.put(k, round((double) v / Math.max(1, ops), 3)));
        return m;
    }

    static String compact(Map<String, Long> d) {
        StringBuilder sb = new StringBuilder();
        d.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ").append(k).append(' ').append(v));
        return sb.toString();
    }

    static long selfCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName(HOST))) {
            return s.getLocalPort();
        }
    }

    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    static void run(List<String> cmd, Path dir, int seconds) throws Exception {
        Files.createDirectories(dir);
        Path log = dir.resolve("cmd.log");
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(cmd + " did not finish in " + seconds + " s");
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException(cmd + " failed: " + tail(log, 20));
        }
    }

    static String tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log)";
        }
    }

    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return String.valueOf(ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        }
    }

    static Double median(List<Double> xs) {
        if (xs.isEmpty()) {
            return null;
        }
        List<Double> s = new ArrayList<>(xs);
        s.sort(null);
        return s.get(s.size() / 2);
    }

    static double round(double x, int digits) {
        if (Double.isNaN(x) || Double.isInfinite(x)) {
            return x;
        }
        double f = Math.pow(10, digits);
        return Math.round(x * f) / f;
    }

    static String fmtMs(Double ms) {
        return ms == null || ms.isNaN() ? "n/a" : ms >= 100 ? String.format(Locale.ROOT, "%.0f ms", ms)
                : String.format(Locale.ROOT, "%.2f ms", ms);
    }

    static String fmtRate(double r) {
        return String.format(Locale.ROOT, "%.0f/s", r);
    }

    static String fmt3(double x) {
        return String.format(Locale.ROOT, "%.3f", x);
    }

    static void row(String section, String metric, String value, String target) {
        TABLE.add(new String[] {section, metric, value, target});
    }

    static void log(String format, Object... args) {
        System.err.printf("[bench %s] %s%n", Instant.now().truncatedTo(ChronoUnit.SECONDS), String.format(Locale.ROOT, format, args));
    }

    static void writeResults(boolean print) throws IOException {
        RESULTS.put("table", TABLE.stream().map(r -> map("section", r[0], "metric", r[1], "value", r[2], "target", r[3]))
                .toList());
        Files.createDirectories(opt.out.getParent());
        Path tmp = opt.out.resolveSibling(opt.out.getFileName() + ".tmp");
        Files.writeString(tmp, toJson(RESULTS, "") + "\n");
        Files.move(tmp, opt.out, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        if (!print) {
            return;
        }
        int w0 = 10;
        int w1 = 20;
        int w2 = 10;
        for (String[] r : TABLE) {
            w0 = Math.max(w0, r[0].length());
            w1 = Math.max(w1, r[1].length());
            w2 = Math.max(w2, r[2].length());
        }
        StringBuilder sb = new StringBuilder();
        String f = "| %-" + w0 + "s | %-" + w1 + "s | %-" + w2 + "s | %s |%n";
        sb.append(String.format(f, "part", "measure", "result", "target"));
        sb.append(String.format(f, "-".repeat(w0), "-".repeat(w1), "-".repeat(w2), "---"));
        for (String[] r : TABLE) {
            sb.append(String.format(f, r[0], r[1], r[2], r[3]));
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> env = (Map<String, Object>) RESULTS.get("environment");
        sb.append(String.format("%n%s cores, %s, %s, load average %s -> %s; %s%n", env.get("cores"), env.get("java"),
                env.get("date"), env.get("load_average_before"), env.get("load_average_after"), env.get("kubernetes_api")));
        System.out.print(sb);
        System.out.println("JSON: " + opt.out);
    }

    static String toJson(Object o, String indent) {
        if (o == null) {
            return "null";
        }
        if (o instanceof String s) {
            StringBuilder sb = new StringBuilder("\"");
            for (char c : s.toCharArray()) {
                switch (c) {
                    case '"' -> sb.append("\\\"");
                    case '\\' -> sb.append("\\\\");
                    case '\n' -> sb.append("\\n");
                    case '\r' -> sb.append("\\r");
                    case '\t' -> sb.append("\\t");
                    default -> {
                        if (c < 0x20) {
                            sb.append(String.format("\\u%04x", (int) c));
                        } else {
                            sb.append(c);
                        }
                    }
                }
            }
            return sb.append('"').toString();
        }
        if (o instanceof Double d) {
            return d.isNaN() || d.isInfinite() ? "null" : (d == Math.rint(d) && Math.abs(d) < 1e15 ? String.valueOf(d.longValue()) : d.toString());
        }
        if (o instanceof Number || o instanceof Boolean) {
            return o.toString();
        }
        String in = indent + "  ";
        if (o instanceof Map<?, ?> m) {
            if (m.isEmpty()) {
                return "{}";
            }
            StringBuilder sb = new StringBuilder("{\n");
            int i = 0;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                sb.append(in).append(toJson(String.valueOf(e.getKey()), in)).append(": ").append(toJson(e.getValue(), in))
                        .append(++i < m.size() ? ",\n" : "\n");
            }
            return sb.append(indent).append('}').toString();
        }
        if (o instanceof Collection<?> c) {
            if (c.isEmpty()) {
                return "[]";
            }
            StringBuilder sb = new StringBuilder("[\n");
            int i = 0;
            for (Object x : c) {
                sb.append(in).append(toJson(x, in)).append(++i < c.size() ? ",\n" : "\n");
            }
            return sb.append(indent).append(']').toString();
        }
        return toJson(String.valueOf(o), indent);
    }
}
