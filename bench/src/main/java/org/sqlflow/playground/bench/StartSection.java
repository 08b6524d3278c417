package org.sqlflow.playground.bench;

import static org.sqlflow.playground.bench.Format.log;
import static org.sqlflow.playground.bench.Format.round;
import static org.sqlflow.playground.bench.Results.map;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Start to the first 200 from heart_beat, wall clock and CPU time. The first run makes the dev certificates and is
 * reported apart; later runs reuse them, as a deployed server finds its certificates. Then the extracted jar, with
 * and without an application class-data-sharing archive made by a training run, which later sections use too.
 */
final class StartSection implements Section {

    private static final List<String> NO_DELAY = List.of("--playground.local.database-start-delay=0s");
    private static final String README_JAR = "functions/target/sqlflow-playground.jar";
    private static final Pattern README_COMMAND =
            Pattern.compile("\\bjava((?: -[^\\s]+)*) -jar " + Pattern.quote(README_JAR) + " --local\\b");

    /**
     * One way to launch the server: its key in the results file, its name in the table, what follows the flags,
     * and whether it runs with the JVM's defaults instead of the server's flags (the README's command).
     */
    private record Variant(String key, String name, List<String> launch, boolean defaultJvm) {
        Variant(String key, String name, List<String> launch) {
            this(key, name, launch, false);
        }
    }

    @Override
    public void run(Run run) throws Exception {
        Map<String, Object> out = run.results.section("startup");
        Path dir = run.dir("start");
        String jar = run.opt.jar.toString();
        try (Server s = Server.start(dir, run.command(List.of("-jar", jar)), NO_DELAY, null, Run.LOCAL_NAMESPACE)) {
            out.put(
                    "first_run_including_dev_cert_generation",
                    map("ms", round(s.firstOkMillis, 0), "cpu_ms", round(s.firstOkCpuMillis, 0)));
        }
        // The README's command as the README gives it: its own JVM flags (or none), not the server's.
        List<String> readmeFlags = readmeFlags(Files.readString(run.opt.readme));
        List<String> readmeLaunch = new ArrayList<>(readmeFlags);
        readmeLaunch.addAll(List.of("-jar", jar));
        measure(
                run,
                dir,
                out,
                new Variant(
                        readmeFlags.isEmpty() ? "readme_local_default_jvm" : "readme_local",
                        "README's command (fat jar, "
                                + (readmeFlags.isEmpty() ? "default JVM" : String.join(" ", readmeFlags)) + ")",
                        readmeLaunch,
                        true));
        measure(run, dir, out, new Variant("fat_jar", "fat jar", List.of("-jar", jar)));
        if (!run.opt.cds) {
            return;
        }
        Path jsa = run.cdsArchive();
        try {
            String app = run.extractJar().toString();
            measure(run, dir, out, new Variant("extracted_jar", "extracted jar", List.of("-jar", app)));
            train(run, dir, app, jsa);
            out.put("cds_archive_mb", round(Files.size(jsa) / 1e6, 1));
            measure(
                    run,
                    dir,
                    out,
                    new Variant(
                            "extracted_jar_with_cds",
                            "extracted jar + CDS",
                            List.of("-XX:SharedArchiveFile=" + jsa, "-jar", app)));
            measure(
                    run,
                    dir,
                    out,
                    new Variant(
                            "extracted_jar_with_cds_c1_only",
                            "extracted jar + CDS + C1 only",
                            List.of("-XX:SharedArchiveFile=" + jsa, "-XX:TieredStopAtLevel=1", "-jar", app)));
        } catch (Exception e) {
            out.put("cds_error", String.valueOf(e));
            log("CDS measurement failed: %s", e);
        }
    }

    /**
     * The JVM flags of the README's local command, {@code java [flags] -jar functions/target/sqlflow-playground.jar
     * --local}: what a reader runs is what this section measures.
     */
    static List<String> readmeFlags(String readme) {
        Matcher m = README_COMMAND.matcher(readme);
        if (!m.find()) {
            throw new IllegalStateException("README.md has no `java ... -jar " + README_JAR + " --local` command");
        }
        String flags = m.group(1).trim();
        return flags.isEmpty() ? List.of() : List.of(flags.split("\\s+"));
    }

    /** Median wall and CPU time from process start to the first 200 from heart_beat, over a few starts. */
    private static void measure(Run run, Path dir, Map<String, Object> out, Variant variant) throws Exception {
        List<String> command =
                variant.defaultJvm() ? run.commandWithoutFlags(variant.launch()) : run.command(variant.launch());
        StartTimes times = StartTimes.measure(
                run,
                variant.name(),
                variant.defaultJvm() ? "< 3000 ms" : "< 2500 ms",
                () -> Server.start(dir, command, NO_DELAY, null, Run.LOCAL_NAMESPACE));
        out.put(variant.key(), times.asMap());
    }

    /**
     * The training run: a real start with traffic on both endpoints, then a graceful stop, so the archive holds
     * the classes of start-up and of serving.
     */
    private static void train(Run run, Path dir, String app, Path jsa) throws Exception {
        List<String> launch = List.of("-XX:ArchiveClassesAtExit=" + jsa, "-jar", app);
        try (Server s = Server.start(dir, run.command(launch), NO_DELAY, null, Run.LOCAL_NAMESPACE)) {
            TlsClient admin = s.client("admin");
            try (Connection c = admin.open()) {
                for (int i = 0; i < 50; i++) {
                    Heartbeats.createDb(c, "train" + (i % 5));
                    Heartbeats.beat(c, "train" + (i % 5));
                }
            }
            s.stopGracefully();
        }
        if (!Files.exists(jsa)) {
            throw new IllegalStateException("the training run wrote no archive");
        }
    }
}
