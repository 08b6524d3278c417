package org.sqlflow.playground.certs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.sqlflow.playground.certs.CertsTestSupport.ok;
import static org.sqlflow.playground.certs.CertsTestSupport.permissions;
import static org.sqlflow.playground.certs.CertsTestSupport.validate;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** playground-dev-certs/: made once, reused after, by the same code as the CLI. */
class CertsDevCertificatesTest {

    @TempDir
    Path tmp;

    @Test
    void firstRunCreatesTheCaServerAndThreeOwnerOnlyBundles() throws Exception {
        DevCertificates dev =
                DevCertificates.ensure(tmp.resolve("playground-dev-certs"), DevCertificates.DEFAULT_SERVER_SANS);
        X509Certificate ca = Pem.readCertificate(dev.caCert());
        X509Certificate server = Pem.readCertificate(dev.serverCert());
        validate(server, ca, null);
        assertThat(server.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1");
        assertThat(server.getSubjectAlternativeNames().stream()
                        .map(san -> String.valueOf(san.get(1)))
                        .toList())
                .containsExactly("localhost", "127.0.0.1", "0:0:0:0:0:0:0:1");

        assertThat(permissions(dev.dir())).isEqualTo("rwx------");
        assertThat(permissions(dev.caKey())).isEqualTo("rw-------");
        assertThat(permissions(dev.serverKey())).isEqualTo("rw-------");
        for (String name : List.of("alice", "bob", "admin")) {
            assertThat(permissions(dev.bundle(name))).isEqualTo("rwx------");
            assertThat(permissions(dev.clientKey(name))).isEqualTo("rw-------");
            assertThat(Files.readString(dev.bundle(name).resolve("ca.crt"))).isEqualTo(Files.readString(dev.caCert()));
            X509Certificate client = Pem.readCertificate(dev.clientCert(name));
            validate(client, ca, null);
            assertThat(client.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.2");
        }
        assertThat(Pem.readCertificate(dev.clientCert("alice"))
                        .getSubjectX500Principal()
                        .getName())
                .isEqualTo("CN=alice,OU=sqlflow-playground-users");
        assertThat(Pem.readCertificate(dev.clientCert("bob"))
                        .getSubjectX500Principal()
                        .getName())
                .isEqualTo("CN=bob,OU=sqlflow-playground-users");
        assertThat(Pem.readCertificate(dev.clientCert("admin"))
                        .getSubjectX500Principal()
                        .getName())
                .isEqualTo("CN=admin,OU=sqlflow-playground-admins");
    }

    @Test
    void laterRunsReuseEverything() throws Exception {
        Path dir = tmp.resolve("playground-dev-certs");
        DevCertificates first = DevCertificates.ensure(dir, DevCertificates.DEFAULT_SERVER_SANS);
        String ca = Files.readString(first.caKey());
        String server = Files.readString(first.serverCert());
        String alice = Files.readString(first.clientKey("alice"));
        DevCertificates second = DevCertificates.ensure(dir, DevCertificates.DEFAULT_SERVER_SANS);
        assertThat(Files.readString(second.caKey())).isEqualTo(ca);
        assertThat(Files.readString(second.serverCert())).isEqualTo(server);
        assertThat(Files.readString(second.clientKey("alice"))).isEqualTo(alice);
    }

    @Test
    void aNewSanOrAMissingBundleIsIssuedWithTheSameCa() throws Exception {
        Path dir = tmp.resolve("playground-dev-certs");
        DevCertificates first = DevCertificates.ensure(dir, DevCertificates.DEFAULT_SERVER_SANS);
        String ca = Files.readString(first.caKey());
        String bob = Files.readString(first.clientKey("bob"));
        Files.delete(first.clientKey("alice"));

        DevCertificates second = DevCertificates.ensure(dir, List.of("DNS:localhost", "DNS:playground.test"));
        assertThat(Files.readString(second.caKey())).isEqualTo(ca);
        assertThat(Files.readString(second.clientKey("bob"))).isEqualTo(bob);
        assertThat(second.clientKey("alice")).exists();
        assertThat(permissions(second.clientKey("alice"))).isEqualTo("rw-------");
        validate(Pem.readCertificate(second.clientCert("alice")), Pem.readCertificate(second.caCert()), null);
        assertThat(Pem.readCertificate(second.serverCert()).getSubjectAlternativeNames().stream()
                        .map(san -> String.valueOf(san.get(1)))
                        .toList())
                .contains("playground.test");
    }

    @Test
    void anExpiredBundleIsReissued() throws Exception {
        Path dir = tmp.resolve("playground-dev-certs");
        DevCertificates dev = DevCertificates.ensure(dir);
        Instant now = Instant.now();
        IssuedCertificate expired = dev.ca()
                .issueClient(
                        "bob",
                        CertificateAuthority.USERS_OU,
                        now.minus(Duration.ofDays(10)),
                        now.minus(Duration.ofDays(1)));
        Files.writeString(dev.clientCert("bob"), expired.certificatePem());
        DevCertificates.ensure(dir);
        assertThat(Pem.readCertificate(dev.clientCert("bob")).getNotAfter().toInstant())
                .isAfter(now);
    }

    @Test
    void theDevCertificatesComeWithAnEmptySignedCrlThatKeepsRevocationsWhenRemade() throws Exception {
        Path dir = tmp.resolve("playground-dev-certs");
        DevCertificates dev = DevCertificates.ensure(dir);
        X509CRL crl = Pem.readCrl(dev.crl());
        crl.verify(Pem.readCertificate(dev.caCert()).getPublicKey());
        assertThat(crl.getRevokedCertificates()).isNull();

        // A directory from before dev certificates had a CRL, where bob had been revoked: the CRL is remade
        // from the index, so bob stays revoked.
        ok(dir, "revoke", "bob");
        Files.delete(dev.crl());
        DevCertificates.ensure(dir);
        assertThat(Pem.readCrl(dev.crl()).isRevoked(Pem.readCertificate(dev.clientCert("bob"))))
                .isTrue();
        assertThat(Pem.readCrl(dev.crl()).isRevoked(Pem.readCertificate(dev.clientCert("alice"))))
                .isFalse();

        // A CRL about to pass its nextUpdate (the server would then refuse everyone) is re-signed.
        ok(dir, "crl", "--crl-days", "1");
        DevCertificates.ensure(dir);
        assertThat(Duration.between(
                                Instant.now(),
                                Pem.readCrl(dev.crl()).getNextUpdate().toInstant())
                        .toDays())
                .isGreaterThan(300);
    }

    @Test
    void theCliWorksOnTheDevDirectory() throws Exception {
        DevCertificates dev = DevCertificates.ensure(tmp.resolve("playground-dev-certs"));
        ok(dev.dir(), "revoke", "bob");
        assertThat(Pem.readCrl(dev.crl()).isRevoked(Pem.readCertificate(dev.clientCert("bob"))))
                .isTrue();
        assertThat(Pem.readCrl(dev.crl()).isRevoked(Pem.readCertificate(dev.clientCert("alice"))))
                .isFalse();
    }

    @Test
    void concurrentFirstRunsAgreeOnOneCa() throws Exception {
        Path dir = tmp.resolve("playground-dev-certs");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            Callable<String> ensure =
                    () -> Files.readString(DevCertificates.ensure(dir).caCert());
            List<Future<String>> results = pool.invokeAll(List.of(ensure, ensure, ensure, ensure));
            String first = results.get(0).get();
            for (Future<String> result : results) {
                assertThat(result.get()).isEqualTo(first);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void halfACaIsAnErrorNotSilentlyReplaced() throws Exception {
        Path dir = tmp.resolve("playground-dev-certs");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("ca.crt"), "left over");
        assertThatThrownBy(() -> DevCertificates.ensure(dir))
                .isInstanceOf(CertsException.class)
                .hasMessageContaining("half a CA");
    }
}
