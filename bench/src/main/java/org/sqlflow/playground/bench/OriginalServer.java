package org.sqlflow.playground.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.sqlflow.playground.certs.DevCertificates;

/**
 * The original playground server (sql-machine-learning/playground, {@code python/sqlflow_playground/server.py}),
 * run from a checkout the user names with {@code --original=DIR}; its code is never part of this project. Facts
 * from its source: a tornado {@code HTTPServer} on {@code --port}, TLS from {@code --server_crt}/{@code
 * --server_key}/{@code --ca_crt} through {@code ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)}, whose
 * {@code verify_mode} stays {@code CERT_NONE}: one-way TLS, it never asks for a client certificate. Its
 * heart_beat prints a line and answers {@code hello <user>}; it stores nothing. Its {@code setup.py} pins tornado
 * 6.0.4; here it runs on {@code --original-python} and whatever tornado that has (Debian 12: 6.2).
 */
final class OriginalServer implements MeasuredProcess, AutoCloseable {

    final int port;
    final Path logFile;
    final double firstOkMillis;
    final DevCertificates certs;

    private final Process process;

    private OriginalServer(Process process, int port, Path logFile, double firstOkMillis, DevCertificates certs) {
        this.process = process;
        this.port = port;
        this.logFile = logFile;
        this.firstOkMillis = firstOkMillis;
        this.certs = certs;
    }

    /**
     * Starts it in {@code dir} with this project's dev certificates (the server certificate is all it uses) and
     * waits up to a minute for its first 200 from heart_beat.
     */
    static OriginalServer start(String python, Path checkout, Path dir) throws Exception {
        Path pythonPath = pythonPath(checkout);
        DevCertificates certs = DevCertificates.ensure(dir.resolve("certs"));
        int port = Server.freePort();
        Path logFile = dir.resolve("original-" + port + ".log");
        ProcessBuilder pb = new ProcessBuilder(
                        python,
                        "-m",
                        "sqlflow_playground.server",
                        "--port=" + port,
                        "--ca_crt=" + certs.caCert(),
                        "--server_crt=" + certs.serverCert(),
                        "--server_key=" + certs.serverKey())
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(logFile.toFile());
        pb.environment().put("PYTHONPATH", pythonPath.toString());
        long t0 = System.nanoTime();
        Process p = pb.start();
        TlsClient probe = TlsClient.bundle(certs.bundle(DevCertificates.ADMIN), port, null);
        try {
            double[] firstOk = Server.awaitFirstOk(
                    p,
                    ignored -> {
                        try (Connection c = probe.open()) {
                            return Heartbeats.beat(c, "alice").status() == 200;
                        }
                    },
                    port,
                    logFile,
                    t0,
                    60);
            return new OriginalServer(p, port, logFile, firstOk[0], certs);
        } catch (Exception e) {
            Server.close(p);
            throw e;
        }
    }

    /** The directory holding the {@code sqlflow_playground} package: the checkout's python/, or the checkout. */
    static Path pythonPath(Path checkout) {
        for (Path candidate : List.of(checkout.resolve("python"), checkout)) {
            if (Files.exists(candidate.resolve("sqlflow_playground").resolve("server.py"))) {
                return candidate.toAbsolutePath();
            }
        }
        throw new IllegalArgumentException("--original=" + checkout
                + ": no python/sqlflow_playground/server.py (a checkout of sql-machine-learning/playground)");
    }

    /** A client of it: the admin's dev bundle; the original asks for no certificate, so none is sent. */
    TlsClient client() throws Exception {
        return TlsClient.bundle(certs.bundle(DevCertificates.ADMIN), port, this);
    }

    @Override
    public long cpuNanos() {
        return Server.cpuNanos(process);
    }

    @Override
    public void close() {
        Server.close(process);
    }
}
