package org.sqlflow.playground.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.sqlflow.playground.testing.NodeTierCalls.queryOne;
import static org.sqlflow.playground.testing.NodeTierCalls.update;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;
import org.springframework.core.env.Environment;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.sqlflow.playground.cluster.PlaygroundLabels;
import org.sqlflow.playground.cluster.UserKey;
import org.sqlflow.playground.testing.NodeTierCalls;
import org.sqlflow.playground.testing.RealApiTestCluster;
import org.sqlflow.playground.testing.RealNode;
import org.sqlflow.playground.testing.RealNodeTier;
import org.sqlflow.playground.testing.SqlflowDataSource;
import org.sqlflow.playground.testing.TestCertificates;

/**
 * The default configuration end to end on a real node (node tier): the default entrypoint
 * (playground.database.entrypoint=sqlflow-start-script) against the node's replica of sqlflow/sqlflow:mysql, built
 * from Debian packages after the upstream image's facts (.ci/test-cluster.sh, build_replica): no bash, BusyBox ash as
 * /bin/sh, Alpine's skip-networking configuration, a /start.bash that opens the network with root/root, and datasets
 * of which the last takes at least 10 s and records when it finished.
 *
 * <p>The warm pool is off here, so that each database pod is made for a known user and watched from its creation.
 * From the host the test reaches a pod at its address in the node's pod range, and finds the pod's processes through
 * their cgroup (the node tier runs as root).
 */
@RealNodeTier
@SpringBootTest(
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {
            "playground.local.enabled=false",
            "playground.reaper.schedule=false",
            // playground.database.entrypoint is left at its default, sqlflow-start-script.
            "playground.pool.size=0",
            "server.ssl.client-auth=need",
            "server.ssl.enabled-protocols=TLSv1.3,TLSv1.2",
            "playground.kubernetes.request-timeout=30s",
            "playground.kubernetes.write-timeout=30s",
            "management.server.port=0",
            // The root/root probe is denied dozens of times on purpose: no warning per attempt.
            "logging.level.org.mariadb.jdbc=ERROR"
        })
@DirtiesContext
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RealNodeSqlflowReplicaTest {

    /** Initialising the replica takes 10 s of datasets and more; a killed one starts again from scratch. */
    private static final Duration POD_WAIT = Duration.ofSeconds(180);

    private static final String SERVICE_DOMAIN = ".svc.cluster.local";
    private static final String SLOW_DATASET = "/datasets/zz_replica_slow_load.sql";
    /**
     * The logins the default entrypoint documents (docs/deploy.md): the user's root, and MariaDB's locked mariadb.sys.
     * Roles (MariaDB 10.11's PUBLIC) are no logins.
     */
    private static final List<String> DOCUMENTED_ACCOUNTS = List.of("mariadb.sys@localhost", "root@%");

    private static final TestCertificates CERTS = new TestCertificates("playground-replica-tier");
    private static RealApiTestCluster cluster;
    /** The first scenario's database, which the second one restarts. */
    private static final AtomicReference<SqlflowDataSource> DORA = new AtomicReference<>();

    static {
        for (String user : List.of("dora", "erin")) {
            CERTS.bundle(user, CERTS.ca().issueUser(user, Duration.ofDays(1)));
        }
    }

    static synchronized RealApiTestCluster cluster() {
        if (cluster == null) {
            cluster = NodeTierCalls.toleratingCluster(RealNodeSqlflowReplicaTest.class);
        }
        return cluster;
    }

    @DynamicPropertySource
    static void onTheNode(DynamicPropertyRegistry registry) {
        registry.add("playground.namespace", () -> cluster().namespace());
        registry.add("playground.database.image", () -> RealNode.settings().replicaImage());
        CERTS.register(registry);
    }

    @TestConfiguration
    static class ServiceAccount {
        @Bean(destroyMethod = "")
        @Primary
        KubernetesClient playgroundServiceAccount() {
            return cluster().standaloneClient();
        }
    }

    @AfterAll
    static void deleteNamespace() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Autowired
    Environment env;

    private final NodeTierCalls calls = new NodeTierCalls(
            cluster(),
            CERTS,
            () -> env.getProperty("local.server.port", Integer.class),
            POD_WAIT,
            "[node tier] replica:");

    // ---------------------------------------------------------------- scenarios

    @Test
    @Order(1)
    void theDefaultEntrypointServesTheDatasetsWithTheReturnedPasswordAndNeverAcceptsRootRoot() throws Exception {
        try (RootRootProbe probe = new RootRootProbe(UserKey.of("dora").key())) {
            SqlflowDataSource ds = calls.createDb("dora");
            DORA.set(ds);
            Pod pod = calls.podOf(ds);
            assertThat(pod.getSpec().getContainers().get(0).getImage())
                    .isEqualTo(RealNode.settings().replicaImage());
            assertThat(pod.getSpec().getContainers().get(0).getCommand()).startsWith("/bin/sh", "-c");

            try (Connection c = calls.connect(ds)) {
                assertThat(queryOne(c, "SELECT COUNT(*) FROM iris.train")).isEqualTo("9");
                assertThat(queryOne(c, "SELECT class FROM iris.train WHERE sepal_length = 7.0"))
                        .isEqualTo("1");
                assertThat(queryOne(
                                c,
                                "SELECT COUNT(*) FROM information_schema.schemata"
                                        + " WHERE schema_name IN ('sqlflow_models', 'iris', 'replica_load')"))
                        .isEqualTo("3");
                assertThat(queryOne(c, "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = 'test'"))
                        .isEqualTo("0");
                assertThat(accounts(c)).isEqualTo(DOCUMENTED_ACCOUNTS);

                // Ready only once the last dataset was in.
                Instant loaded = slowDatasetFinished(c);
                Instant ready = readySince(pod);
                assertThat(ready)
                        .as("Ready at %s, last dataset finished at %s", ready, loaded)
                        .isAfterOrEqualTo(loaded);
                System.out.printf(
                        "[node tier] replica: %s (pod %s at %s) Ready %d s after creation; the last dataset"
                                + " finished at %s, Ready at %s%n",
                        ds.host(),
                        pod.getMetadata().getName(),
                        pod.getStatus().getPodIP(),
                        Duration.between(Instant.parse(pod.getMetadata().getCreationTimestamp()), ready)
                                .toSeconds(),
                        loaded,
                        ready);
            }
            // Only the returned password opens it.
            assertThatThrownBy(() -> calls.connect(withPassword(ds, "root")).close())
                    .isInstanceOf(SQLException.class);

            RootRootProbe.Report report = probe.stop();
            System.out.println("[node tier] root/root probe: " + report);
            assertThat(report.accepted())
                    .as("logins with root/root that succeeded")
                    .isZero();
            assertThat(report.refused())
                    .as("probes before mysqld listened (the probe ran from the start)")
                    .isPositive();
            assertThat(report.denied())
                    .as("probes mysqld answered with access denied (the probe reached it)")
                    .isPositive();
            // One attempt every 25 ms is scheduled; at least one per 100 ms must have happened from the first
            // address to Ready. A single pause may be longer where the machine starves this JVM (seen here: up to
            // 0.5 s at a load of 10 on 2 cores), never a second.
            assertThat(report.attemptsUntilReady())
                    .as("attempts until Ready, one per 100 ms at least")
                    .isGreaterThanOrEqualTo((int) (report.untilReady().toMillis() / 100));
            assertThat(report.longestGap())
                    .as("longest pause between two probes until Ready")
                    .isLessThan(Duration.ofSeconds(1));
        }
    }

    @Test
    @Order(2)
    void killingMysqldRestartsTheContainerAndKeepsDataAndPassword() throws Exception {
        SqlflowDataSource ds = Objects.requireNonNull(DORA.get(), "the first scenario's database");
        Pod before = calls.podOf(ds);
        Instant loaded;
        try (Connection c = calls.connect(ds)) {
            update(c, "CREATE DATABASE notebook");
            update(c, "CREATE TABLE notebook.notes (id INT PRIMARY KEY, body VARCHAR(100))");
            update(c, "INSERT INTO notebook.notes VALUES (1, 'written before mysqld was killed')");
            loaded = slowDatasetFinished(c);
        }
        int restarts = restartCount(before);

        List<Long> killed = killInPod(before.getMetadata().getUid(), p -> p.isMysqld());
        assertThat(killed)
                .as("mysqld processes of pod %s", before.getMetadata().getName())
                .hasSize(1);

        Pod after = calls.await("container of " + before.getMetadata().getName() + " restarted and Ready", () -> {
            Pod p = admin().pods()
                    .inNamespace(ns())
                    .withName(before.getMetadata().getName())
                    .get();
            return p != null && restartCount(p) > restarts && isReady(p) ? p : null;
        });
        assertThat(after.getMetadata().getUid()).isEqualTo(before.getMetadata().getUid());
        try (Connection c = calls.connect(ds)) {
            assertThat(queryOne(c, "SELECT body FROM notebook.notes WHERE id = 1"))
                    .isEqualTo("written before mysqld was killed");
            // The initialisation did not run again: the datasets are the ones loaded the first time.
            assertThat(slowDatasetFinished(c)).isEqualTo(loaded);
            assertThat(accounts(c)).isEqualTo(DOCUMENTED_ACCOUNTS);
        }
        assertThatThrownBy(() -> calls.connect(withPassword(ds, "root")).close())
                .isInstanceOf(SQLException.class);
        System.out.printf(
                "[node tier] replica: mysqld (pid %s) killed; container restarted (restart count %d), data"
                        + " and password kept%n",
                killed, restartCount(after));
    }

    @Test
    @Order(3)
    void anInitialisationKilledHalfWayStartsAgainFromAnEmptyDataDirectory() throws Exception {
        String key = UserKey.of("erin").key();
        // While create_db waits, kill the initialising mysqld as soon as the slow dataset is loading: the first
        // datasets are in, the slow one has created its database (which a second run without a wipe cannot).
        AtomicReference<Object> outcome = new AtomicReference<>();
        Thread killer = new Thread(
                () -> {
                    try {
                        Pod pod = calls.await(
                                "erin's database pod",
                                () -> admin()
                                        .pods()
                                        .inNamespace(ns())
                                        .withLabel(PlaygroundLabels.USER, key)
                                        .list()
                                        .getItems()
                                        .stream()
                                        .findFirst()
                                        .orElse(null));
                        String uid = pod.getMetadata().getUid();
                        calls.await(
                                "the slow dataset loading in "
                                        + pod.getMetadata().getName(),
                                () -> podProcesses(uid).stream().anyMatch(p -> SLOW_DATASET.equals(p.stdin()))
                                        ? true
                                        : null);
                        outcome.set(killInPod(uid, PodProcess::isMysqld));
                    } catch (RuntimeException e) {
                        outcome.set(e);
                    }
                },
                "replica-init-killer");
        killer.start();

        SqlflowDataSource ds = calls.createDb("erin");
        killer.join(POD_WAIT.toMillis());
        assertThat(outcome.get()).as("the killer's outcome").isInstanceOf(List.class);
        assertThat((List<?>) outcome.get()).hasSize(1);
        Pod pod = calls.podOf(ds);
        assertThat(restartCount(pod)).isPositive();
        try (Connection c = calls.connect(ds)) {
            assertThat(queryOne(c, "SELECT COUNT(*) FROM replica_load.finished"))
                    .isEqualTo("1");
            assertThat(queryOne(c, "SELECT COUNT(*) FROM iris.train")).isEqualTo("9");
            assertThat(accounts(c)).isEqualTo(DOCUMENTED_ACCOUNTS);
            assertThat(readySince(pod)).isAfterOrEqualTo(slowDatasetFinished(c));
        }
        System.out.printf(
                "[node tier] replica: initialisation killed while loading %s; the container restarted"
                        + " (restart count %d) and initialised again%n",
                SLOW_DATASET, restartCount(pod));
    }

    // ---------------------------------------------------------------- the probe with the image's fixed password

    /**
     * From the moment a database pod of the user has an address until {@link #stop}, a root/root login at the pod's
     * MySQL port every 25 ms, counting what came back. A timer only dispatches: each attempt runs on its own worker,
     * so a slow attempt delays no other.
     */
    final class RootRootProbe implements AutoCloseable {

        record Report(
                int attempts,
                int refused,
                int denied,
                int accepted,
                int other,
                Duration untilReady,
                int attemptsUntilReady,
                Duration longestGap,
                String aroundLongestGap) {}

        private record Attempt(long startNanos, String result) {}

        private final ScheduledExecutorService timer = Executors.newScheduledThreadPool(2);
        private final java.util.concurrent.ExecutorService workers = Executors.newCachedThreadPool();
        private final ConcurrentLinkedQueue<Attempt> attempts = new ConcurrentLinkedQueue<>();
        private final AtomicReference<String> address = new AtomicReference<>();
        private final java.util.concurrent.atomic.AtomicLong readySeen = new java.util.concurrent.atomic.AtomicLong();
        private final String userKey;

        RootRootProbe(String userKey) {
            this.userKey = userKey;
            try {
                Class.forName("org.mariadb.jdbc.Driver");
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException(e);
            }
            timer.scheduleWithFixedDelay(this::findPod, 0, 20, TimeUnit.MILLISECONDS);
            timer.scheduleAtFixedRate(
                    () -> {
                        String ip = address.get();
                        long start = System.nanoTime();
                        if (ip != null) {
                            workers.execute(() -> attempts.add(new Attempt(start, attempt(ip, 3306))));
                        } else {
                            // Until the pod has an address: the same attempt at a closed port of this host, unrecorded,
                            // so
                            // that the JVM has loaded and compiled the probe's path before it counts.
                            workers.execute(() -> attempt("127.0.0.1", 1));
                        }
                    },
                    0,
                    25,
                    TimeUnit.MILLISECONDS);
        }

        /** The pod's address as soon as it has one, then the instant it is first seen Ready. */
        private void findPod() {
            if (readySeen.get() != 0) {
                return;
            }
            try {
                for (Pod p : admin().pods()
                        .inNamespace(ns())
                        .withLabel(PlaygroundLabels.USER, userKey)
                        .list()
                        .getItems()) {
                    if (p.getStatus() != null && p.getStatus().getPodIP() != null) {
                        address.compareAndSet(null, p.getStatus().getPodIP());
                        if (isReady(p)) {
                            readySeen.compareAndSet(0, System.nanoTime());
                        }
                    }
                }
            } catch (RuntimeException e) {
                // a busy API server: the next round asks again (an exception would end the schedule)
            }
        }

        private static String attempt(String ip, int port) {
            Properties p = new Properties();
            p.setProperty("user", "root");
            p.setProperty("password", "root");
            p.setProperty("connectTimeout", "2000");
            p.setProperty("socketTimeout", "2000");
            try {
                DriverManager.getConnection("jdbc:mariadb://" + ip + ":" + port + "/", p)
                        .close();
                return "accepted";
            } catch (SQLException e) {
                return e.getErrorCode() == 1045 ? "denied" : refused(e) ? "refused" : "other: " + e;
            } catch (RuntimeException e) {
                return "other: " + e;
            }
        }

        private static boolean refused(Throwable e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof java.net.ConnectException) {
                    return true;
                }
            }
            return false;
        }

        Report stop() {
            timer.shutdownNow();
            workers.shutdown();
            try {
                timer.awaitTermination(10, TimeUnit.SECONDS);
                workers.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            List<Attempt> all = new ArrayList<>(attempts);
            all.sort(java.util.Comparator.comparingLong(Attempt::startNanos));
            // The pause that matters is the longest one from the first attempt until the pod was seen Ready; the
            // probe goes on after that only to show root/root stays refused.
            long ready = readySeen.get();
            if (ready == 0) {
                throw new AssertionError("the probe never saw the pod Ready");
            }
            long gap = 0;
            String around = "";
            int untilReady =
                    (int) all.stream().filter(a -> a.startNanos() <= ready).count();
            for (int i = 1; i < all.size() && all.get(i - 1).startNanos() < ready; i++) {
                long g = all.get(i).startNanos() - all.get(i - 1).startNanos();
                if (g > gap) {
                    gap = g;
                    around = String.format(
                            "attempt %d of %d, %d ms after the first, between %s and %s",
                            i,
                            all.size(),
                            (all.get(i - 1).startNanos() - all.get(0).startNanos()) / 1_000_000,
                            all.get(i - 1).result(),
                            all.get(i).result());
                }
            }
            List<String> results = all.stream().map(Attempt::result).toList();
            results.stream()
                    .filter(r -> r.startsWith("other"))
                    .limit(3)
                    .forEach(r -> System.out.println("[node tier] " + r));
            return new Report(
                    results.size(),
                    count(results, "refused"),
                    count(results, "denied"),
                    count(results, "accepted"),
                    (int) results.stream().filter(r -> r.startsWith("other")).count(),
                    Duration.ofNanos(all.isEmpty() ? 0 : ready - all.get(0).startNanos()),
                    untilReady,
                    Duration.ofNanos(gap),
                    around);
        }

        private static int count(List<String> all, String what) {
            return (int) all.stream().filter(what::equals).count();
        }

        @Override
        public void close() {
            timer.shutdownNow();
            workers.shutdownNow();
        }

        @Override
        public String toString() {
            return "root/root probe of user " + userKey + "'s database";
        }
    }

    // ---------------------------------------------------------------- the pod's processes, seen from the host

    /** A process of a pod, from /proc: its pid, command name and what its standard input reads. */
    record PodProcess(long pid, String comm, String stdin) {
        boolean isMysqld() {
            return comm.equals("mysqld") || comm.equals("mariadbd");
        }
    }

    /** The processes whose cgroup is the pod's (the kubelet's cgroupfs driver names it pod<uid>). */
    static List<PodProcess> podProcesses(String podUid) {
        List<PodProcess> found = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path proc : procs.filter(p -> p.getFileName().toString().matches("\\d+"))
                    .toList()) {
                try {
                    String cgroup = Files.readString(proc.resolve("cgroup"));
                    if (!cgroup.contains("pod" + podUid) && !cgroup.contains("pod" + podUid.replace('-', '_'))) {
                        continue;
                    }
                    String comm = Files.readString(proc.resolve("comm")).strip();
                    String stdin;
                    try {
                        stdin = Files.readSymbolicLink(proc.resolve("fd/0")).toString();
                    } catch (IOException e) {
                        stdin = "";
                    }
                    found.add(new PodProcess(Long.parseLong(proc.getFileName().toString()), comm, stdin));
                } catch (IOException e) {
                    // the process ended meanwhile
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc", e);
        }
        return found;
    }

    /** SIGKILL to every process of the pod that matches; returns their pids. */
    static List<Long> killInPod(String podUid, java.util.function.Predicate<PodProcess> which) {
        List<Long> pids =
                podProcesses(podUid).stream().filter(which).map(PodProcess::pid).toList();
        for (long pid : pids) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
        return pids;
    }

    // ---------------------------------------------------------------- helpers

    private String ns() {
        return cluster().namespace();
    }

    private KubernetesClient admin() {
        return cluster().admin();
    }

    private static SqlflowDataSource withPassword(SqlflowDataSource ds, String password) {
        return new SqlflowDataSource(ds.user(), password, ds.host(), ds.port(), ds.database());
    }

    private static List<String> accounts(Connection c) throws SQLException {
        List<String> accounts = new ArrayList<>();
        try (Statement s = c.createStatement();
                ResultSet r = s.executeQuery(
                        "SELECT CONCAT(User, '@', Host) FROM mysql.user WHERE is_role = 'N'" + " ORDER BY 1")) {
            while (r.next()) {
                accounts.add(r.getString(1));
            }
        }
        return accounts;
    }

    /** When the replica's last dataset finished loading: its NOW(), in UTC. */
    private static Instant slowDatasetFinished(Connection c) throws SQLException {
        String at = queryOne(c, "SELECT DATE_FORMAT(at, '%Y-%m-%d %H:%i:%s') FROM replica_load.finished WHERE id = 1");
        return LocalDateTime.parse(at, DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss"))
                .toInstant(ZoneOffset.UTC);
    }

    private static Instant readySince(Pod pod) {
        return pod.getStatus().getConditions().stream()
                .filter(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()))
                .map(c -> Instant.parse(c.getLastTransitionTime()))
                .findFirst()
                .orElseThrow(() -> new AssertionError("pod " + pod.getMetadata().getName() + " is not Ready"));
    }

    private static boolean isReady(Pod pod) {
        return pod.getStatus() != null
                && pod.getStatus().getConditions() != null
                && pod.getStatus().getConditions().stream()
                        .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    private static int restartCount(Pod pod) {
        return pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null
                ? 0
                : pod.getStatus().getContainerStatuses().stream()
                        .mapToInt(s -> s.getRestartCount())
                        .sum();
    }
}
