package org.sqlflow.playground.certs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.sqlflow.playground.certs.CertsTestSupport.cli;
import static org.sqlflow.playground.certs.CertsTestSupport.ok;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.core.env.Environment;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.sqlflow.playground.assembly.Playground;
import org.sqlflow.playground.cluster.UserKey;
import org.sqlflow.playground.listing.DatabaseListing;
import org.sqlflow.playground.testing.Http;
import org.sqlflow.playground.testing.Waits;

/**
 * {@code playground-certs databases}: the certs tool's own CA, server and admin bundle, a standalone server over
 * mutual TLS (local mode), and the table the tool prints from every page of GET /api/databases.
 */
@SpringBootTest(
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {
            "playground.local.enabled=true",
            "playground.local.database-start-delay=0s",
            "playground.namespace=playground-certs-table",
            "playground.pool.size=0",
            "playground.reaper.schedule=false",
            "server.ssl.client-auth=need",
            "playground.kubernetes.request-timeout=30s",
            "playground.kubernetes.write-timeout=30s",
            "management.server.port=0"
        })
class CertsDatabasesCommandTest {

    private static final Path DIR;

    static {
        try {
            DIR = Files.createTempDirectory("certs-table").resolve("certs");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ok(DIR, "init-ca");
        ok(DIR, "server", "--san", "IP:127.0.0.1");
        ok(DIR, "admin", "ops");
        ok(DIR, "user", "alice");
    }

    @DynamicPropertySource
    static void tls(DynamicPropertyRegistry registry) {
        registry.add("server.ssl.trust-certificate", () -> DIR.resolve("ca.crt").toString());
        registry.add("server.ssl.certificate", () -> DIR.resolve("server.crt").toString());
        registry.add(
                "server.ssl.certificate-private-key",
                () -> DIR.resolve("server.key").toString());
        registry.add("playground.tls.crl", () -> DIR.resolve("ca.crl").toString());
    }

    @Autowired
    Environment env;

    @Autowired
    KubernetesClient kube;

    @Autowired
    Playground playground;

    private String server() {
        return "https://127.0.0.1:" + env.getProperty("local.server.port");
    }

    @Test
    void anAdminBundleGetsEveryPageAsATable() {
        for (String user : List.of("table-a", "table-b", "table-c")) {
            kube.apps()
                    .deployments()
                    .inNamespace("playground-certs-table")
                    .resource(playground.objects().root(UserKey.of(user)))
                    .create();
        }
        Waits.await("the watch and the stand-in kubelet")
                .until(() -> playground.listing().countByState().get(DatabaseListing.State.READY) == 3);
        // One entry per request: the tool must follow the cursor to print all three.
        String table = ok(DIR, "databases", "ops", "--server", server(), "--page-size", "1");
        List<String> lines = table.lines().toList();
        assertThat(lines.get(0))
                .startsWith("USER")
                .contains("STATE", "CREATED", "LAST BEAT", "EXPIRES", "POOLED", "KEPT");
        assertThat(lines)
                .filteredOn(l -> l.startsWith("table-"))
                .hasSize(3)
                .allMatch(l -> l.matches("table-[abc]\\s+ready\\s+\\d{4}-.*\\s+-\\s+\\d{4}-.*\\s+no\\s+no"));
        assertThat(table)
                .contains("3 databases; 3 of at most 200 run a pod; warm pool: 0 ready, 0 starting of 0")
                .contains("last sweep: none on this instance");
    }

    @Test
    void aUserCertificateIsRefusedWithTheServersError() throws IOException {
        // A user's bundle put where the tool looks for an admin's: the server, not the tool, refuses it.
        Path disguised = DIR.resolve("admins/alice-as-admin");
        Files.createDirectories(disguised);
        for (String f : List.of("ca.crt", "client.crt", "client.key")) {
            Files.copy(DIR.resolve("users/alice/" + f), disguised.resolve(f));
        }
        CertsTestSupport.Result r = cli(DIR, "databases", "alice-as-admin", "--server", server());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("answered 403 admin_only");
        assertThat(cli(DIR, "databases", "ops", "--server", server(), "--page-size", "501")
                        .exitCode())
                .isEqualTo(2);
    }

    @Test
    void standaloneTheIdentityHeaderIsIgnoredAndOnlyTheCertificateCounts() throws Exception {
        Path alice = DIR.resolve("users/alice");
        Http asAlice = new Http(
                server(),
                MutualTls.clientContext(
                        alice.resolve("ca.crt"), alice.resolve("client.crt"), alice.resolve("client.key")));
        Http.Reply forged = asAlice.get(
                "/api/databases",
                Map.of(
                        "x-playground-client-subject",
                        "CN=ops,OU=sqlflow-playground-admins",
                        "x-playground-gateway-proof",
                        "anything"));
        assertThat(forged.status()).as(forged.body()).isEqualTo(403);
        assertThat(forged.json().get("error").asString()).isEqualTo("admin_only");
        Path ops = DIR.resolve("admins/ops");
        Http asOps = new Http(
                server(),
                MutualTls.clientContext(ops.resolve("ca.crt"), ops.resolve("client.crt"), ops.resolve("client.key")));
        assertThat(asOps.get("/api/databases", Map.of()).status()).isEqualTo(200);
    }
}
