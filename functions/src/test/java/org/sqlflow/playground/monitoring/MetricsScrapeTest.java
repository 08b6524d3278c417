package org.sqlflow.playground.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.core.env.Environment;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.sqlflow.playground.testing.Http;
import org.sqlflow.playground.testing.Http.Reply;
import org.sqlflow.playground.testing.TestGatewayProof;

/**
 * Every metric that an alert rule or a dashboard panel names is one the server really exports: a local-mode server
 * gets each kind of call once (create_db, heart_beat, an error, a sweep, the listing), then its
 * /actuator/prometheus is scraped on the management port, as Prometheus scrapes it.
 */
@SpringBootTest(
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {
            "playground.local.enabled=true",
            "playground.identity.source=gateway",
            "playground.namespace=playground-metrics",
            "playground.local.database-start-delay=0s",
            "playground.database.ready-wait=5s",
            "playground.pool.size=1",
            "playground.reaper.schedule=false",
            "playground.reaper.min-interval=0s",
            "management.server.port=0"
        })
class MetricsScrapeTest {

    private static final Map<String, String> ADMIN = Map.of(
            "x-playground-client-subject",
            "CN=ops,OU=sqlflow-playground-admins",
            TestGatewayProof.HEADER,
            TestGatewayProof.VALUE);

    @Autowired
    Environment env;

    @DynamicPropertySource
    static void gatewayProof(DynamicPropertyRegistry registry) {
        TestGatewayProof.register(registry);
    }

    @Test
    void everyMetricTheRulesAndTheDashboardNameIsExported() {
        Http http = new Http("http://127.0.0.1:" + env.getProperty("local.server.port"));
        assertThat(http.post("/api/create_db", "{\"user_id\": \"alice\"}", ADMIN)
                        .status())
                .isEqualTo(200);
        assertThat(http.get("/api/heart_beat?user_id=alice", ADMIN).status()).isEqualTo(200);
        assertThat(http.post("/api/create_db", "{}", ADMIN).status()).isEqualTo(400);
        assertThat(http.post("/api/reap_stale", "{}", ADMIN).status()).isEqualTo(200);
        assertThat(http.get("/api/databases", ADMIN).status()).isEqualTo(200);
        Reply scrape = new Http("http://127.0.0.1:" + env.getProperty("local.management.port"))
                .get("/actuator/prometheus", Map.of());
        assertThat(scrape.status()).isEqualTo(200);
        Set<String> exported = Monitoring.seriesNames(scrape.body());

        Set<String> named = new TreeSet<>(Monitoring.metricsInRules());
        named.addAll(Monitoring.metricsInDashboard());
        assertThat(named).as("the rules and the dashboard name metrics").hasSizeGreaterThan(10);
        assertThat(exported).containsAll(named);
    }
}
