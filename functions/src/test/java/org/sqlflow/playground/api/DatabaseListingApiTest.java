package org.sqlflow.playground.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.sqlflow.playground.assembly.Playground;
import org.sqlflow.playground.cluster.HeartbeatLedger;
import org.sqlflow.playground.cluster.PlaygroundLabels;
import org.sqlflow.playground.cluster.UserKey;
import org.sqlflow.playground.listing.DatabaseListing;
import org.sqlflow.playground.testing.FaultInjectingDispatcher;
import org.sqlflow.playground.testing.Http;
import org.sqlflow.playground.testing.Http.Reply;
import org.sqlflow.playground.testing.TestGatewayProof;
import org.sqlflow.playground.testing.Waits;
import tools.jackson.databind.JsonNode;

/**
 * GET /api/databases over real HTTP against the whole application in local mode (fabric8's mock API server, whose
 * dispatcher counts every request): who may ask, what it answers, how it pages, and that it costs no API read per
 * user.
 */
@SpringBootTest(
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {
            "playground.local.enabled=true",
            "playground.identity.source=gateway",
            "playground.namespace=" + DatabaseListingApiTest.NS,
            "playground.local.database-start-delay=0s",
            "playground.database.ready-wait=5s",
            "playground.database.max-databases=5000",
            "playground.pool.size=0",
            "playground.reaper.schedule=false",
            "playground.reaper.min-interval=0s",
            "playground.kubernetes.request-timeout=30s",
            "playground.kubernetes.write-timeout=30s",
            "management.server.port=0"
        })
class DatabaseListingApiTest {

    static final String NS = "playground-listing";
    /** This test's three users ("lisa" sorts just before them): the class's other tests add users of their own. */
    private static final String MINE = "/api/databases?after=lisa&limit=3";

    private static final String IDENTITY = "x-playground-client-subject";
    private static final Map<String, String> ADMIN =
            Map.of(IDENTITY, "CN=ops,OU=sqlflow-playground-admins", TestGatewayProof.HEADER, TestGatewayProof.VALUE);

    @TestConfiguration
    static class CountingCluster {
        @Bean
        FaultInjectingDispatcher faultInjectingDispatcher() {
            return new FaultInjectingDispatcher();
        }
    }

    @Autowired
    Environment env;

    @Autowired
    KubernetesClient kube;

    @Autowired
    FaultInjectingDispatcher api;

    @Autowired
    HeartbeatLedger ledger;

    @Autowired
    Playground playground;

    Http http;

    @BeforeEach
    void setUp() {
        http = new Http("http://127.0.0.1:" + env.getProperty("local.server.port"));
    }

    @DynamicPropertySource
    static void gatewayProof(DynamicPropertyRegistry registry) {
        TestGatewayProof.register(registry);
    }

    private static Map<String, String> as(String user) {
        return Map.of(
                IDENTITY,
                "CN=" + user + ",OU=sqlflow-playground-users",
                TestGatewayProof.HEADER,
                TestGatewayProof.VALUE);
    }

    private static void assertError(Reply r, int status, String code) {
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        assertThat(r.header("Content-Type")).startsWith("application/json");
        assertThat(r.json().get("error").asString()).isEqualTo(code);
        assertThat(r.body()).doesNotContain("Exception");
    }

    @Test
    void onlyAnAdminWithTheGatewaysProofMayList() {
        assertError(http.get("/api/databases", Map.of()), 401, "unauthenticated");
        assertError(
                http.get("/api/databases", Map.of(IDENTITY, "CN=ops,OU=sqlflow-playground-admins")),
                401,
                "unauthenticated");
        assertError(
                http.get(
                        "/api/databases",
                        Map.of(
                                IDENTITY,
                                "CN=ops,OU=sqlflow-playground-admins",
                                TestGatewayProof.HEADER,
                                "not-the-proof")),
                401,
                "unauthenticated");
        assertError(http.get("/api/databases", as("alice")), 403, "admin_only");
        // The admin OU among others is not admin (the identity rules of every endpoint).
        assertError(
                http.get(
                        "/api/databases",
                        Map.of(
                                IDENTITY,
                                "CN=ops,OU=sqlflow-playground-admins,OU=sqlflow-playground-users",
                                TestGatewayProof.HEADER,
                                TestGatewayProof.VALUE)),
                403,
                "admin_only");
        assertError(http.post("/api/databases", "{}", ADMIN), 405, "method_not_allowed");
        Reply ok = http.get("/api/databases", ADMIN);
        assertThat(ok.status()).as(ok.body()).isEqualTo(200);
        assertThat(ok.header("Cache-Control")).isEqualTo("no-store");
    }

    @Test
    void aBadCursorOrLimitIsA400() {
        for (String query : List.of(
                "after=Not%20An%20Id",
                "limit=0", "limit=501", "limit=ten", "limit=-1", "after=a&after=b", "limit=1&limit=2", "limit=0100")) {
            assertError(http.get("/api/databases?" + query, ADMIN), 400, "invalid_page");
        }
    }

    @Test
    void eachDatabaseIsListedWithItsStateBeatAndExpiry() {
        for (String user : List.of("list-ann", "list-ben", "list-cy")) {
            Reply created = http.post("/api/create_db", "{\"user_id\": \"" + user + "\"}", as(user));
            assertThat(created.status()).as(created.body()).isEqualTo(200);
        }
        kube.apps()
                .deployments()
                .inNamespace(NS)
                .withName(UserKey.of("list-ben").resourceName())
                .edit(d -> annotate(d, PlaygroundLabels.KEEP, "true"));
        kube.apps()
                .deployments()
                .inNamespace(NS)
                .withName(UserKey.of("list-cy").resourceName())
                .edit(d -> annotate(d, PlaygroundLabels.REAPING, Instant.now().toString()));
        Waits.await("the watch to see the kept and the condemned database").until(() -> {
            Map<String, JsonNode> e = entries(http.get(MINE, ADMIN));
            return e.containsKey("list-ben")
                    && e.get("list-ben").get("kept").asBoolean()
                    && e.containsKey("list-cy")
                    && "condemned".equals(e.get("list-cy").get("state").asString());
        });
        Reply page = http.get(MINE, ADMIN);
        Map<String, JsonNode> entries = entries(page);
        assertThat(entries.keySet()).containsExactly("list-ann", "list-ben", "list-cy");
        JsonNode ann = entries.get("list-ann");
        assertThat(ann.get("state").asString()).isEqualTo("ready");
        assertThat(ann.get("kept").asBoolean()).isFalse();
        assertThat(ann.get("pooled").asBoolean()).isFalse();
        Instant beat = ledger.lastBeat(UserKey.of("list-ann"));
        assertThat(beat).isNotNull();
        assertThat(ann.get("last_beat").asString()).isEqualTo(beat.toString());
        Instant created = Instant.parse(ann.get("created").asString());
        assertThat(ann.get("expires_at").asString())
                .isEqualTo(playground.expiry().expiresAt(beat, created).toString());
        assertThat(entries.get("list-ben").get("kept").asBoolean()).isTrue();
        assertThat(entries.get("list-cy").get("state").asString()).isEqualTo("condemned");
        JsonNode body = page.json();
        assertThat(body.get("max_databases").asInt()).isEqualTo(5000);
        assertThat(body.get("running").asInt()).isGreaterThanOrEqualTo(3);
        assertThat(body.get("pool").get("size").asInt()).isZero();
        assertThat(body.get("synced").asBoolean()).isTrue();
        assertThat(body.get("total").asInt()).isGreaterThanOrEqualTo(3);

        Reply sweep = http.post("/api/reap_stale", "{\"dry_run\": true}", ADMIN);
        assertThat(sweep.status()).as(sweep.body()).isEqualTo(200);
        JsonNode last = http.get("/api/databases", ADMIN).json().get("last_sweep");
        assertThat(last.get("finished_at").asString())
                .isEqualTo(sweep.json().get("finished_at").asString());
        assertThat(last.get("counts").get("examined").asInt())
                .isEqualTo(sweep.json().get("counts").get("examined").asInt());
        assertThat(last.has("reaped")).as("counts only, as to the CronJob").isFalse();
    }

    @Test
    void theListingCostsTheSameApiRequestsForThreeUsersOrThreeHundred() {
        createRoots("cost-a", 3);
        Waits.await("the stand-in kubelet to mark them ready")
                .until(() -> playground.listing().countByState().get(DatabaseListing.State.STARTING) == 0
                        && playground.directory().databaseCount() >= 3);
        Map<String, Long> few = requestsOfOneListing();
        createRoots("cost-b", 300);
        // The stand-in kubelet's own requests (it marks each new database ready) are over before counting.
        Waits.await("the stand-in kubelet to mark all 303 ready")
                .until(() -> playground.listing().countByState().get(DatabaseListing.State.STARTING) == 0
                        && playground.directory().databaseCount() >= 303);
        Map<String, Long> many = requestsOfOneListing();
        // Only the ledger's shards, listed by label: no read of a root, a Secret or a user's shard by name.
        assertThat(many.keySet()).containsExactly("GET configmaps");
        assertThat(many).isEqualTo(few);
        assertThat(many.get("GET configmaps")).isLessThanOrEqualTo((ledger.shardCount() + 3) / 4 + 1L);
    }

    @Test
    void morethanFiveHundredDatabasesArePagedByTheCursor() {
        createRoots("page", 501);
        Waits.await("the watch to see all 501")
                .until(() ->
                        http.get("/api/databases", ADMIN).json().get("total").asInt() >= 501);
        List<String> seen = new ArrayList<>();
        String after = null;
        int pages = 0;
        do {
            Reply r = http.get("/api/databases" + (after == null ? "" : "?after=" + after), ADMIN);
            assertThat(r.status()).as(r.body()).isEqualTo(200);
            JsonNode list = r.json().get("databases");
            assertThat(list.size()).isLessThanOrEqualTo(500);
            list.forEach(e -> seen.add(e.get("user_id").asString()));
            JsonNode next = r.json().get("next_after");
            after = next == null || next.isNull() ? null : next.asString();
            pages++;
        } while (after != null);
        List<String> pageUsers =
                seen.stream().filter(u -> u.startsWith("page-")).toList();
        assertThat(pageUsers).hasSize(501).doesNotHaveDuplicates().isSorted();
        assertThat(seen).isSorted();
        assertThat(pages).isGreaterThanOrEqualTo(2);

        Reply small = http.get("/api/databases?limit=2&after=page-0000", ADMIN);
        assertThat(entries(small).keySet()).containsExactly("page-0001", "page-0002");
        assertThat(small.json().get("next_after").asString()).isEqualTo("page-0002");
    }

    private Map<String, Long> requestsOfOneListing() {
        Map<String, Long> before = api.counts();
        Reply r = http.get("/api/databases", ADMIN);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        Map<String, Long> diff = new HashMap<>();
        api.counts().forEach((k, v) -> {
            long d = v - before.getOrDefault(k, 0L);
            if (d > 0) {
                diff.put(k, d);
            }
        });
        return diff;
    }

    private void createRoots(String prefix, int n) {
        for (int i = 0; i < n; i++) {
            UserKey user = UserKey.of(String.format("%s-%04d", prefix, i));
            kube.apps()
                    .deployments()
                    .inNamespace(NS)
                    .resource(playground.objects().root(user))
                    .create();
        }
    }

    private static Deployment annotate(Deployment d, String key, String value) {
        Map<String, String> a = new HashMap<>(d.getMetadata().getAnnotations());
        a.put(key, value);
        d.getMetadata().setAnnotations(a);
        return d;
    }

    private static Map<String, JsonNode> entries(Reply r) {
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        Map<String, JsonNode> out = new LinkedHashMap<>();
        r.json().get("databases").forEach(e -> out.put(e.get("user_id").asString(), e));
        return out;
    }
}
