package org.sqlflow.playground.certs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.sqlflow.playground.certs.CertsTestSupport.validate;

import java.math.BigInteger;
import java.security.cert.CertPathValidatorException;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The CA's certificate profiles, checked with the JDK's own PKIX validator. */
class CertsAuthorityTest {

    private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
    private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";

    private final CertificateAuthority ca = CertificateAuthority.create("test CA", Duration.ofDays(30));

    @Test
    void caIsAnEcP256CaThatSignsOnlyCertificatesAndCrls() throws Exception {
        X509Certificate cert = ca.certificate();
        assertThat(cert.getBasicConstraints()).isZero(); // CA, path length 0
        boolean[] usage = cert.getKeyUsage();
        assertThat(usage[5]).as("keyCertSign").isTrue();
        assertThat(usage[6]).as("cRLSign").isTrue();
        assertThat(usage[0]).as("digitalSignature").isFalse();
        assertThat(cert.getPublicKey()).isInstanceOf(ECPublicKey.class);
        assertThat(((ECPublicKey) cert.getPublicKey())
                        .getParams()
                        .getCurve()
                        .getField()
                        .getFieldSize())
                .isEqualTo(256);
        assertThat(cert.getSigAlgName()).isEqualTo("SHA256withECDSA");
        cert.verify(cert.getPublicKey());
    }

    @Test
    void userCertificateIsClientOnlyWithTheUsersOu() throws Exception {
        X509Certificate user = ca.issueUser("alice", Duration.ofDays(1)).certificate();
        validate(user, ca.certificate(), null);
        assertThat(user.getSubjectX500Principal().getName()).isEqualTo("CN=alice,OU=sqlflow-playground-users");
        assertThat(user.getExtendedKeyUsage()).containsExactly(CLIENT_AUTH);
        assertThat(user.getBasicConstraints()).isEqualTo(-1);
        assertThat(user.getKeyUsage()[0]).as("digitalSignature").isTrue();
        assertThat(user.getSubjectAlternativeNames()).isNull();
    }

    @Test
    void adminIsMarkedByOuNotByName() throws Exception {
        X509Certificate admin = ca.issueAdmin("bob", Duration.ofDays(1)).certificate();
        X509Certificate userNamedAdmin =
                ca.issueUser("admin", Duration.ofDays(1)).certificate();
        assertThat(admin.getSubjectX500Principal().getName()).isEqualTo("CN=bob,OU=sqlflow-playground-admins");
        assertThat(userNamedAdmin.getSubjectX500Principal().getName())
                .isEqualTo("CN=admin,OU=sqlflow-playground-users");
        assertThat(admin.getExtendedKeyUsage()).containsExactly(CLIENT_AUTH);
    }

    @Test
    void serverCertificateIsServerOnlyWithSansAndCnFromTheFirst() throws Exception {
        X509Certificate server = ca.issueServer(
                        List.of("DNS:play.example.org", "IP:127.0.0.1", "IP:::1"), Duration.ofDays(1))
                .certificate();
        validate(server, ca.certificate(), null);
        assertThat(server.getExtendedKeyUsage()).containsExactly(SERVER_AUTH);
        assertThat(server.getSubjectX500Principal().getName()).isEqualTo("CN=play.example.org");
        assertThat(server.getSubjectAlternativeNames().stream()
                        .map(san -> String.valueOf(san.get(1)))
                        .toList())
                .containsExactly("play.example.org", "127.0.0.1", "0:0:0:0:0:0:0:1");
    }

    @Test
    void badSansAreRefusedWithoutAnyLookup() {
        assertThatThrownBy(() -> ca.issueServer(List.of("localhost"), Duration.ofDays(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("DNS:");
        assertThatThrownBy(() -> ca.issueServer(List.of("IP:not-an-ip.example"), Duration.ofDays(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not an IP");
        assertThatThrownBy(() -> ca.issueServer(List.of("DNS:bad host"), Duration.ofDays(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not a DNS name");
    }

    @Test
    void expiredAndForeignCertificatesFailValidation() {
        Instant now = Instant.now();
        X509Certificate expired = ca.issueClient(
                        "alice",
                        CertificateAuthority.USERS_OU,
                        now.minus(Duration.ofDays(10)),
                        now.minus(Duration.ofDays(1)))
                .certificate();
        X509Certificate foreign = CertificateAuthority.create("other CA", Duration.ofDays(1))
                .issueUser("alice", Duration.ofDays(1))
                .certificate();
        assertThatThrownBy(() -> validate(expired, ca.certificate(), null))
                .isInstanceOf(CertPathValidatorException.class)
                .satisfies(e -> assertThat(((CertPathValidatorException) e).getReason())
                        .isEqualTo(CertPathValidatorException.BasicReason.EXPIRED));
        assertThatThrownBy(() -> validate(foreign, ca.certificate(), null))
                .isInstanceOf(CertPathValidatorException.class);
        assertThat(ca.issued(foreign)).isFalse();
        assertThat(ca.issued(expired)).isTrue();
    }

    @Test
    void crlRevokesExactlyTheListedSerials() throws Exception {
        X509Certificate revoked = ca.issueUser("alice", Duration.ofDays(1)).certificate();
        X509Certificate kept = ca.issueUser("bob", Duration.ofDays(1)).certificate();
        Instant now = Instant.now();
        X509CRL crl = ca.crl(Map.of(revoked.getSerialNumber(), now), now, now.plus(Duration.ofDays(7)), BigInteger.TEN);
        crl.verify(ca.publicKey());
        assertThat(crl.getVersion()).isEqualTo(2);
        assertThat(crl.isRevoked(revoked)).isTrue();
        assertThat(crl.isRevoked(kept)).isFalse();
        assertThatThrownBy(() -> validate(revoked, ca.certificate(), crl))
                .isInstanceOf(CertPathValidatorException.class)
                .satisfies(e -> assertThat(((CertPathValidatorException) e).getReason())
                        .isEqualTo(CertPathValidatorException.BasicReason.REVOKED));
        validate(kept, ca.certificate(), crl);
    }

    @Test
    void outdatedCrlFailsEveryoneSoTheMaintainerMustRefreshIt() {
        X509Certificate kept = ca.issueUser("bob", Duration.ofDays(1)).certificate();
        Instant now = Instant.now();
        X509CRL stale = ca.crl(Map.of(), now.minus(Duration.ofDays(10)), now.minus(Duration.ofDays(1)), BigInteger.ONE);
        assertThatThrownBy(() -> validate(kept, ca.certificate(), stale))
                .isInstanceOf(CertPathValidatorException.class);
    }

    @Test
    void serialsAreRandomAndPositive() {
        BigInteger a = ca.issueUser("a", Duration.ofDays(1)).serial();
        BigInteger b = ca.issueUser("a", Duration.ofDays(1)).serial();
        assertThat(a).isNotEqualTo(b);
        assertThat(a.signum()).isPositive();
        assertThat(a.bitLength()).isLessThanOrEqualTo(128);
    }
}
