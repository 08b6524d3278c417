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
import java.util.concurrent.TimeUnit;

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
        Path proof = proofDirectory(dir);
        Path app = extract(run);
        String java = Run.java();
        measure(
                run,
                dir,
                out,
                api,
                namespace,
                proof,
                "java17_image_flags",
                "production wiring (" + users.length + " databases), Java "
                        + Runtime.version().feature(),
                command(java, run.opt.serverJvm, List.of(), app));
        if (run.opt.cds) {
            // What a training step in the image build would give on the same Java: an application CDS archive.
            Path jsa = run.opt.work.resolve("production.jsa");
            try {
                train(
                        run,
                        dir,
                        api,
                        namespace,
                        proof,
                        command(java, run.opt.serverJvm, List.of("-XX:ArchiveClassesAtExit=" + jsa), app));
                out.put("cds_archive_mb", round(Files.size(jsa) / 1e6, 1));
                measure(
                        run,
                        dir,
                        out,
                        api,
                        namespace,
                        proof,
                        "java17_image_flags_cds",
                        "production wiring, Java " + Runtime.version().feature() + " + CDS archive",
                        command(java, run.opt.serverJvm, List.of("-XX:SharedArchiveFile=" + jsa), app));
            } catch (Exception e) {
                out.put("cds_error", String.valueOf(e));
                log("CDS measurement failed: %s", e);
            }
        }
        if (run.opt.aotJdk != null) {
            String java25 = run.opt.aotJdk.resolve("bin/java").toString();
            out.put("aot_jdk", run.opt.aotJdk.getFileName().toString());
            measure(
                    run,
                    dir,
                    out,
                    api,
                    namespace,
                    proof,
                    "aot_jdk_no_cache",
                    "production wiring, " + run.opt.aotJdk.getFileName() + ", no AOT cache",
                    command(java25, run.opt.serverJvm, List.of(), app));
            Path cache = run.opt.work.resolve("playground.aot");
            try {
                train(
                        run,
                        dir,
                        api,
                        namespace,
                        proof,
                        command(java25, run.opt.serverJvm, List.of("-XX:AOTCacheOutput=" + cache), app));
                out.put("aot_cache_mb", round(Files.size(cache) / 1e6, 1));
                measure(
                        run,
                        dir,
                        out,
                        api,
                        namespace,
                        proof,
                        "aot_jdk_with_cache",
                        "production wiring, " + run.opt.aotJdk.getFileName() + " + AOT cache",
                        command(java25, run.opt.serverJvm, List.of("-XX:AOTCache=" + cache), app));
            } catch (Exception e) {
                out.put("aot_error", String.valueOf(e));
                log("AOT cache measurement failed: %s", e);
            }
        }
    }

    private static List<String> command(String java, List<String> serverJvm, List<String> extra, Path app) {
        List<String> cmd = new ArrayList<>(List.of(java));
        cmd.addAll(serverJvm);
        cmd.addAll(extra);
        cmd.addAll(List.of("-jar", app.toString()));
        return cmd;
    }

    /** The extracted jar ({@code -Djarmode=tools extract}), made once per work directory. */
    private static Path extract(Run run) throws Exception {
        Path extracted = run.extractedJar();
        if (!Files.exists(extracted)) {
            Process p = new ProcessBuilder(
                            Run.java(),
                            "-Djarmode=tools",
                            "-jar",
                            run.opt.jar.toString(),
                            "extract",
                            "--destination",
                            extracted.getParent().toString())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("extracting " + run.opt.jar + " failed");
            }
        }
        return extracted;
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

    private static Server start(Path dir, KubernetesApi api, String namespace, Path proof, List<String> command)
            throws Exception {
        return Server.startGateway(
                dir, command, List.of("--playground.api.functions=heart_beat"), api, namespace, proof);
    }

    private static void measure(
            Run run,
            Path dir,
            Map<String, Object> out,
            KubernetesApi api,
            String namespace,
            Path proof,
            String key,
            String name,
            List<String> command)
            throws Exception {
        List<Double> wall = new ArrayList<>();
        List<Double> cpu = new ArrayList<>();
        List<String> loads = new ArrayList<>();
        for (int i = 0; i < Math.max(1, run.opt.startRuns); i++) {
            String load = Bench.loadAverage();
            try (Server s = start(dir, api, namespace, proof, command)) {
                wall.add(round(s.firstOkMillis, 0));
                cpu.add(round(s.firstOkCpuMillis, 0));
                loads.add(load);
                log(
                        "start (%s) run %d: %.0f ms to first 200, %.0f ms CPU, load %s",
                        name, i + 1, s.firstOkMillis, s.firstOkCpuMillis, load);
            }
        }
        run.results.row(
                "start",
                "start to first 200, " + name + ": wall (CPU)",
                Format.ms(Format.median(wall)) + " (" + Format.ms(Format.median(cpu)) + " CPU)",
                TARGET);
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
                        wall,
                        "cpu_ms",
                        cpu,
                        "load_average",
                        loads,
                        "median_wall_ms",
                        Format.median(wall),
                        "median_cpu_ms",
                        Format.median(cpu)));
    }

    /** A training run: a start, 200 beats on one kept-alive connection, a graceful stop, which writes the cache. */
    private static void train(Run run, Path dir, KubernetesApi api, String namespace, Path proof, List<String> command)
            throws Exception {
        try (Server s = start(dir, api, namespace, proof, command)) {
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
