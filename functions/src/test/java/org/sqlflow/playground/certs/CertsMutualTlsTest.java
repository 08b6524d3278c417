package org.sqlflow.playground.certs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.sqlflow.playground.certs.CertsTestSupport.available;
import static org.sqlflow.playground.certs.CertsTestSupport.exec;
import static org.sqlflow.playground.certs.CertsTestSupport.ok;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLContext;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real TLS handshakes against {@link MutualTls#serverContext} with the dev certificates and the CLI's CRL: the
 * certificates are accepted by JSSE, curl (OpenSSL) and Python's ssl, and the server rejects what it must.
 */
class CertsMutualTlsTest {

    @TempDir
    Path tmp;
    DevCertificates dev;
    TlsEchoServer server;

    @BeforeEach
    void start() throws Exception {
        dev = DevCertificates.ensure(tmp.resolve("playground-dev-certs"), DevCertificates.DEFAULT_SERVER_SANS);
        ok(dev.dir(), "crl"); // an empty CRL, so the server starts with revocation checking on
        server = new TlsEchoServer(MutualTls.server(dev.caCert(), dev.serverCert(), dev.serverKey(), dev.crl()));
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    @Test
    void validUserAndAdminCertificatesGetIn() throws Exception {
        assertThat(TlsEchoServer.get(client("alice"), server.port())).isEqualTo("CN=alice,OU=sqlflow-playground-users");
        assertThat(TlsEchoServer.get(client("admin"), server.port())).isEqualTo("CN=admin,OU=sqlflow-playground-admins");
    }

    @Test
    void clientWithoutCertificateIsRejected() throws Exception {
        expectRejected(MutualTls.clientContext(dev.caCert(), null, null), "Empty client certificate chain");
    }

    @Test
    void certificateFromAnotherCaIsRejected() throws Exception {
        CertificateAuthority other = CertificateAuthority.create("other CA", Duration.ofDays(1));
        expectRejected(contextFor(other.issueUser("alice", Duration.ofDays(1))), "PKIX path");
    }

    @Test
    void expiredCertificateIsRejected() throws Exception {
        Instant now = Instant.now();
        IssuedCertificate expired = dev.ca().issueClient("alice", CertificateAuthority.USERS_OU,
                now.minus(Duration.ofDays(30)), now.minus(Duration.ofDays(1)));
        expectRejected(contextFor(expired), "validity check failed");
    }

    @Test
    void serverOnlyCertificateUsedAsClientIsRejected() throws Exception {
        IssuedCertificate serverOnly = dev.ca().issueServer(List.of("DNS:localhost"), Duration.ofDays(1));
        expectRejected(contextFor(serverOnly), "Extended key usage does not permit use for TLS client authentication");
    }

    @Test
    void certificateRevokedWhileTheServerRunsIsRejectedAtOnce() throws Exception {
        SSLContext bob = client("bob");
        assertThat(TlsEchoServer.get(bob, server.port())).startsWith("CN=bob,");
        assertThat(TlsEchoServer.get(bob, server.port())).startsWith("CN=bob,"); // a resumable session exists now

        ok(dev.dir(), "revoke", "bob");

        // A new client fails the handshake. The old context offers its cached session; if the server resumes it,
        // the handshake check is skipped and only the per-request re-check (checkStillTrusted) stops bob.
        expectRejected(client("bob"), "revoked");
        expectRejected(bob, "revoked");
        assertThat(TlsEchoServer.get(client("alice"), server.port())).startsWith("CN=alice,");
    }

    @Test
    void brokenCrlReplacementKeepsThePreviousCrlInForce() throws Exception {
        ok(dev.dir(), "revoke", "bob");
        expectRejected(client("bob"), "revoked");
        Files.writeString(dev.crl(), "not a CRL");
        expectRejected(client("bob"), "revoked");
        assertThat(TlsEchoServer.get(client("alice"), server.port())).startsWith("CN=alice,");

        // A CRL signed by another CA is not taken either.
        CertificateAuthority other = CertificateAuthority.create("other CA", Duration.ofDays(1));
        Files.writeString(dev.crl(), Pem.encode(other.crl(java.util.Map.of(), Instant.now(),
                Instant.now().plus(Duration.ofDays(1)), java.math.BigInteger.ONE)));
        expectRejected(client("bob"), "revoked");
    }

    @Test
    void curlUsesTheBundleAndIsRejectedWhenRevoked() throws Exception {
        assumeTrue(available("curl", "--version"), "curl not found: skipping the curl handshake check");
        assertThat(curl("alice").output()).isEqualTo("CN=alice,OU=sqlflow-playground-users");
        CertsTestSupport.Process noCertificate = exec(null, List.of("curl", "-sS", "--cacert",
                dev.caCert().toString(), "https://localhost:" + server.port() + "/"));
        assertThat(noCertificate.exitCode()).isNotZero();
        ok(dev.dir(), "revoke", "alice");
        assertThat(curl("alice").exitCode()).isNotZero();
        assertThat(curl("bob").output()).isEqualTo("CN=bob,OU=sqlflow-playground-users");
    }

    /** The SQLFlow magic's own ssl setup (sqlflow 0.15.0), over a real connection. */
    @Test
    void pythonSslAsTheSqlflowMagicConfiguresItGetsIn() throws Exception {
        assumeTrue(available("python3", "-c", "import ssl, http.client"),
                "python3 not found: skipping the Python ssl handshake check");
        String script = String.join("\n",
                "import ssl, sys, http.client",
                "ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)",
                "ctx.load_cert_chain(sys.argv[2], sys.argv[3])",
                "ctx.load_verify_locations(sys.argv[1])",
                "ctx.check_hostname = False",
                "c = http.client.HTTPSConnection('127.0.0.1', int(sys.argv[4]), context=ctx, timeout=10)",
                "c.request('GET', '/api/heart_beat?user_id=alice')",
                "print(c.getresponse().read().decode(), end='')");
        CertsTestSupport.Process python = exec(null, List.of("python3", "-c", script, dev.caCert().toString(),
                dev.clientCert("alice").toString(), dev.clientKey("alice").toString(),
                String.valueOf(server.port())));
        assertThat(python.output()).isEqualTo("CN=alice,OU=sqlflow-playground-users");
        assertThat(python.exitCode()).isZero();
    }

    private CertsTestSupport.Process curl(String user) throws Exception {
        return exec(null, List.of("curl", "-sS", "--cacert", dev.caCert().toString(),
                "--cert", dev.clientCert(user).toString(), "--key", dev.clientKey(user).toString(),
                "https://localhost:" + server.port() + "/"));
    }

    private SSLContext client(String bundle) throws Exception {
        return MutualTls.clientContext(dev.caCert(), dev.clientCert(bundle), dev.clientKey(bundle));
    }

    private SSLContext contextFor(IssuedCertificate issued) throws Exception {
        Path dir = Files.createTempDirectory(tmp, "client");
        Path cert = dir.resolve("client.crt");
        Path key = dir.resolve("client.key");
        Files.writeString(cert, issued.certificatePem());
        Files.writeString(key, issued.privateKeyPem());
        return MutualTls.clientContext(dev.caCert(), cert, key);
    }

    /** The client fails, and the server failed the handshake for {@code reason} (not for something else). */
    private void expectRejected(SSLContext client, String reason) throws Exception {
        server.failures.clear();
        assertThatThrownBy(() -> TlsEchoServer.get(client, server.port())).isInstanceOf(IOException.class);
        Throwable failure = server.failures.poll(10, TimeUnit.SECONDS);
        assertThat(failure).as("server-side failure").isNotNull();
        assertThat(messages(failure)).anySatisfy(message -> assertThat(message).contains(reason));
    }

    private static List<String> messages(Throwable failure) {
        List<String> messages = new ArrayList<>();
        for (Throwable t = failure; t != null; t = t.getCause()) {
            messages.add(String.valueOf(t.getMessage()));
        }
        return messages;
    }
}
