package org.sqlflow.playground.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.sqlflow.playground.testing.NodeTierCalls.queryOne;
import static org.sqlflow.playground.testing.NodeTierCalls.update;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
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
import org.sqlflow.playground.cluster.DatabaseRoot;
import org.sqlflow.playground.cluster.PlaygroundLabels;
import org.sqlflow.playground.cluster.UserKey;
import org.sqlflow.playground.testing.Http.Reply;
import org.sqlflow.playground.testing.MutableClock;
import org.sqlflow.playground.testing.NodeTierCalls;
import org.sqlflow.playground.testing.RealApiTestCluster;
import org.sqlflow.playground.testing.RealNode;
import org.sqlflow.playground.testing.RealNodeTier;
import org.sqlflow.playground.testing.SqlflowDataSource;
import org.sqlflow.playground.testing.TestCertificates;
import tools.jackson.databind.JsonNode;

/**
 * End to end on a real node (node tier): the standalone server, over mutual TLS with the SQLFlow client's call
 * shapes, provisions databases that run as real MariaDB pods, and the test queries them with exactly the user and
 * password create_db returned.
 *
 * <p>From the host the test reaches a database the way cluster DNS and a Service would inside the cluster: the
 * data source's host {@code <service>.<namespace>.svc.cluster.local} names a Service, whose Endpoints (kept by the
 * real endpoints controller from the pod's readiness) give the pod's address in the node's pod range. There is no
 * kube-proxy: nothing needs a Service's virtual IP, and without it the node adds no iptables rules to the host.
 *
 * <p>One server and one namespace for the class; each scenario uses its own user. A new scenario is one more
 * {@code @Test} method built from {@link NodeTierCalls#createDb}, {@link NodeTierCalls#connect}, {@link #podOf}, {@link #heartBeat},
 * {@link #reap} and the clock, with an {@code @Order} before the reaper's scenario, which runs last because it
 * moves the server's clock past every database's TTL.
 */
@RealNodeTier
@SpringBootTest(
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {
            "playground.local.enabled=false",
            "playground.reaper.schedule=false",
            // The node's image is a MariaDB image whose own entrypoint honours MYSQL_ROOT_PASSWORD and MYSQL_PORT.
            "playground.database.entrypoint=image",
            "server.ssl.client-auth=need",
            "server.ssl.enabled-protocols=TLSv1.3,TLSv1.2",
            // Generous API timeouts: these tests are about outcomes, and CI machines can be busy.
            "playground.kubernetes.request-timeout=30s",
            "playground.kubernetes.write-timeout=30s",
            "management.server.port=0"
        })
@DirtiesContext
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RealNodeEndToEndTest {

    /** playground.heartbeat.ttl's default, which this server runs with. */
    private static final Duration TTL = Duration.ofMinutes(30);
    /** A fresh pod is Ready in seconds; pod deletion on kubelet 1.20 can take a minute (sandbox clean-up). */
    private static final Duration POD_WAIT = Duration.ofSeconds(150);

    private static final String SERVICE_DOMAIN = ".svc.cluster.local";

    /** The server's clock: one minute ahead of the API server's, moved only by the test. */
    static final MutableClock CLOCK =
            new MutableClock(Instant.now().truncatedTo(ChronoUnit.SECONDS).plus(Duration.ofMinutes(1)));

    private static final TestCertificates CERTS = new TestCertificates("playground-node-tier");
    private static RealApiTestCluster cluster;

    static {
        for (String user : List.of("alice", "bob", "carol")) {
            CERTS.bundle(user, CERTS.ca().issueUser(user, Duration.ofDays(1)));
        }
        CERTS.bundle("ops", CERTS.ca().issueAdmin("ops", Duration.ofDays(1)));
    }

    /** A fresh namespace with knative/rbac.yaml's ServiceAccount: the server runs as that, under its Role. */
    static synchronized RealApiTestCluster cluster() {
        if (cluster == null) {
            cluster = NodeTierCalls.toleratingCluster(RealNodeEndToEndTest.class);
        }
        return cluster;
    }

    @DynamicPropertySource
    static void onTheNode(DynamicPropertyRegistry registry) {
        registry.add("playground.namespace", () -> cluster().namespace());
        registry.add("playground.database.image", () -> RealNode.settings().image());
        // The warm pool as shipped: its databases run on the node too, and a new user claims one.
        registry.add("playground.pool.size", () -> "2");
        CERTS.register(registry);
    }

    @TestConfiguration
    static class TestClockAndServiceAccount {
        @Bean
        @Primary
        Clock testClock() {
            return CLOCK;
        }

        /** The production client settings, authenticated as the playground's ServiceAccount (closed by the cluster). */
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
            cluster(), CERTS, () -> env.getProperty("local.server.port", Integer.class), POD_WAIT, "[node tier]");

    // ---------------------------------------------------------------- scenarios

    @Test
    @Order(100)
    void aDatabaseFromCreateDbAnswersQueriesKeepsItsDataWhileBeatingAndGoesWithTheReaper() throws SQLException {
        SqlflowDataSource ds = calls.createDb("alice");
        assertThat(ds.user()).isEqualTo("root");
        assertThat(ds.host()).isEqualTo(UserKey.of("alice").resourceName() + "." + ns() + SERVICE_DOMAIN);
        Pod pod = podOf(ds);
        assertThat(pod.getSpec().getNodeName()).isEqualTo(RealNode.settings().nodeName());
        assertThat(pod.getSpec().getContainers().get(0).getImage())
                .isEqualTo(RealNode.settings().image());

        try (Connection c = calls.connect(ds)) {
            update(c, "CREATE DATABASE notebook");
            update(c, "CREATE TABLE notebook.notes (id INT PRIMARY KEY, body VARCHAR(200))");
            update(c, "INSERT INTO notebook.notes VALUES (1, 'written by alice through create_db''s data source')");
            String row = queryOne(c, "SELECT body FROM notebook.notes WHERE id = 1");
            assertThat(row).isEqualTo("written by alice through create_db's data source");
            System.out.printf(
                    "[node tier] %s (pod %s on node %s at %s, Ready %d s after it was created) answered:"
                            + " SELECT body ... -> '%s' (%s)%n",
                    ds.host(),
                    pod.getMetadata().getName(),
                    pod.getSpec().getNodeName(),
                    pod.getStatus().getPodIP(),
                    secondsToReady(pod),
                    row,
                    queryOne(c, "SELECT CONCAT('MariaDB ', VERSION())"));
        }
        // Only the returned password opens it.
        assertThatThrownBy(() -> calls.connect(new SqlflowDataSource(
                                ds.user(), ds.password() + "x", ds.host(), ds.port(), ds.database()))
                        .close())
                .isInstanceOf(SQLException.class);

        CLOCK.advance(Duration.ofMinutes(20));
        Reply beat = heartBeat("alice");
        assertThat(beat.status()).as(beat.body()).isEqualTo(200);
        assertThat(beat.json().get("database").asString()).isEqualTo("ready");
        // Past creation + TTL, but within the TTL of the beat: the sweep keeps it, data and all.
        CLOCK.advance(Duration.ofMinutes(20));
        JsonNode kept = reap();
        assertThat(kept.get("reaped").toString()).as(kept.toString()).doesNotContain("\"alice\"");
        assertThat(kept.get("counts").get("active").asInt()).as(kept.toString()).isPositive();
        try (Connection c = calls.connect(ds)) {
            assertThat(queryOne(c, "SELECT body FROM notebook.notes WHERE id = 1"))
                    .startsWith("written by alice");
        }

        CLOCK.advance(TTL.plusSeconds(1));
        JsonNode reaped = reap();
        assertThat(reaped.get("reaped").toString()).as(reaped.toString()).contains("\"alice\"");
        String root = UserKey.of("alice").resourceName();
        calls.await(
                "Deployment " + root + " deleted",
                () -> admin().apps()
                                        .deployments()
                                        .inNamespace(ns())
                                        .withName(root)
                                        .get()
                                == null
                        ? true
                        : null);
        awaitGone(pod);
    }

    @Test
    @Order(1)
    void aDatabasePodKilledUnderItIsRecreatedByItsController() throws SQLException {
        SqlflowDataSource ds = calls.createDb("bob");
        Pod first = podOf(ds);
        try (Connection c = calls.connect(ds)) {
            assertThat(queryOne(c, "SELECT 'bob''s first pod'")).isEqualTo("bob's first pod");
        }

        admin().pods()
                .inNamespace(ns())
                .withName(first.getMetadata().getName())
                .withGracePeriod(0)
                .delete();
        awaitGone(first);

        // The notebook's next create_db: the same data source, now served by the pod the ReplicaSet made.
        SqlflowDataSource again = calls.createDb("bob");
        assertThat(again).isEqualTo(ds);
        Pod second = podOf(again);
        assertThat(second.getMetadata().getUid())
                .isNotEqualTo(first.getMetadata().getUid());
        assertThat(second.getMetadata().getOwnerReferences())
                .singleElement()
                .satisfies(ref -> assertThat(ref.getKind()).isEqualTo("ReplicaSet"));
        try (Connection c = calls.connect(again)) {
            assertThat(queryOne(c, "SELECT 'bob''s second pod'")).isEqualTo("bob's second pod");
        }
    }

    @Test
    @Order(2)
    void aClaimedWarmPoolDatabaseAnswersQueries() throws SQLException {
        calls.await(
                "two Ready pooled databases on the node",
                () -> admin()
                                        .apps()
                                        .deployments()
                                        .inNamespace(ns())
                                        .withLabels(PlaygroundLabels.unclaimedPool())
                                        .list()
                                        .getItems()
                                        .stream()
                                        .filter(DatabaseRoot::isReady)
                                        .count()
                                >= 2
                        ? true
                        : null);

        SqlflowDataSource ds = calls.createDb("carol");

        Deployment root = admin().apps()
                .deployments()
                .inNamespace(ns())
                .withName(UserKey.of("carol").resourceName())
                .get();
        String pooled = DatabaseRoot.of(root).claims();
        assertThat(pooled).as("carol's root claims a pooled database").isNotNull();
        assertThat(root.getSpec().getReplicas()).isZero();
        Pod pod = podOf(ds);
        assertThat(pod.getMetadata().getLabels()).containsEntry(PlaygroundLabels.POOL, pooled);
        assertThat(pod.getSpec().getNodeName()).isEqualTo(RealNode.settings().nodeName());
        try (Connection c = calls.connect(ds)) {
            update(c, "CREATE DATABASE warm");
            update(c, "CREATE TABLE warm.t (id INT PRIMARY KEY, body VARCHAR(100))");
            update(c, "INSERT INTO warm.t VALUES (1, 'carol in a pooled database')");
            String row = queryOne(c, "SELECT body FROM warm.t WHERE id = 1");
            assertThat(row).isEqualTo("carol in a pooled database");
            System.out.printf(
                    "[node tier] warm pool: %s (pooled database %s, pod %s started %d s before the claim)"
                            + " answered: '%s'%n",
                    ds.host(),
                    pooled,
                    pod.getMetadata().getName(),
                    Duration.between(
                                    Instant.parse(pod.getMetadata().getCreationTimestamp()),
                                    Instant.parse(root.getMetadata().getCreationTimestamp()))
                            .toSeconds(),
                    row);
        }
        Reply beat = heartBeat("carol");
        assertThat(beat.json().get("database").asString()).isEqualTo("ready");
    }

    // ---------------------------------------------------------------- the SQLFlow client's calls

    private String ns() {
        return cluster().namespace();
    }

    private KubernetesClient admin() {
        return cluster().admin();
    }

    Reply heartBeat(String user) {
        return calls.as(user).get("/api/heart_beat?user_id=" + user, Map.of());
    }

    /** One sweep, as the reaper's CronJob starts it: POST with an admin certificate. */
    JsonNode reap() {
        Reply r = calls.as("ops")
                .post("/api/reap_stale", "{\"dry_run\": false}", Map.of("Content-Type", "application/json"));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json();
    }

    Pod podOf(SqlflowDataSource ds) {
        Pod pod = calls.podOf(ds);
        assertThat(pod.getStatus().getPhase()).isEqualTo("Running");
        return pod;
    }

    /** From the pod's creation to its Ready condition, as the API server recorded them (whole seconds). */
    private static long secondsToReady(Pod pod) {
        Instant created = Instant.parse(pod.getMetadata().getCreationTimestamp());
        return pod.getStatus().getConditions().stream()
                .filter(c -> "Ready".equals(c.getType()))
                .map(c -> Duration.between(created, Instant.parse(c.getLastTransitionTime()))
                        .toSeconds())
                .findFirst()
                .orElse(-1L);
    }

    /**
     * Gone for real: the API object, the kubelet's directory of the pod (its emptyDir, the database's data, lived
     * there) and anything listening at its address.
     */
    void awaitGone(Pod pod) {
        String name = pod.getMetadata().getName();
        Path podDir = RealNode.settings()
                .kubeletRootDir()
                .resolve("pods")
                .resolve(pod.getMetadata().getUid());
        calls.await(
                "pod " + name + " deleted",
                () -> admin().pods().inNamespace(ns()).withName(name).get() == null ? true : null);
        calls.await("the kubelet to remove " + podDir, () -> Files.exists(podDir) ? null : true);
        String ip = pod.getStatus().getPodIP();
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(ip, 3306), 2000);
            throw new AssertionError("something still answers at " + ip + ":3306");
        } catch (IOException expected) {
            // refused or unreachable: the pod's network namespace is gone
        }
    }
}
