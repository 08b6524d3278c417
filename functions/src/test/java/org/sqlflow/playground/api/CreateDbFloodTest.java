package org.sqlflow.playground.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.core.env.Environment;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.sqlflow.playground.certs.CertificateAuthority;
import org.sqlflow.playground.testing.Http;
import org.sqlflow.playground.testing.Http.Reply;
import org.sqlflow.playground.testing.TestCertificates;
import org.sqlflow.playground.testing.Waits;

/**
 * A flood of create_db calls for a database that is still starting, over real mutual TLS against the standalone
 * server (local mode). The stand-in kubelet never reports the databases ready by itself (a start delay of an
 * hour): the test plays the kubelet, so the calls in flight stay in flight exactly as long as the test needs.
 * Outcomes only: who got 200, who got 429 at once, and that the waiting calls all end with the one database.
 */
@SpringBootTest(
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {
            "playground.local.enabled=true",
            "playground.local.database-start-delay=1h",
            "playground.database.ready-wait=19s",
            "playground.pool.size=0",
            "playground.reaper.schedule=false",
            "playground.api.limits.create-db-per-user=3",
            "playground.api.limits.create-db-per-caller=4",
            "server.ssl.client-auth=need",
            "server.ssl.enabled-protocols=TLSv1.3,TLSv1.2",
            // Generous API timeouts: these tests are about outcomes, and CI machines can be busy.
            "playground.kubernetes.request-timeout=30s",
            "playground.kubernetes.write-timeout=30s",
            "management.server.port=0"
        })
class CreateDbFloodTest {

    private static final TestCertificates CERTS = new TestCertificates("playground-flood");
    private static final Duration WAIT = Duration.ofSeconds(60);

    static {
        CertificateAuthority ca = CERTS.ca();
        CERTS.bundle("alice", ca.issueUser("alice", Duration.ofDays(1)));
        CERTS.bundle("bob", ca.issueUser("bob", Duration.ofDays(1)));
        CERTS.bundle("ops", ca.issueAdmin("ops", Duration.ofDays(1)));
    }

    @DynamicPropertySource
    static void tls(DynamicPropertyRegistry registry) {
        CERTS.register(registry);
    }

    @Autowired
    Environment env;

    @Autowired
    KubernetesClient kube;

    @Autowired
    InFlightLimits limits;

    private ExecutorService callers;

    @BeforeEach
    void setUp() {
        callers = Executors.newCachedThreadPool();
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        callers.shutdownNow();
        callers.awaitTermination(30, TimeUnit.SECONDS);
    }

    /** A fresh client per call: a new TLS handshake each time, as the SQLFlow client does. */
    private Http as(String bundle) {
        return new Http("https://localhost:" + env.getProperty("local.server.port"), CERTS.clientContext(bundle));
    }

    private Reply createDb(String bundle, String user) {
        // Exactly the real client's request: JSON labelled as a form.
        return as(bundle)
                .post(
                        "/api/create_db",
                        "{\"user_id\": \"" + user + "\"}",
                        Map.of("Content-Type", "application/x-www-form-urlencoded"));
    }

    private List<Future<Reply>> start(int n, String bundle, String user) {
        List<Future<Reply>> calls = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            calls.add(callers.submit((Callable<Reply>) () -> createDb(bundle, user)));
        }
        return calls;
    }

    private void awaitInFlight(String what, java.util.function.BooleanSupplier reached) {
        Waits.await(what, WAIT).until(reached::getAsBoolean);
    }

    /** What the stand-in kubelet would do after its delay: the database's pod is ready. */
    private void markReady(String user) {
        kube.apps()
                .deployments()
                .inNamespace("sqlflow-playground")
                .withName("db-" + user)
                .editStatus(d -> {
                    d.setStatus(new DeploymentStatusBuilder()
                            .withReplicas(1)
                            .withReadyReplicas(1)
                            .withAvailableReplicas(1)
                            .withUpdatedReplicas(1)
                            .withObservedGeneration(d.getMetadata().getGeneration())
                            .build());
                    return d;
                });
    }

    private static void assertTooMany(Reply r) {
        assertThat(r.status()).as(r.body()).isEqualTo(429);
        assertThat(r.header("Content-Type")).startsWith("application/json");
        assertThat(r.header("Retry-After")).isNotNull();
        assertThat(r.json().get("error").asString()).isEqualTo("too_many_requests");
        assertThat(r.json().get("message").asString()).isNotBlank();
    }

    @Test
    void aFloodForOneUserGetsA429PastItsLimitWhileABystanderBeats() throws Exception {
        List<Future<Reply>> waiting = start(3, "alice", "alice");
        awaitInFlight(
                "three create_db calls for alice waiting for her database", () -> limits.inFlightFor("alice") == 3);

        List<Future<Reply>> flood = start(20, "alice", "alice");
        for (Future<Reply> f : flood) {
            assertTooMany(f.get(WAIT.toSeconds(), TimeUnit.SECONDS));
        }
        Reply bystander = as("bob").get("/api/heart_beat?user_id=bob", Map.of());
        assertThat(bystander.status()).as(bystander.body()).isEqualTo(200);
        assertThat(limits.inFlightFor("alice"))
                .as("the flood's calls were answered, not queued")
                .isEqualTo(3);

        markReady("alice");
        Set<String> sources = new HashSet<>();
        for (Future<Reply> f : waiting) {
            Reply r = f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(r.status()).as(r.body()).isEqualTo(200);
            assertThat(r.header("Cache-Control")).isEqualTo("no-store");
            sources.add(r.json().get("data_source").asString());
        }
        assertThat(sources).as("the waiting calls share one database").hasSize(1);
        assertThat(limits.inFlightFor("alice")).isZero();
        Reply after = createDb("alice", "alice");
        assertThat(after.status()).as("slots are given back: " + after.body()).isEqualTo(200);
    }

    @Test
    void anAdminCertificateIsLimitedAcrossTheUsersItActsFor() throws Exception {
        List<Future<Reply>> waiting = new ArrayList<>();
        for (int i = 1; i <= 4; i++) {
            waiting.addAll(start(1, "ops", "team-" + i));
        }
        awaitInFlight("four create_db calls by the admin waiting", () -> limits.inFlight() == 4);

        assertTooMany(createDb("ops", "team-5"));
        Reply own = as("bob").get("/api/heart_beat?user_id=bob", Map.of());
        assertThat(own.status()).as(own.body()).isEqualTo(200);

        for (int i = 1; i <= 4; i++) {
            markReady("team-" + i);
        }
        for (Future<Reply> f : waiting) {
            Reply r = f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(r.status()).as(r.body()).isEqualTo(200);
        }
        assertThat(limits.inFlight()).isZero();
    }
}
