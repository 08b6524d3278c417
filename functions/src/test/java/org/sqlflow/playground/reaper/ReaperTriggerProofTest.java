package org.sqlflow.playground.reaper;

import static org.assertj.core.api.Assertions.assertThat;

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
 * The reaper's own instance as the Knative Service runs it (gateway mode, reap_stale only, reaper-trigger): only
 * the CronJob's proof, a value of its own, starts a sweep; the reply names no user; sweeps closer together than
 * the minimum interval are refused. Over real HTTP against the whole application in local mode.
 */
@SpringBootTest(
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {
            "playground.local.enabled=true",
            "playground.identity.source=gateway",
            "playground.api.functions=reap_stale",
            "playground.api.reaper-trigger=true",
            "playground.reaper.schedule=false",
            "playground.reaper.min-interval=60s",
            "playground.namespace=reaper-trigger-test",
            "playground.pool.size=0",
            "management.server.port=0"
        })
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReaperTriggerProofTest {

    private static final MutableClock CLOCK = new MutableClock(Instant.parse("2026-06-01T12:00:00Z"));
    /** The reaper's value: not the public gateway's (TestGatewayProof.VALUE). */
    private static final String REAPER_VALUE = TestGatewayProof.newValue();

    private static final Path PROOF = TestGatewayProof.newDirectory("reaper-proof", REAPER_VALUE, null);

    @DynamicPropertySource
    static void reaperProof(DynamicPropertyRegistry registry) {
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

    private Reply sweep(String proof, String subject) {
        Map<String, String> h = new HashMap<>();
        if (proof != null) {
            h.put(TestGatewayProof.HEADER, proof);
        }
        if (subject != null) {
            h.put("x-playground-client-subject", subject);
        }
        return http.post("/api/reap_stale", "{}", h);
    }

    @Test
    @Order(1)
    void withoutTheReapersOwnProofNoSweep() {
        String admin = "CN=mallory,OU=sqlflow-playground-admins";
        for (Reply r : new Reply[] {
            sweep(null, null),
            sweep(null, admin),
            sweep(TestGatewayProof.VALUE, admin),
            sweep(TestGatewayProof.newValue(), null)
        }) {
            assertThat(r.status()).as(r.body()).isEqualTo(401);
            assertThat(r.json().get("error").asString()).isEqualTo("unauthenticated");
        }
    }

    @Test
    @Order(2)
    void theCronJobsSweepIsAnsweredWithCountsOnlyAndNotRepeatedTooSoon() {
        Reply first = sweep(REAPER_VALUE, null);
        assertThat(first.status()).as(first.body()).isEqualTo(200);
        assertThat(first.json().get("counts").get("examined")).isNotNull();
        for (String detail : new String[] {"reaped", "kept", "failed", "orphans"}) {
            assertThat(first.json().has(detail))
                    .as(detail + " in " + first.body())
                    .isFalse();
        }
        // An identity header does not turn the trigger's reply into the full report.
        CLOCK.advance(Duration.ofSeconds(61));
        Reply asAdmin = sweep(REAPER_VALUE, "CN=mallory,OU=sqlflow-playground-admins");
        assertThat(asAdmin.status()).as(asAdmin.body()).isEqualTo(200);
        assertThat(asAdmin.json().has("reaped")).isFalse();

        CLOCK.advance(Duration.ofSeconds(20));
        Reply tooSoon = sweep(REAPER_VALUE, null);
        assertThat(tooSoon.status()).as(tooSoon.body()).isEqualTo(429);
        assertThat(tooSoon.json().get("error").asString()).isEqualTo("sweep_too_soon");
        assertThat(tooSoon.header("Retry-After")).isEqualTo("40");

        CLOCK.advance(Duration.ofSeconds(40));
        assertThat(sweep(REAPER_VALUE, null).status()).isEqualTo(200);
    }
}
