package org.sqlflow.playground.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
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
import org.sqlflow.playground.cluster.DatabaseObjects;
import org.sqlflow.playground.cluster.HeartbeatLedger;
import org.sqlflow.playground.cluster.PlaygroundLabels;
import org.sqlflow.playground.cluster.UserKey;
import org.sqlflow.playground.testing.FaultInjectingDispatcher;
import org.sqlflow.playground.testing.Http;
import org.sqlflow.playground.testing.Http.Reply;
import org.sqlflow.playground.testing.SqlflowDataSource;
import org.sqlflow.playground.testing.TestGatewayProof;

/**
 * The HTTP contract, as the real SQLFlow client exercises it, over real HTTP against the whole application
 * (local mode: fabric8's mock API server and the stand-in kubelet). Identity comes from the gateway header
 * here; the TLS tests cover the standalone handshake.
 */
@SpringBootTest(
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {
            "playground.local.enabled=true",
            "playground.identity.source=gateway",
            "playground.namespace=" + ApiContractTest.NS,
            "playground.local.database-start-delay=0s",
            "playground.database.ready-wait=10s",
            "playground.database.max-databases=5000",
            // The ordinary path (a database of one's own, starting or slow); the warm pool has its own scenarios.
            "playground.pool.size=0",
            "playground.reaper.schedule=false",
            "playground.reaper.min-interval=0s",
            // concurrentCreateDbForOneUserMakesOneDatabase sends 32 calls for one user at once; CreateDbFloodTest
            // covers the limits themselves.
            "playground.api.limits.create-db-per-user=64",
            "playground.api.limits.create-db-per-caller=64",
            // Generous API timeouts: these tests are about outcomes, and CI machines can be busy.
            "playground.kubernetes.request-timeout=30s",
            "playground.kubernetes.write-timeout=30s",
            "management.server.port=0"
        })
class ApiContractTest {

    static final String NS = "playground-test";
    private static final String IDENTITY = "x-playground-client-subject";

    @TestConfiguration
    static class FaultyCluster {
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
    FaultInjectingDispatcher faults;

    @Autowired
    HeartbeatLedger ledger;

    Http http;

    @BeforeEach
    void setUp() {
        http = new Http("http://127.0.0.1:" + env.getProperty("local.server.port"));
        faults.clearFaults();
    }

    @DynamicPropertySource
    static void gatewayProof(DynamicPropertyRegistry registry) {
        TestGatewayProof.register(registry);
    }

    /** What the public gateway writes for a client certificate naming {@code user}: the identity and the proof. */
    private static Map<String, String> as(String user) {
        return Map.of(
                IDENTITY,
                "CN=" + user + ",OU=sqlflow-playground-users",
                TestGatewayProof.HEADER,
                TestGatewayProof.VALUE);
    }

    private Reply createDb(String user, String contentType) {
        Map<String, String> headers = new HashMap<>(as(user));
        if (contentType != null) {
            headers.put("Content-Type", contentType);
        }
        // Exactly the real client's body: json.dumps({"user_id": user_id})
        return http.post("/api/create_db", "{\"user_id\": \"" + user + "\"}", headers);
    }

    private static void assertError(Reply r, int status, String code) {
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        assertThat(r.header("Content-Type")).startsWith("application/json");
        assertThat(r.json().get("error").asString()).isEqualTo(code);
        assertThat(r.json().get("message").asString()).isNotBlank();
        assertThat(r.body()).doesNotContain("Exception").doesNotContain("\tat ");
    }

    /** Exactly one root, one Secret and one Service carry the user's label: concurrent or repaired calls made one. */
    private void assertOneDatabaseOf(String user) {
        Map<String, String> selector = Map.of(PlaygroundLabels.USER, user);
        assertThat(kube.apps()
                        .deployments()
                        .inNamespace(NS)
                        .withLabels(selector)
                        .list()
                        .getItems())
                .hasSize(1);
        assertThat(kube.secrets().inNamespace(NS).withLabels(selector).list().getItems())
                .hasSize(1);
        assertThat(kube.services().inNamespace(NS).withLabels(selector).list().getItems())
                .hasSize(1);
    }

    @Test
    void createDbAcceptsEveryContentTypeTheClientMaySend() {
        String first = null;
        for (String type :
                new String[] {"application/x-www-form-urlencoded", "application/json", "text/plain; charset=utf-8", null
                }) {
            Reply r = createDb("ctype-user", type);
            assertThat(r.status()).as(type + ": " + r.body()).isEqualTo(200);
            assertThat(r.header("Cache-Control"))
                    .as("the reply holds a password")
                    .isEqualTo("no-store");
            String ds = r.json().get("data_source").asString();
            SqlflowDataSource parsed = SqlflowDataSource.parse(ds);
            assertThat(parsed.user()).isEqualTo("root");
            assertThat(parsed.password()).hasSizeGreaterThanOrEqualTo(22);
            assertThat(parsed.host()).isEqualTo("db-ctype-user." + NS + ".svc.cluster.local");
            assertThat(parsed.port()).isEqualTo(3306);
            assertThat(ds).endsWith("?maxAllowedPacket=0");
            assertThat(r.json().get("user_id").asString()).isEqualTo("ctype-user");
            assertThat(r.json().get("expires_at").asString()).isNotBlank();
            if (first == null) {
                first = ds;
            }
            assertThat(ds).as("the same user always gets the same data source").isEqualTo(first);
        }
    }

    @Test
    void passwordsAreRandomPerUser() {
        Set<String> passwords = new HashSet<>();
        for (int i = 0; i < 5; i++) {
            Reply r = createDb("random-" + i, null);
            assertThat(r.status()).isEqualTo(200);
            passwords.add(SqlflowDataSource.parse(r.json().get("data_source").asString())
                    .password());
        }
        assertThat(passwords).hasSize(5);
    }

    @Test
    void heartBeatForAUserWithADatabaseIsStored() {
        assertThat(createDb("beater", "application/x-www-form-urlencoded").status())
                .isEqualTo(200);
        Reply r = http.get("/api/heart_beat?user_id=beater", as("beater"));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.json().get("user_id").asString()).isEqualTo("beater");
        assertThat(r.json().get("database").asString()).isEqualTo("ready");
        assertThat(r.json().get("expires_at").asString()).isNotBlank();
        UserKey key = UserKey.of("beater");
        ConfigMap shard = kube.configMaps()
                .inNamespace(NS)
                .withName(ledger.shardName(ledger.shardOf(key)))
                .get();
        assertThat(shard.getData()).containsKey(key.key());
    }

    @Test
    void heartBeatForAUserWithoutADatabaseIsOkAndWritesNothing() {
        long before = faults.writes();
        long reads = faults.counts().getOrDefault("GET deployments", 0L);
        Reply r = http.get("/api/heart_beat?user_id=nodb", as("nodb"));
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("database").asString()).isEqualTo("none");
        assertThat(r.json().has("expires_at")).isFalse();
        assertThat(faults.writes()).isEqualTo(before);
        assertThat(faults.counts().getOrDefault("GET deployments", 0L))
                .as("answered from the synced watch cache")
                .isEqualTo(reads);
    }

    @Test
    void malformedInputIsA400WithAStableCode() {
        Map<String, String> alice = new HashMap<>(as("alice"));
        assertError(http.post("/api/create_db", "", alice), 400, "missing_body");
        assertError(http.post("/api/create_db", "{not json", alice), 400, "invalid_json");
        assertError(http.post("/api/create_db", "[{\"user_id\": \"alice\"}]", alice), 400, "body_not_object");
        assertError(http.post("/api/create_db", "\"alice\"", alice), 400, "body_not_object");
        assertError(http.post("/api/create_db", "42", alice), 400, "body_not_object");
        assertError(http.post("/api/create_db", "{}", alice), 400, "missing_user_id");
        assertError(http.post("/api/create_db", "{\"user_id\": 7}", alice), 400, "invalid_user_id");
        assertError(http.post("/api/create_db", "{\"user_id\": \"a b\"}", alice), 400, "invalid_user_id");
        assertError(
                http.post("/api/create_db", "{\"user_id\": \"" + "x".repeat(64) + "\"}", alice),
                400,
                "invalid_user_id");
        assertError(
                http.post("/api/create_db", "{\"user_id\": \"alice\", \"user_id\": \"alice\"}", alice),
                400,
                "repeated_user_id");
        assertError(http.get("/api/heart_beat", alice), 400, "missing_user_id");
        assertError(http.get("/api/heart_beat?user_id=alice&user_id=alice", alice), 400, "repeated_user_id");
        assertError(http.get("/api/heart_beat?user_id=a/b", alice), 400, "invalid_user_id");
        Map<String, String> xml = new HashMap<>(alice);
        xml.put("Content-Type", "application/xml");
        assertError(http.post("/api/create_db", "{\"user_id\": \"alice\"}", xml), 415, "unsupported_media_type");
    }

    @Test
    void aBodyOver64KiBIsA413() {
        String big = "{\"user_id\": \"alice\", \"pad\": \"" + "x".repeat(70_000) + "\"}";
        assertError(http.post("/api/create_db", big, as("alice")), 413, "body_too_large");
    }

    @Test
    void wrongMethodsAreA405() {
        assertError(http.get("/api/create_db", as("alice")), 405, "method_not_allowed");
        assertError(http.post("/api/heart_beat?user_id=alice", "", as("alice")), 405, "method_not_allowed");
        assertError(http.send("DELETE", "/api/create_db", null, as("alice")), 405, "method_not_allowed");
    }

    @Test
    void everyOtherPathTheFrameworkWouldServeIsAJson404() {
        String body = "{\"user_id\": \"alice\"}";
        for (String path : List.of(
                "/api/createDb",
                "/api/heartBeat",
                "/api/reapStale",
                "/api/functionRouter",
                "/api/create_db,heart_beat",
                "/api/create_db%7Cheart_beat",
                "/api/create_db/alice",
                "/api/heart_beat/alice",
                "/api/",
                "/api",
                "/",
                "/error",
                "/actuator/health",
                "/actuator/prometheus",
                "/api/create_db/",
                "/api//create_db",
                "/API/create_db",
                "/api/create_db;x=y")) {
            assertError(http.post(path, body, as("alice")), 404, "not_found");
            assertError(http.get(path + "?user_id=alice", as("alice")), 404, "not_found");
        }
    }

    @Test
    void actingForAnotherUserIsA403AndNoIdentityIsA401() {
        assertError(http.post("/api/create_db", "{\"user_id\": \"bob\"}", as("alice")), 403, "forbidden_user");
        assertError(http.get("/api/heart_beat?user_id=bob", as("alice")), 403, "forbidden_user");
        assertError(http.post("/api/create_db", "{\"user_id\": \"alice\"}", Map.of()), 401, "unauthenticated");
        assertThat(kube.apps().deployments().inNamespace(NS).withName("db-bob").get())
                .isNull();
    }

    @Test
    void anAdminMayActForAnyoneButAUserNamedAdminMayNot() {
        Map<String, String> admin = Map.of(
                IDENTITY, "CN=ops,OU=sqlflow-playground-admins", TestGatewayProof.HEADER, TestGatewayProof.VALUE);
        assertThat(http.get("/api/heart_beat?user_id=bob", admin).status()).isEqualTo(200);
        assertError(http.get("/api/heart_beat?user_id=bob", as("admin")), 403, "forbidden_user");
    }

    @Test
    void onlyAnAdminMayStartASweep() {
        Map<String, String> admin = Map.of(
                IDENTITY, "CN=ops,OU=sqlflow-playground-admins", TestGatewayProof.HEADER, TestGatewayProof.VALUE);
        Reply report = http.post("/api/reap_stale", "{\"dry_run\": true}", admin);
        assertThat(report.status()).as(report.body()).isEqualTo(200);
        assertThat(report.json().get("dry_run").asBoolean()).isTrue();
        assertThat(report.json().get("counts")).isNotNull();
        assertError(http.post("/api/reap_stale", "{\"dry_run\": true}", as("alice")), 403, "admin_only");
        assertError(http.post("/api/reap_stale", "{\"dry_run\": \"yes\"}", admin), 400, "invalid_dry_run");
    }

    @Test
    void theManagementPortServesProbesAndMetricsAndTheApiPortDoesNot() {
        assertThat(createDb("metered", null).status()).isEqualTo(200);
        Http management = new Http("http://127.0.0.1:" + env.getProperty("local.management.port"));
        Reply health = management.get("/actuator/health/readiness", Map.of());
        assertThat(health.status()).isEqualTo(200);
        assertThat(health.body()).contains("UP");
        Reply metrics = management.get("/actuator/prometheus", Map.of());
        assertThat(metrics.status()).isEqualTo(200);
        assertThat(metrics.body())
                .contains("playground_api_requests_seconds_count{endpoint=\"create_db\"")
                .contains("playground_databases_requested_total")
                .contains("playground_local_api_requests_total");
        assertError(http.get("/actuator/prometheus", Map.of()), 404, "not_found");
    }

    @Test
    void requestHeadersAreNeverEchoed() {
        Map<String, String> headers = new HashMap<>(as("echo"));
        headers.put("X-Echo-Probe", "probe-value");
        headers.put("Content-Type", "application/x-www-form-urlencoded");
        for (Reply r : List.of(
                http.post("/api/create_db", "{\"user_id\": \"echo\"}", headers),
                http.get("/api/heart_beat?user_id=echo", headers),
                http.post("/api/nope", "{}", headers))) {
            Set<String> names = r.raw().headers().map().keySet();
            assertThat(names).noneMatch(n -> n.equalsIgnoreCase("x-echo-probe") || n.equalsIgnoreCase(IDENTITY));
            assertThat(r.raw().headers().map().values().toString()).doesNotContain("probe-value");
        }
    }

    @Test
    void concurrentCreateDbForOneUserMakesOneDatabase() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(32);
        try {
            List<Callable<Reply>> calls = new ArrayList<>();
            for (int i = 0; i < 32; i++) {
                calls.add(() -> createDb("racer", "application/x-www-form-urlencoded"));
            }
            Set<String> sources = new HashSet<>();
            for (Future<Reply> f : pool.invokeAll(calls)) {
                Reply r = f.get();
                assertThat(r.status()).as(r.body()).isEqualTo(200);
                sources.add(r.json().get("data_source").asString());
            }
            assertThat(sources).hasSize(1);
        } finally {
            pool.shutdownNow();
        }
        assertOneDatabaseOf("racer");
    }

    @Test
    void aSlowDatabaseGetsA503WithRetryAfterAndTheNextCallResumes() {
        // The stand-in kubelet cannot report this database ready: its status writes fail.
        faults.fail("PATCH", "/deployments/db-slowpoke/status", 1000);
        faults.fail("PUT", "/deployments/db-slowpoke/status", 1000);
        Reply first = createDb("slowpoke", "application/x-www-form-urlencoded");
        assertError(first, 503, "database_starting");
        assertThat(first.header("Retry-After")).isNotNull();
        assertThat(first.json().get("message").asString()).contains("re-run the cell");
        String uid = kube.apps()
                .deployments()
                .inNamespace(NS)
                .withName("db-slowpoke")
                .get()
                .getMetadata()
                .getUid();

        faults.clearFaults();
        kube.apps().deployments().inNamespace(NS).withName("db-slowpoke").editStatus(d -> {
            d.setStatus(new io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder()
                    .withReadyReplicas(1)
                    .build());
            return d;
        });
        Reply second = createDb("slowpoke", "application/x-www-form-urlencoded");
        assertThat(second.status()).as(second.body()).isEqualTo(200);
        assertThat(kube.apps()
                        .deployments()
                        .inNamespace(NS)
                        .withName("db-slowpoke")
                        .get()
                        .getMetadata()
                        .getUid())
                .as("resumed, not started over")
                .isEqualTo(uid);
    }

    @Test
    void anApiFailureHalfWayIsAJson503AndTheNextCallRepairs() {
        // Twice: the client retries a failed request once before giving up.
        faults.fail("POST", "/namespaces/" + NS + "/services", 2);
        Reply broken = createDb("halfway", null);
        assertError(broken, 503, "cluster_unavailable");
        assertThat(broken.header("Retry-After")).isNotNull();
        assertThat(broken.body()).doesNotContain("injected fault");
        assertThat(kube.services().inNamespace(NS).withName("db-halfway").get())
                .as("half-made")
                .isNull();

        Reply repaired = createDb("halfway", null);
        assertThat(repaired.status()).as(repaired.body()).isEqualTo(200);
        assertOneDatabaseOf("halfway");
        String password = SqlflowDataSource.parse(
                        repaired.json().get("data_source").asString())
                .password();
        io.fabric8.kubernetes.api.model.Secret secret =
                kube.secrets().inNamespace(NS).withName("db-halfway").get();
        // The mock server keeps stringData as sent; a real API server turns it into base64 data.
        String stored = secret.getData() != null && secret.getData().containsKey(DatabaseObjects.PASSWORD_KEY)
                ? new String(
                        java.util.Base64.getDecoder().decode(secret.getData().get(DatabaseObjects.PASSWORD_KEY)))
                : secret.getStringData().get(DatabaseObjects.PASSWORD_KEY);
        assertThat(password).isEqualTo(stored);
    }

    @Test
    void aDatabaseWhoseSecretLostItsPasswordIsA500NamingNoSecret(@Autowired Playground playground) {
        // What a hand edit can leave: the user's root, and the Secret it owns without the password.
        UserKey user = UserKey.of("damaged");
        Deployment root = kube.apps()
                .deployments()
                .inNamespace(NS)
                .resource(playground.objects().root(user))
                .create();
        Secret secret = playground.objects().secret(user, root, "unused");
        secret.setStringData(Map.of("note", "no password here"));
        kube.secrets().inNamespace(NS).resource(secret).create();

        Reply r = createDb("damaged", null);
        assertError(r, 500, "database_damaged");
        assertThat(r.header("Retry-After"))
                .as("only the maintainer can repair it")
                .isNull();
        assertThat(r.body()).doesNotContain(user.resourceName()).doesNotContainIgnoringCase("secret");
    }

    @Test
    void heartBeatWhenTheApiIsDownIsAJson503() {
        assertThat(createDb("downbeat", null).status()).isEqualTo(200);
        faults.fail("PATCH", "/configmaps/heartbeats-", 1000);
        faults.fail("GET", "/deployments/db-downbeat", 1000);
        ledger.forget(UserKey.of("downbeat"));
        Reply r = http.get("/api/heart_beat?user_id=downbeat", as("downbeat"));
        assertError(r, 503, "cluster_unavailable");
        assertThat(r.header("Retry-After")).isNotNull();
    }

    @Test
    void aThousandUsersBeatsAreAllStoredAcrossTheShards(@Autowired Playground playground) throws Exception {
        int users = 1000;
        DatabaseObjects objects = playground.objects();
        for (int i = 0; i < users; i++) {
            kube.apps()
                    .deployments()
                    .inNamespace(NS)
                    .resource(objects.root(UserKey.of("many-" + i)))
                    .create();
        }
        long writesBefore = faults.writes("/configmaps");
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Callable<Reply>> beats = new ArrayList<>();
            for (int i = 0; i < users; i++) {
                String user = "many-" + i;
                beats.add(() -> http.get("/api/heart_beat?user_id=" + user, as(user)));
            }
            for (Future<Reply> f : pool.invokeAll(beats)) {
                assertThat(f.get().status()).as(f.get().body()).isEqualTo(200);
            }
        } finally {
            pool.shutdownNow();
        }
        long ledgerWrites = faults.writes("/configmaps") - writesBefore;
        Map<String, String> all = new HashMap<>();
        int shardsUsed = 0;
        for (int s = 0; s < ledger.shardCount(); s++) {
            ConfigMap cm = kube.configMaps()
                    .inNamespace(NS)
                    .withName(ledger.shardName(s))
                    .get();
            if (cm == null || cm.getData() == null) {
                continue;
            }
            shardsUsed++;
            for (String key : cm.getData().keySet()) {
                if (key.startsWith("many-")) {
                    assertThat(UserKey.of(key).shard(ledger.shardCount())).isEqualTo(s);
                }
                all.put(key, cm.getData().get(key));
            }
        }
        for (int i = 0; i < users; i++) {
            assertThat(all).containsKey("many-" + i);
        }
        assertThat(shardsUsed).isEqualTo(ledger.shardCount());
        // Group commit: under 16 concurrent beaters, many beats share one merge patch.
        System.out.printf("1000 beats -> %d API writes (%.3f per beat)%n", ledgerWrites, ledgerWrites / 1000.0);
        assertThat(ledgerWrites).isLessThan(users);
    }
}
