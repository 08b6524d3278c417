package org.sqlflow.playground.bench;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.sqlflow.playground.LaunchOptions;
import org.sqlflow.playground.certs.DevCertificates;

/**
 * One measured server: {@code java <flags> -jar ... [--local] --port=... --management.server.port=...} in its own
 * directory, from process start to its first 200 from heart_beat, then the figures only it can give: its CPU
 * time, its resident memory and the Kubernetes API calls it made.
 */
final class Server implements MeasuredProcess, AutoCloseable {

    private static final Pattern EMBEDDED_API = Pattern.compile("in-memory Kubernetes API at (http\\S+)");
    private static final Pattern LOCAL_API_REQUESTS =
            Pattern.compile("(?m)^playground_local_api_requests_total\\{request=\"([^\"]+)\"[^}]*} ([0-9.eE+]+)$");
    /** The management port asked for mutual TLS (standalone TLS mode applies server.ssl.* to it too). */
    static volatile boolean managementOverTls;

    final Path dir;
    final int port;
    final Process process;
    final Path logFile;
    final double firstOkMillis;
    /** CPU time (user + system, all threads) the server used up to its first 200: robust on a busy machine. */
    final double firstOkCpuMillis;
    /** Set against a real API server: the calls are counted there, in this namespace. */
    final KubernetesApi realApi;

    final String namespace;
    private final int managementPort;
    /** The embedded API server's URL and bearer token (local mode). */
    private final String embeddedApiUrl;

    private final String embeddedApiToken;
    private final AuditLog audit = new AuditLog();
    private TlsClient managementClient;

    private Server(
            Path dir,
            int port,
            int managementPort,
            Process process,
            Path logFile,
            double[] firstOk,
            KubernetesApi realApi,
            String namespace,
            String embeddedApiToken) {
        this.dir = dir;
        this.port = port;
        this.managementPort = managementPort;
        this.process = process;
        this.logFile = logFile;
        this.firstOkMillis = firstOk[0];
        this.firstOkCpuMillis = firstOk[1];
        this.realApi = realApi;
        this.namespace = namespace;
        this.embeddedApiToken = embeddedApiToken;
        this.embeddedApiUrl = realApi != null ? null : embeddedApiUrl(logFile);
    }

    /**
     * Starts the server in {@code dir} and waits (up to 3 minutes) for its first 200 from heart_beat.
     *
     * @param command the JVM, its flags and the launch ({@code -jar ...}), without the server's own arguments
     * @param realApi null for local mode (the embedded API server); else the API server it is pointed at
     */
    static Server start(Path dir, List<String> command, List<String> args, KubernetesApi realApi, String namespace)
            throws Exception {
        return start(dir, command, args, realApi, namespace, realApi == null, tlsProbe(dir));
    }

    /**
     * Starts the server as Knative runs it: gateway mode (plain HTTP, identity and proof in headers, the proof
     * read from {@code proofDirectory}), against {@code api}, and waits for its first 200 from heart_beat.
     */
    static Server startGateway(
            Path dir, List<String> command, List<String> args, KubernetesApi api, String namespace, Path proofDirectory)
            throws Exception {
        String proof = Files.readString(proofDirectory.resolve("current")).trim();
        List<String> all = new ArrayList<>(List.of(
                "--playground.identity.source=gateway",
                "--playground.identity.proof-directory=" + proofDirectory,
                "--playground.namespace=" + namespace));
        all.addAll(args);
        return start(dir, command, all, api, namespace, false, port -> {
            try (Connection c = Connection.plain(port)) {
                c.header("x-playground-gateway-proof", proof).header("x-playground-client-subject", "CN=alice");
                return c.get("/api/heart_beat?user_id=alice").status() == 200;
            }
        });
    }

    /** Whether the server answers 200 yet; an IOException means it does not listen yet. */
    interface Probe {
        boolean ok(int port) throws Exception;
    }

    /** heart_beat as alice over mutual TLS, once the dev certificates are there. */
    private static Probe tlsProbe(Path dir) {
        DevCertificates certs = new DevCertificates(dir.resolve(LaunchOptions.DEV_CERTS_DIR));
        TlsClient[] alice = new TlsClient[1];
        return port -> {
            if (alice[0] == null && Files.exists(certs.clientKey("alice")) && Files.exists(certs.clientKey("admin"))) {
                try {
                    alice[0] = TlsClient.bundle(certs.bundle("alice"), port, null);
                } catch (Exception e) {
                    return false; // files still being written
                }
            }
            if (alice[0] == null) {
                return false;
            }
            try (Connection c = alice[0].open()) {
                return c.get("/api/heart_beat?user_id=alice").status() == 200;
            }
        };
    }

    private static Server start(
            Path dir,
            List<String> command,
            List<String> args,
            KubernetesApi realApi,
            String namespace,
            boolean local,
            Probe probe)
            throws Exception {
        int port = freePort();
        int management = freePort();
        while (management == port) {
            // Two probes of port 0 can name the same free port, and the server refuses a management address on
            // its API port ("not listening on a separate port"), the error one start of the CDS variant failed with.
            management = freePort();
        }
        List<String> cmd = new ArrayList<>(command);
        if (local) {
            cmd.add("--local");
        }
        cmd.add("--port=" + port);
        cmd.add("--management.server.port=" + management);
        cmd.addAll(args);
        Path logFile = dir.resolve("server-" + port + ".log");
        long t0 = System.nanoTime();
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(logFile.toFile());
        pb.environment().putIfAbsent("MALLOC_ARENA_MAX", "2"); // as the image sets it (functions/pom.xml)
        // The embedded API server requires a bearer token; the setup shortcuts talk to it directly, so the
        // benchmark chooses it, through the environment (a command line is readable by every local user).
        byte[] random = new byte[16];
        new SecureRandom().nextBytes(random);
        String token = HexFormat.of().formatHex(random);
        pb.environment().put("PLAYGROUND_LOCAL_API_TOKEN", token);
        if (realApi != null) {
            pb.environment().put("KUBECONFIG", realApi.kubeconfig().toString());
        }
        Process p = pb.start();
        double[] firstOk;
        try {
            firstOk = awaitFirstOk(p, probe, port, logFile, t0, 180);
        } catch (Exception e) {
            stop(p);
            throw e;
        }
        return new Server(dir, port, management, p, logFile, firstOk, realApi, namespace, token);
    }

    /** Milliseconds and CPU milliseconds from {@code t0} to the first 200 from heart_beat (as alice). */
    static double[] awaitFirstOk(Process process, Probe probe, int port, Path logFile, long t0, int seconds)
            throws Exception {
        long deadline = t0 + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException(
                        "server exited with " + process.exitValue() + "; see " + logFile + ":\n" + tail(logFile, 30));
            }
            try {
                if (probe.ok(port)) {
                    return new double[] {(System.nanoTime() - t0) / 1e6, cpuNanos(process) / 1e6};
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(10);
        }
        throw new IllegalStateException("no 200 from heart_beat within " + seconds + " s; see " + logFile);
    }

    private static String embeddedApiUrl(Path logFile) {
        try {
            Matcher m = EMBEDDED_API.matcher(Files.readString(logFile));
            return m.find() ? m.group(1) : null;
        } catch (IOException e) {
            return null;
        }
    }

    /** A client with one of the dev certificates ({@code alice}, {@code bob}, {@code admin}). */
    TlsClient client(String who) throws Exception {
        return TlsClient.bundle(new DevCertificates(dir.resolve(LaunchOptions.DEV_CERTS_DIR)).bundle(who), port, this);
    }

    /**
     * A connection straight to the Kubernetes API the server uses, for the setup shortcuts: the embedded one
     * (plain HTTP on 127.0.0.1 with its bearer token) or the real one (mutual TLS).
     */
    Connection kubernetes() throws IOException {
        if (realApi != null) {
            return realApi.client().open();
        }
        if (embeddedApiUrl == null) {
            throw new IllegalStateException("embedded API URL not found in " + logFile);
        }
        return Connection.plain(URI.create(embeddedApiUrl).getPort()).bearer(embeddedApiToken);
    }

    /**
     * A GET on the management port. It is meant to be plain HTTP, but in standalone TLS mode Spring Boot applies
     * server.ssl.* (client-auth=need) to it too, so ask over mutual TLS when plain HTTP is refused.
     */
    String managementGet(String path) throws Exception {
        // The management port opens a moment after the API port's first 200: wait for it (up to 30 s).
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                return managementGetOnce(path);
            } catch (ConnectException e) {
                if (System.nanoTime() > deadline || !process.isAlive()) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
    }

    private String managementGetOnce(String path) throws Exception {
        try (Connection c = Connection.plain(managementPort)) {
            Connection.Response r = c.get(path);
            if (r.status() == 200) {
                return r.body();
            }
        } catch (ConnectException notYetListening) {
            throw notYetListening;
        } catch (IOException plainRefused) {
            // a TLS port: asked again below
        }
        if (managementClient == null) {
            managementClient = TlsClient.bundle(
                    new DevCertificates(dir.resolve(LaunchOptions.DEV_CERTS_DIR)).bundle(DevCertificates.ADMIN),
                    managementPort,
                    null);
        }
        Connection.Response r;
        try (Connection c = managementClient.open()) {
            r = c.get(path);
        }
        if (r.status() != 200) {
            throw new IOException("GET " + path + " on " + managementPort + ": " + r.status());
        }
        managementOverTls = true;
        return r.body();
    }

    /**
     * The Kubernetes API calls this server made so far, by "VERB resource": in local mode from the embedded
     * server's own counter, against a real API server from its audit log (or its metrics when it writes none).
     */
    Map<String, Long> apiCounts() throws Exception {
        if (realApi != null) {
            return realApi.auditLog() != null && Files.exists(realApi.auditLog())
                    ? audit.counts(realApi.auditLog(), namespace)
                    : realApi.requestTotals();
        }
        Map<String, Long> out = new TreeMap<>();
        Matcher m = LOCAL_API_REQUESTS.matcher(managementGet("/actuator/prometheus"));
        while (m.find()) {
            out.put(m.group(1), (long) Double.parseDouble(m.group(2)));
        }
        return out;
    }

    /** utime + stime of the server process. */
    @Override
    public long cpuNanos() {
        return cpuNanos(process);
    }

    /** From /proc (clock ticks of 10 ms); 0 when it cannot be read. */
    static long cpuNanos(Process process) {
        try {
            String stat = Files.readString(Path.of("/proc/" + process.pid() + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10_000_000L;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** Resident memory now and at its peak (VmRSS, VmHWM), in MB. */
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

    /** SIGTERM: Spring's graceful shutdown and the JVM's exit hooks (which write a CDS archive). */
    void stopGracefully() throws InterruptedException {
        stop(process);
    }

    static void stop(Process process) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Override
    public void close() {
        close(process);
    }

    /** {@link #stop}, and on an interrupt a forced stop with the interrupt kept. */
    static void close(Process process) {
        try {
            stop(process);
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(Connection.HOST))) {
            return s.getLocalPort();
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
}
