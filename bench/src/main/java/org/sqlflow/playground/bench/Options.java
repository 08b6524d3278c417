package org.sqlflow.playground.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.NodeList;

/** The command line of {@code bash bench/run.sh}. */
final class Options {

    static final String USAGE = """
            options: --sections=start,prodstart,heartbeat,client,scale,reap,flood[,realapi] (realapi is added when
              --kube-env is given; prodstart needs a real API server too)
              --original=DIR (client: the original tornado server's checkout, measured beside this one)
              --original-python=python3 (a Python 3 with tornado for it)
              --server-jdk=DIR (the server runs on this JDK; the load generator stays on its own)
              --prod-roots=1000 (prodstart: databases in the namespace) --aot-jdk=DIR (prodstart: a JDK 24+ whose
              AOT cache is measured too)
              --phases=new,existing,a,b --seconds=10 (per level) --warmup=3 --users=1000 --scale-users=5000
              --reap-sizes=1000,10000,100000 --delay=2s --start-runs=3 --no-cds --server-jvm='...'
              --scale-shards=16 --kube-env=FILE --real-users=100000 --real-level-seconds=300
              --pool-size=20 (create_db for N new users with a warm pool of N and without one; 0 skips)
              --flood-callers=220 --flood-seconds=15 (section flood: a bystander's heart_beat during a create_db flood)
              --out=FILE --work=DIR
              --quick (a smoke run: 3 s per level, 200 users, a 1,000-user sweep)""";

    /** The Knative Service's memory limit (512Mi), for the JVM's ergonomics; the image's flags size from it. */
    static final String MEMORY_LIMIT = "-XX:MaxRAM=512m";

    Path jar;
    /** The project's README: the start section measures its local command as written there. */
    Path readme;

    Path out;
    Path work;
    String sections = "start,prodstart,heartbeat,client,scale,reap,flood";
    /** Measured time per load level. */
    double seconds = 10;
    /** Warm-up before the measured levels. */
    double warmup = 3;
    /** (a) */
    int users = 1000;
    /** (c) in local mode: the embedded API server scans all objects per request. */
    int scaleUsers = 5_000;
    /** flood: concurrent create_db calls for one user whose database is starting. */
    int floodCallers = 220;
    /** flood: the bystander's measured window in each shape (the ready-wait). */
    double floodSeconds = 15;

    int[] reapSizes = {1000, 10_000, 100_000};
    /** Stand-in kubelet start delay for the heartbeat/create_db instance. */
    String delay = "2s";

    int startRuns = 3;
    boolean cds = true;
    /** prodstart: database roots in the namespace before the production-wired server starts. */
    int prodRoots = 1000;
    /** prodstart: a JDK (24 or later) whose AOT cache (JEP 483/514) is measured beside the server's Java. */
    Path aotJdk;
    /** A checkout of the original playground server (sql-machine-learning/playground), measured beside this one. */
    Path original;
    /** The Python that runs it: one with tornado installed (Debian: python3-tornado for /usr/bin/python3). */
    String originalPython = "python3";
    /** The server's JDK, when it differs from the load generator's (prodstart measures its own: --aot-jdk). */
    Path serverJdk;
    /**
     * The server's JVM flags: the container image's (functions/pom.xml, Jib's jvmFlags) after
     * {@link #MEMORY_LIMIT}. --server-jvm='...' replaces them all (--server-jvm= for none).
     */
    List<String> serverJvm;

    int scaleShards = 16;
    String phases = "new,existing,a,b";
    /** The env file of .ci/test-cluster.sh: (a) and (c) against that API server too. */
    Path kubeEnv;

    int realUsers = 100_000;
    /** Larger sweeps need the real API server. */
    int localReapMax = 10_000;
    /** Time bound of each (c) level against the real API server. */
    double realLevelSeconds = 300;
    /**
     * The warm pool's figure: create_db for this many new users on a server with a pool of this size and a 30 s
     * stand-in kubelet delay, and without a pool; 0 skips it.
     */
    int poolSize = 20;

    boolean help;

    /** @param root the project's directory (functions/pom.xml holds the image's JVM flags) */
    static Options parse(String[] args, Path root) throws Exception {
        Options o = new Options();
        boolean sectionsSet = false;
        List<String> serverJvm = null;
        for (String a : args) {
            String k = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
            String v = a.contains("=") ? a.substring(a.indexOf('=') + 1) : "";
            switch (k) {
                case "--jar" -> o.jar = Path.of(v);
                case "--out" -> o.out = Path.of(v);
                case "--work" -> o.work = Path.of(v);
                case "--sections" -> {
                    o.sections = v;
                    sectionsSet = true;
                }
                case "--pool-size" -> o.poolSize = Integer.parseInt(v);
                case "--help" -> o.help = true;
                case "--seconds" -> o.seconds = Double.parseDouble(v);
                case "--warmup" -> o.warmup = Double.parseDouble(v);
                case "--users" -> o.users = Integer.parseInt(v);
                case "--scale-users" -> o.scaleUsers = Integer.parseInt(v);
                case "--flood-callers" -> o.floodCallers = Integer.parseInt(v);
                case "--flood-seconds" -> o.floodSeconds = Double.parseDouble(v);
                case "--reap-sizes" ->
                    o.reapSizes = Arrays.stream(v.split(","))
                            .mapToInt(Integer::parseInt)
                            .toArray();
                case "--delay" -> o.delay = v;
                case "--start-runs" -> o.startRuns = Integer.parseInt(v);
                case "--no-cds" -> o.cds = false;
                case "--prod-roots" -> o.prodRoots = Integer.parseInt(v);
                case "--aot-jdk" -> o.aotJdk = Path.of(v);
                case "--original" -> o.original = Path.of(v);
                case "--original-python" -> o.originalPython = v;
                case "--server-jdk" -> o.serverJdk = Path.of(v);
                case "--server-jvm" -> {
                    serverJvm = serverJvm == null ? new ArrayList<>() : serverJvm;
                    serverJvm.addAll(Arrays.asList(v.trim().split("\\s+")));
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
        if (serverJvm == null) {
            serverJvm = new ArrayList<>(List.of(MEMORY_LIMIT));
            serverJvm.addAll(imageJvmFlags(root.resolve("functions/pom.xml")));
        }
        serverJvm.removeIf(String::isBlank);
        o.serverJvm = List.copyOf(serverJvm);
        o.jar = o.jar != null ? o.jar : root.resolve("functions/target/sqlflow-playground.jar");
        o.readme = root.resolve("README.md");
        o.out = o.out != null ? o.out : root.resolve("bench/results/latest.json");
        if (o.kubeEnv != null) {
            // With a real API server, sweeps over more than 1,000 users run there: the embedded one takes
            // minutes to make and sweep 10,000 roots (it scans every object on each request).
            o.localReapMax = 1000;
            if (!sectionsSet) {
                o.sections += ",realapi";
            }
        }
        return o;
    }

    /** The container image's JVM flags, where they are set: Jib's jvmFlags in functions/pom.xml. */
    static List<String> imageJvmFlags(Path functionsPom) throws Exception {
        if (!Files.exists(functionsPom)) {
            throw new IllegalStateException(functionsPom + " is missing: run from the project's directory");
        }
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        Document pom = factory.newDocumentBuilder().parse(functionsPom.toFile());
        NodeList flags = pom.getElementsByTagNameNS("*", "jvmFlag");
        List<String> out = new ArrayList<>();
        for (int i = 0; i < flags.getLength(); i++) {
            out.add(flags.item(i).getTextContent().trim());
        }
        if (out.isEmpty()) {
            throw new IllegalStateException(functionsPom + " sets no jvmFlag");
        }
        return out;
    }

    boolean phase(String p) {
        return Arrays.asList(phases.split(",")).contains(p);
    }

    boolean has(String section) {
        return Arrays.asList(sections.split(",")).contains(section);
    }
}
