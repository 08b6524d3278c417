package org.sqlflow.playground.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.sqlflow.playground.LaunchOptions;
import org.sqlflow.playground.certs.DevCertificates;

/** One benchmark run: its options, its results and how it starts the servers it measures. */
final class Run {

    /** The namespace of local mode. */
    static final String LOCAL_NAMESPACE = "sqlflow-playground";
    /** Where .ci/test-cluster.sh writes its env file by default. */
    static final Path DEFAULT_KUBE_ENV = Path.of("/tmp/sqlflow-playground-k8s/env");

    final Options opt;
    final Results results;
    private KubernetesApi realApi;
    private boolean realApiLoaded;
    private boolean extracted;
    private String serverJavaVersion;

    Run(Options opt, Results results) {
        this.opt = opt;
        this.results = results;
    }

    /** A fresh directory of the work directory, for one server's files. */
    Path dir(String name) throws Exception {
        return Files.createDirectories(opt.work.resolve(name));
    }

    /** The real API server (--kube-env, or the test cluster's default env file), or null when there is none. */
    synchronized KubernetesApi realApi() throws Exception {
        if (!realApiLoaded) {
            realApi = KubernetesApi.load(opt.kubeEnv != null ? opt.kubeEnv : DEFAULT_KUBE_ENV);
            realApiLoaded = true;
        }
        return realApi;
    }

    /** The real API server if a section has asked for it (and there is one), else null. */
    synchronized KubernetesApi realApiInUse() {
        return realApi;
    }

    /** {@code java}, the server's JVM flags, then {@code launch}. */
    List<String> command(List<String> launch) {
        return command(opt.serverJvm, launch);
    }

    /** {@code java} and {@code launch}, without the server's JVM flags: the JVM's defaults. */
    List<String> commandWithoutFlags(List<String> launch) {
        return command(List.of(), launch);
    }

    /** The server's {@code java}, these JVM flags, then {@code launch}. */
    private List<String> command(List<String> jvm, List<String> launch) {
        List<String> cmd = new ArrayList<>();
        cmd.add(serverJava());
        cmd.addAll(jvm);
        cmd.addAll(launch);
        return cmd;
    }

    /** This JVM's java. */
    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /**
     * The server's java: {@code --server-jdk}'s, else the load generator's own, so that a JDK comparison changes
     * the server and leaves the load generator as it was.
     */
    String serverJava() {
        return opt.serverJdk != null
                ? opt.serverJdk.resolve("bin").resolve("java").toString()
                : java();
    }

    /** The last line of the server's {@code java -version}: its VM and build; asked once per run. */
    synchronized String serverJavaVersion() throws Exception {
        if (serverJavaVersion == null) {
            serverJavaVersion = javaVersion(serverJava());
        }
        return serverJavaVersion;
    }

    private static String javaVersion(String java) throws Exception {
        Process p =
                new ProcessBuilder(java, "-version").redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        p.waitFor(30, TimeUnit.SECONDS);
        String[] lines = text.split("\n");
        return lines[lines.length - 1].trim();
    }

    Path extractedJar() {
        return opt.work.resolve("extracted").resolve(opt.jar.getFileName());
    }

    /**
     * The jar extracted ({@code -Djarmode=tools extract}, the closest a jar gets to Jib's exploded layout), made once
     * per run from this run's jar, whichever section asks first.
     */
    synchronized Path extractJar() throws Exception {
        if (!extracted) {
            exec(
                    List.of(
                            serverJava(),
                            "-Djarmode=tools",
                            "-jar",
                            opt.jar.toString(),
                            "extract",
                            "--destination",
                            extractedJar().getParent().toString()),
                    opt.work,
                    120);
            extracted = true;
        }
        return extractedJar();
    }

    /** Runs {@code cmd} in {@code dir} to its end, within {@code seconds}; its output goes to {@code dir/cmd.log}. */
    static void exec(List<String> cmd, Path dir, int seconds) throws Exception {
        Files.createDirectories(dir);
        Path log = dir.resolve("cmd.log");
        Process p = new ProcessBuilder(cmd)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(cmd + " did not finish in " + seconds + " s");
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException(cmd + " failed: " + Server.tail(log, 20));
        }
    }

    Path cdsArchive() {
        return opt.work.resolve("playground.jsa");
    }

    /** How measured servers are launched: the extracted jar with the CDS archive once start made them, else the jar. */
    List<String> serverLaunch() {
        if (Files.exists(cdsArchive()) && Files.exists(extractedJar())) {
            return List.of(
                    "-XX:SharedArchiveFile=" + cdsArchive(),
                    "-jar",
                    extractedJar().toString());
        }
        return List.of("-jar", opt.jar.toString());
    }

    /** A server in local mode, in {@code dir}, started as {@link #serverLaunch()}. */
    Server local(Path dir, List<String> args) throws Exception {
        return local(dir, args, opt.serverJvm);
    }

    /** The same with these JVM flags instead of the server's usual ones. */
    Server local(Path dir, List<String> args, List<String> jvm) throws Exception {
        return Server.start(dir, command(jvm, serverLaunch()), args, null, LOCAL_NAMESPACE);
    }

    /**
     * A server without --local, against the real API server, in a new namespace, with dev certificates and the
     * cluster's admin kubeconfig (fine for a benchmark).
     *
     * @param jvm JVM flags after the usual ones (a later -XX:MaxRAM wins)
     */
    Server real(Path dir, List<String> args, List<String> jvm) throws Exception {
        KubernetesApi api = realApi();
        String namespace = "bench-" + Long.toString(System.currentTimeMillis(), 36);
        api.createNamespace(namespace);
        DevCertificates certs = DevCertificates.ensure(dir.resolve(LaunchOptions.DEV_CERTS_DIR));
        List<String> all = new ArrayList<>(List.of(
                "--ca_crt=" + certs.caCert(),
                "--server_crt=" + certs.serverCert(),
                "--server_key=" + certs.serverKey(),
                "--crl=" + certs.crl(),
                "--playground.identity.source=tls",
                "--playground.namespace=" + namespace));
        all.addAll(args);
        List<String> launch = new ArrayList<>(jvm);
        launch.addAll(serverLaunch());
        Server s = Server.start(dir, command(launch), all, api, namespace);
        s.apiCounts(); // the audit log is counted from here on
        // Read it every 2 s too: a log that rotates twice between two phases would otherwise lose requests.
        Thread poll = new Thread(
                () -> {
                    while (s.process.isAlive()) {
                        try {
                            Thread.sleep(2000);
                            s.apiCounts();
                        } catch (Exception e) {
                            return;
                        }
                    }
                },
                "audit-poll");
        poll.setDaemon(true);
        poll.start();
        return s;
    }
}
