package org.sqlflow.playground.bench;

import static org.sqlflow.playground.bench.Results.map;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The playground benchmark: starts the server as a separate process (local mode, or against a real API server),
 * drives it over mutual TLS with a small blocking HTTP/1.1 client ({@link Connection}, one thread per connection,
 * so the load generator stays out of the way on 2 cores), and prints a table and writes the results file
 * (bench/results/latest.json). Every loop is bounded in count and time; all traffic goes to 127.0.0.1.
 *
 * <p>Run through {@code bash bench/run.sh} (which builds what is missing); options: {@link Options#USAGE}.
 */
public final class Bench {

    /** The sections in the order they run. */
    private static final Map<String, Section> SECTIONS = sections();

    private Bench() {}

    private static Map<String, Section> sections() {
        Map<String, Section> s = new LinkedHashMap<>();
        s.put("start", new StartSection());
        s.put("prodstart", new ProductionStartSection());
        s.put("heartbeat", new HeartbeatSection());
        s.put("client", new ClientPathSection());
        s.put("scale", new ScaleSection());
        s.put("reap", new ReapSection());
        s.put("flood", new FloodSection());
        s.put("realapi", new RealApiSection());
        return s;
    }

    public static void main(String[] args) throws Exception {
        Path root = Path.of("").toAbsolutePath();
        Options opt = Options.parse(args, root);
        if (opt.help) {
            System.out.println(Options.USAGE);
            return;
        }
        for (String section : opt.sections.split(",")) {
            if (!SECTIONS.containsKey(section)) {
                throw new IllegalArgumentException("unknown section " + section + "\n" + Options.USAGE);
            }
        }
        if (opt.work == null) {
            opt.work = Files.createTempDirectory("playground-bench-");
        }
        if (!Files.exists(opt.jar)) {
            throw new IllegalStateException(opt.jar + " is missing: run bash bench/run.sh, which builds it");
        }
        Results results = new Results(opt.out);
        Map<String, Object> env = results.section("environment");
        env.put("date", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
        env.put("cores", Runtime.getRuntime().availableProcessors());
        env.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        env.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        env.put("kubernetes_api", "embedded fabric8 mock server (local mode, in the server's JVM)");
        env.put(
                "load_generator",
                "bench/ (org.sqlflow.playground.bench): blocking HTTP/1.1 over JDK SSLSockets," + " same machine");
        env.put("load_average_before", loadAverage());
        env.put("server_jvm_options", opt.serverJvm);
        Run run = new Run(opt, results);
        if (opt.serverJdk != null) {
            env.put("server_java", run.serverJavaVersion());
        }
        env.put(
                "options",
                map(
                        "seconds_per_level",
                        opt.seconds,
                        "users",
                        opt.users,
                        "scale_users",
                        opt.scaleUsers,
                        "reap_sizes",
                        Arrays.toString(opt.reapSizes),
                        "database_start_delay",
                        opt.delay));
        Format.log("work dir %s, load average %s", opt.work, loadAverage());

        long t0 = System.nanoTime();
        try {
            for (Map.Entry<String, Section> section : SECTIONS.entrySet()) {
                if (opt.has(section.getKey())) {
                    section.getValue().run(run);
                    results.write(); // so far, in case the run is stopped
                }
            }
        } finally {
            env.put("load_average_after", loadAverage());
            env.put("management_port_needed_mutual_tls", Server.managementOverTls);
            if (run.realApiInUse() != null) {
                env.put("kubernetes_api_real", run.realApiInUse().describe());
            }
            env.put("bench_seconds", Math.round((System.nanoTime() - t0) / 1e9));
            results.write();
            results.print(System.out);
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
}
