package org.sqlflow.playground.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.core.env.Environment;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.sqlflow.playground.certs.CertificateAuthority;
import org.sqlflow.playground.certs.IssuedCertificate;
import org.sqlflow.playground.certs.Pem;
import org.sqlflow.playground.testing.Http;
import org.sqlflow.playground.testing.Http.Reply;
import org.sqlflow.playground.testing.TestCertificates;
import org.sqlflow.playground.testing.TestGatewayProof;

/**
 * Standalone mutual TLS with real handshakes and certificates made by the certs tool's code: who gets in,
 * and for which user. The server runs in local mode with the original playground server's flags translated as
 * the jar does.
 */
@ExtendWith(OutputCaptureExtension.class)
@SpringBootTest(
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {
            "playground.local.enabled=true",
            "playground.local.database-start-delay=0s",
            "playground.reaper.schedule=false",
            "server.ssl.client-auth=need",
            "server.ssl.enabled-protocols=TLSv1.3,TLSv1.2",
            // Generous API timeouts: these tests are about outcomes, and CI machines can be busy.
            "playground.kubernetes.request-timeout=30s",
            "playground.kubernetes.write-timeout=30s",
            "management.server.port=0"
        })
class StandaloneTlsTest {

    private static final TestCertificates CERTS = new TestCertificates("playground-tls");
    private static final CertificateAuthority CA = CERTS.ca();
    private static final Map<BigInteger, Instant> REVOKED = new HashMap<>();

    static {
        CERTS.bundle("alice", CA.issueUser("alice", Duration.ofDays(1)));
        CERTS.bundle("bob", CA.issueUser("bob", Duration.ofDays(1)));
        CERTS.bundle("dave", CA.issueUser("dave", Duration.ofDays(1)));
        CERTS.bundle("ops", CA.issueAdmin("ops", Duration.ofDays(1)));
        CERTS.bundle("named-admin", CA.issueUser("admin", Duration.ofDays(1)));
        CERTS.bundle(
                "carol-legacy",
                CA.issueClient(
                        "sqlflow-playground-carol",
                        null,
                        Instant.now().minusSeconds(60),
                        Instant.now().plus(Duration.ofDays(1))));
        CERTS.bundle(
                "expired",
                CA.issueClient(
                        "alice",
                        CertificateAuthority.USERS_OU,
                        Instant.now().minus(Duration.ofDays(3)),
                        Instant.now().minus(Duration.ofDays(1))));
        CERTS.bundle("server-as-client", CA.issueServer(List.of("DNS:alice"), Duration.ofDays(1)));
        CERTS.bundle(
                "other-ca",
                CertificateAuthority.create("another CA", Duration.ofDays(1)).issueUser("alice", Duration.ofDays(1)));
        IssuedCertificate revoked = CA.issueUser("eve", Duration.ofDays(1));
        CERTS.bundle("revoked", revoked);
        REVOKED.put(revoked.serial(), Instant.now());
        writeCrl();
    }

    private static synchronized void writeCrl() {
        CERTS.writeCrl(REVOKED, BigInteger.valueOf(REVOKED.size() + System.nanoTime() % 1000));
    }

    @DynamicPropertySource
    static void tls(DynamicPropertyRegistry registry) {
        CERTS.register(registry);
    }

    @Autowired
    Environment env;

    private String base() {
        return "https://localhost:" + env.getProperty("local.server.port");
    }

    /** A fresh client per call: a new TLS handshake each time, as the SQLFlow client does. */
    private Http as(String bundle) {
        return new Http(base(), CERTS.clientContext(bundle));
    }

    private static Reply beat(Http http, String user, Map<String, String> headers) {
        return http.get("/api/heart_beat?user_id=" + user, headers);
    }

    @Test
    void aValidCertificateGetsIn() {
        Reply r = beat(as("alice"), "alice", Map.of());
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(as("alice")
                        .post(
                                "/api/create_db",
                                "{\"user_id\": \"alice\"}",
                                Map.of("Content-Type", "application/x-www-form-urlencoded"))
                        .status())
                .isEqualTo(200);
    }

    @Test
    void handshakesFailWithoutAValidClientCertificate() {
        for (String bundle : new String[] {null, "other-ca", "expired", "revoked", "server-as-client"}) {
            Http http = as(bundle);
            assertThatThrownBy(() -> beat(http, "alice", Map.of()))
                    .as(String.valueOf(bundle))
                    .isInstanceOf(UncheckedIOException.class);
        }
    }

    @Test
    void aCertificateRevokedWhileTheServerRunsStopsWorking() throws Exception {
        assertThat(beat(as("dave"), "dave", Map.of()).status()).isEqualTo(200);
        Http kept = as("dave");
        assertThat(beat(kept, "dave", Map.of()).status()).isEqualTo(200);

        REVOKED.put(
                new BigInteger(Pem.readCertificate(CERTS.file("dave/client.crt"))
                        .getSerialNumber()
                        .toString()),
                Instant.now());
        writeCrl();
        assertThatThrownBy(() -> beat(as("dave"), "dave", Map.of()))
                .as("a new handshake")
                .isInstanceOf(UncheckedIOException.class);
        // The kept-alive connection (or a resumed session) never handshakes again: the per-request re-check stops it.
        Reply again = beat(kept, "dave", Map.of());
        assertThat(again.status()).isEqualTo(401);
    }

    /**
     * A CRL file replaced by something the server cannot take (not a CRL, or one another CA signed) leaves the
     * previous CRL in force: a revoked certificate stays out, and everyone else stays in.
     */
    @Test
    void aBrokenCrlReplacementKeepsThePreviousCrlInForce(CapturedOutput log) {
        try {
            CERTS.replaceCrl("not a CRL");
            assertThatThrownBy(() -> beat(as("revoked"), "eve", Map.of())).isInstanceOf(UncheckedIOException.class);
            assertThat(beat(as("alice"), "alice", Map.of()).status()).isEqualTo(200);

            CERTS.replaceCrl(Pem.encode(CertificateAuthority.create("another CA", Duration.ofDays(1))
                    .crl(
                            Map.of(),
                            Instant.now().minusSeconds(60),
                            Instant.now().plus(Duration.ofDays(1)),
                            BigInteger.ONE)));
            assertThatThrownBy(() -> beat(as("revoked"), "eve", Map.of())).isInstanceOf(UncheckedIOException.class);
            assertThat(beat(as("alice"), "alice", Map.of()).status()).isEqualTo(200);
            assertThat(log.getAll().split("ignoring the changed CRL", -1))
                    .as("both replacements read and refused")
                    .hasSizeGreaterThanOrEqualTo(3);
        } finally {
            writeCrl();
        }
    }

    /** The SQLFlow magic's own ssl setup (sqlflow 0.15.0): Python's ssl module over a real connection. */
    @Test
    void pythonSslAsTheSqlflowMagicConfiguresItGetsIn() throws Exception {
        String script = String.join(
                "\n",
                "import ssl, sys, http.client",
                "ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)",
                "ctx.load_cert_chain(sys.argv[2], sys.argv[3])",
                "ctx.load_verify_locations(sys.argv[1])",
                "ctx.check_hostname = False",
                "c = http.client.HTTPSConnection('127.0.0.1', int(sys.argv[4]), context=ctx, timeout=20)",
                "c.request('GET', '/api/heart_beat?user_id=alice')",
                "r = c.getresponse()",
                "print(r.status, r.read().decode(), end='')");
        Process python = new ProcessBuilder(
                        "python3",
                        "-c",
                        script,
                        CERTS.file("ca.crt").toString(),
                        CERTS.file("alice/client.crt").toString(),
                        CERTS.file("alice/client.key").toString(),
                        env.getProperty("local.server.port"))
                .redirectErrorStream(true)
                .start();
        String out = new String(python.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(python.waitFor()).as(out).isZero();
        assertThat(out).startsWith("200 ").contains("\"user_id\":\"alice\"");
    }

    @Test
    void aKeptAliveConnectionCarriesManyRequests() throws Exception {
        // Tomcat closes a kept-alive connection after 100 requests by default, and each new connection costs the
        // client (or the mesh's proxy) a TLS handshake: at thousands of beats a second that was the tail latency.
        SSLContext tls = CERTS.clientContext("alice");
        int port = Integer.parseInt(env.getProperty("local.server.port"));
        try (SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket("localhost", port)) {
            socket.setSoTimeout(30_000);
            OutputStream out = socket.getOutputStream();
            InputStream in = new BufferedInputStream(socket.getInputStream());
            for (int i = 0; i < 250; i++) {
                out.write("GET /api/heart_beat?user_id=alice HTTP/1.1\r\nHost: localhost\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                out.flush();
                String head = readHead(in);
                assertThat(head)
                        .as("response " + i)
                        .startsWith("HTTP/1.1 200")
                        .doesNotContainIgnoringCase("connection: close");
                skipBody(in, head);
            }
        }
    }

    private static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("the server closed the connection after: " + head);
            }
            head.append((char) b);
        }
        return head.toString();
    }

    private static void skipBody(InputStream in, String head) throws IOException {
        java.util.regex.Matcher length = java.util.regex.Pattern.compile("(?im)^content-length:\\s*(\\d+)")
                .matcher(head);
        if (length.find()) {
            in.readNBytes(Integer.parseInt(length.group(1)));
            return;
        }
        // Chunked: size lines in hex, each chunk followed by CRLF, a zero-size chunk and CRLF at the end.
        while (true) {
            String line = readLine(in);
            int size = Integer.parseInt(line.split(";")[0].trim(), 16);
            in.readNBytes(size);
            readLine(in);
            if (size == 0) {
                return;
            }
        }
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        int b;
        while ((b = in.read()) >= 0 && b != '\n') {
            if (b != '\r') {
                line.append((char) b);
            }
        }
        return line.toString();
    }

    @Test
    void aCertificateActsOnlyForItsOwnUser() {
        Reply r = beat(as("alice"), "bob", Map.of());
        assertThat(r.status()).isEqualTo(403);
        assertThat(r.json().get("error").asString()).isEqualTo("forbidden_user");
        assertThat(as("alice")
                        .post("/api/create_db", "{\"user_id\": \"bob\"}", Map.of())
                        .status())
                .isEqualTo(403);
    }

    @Test
    void aUserNamedAdminIsNoAdminButTheAdminMarkIs() {
        assertThat(beat(as("named-admin"), "admin", Map.of()).status()).isEqualTo(200);
        assertThat(beat(as("named-admin"), "bob", Map.of()).status()).isEqualTo(403);
        assertThat(beat(as("ops"), "bob", Map.of()).status()).isEqualTo(200);
        assertThat(as("ops")
                        .post("/api/create_db", "{\"user_id\": \"bob\"}", Map.of())
                        .status())
                .isEqualTo(200);
    }

    @Test
    void aForgedIdentityHeaderChangesNothingStandalone() {
        Map<String, String> forged = Map.of("x-playground-client-subject", "CN=bob,OU=sqlflow-playground-admins");
        assertThat(beat(as("alice"), "bob", forged).status()).isEqualTo(403);
        assertThat(beat(as("alice"), "alice", forged).status()).isEqualTo(200);
        // Not even together with a gateway proof: in tls mode there is no gateway, and both headers are ignored.
        Map<String, String> withProof = Map.of(
                "x-playground-client-subject",
                "CN=bob,OU=sqlflow-playground-admins",
                TestGatewayProof.HEADER,
                TestGatewayProof.VALUE);
        assertThat(beat(as("alice"), "bob", withProof).status()).isEqualTo(403);
        assertThat(as("alice").post("/api/reap_stale", "{}", withProof).status())
                .isEqualTo(403);
        assertThat(as("alice")
                        .post("/api/create_db", "{\"user_id\": \"bob\"}", withProof)
                        .status())
                .isEqualTo(403);
    }

    @Test
    void aLegacyCertificateActsForTheNameAfterThePrefix() {
        assertThat(beat(as("carol-legacy"), "carol", Map.of()).status()).isEqualTo(200);
        assertThat(beat(as("carol-legacy"), "sqlflow-playground-carol", Map.of())
                        .status())
                .isEqualTo(403);
    }

    @Test
    void curlWithTheUsersBundleWorksAndWithoutACertificateFails() throws Exception {
        String url = base() + "/api/heart_beat?user_id=alice";
        assertThat(curl(List.of(
                        "--cert",
                        CERTS.file("alice/client.crt").toString(),
                        "--key",
                        CERTS.file("alice/client.key").toString(),
                        url)))
                .contains("\"user_id\":\"alice\"");
        assertThat(curl(List.of(url))).isEqualTo("curl failed");
        assertThat(curl(List.of(
                        "--cert",
                        CERTS.file("revoked/client.crt").toString(),
                        "--key",
                        CERTS.file("revoked/client.key").toString(),
                        base() + "/api/heart_beat?user_id=eve")))
                .as("a revoked certificate")
                .isEqualTo("curl failed");
    }

    private static String curl(List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(
                "curl",
                "-sS",
                "--fail-with-body",
                "--max-time",
                "20",
                "--cacert",
                CERTS.file("ca.crt").toString()));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return p.waitFor() == 0 ? out : "curl failed";
    }
}
