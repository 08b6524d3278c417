package org.sqlflow.playground.bench;

import static org.sqlflow.playground.bench.Format.log;
import static org.sqlflow.playground.bench.Format.round;
import static org.sqlflow.playground.bench.Results.map;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Start to the first 200 as Knative starts heart_beat's instance: gateway mode (plain HTTP, the gateway's proof
 * and identity headers), {@code PLAYGROUND_API_FUNCTIONS=heart_beat}, the image's JVM flags, the extracted jar
 * (the closest a jar gets to Jib's exploded layout), against the real API server with {@code --prod-roots}
 * database roots in the namespace, so the informer's first list is a real one. With {@code --aot-jdk=DIR} the
 * same on that JDK without and with an AOT cache from a training run on that same JDK build; unless
 * {@code --no-cds}, the server's Java with an application CDS archive from the same kind of training run.
 */
final class ProductionStartSection implements Section {

    private static final String TARGET = "< 1500 ms (moonshot < 1000 ms)";

    @Override
    public void run(Run run) throws Exception {
        KubernetesApi api = run.realApi();
        if (api == null) {
            run.results.put("production_start", map("skipped", "no real API server"));
            run.results.row("start", "start to first 200, production wiring", "skipped: no real API server", TARGET);
            return;
        }
        Map<String, Object> out = new LinkedHashMap<>();
        run.results.put("production_start", out);
        Path dir = run.dir("prodstart");
        String namespace = "bench-prod-" + Long.toString(System.currentTimeMillis(), 36);
        api.createNamespace(namespace);
        String[] users = Heartbeats.users("prod-", 5, run.opt.prodRoots);
        out.put("namespace", namespace);
        out.put("database_roots", users.length);
        out.put("roots_created_s", Shortcuts.createRoots(api, namespace, users));
        Wiring wiring = new Wiring(run, dir, out, api, namespace, proofDirectory(dir), run.extractJar());
        String java = Run.java();
        wiring.measure(
                "java17_image_flags",
                "production wiring (" + users.length + " databases), Java "
                        + Runtime.version().feature(),
                wiring.command(java, List.of()));
        if (run.opt.cds) {
            // What a training step in the image build would give on the same Java: an application CDS archive.
            wiring.trained(
                    CDS,
                    java,
                    run.opt.work.resolve("production.jsa"),
                    "java17_image_flags_cds",
                    "production wiring, Java " + Runtime.version().feature() + " + CDS archive");
        }
        if (run.opt.aotJdk != null) {
            String java25 = run.opt.aotJdk.resolve("bin/java").toString();
            String jdk = run.opt.aotJdk.getFileName().toString();
            out.put("aot_jdk", jdk);
            wiring.measure(
                    "aot_jdk_no_cache",
                    "production wiring, " + jdk + ", no AOT cache",
                    wiring.command(java25, List.of()));
            wiring.trained(
                    AOT_CACHE,
                    java25,
                    run.opt.work.resolve("playground.aot"),
                    "aot_jdk_with_cache",
                    "production wiring, " + jdk + " + AOT cache");
        }
    }

    /** A JVM's archive from a training run: how it is written and used, and its keys in the results file. */
    private record Trained(String trainFlag, String useFlag, String sizeKey, String errorKey) {}

    private static final Trained CDS =
            new Trained("-XX:ArchiveClassesAtExit=", "-XX:SharedArchiveFile=", "cds_archive_mb", "cds_error");
    private static final Trained AOT_CACHE =
            new Trained("-XX:AOTCacheOutput=", "-XX:AOTCache=", "aot_cache_mb", "aot_error");

    /** heart_beat's instance as Knative starts it: the namespace, its roots, the proof and the extracted jar. */
    private record Wiring(
            Run run, Path dir, Map<String, Object> out, KubernetesApi api, String namespace, Path proof, Path app) {

        List<String> command(String java, List<String> extra) {
            List<String> cmd = new ArrayList<>(List.of(java));
            cmd.addAll(run.opt.serverJvm);
            cmd.addAll(extra);
            cmd.addAll(List.of("-jar", app.toString()));
            return cmd;
        }

        Server start(List<String> command) throws Exception {
            return Server.startGateway(
                    dir, command, List.of("--playground.api.functions=heart_beat"), api, namespace, proof);
        }

        void measure(String key, String name, List<String> command) throws Exception {
            StartTimes times = StartTimes.measure(run, name, TARGET, () -> start(command));
            // Without this machine's directories: the work directory and the JDK's home as names.
            String shown = String.join(" ", command)
                    .replace(run.opt.work.toString(), "$WORK")
                    .replace(Path.of(command.get(0)).getParent().getParent().toString(), "$JAVA_HOME");
            out.put(
                    key,
                    map(
                            "command",
                            shown,
                            "wall_ms",
                            times.wall(),
                            "cpu_ms",
                            times.cpu(),
                            "load_average",
                            times.loads(),
                            "median_wall_ms",
                            times.medianWall(),
                            "median_cpu_ms",
                            times.medianCpu()));
        }

        /**
         * A training run on {@code java} that writes {@code file} ({@code trainFlag}), its size as {@code sizeKey},
         * then the starts that use it ({@code useFlag}); a failure is recorded as {@code errorKey} and ends only this
         * variant.
         */
        void trained(Trained t, String java, Path file, String key, String name) {
            try {
                train(command(java, List.of(t.trainFlag() + file)));
                out.put(t.sizeKey(), round(Files.size(file) / 1e6, 1));
                measure(key, name, command(java, List.of(t.useFlag() + file)));
            } catch (Exception e) {
                out.put(t.errorKey(), String.valueOf(e));
                log("%s failed: %s", name, e);
            }
        }

        /** A training run: a start, 200 beats on one kept-alive connection, a graceful stop, which writes the cache. */
        void train(List<String> command) throws Exception {
            try (Server s = start(command)) {
                String value = Files.readString(proof.resolve("current")).trim();
                try (Connection c = Connection.plain(s.port)) {
                    c.header("x-playground-gateway-proof", value).header("x-playground-client-subject", "CN=alice");
                    for (int i = 0; i < 200; i++) {
                        c.get("/api/heart_beat?user_id=alice");
                    }
                }
                s.stopGracefully();
                log("training run done (exit %d)", s.process.exitValue());
            }
        }
    }

    /** A proof Secret's mounted directory, as the install step fills it: 256 random bits in {@code current}. */
    private static Path proofDirectory(Path dir) throws Exception {
        Path proof = Files.createDirectories(dir.resolve("proof"));
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        Path current = proof.resolve("current");
        Files.deleteIfExists(current);
        Files.createFile(current, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(current, Base64.getUrlEncoder().withoutPadding().encodeToString(random));
        return proof;
    }
}
