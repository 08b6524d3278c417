package org.sqlflow.playground.identity;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
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
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.sqlflow.playground.testing.Http;
import org.sqlflow.playground.testing.Http.Reply;
import org.sqlflow.playground.testing.MutableClock;
import org.sqlflow.playground.testing.TestGatewayProof;

/**
 * Gateway mode, attacked as a pod inside the cluster would: over real HTTP against the whole application (local
 * mode), every request that lacks the gateway's proof, or carries a wrong or retired one, gets 401 on all three
 * endpoints, whatever identity header it brings. A rotation is followed by moving the application's clock past
 * the proof's refresh interval, never by sleeping.
 */
@SpringBootTest(
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {
            "playground.local.enabled=true",
            "playground.identity.source=gateway",
            "playground.identity.proof-refresh=30s",
            "playground.namespace=gateway-identity-test",
            "playground.local.database-start-delay=0s",
            "playground.database.ready-wait=5s",
            "playground.pool.size=0",
            "playground.reaper.schedule=false",
            "playground.reaper.min-interval=0s",
            "playground.kubernetes.request-timeout=30s",
            "playground.kubernetes.write-timeout=30s",
            "management.server.port=0"
        })
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GatewayIdentityTest {

    private static final String IDENTITY = "x-playground-client-subject";
    private static final String MALLORY_AS_ADMIN = "CN=mallory,OU=sqlflow-playground-admins";
    private static final MutableClock CLOCK = new MutableClock(Instant.parse("2026-06-01T12:00:00Z"));
    private static final String FIRST = TestGatewayProof.newValue();
    private static final String SECOND = TestGatewayProof.newValue();
    private static final Path PROOF = TestGatewayProof.newDirectory("gateway-identity-test", FIRST, null);

    @DynamicPropertySource
    static void gatewayProof(DynamicPropertyRegistry registry) {
        registry.add("playground.identity.proof-directory", PROOF::toString);
    }

    @TestConfiguration
    static class MovableClock {
        @Bean
        @Primary
        Clock movableClock() {
            return CLOCK;
        }
    }

    @Autowired
    Environment env;

    Http http;

    @BeforeEach
    void setUp() {
        http = new Http("http://127.0.0.1:" + env.getProperty("local.server.port"));
    }

    private static Map<String, String> headers(String subject, String proof) {
        Map<String, String> h = new HashMap<>();
        if (subject != null) {
            h.put(IDENTITY, subject);
        }
        if (proof != null) {
            h.put(TestGatewayProof.HEADER, proof);
        }
        return h;
    }

    /** The three endpoints, each asked for bob's data (or a sweep) with the given headers. */
    private Map<String, Reply> allThree(Map<String, String> headers) {
        return Map.of(
                "create_db", http.post("/api/create_db", "{\"user_id\": \"bob\"}", headers),
                "heart_beat", http.get("/api/heart_beat?user_id=bob", headers),
                "reap_stale", http.post("/api/reap_stale", "{\"dry_run\": true}", headers));
    }

    private static void assertAllUnauthenticated(Map<String, Reply> replies, String... secretsNotEchoed) {
        replies.forEach((endpoint, r) -> {
            assertThat(r.status()).as(endpoint + ": " + r.body()).isEqualTo(401);
            assertThat(r.header("Content-Type")).as(endpoint).startsWith("application/json");
            assertThat(r.json().get("error").asString()).as(endpoint).isEqualTo("unauthenticated");
            assertThat(r.json().get("message").asString())
                    .as(endpoint)
                    .contains("did not come through the playground's gateway");
            for (String secret : secretsNotEchoed) {
                assertThat(r.body()).as(endpoint).doesNotContain(secret);
            }
        });
    }

    @Test
    @Order(1)
    void theForgeryFromTheIssueGets401OnAllThreeEndpoints() {
        // Exactly the attack: a plain HTTP request with the identity header of an admin, and nothing else.
        assertAllUnauthenticated(allThree(headers(MALLORY_AS_ADMIN, null)));
    }

    @Test
    @Order(2)
    void aWrongOrEmptyProofGets401() {
        assertAllUnauthenticated(allThree(headers(MALLORY_AS_ADMIN, TestGatewayProof.newValue())));
        assertAllUnauthenticated(allThree(headers(MALLORY_AS_ADMIN, "")));
        // The same length and all but the last character right: still no.
        String almost = FIRST.substring(0, FIRST.length() - 1) + (FIRST.endsWith("A") ? "B" : "A");
        assertAllUnauthenticated(allThree(headers(MALLORY_AS_ADMIN, almost)));
        // The placeholder of the committed VirtualService is no proof either.
        assertAllUnauthenticated(allThree(headers(MALLORY_AS_ADMIN, GatewayProof.PLACEHOLDER)));
    }

    @Test
    @Order(3)
    void theProofAloneIsNoIdentity() {
        Map<String, Reply> replies = allThree(headers(null, FIRST));
        replies.forEach((endpoint, r) ->
                assertThat(r.status()).as(endpoint + ": " + r.body()).isEqualTo(401));
    }

    @Test
    @Order(4)
    void withTheProofTheGatewaysIdentityCounts() {
        Reply own = http.get("/api/heart_beat?user_id=bob", headers("CN=bob,OU=sqlflow-playground-users", FIRST));
        assertThat(own.status()).as(own.body()).isEqualTo(200);
        Reply other = http.get("/api/heart_beat?user_id=bob", headers("CN=alice,OU=sqlflow-playground-users", FIRST));
        assertThat(other.status()).as(other.body()).isEqualTo(403);
        Reply sweep = http.post("/api/reap_stale", "{\"dry_run\": true}", headers(MALLORY_AS_ADMIN, FIRST));
        assertThat(sweep.status()).as(sweep.body()).isEqualTo(200);
        assertThat(sweep.json().has("reaped"))
                .as("an admin certificate gets the full report")
                .isTrue();
    }

    @Test
    @Order(5)
    void duringARotationBothValuesCountAndAfterItTheOldOneIsRefused() {
        Map<String, String> bobWith = headers("CN=bob,OU=sqlflow-playground-users", SECOND);
        // Step 1: the Secret gains "next"; until the pod re-reads it, the new value is unknown.
        TestGatewayProof.write(PROOF, FIRST, SECOND);
        assertThat(http.get("/api/heart_beat?user_id=bob", bobWith).status()).isEqualTo(401);
        CLOCK.advance(Duration.ofSeconds(31));
        assertThat(http.get("/api/heart_beat?user_id=bob", bobWith).status()).isEqualTo(200);
        assertThat(http.get("/api/heart_beat?user_id=bob", headers("CN=bob,OU=sqlflow-playground-users", FIRST))
                        .status())
                .as("the gateway still sends the current value")
                .isEqualTo(200);

        // Step 3: "next" became "current"; the old value is retired.
        TestGatewayProof.write(PROOF, SECOND, null);
        CLOCK.advance(Duration.ofSeconds(31));
        assertThat(http.get("/api/heart_beat?user_id=bob", bobWith).status()).isEqualTo(200);
        assertAllUnauthenticated(allThree(headers(MALLORY_AS_ADMIN, FIRST)), FIRST, SECOND);
    }

    @Test
    @Order(6)
    void aProofFileThatBreaksKeepsTheValuesReadBefore() throws IOException {
        TestGatewayProof.write(PROOF, SECOND, null);
        CLOCK.advance(Duration.ofSeconds(31));
        Files.writeString(PROOF.resolve(GatewayProof.CURRENT), "short");
        CLOCK.advance(Duration.ofSeconds(31));
        Map<String, String> bob = headers("CN=bob,OU=sqlflow-playground-users", SECOND);
        assertThat(http.get("/api/heart_beat?user_id=bob", bob).status()).isEqualTo(200);
        assertThat(http.get("/api/heart_beat?user_id=bob", headers("CN=bob,OU=sqlflow-playground-users", "short"))
                        .status())
                .isEqualTo(401);
        TestGatewayProof.write(PROOF, SECOND, null);
    }
}
