package org.sqlflow.playground.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.core.env.Environment;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.sqlflow.playground.certs.CertIndex;
import org.sqlflow.playground.certs.CertificateAuthority;
import org.sqlflow.playground.certs.CertsDirectory;
import org.sqlflow.playground.certs.IssuedCertificate;
import org.sqlflow.playground.certs.MutualTls;
import org.sqlflow.playground.certs.Pem;
import org.sqlflow.playground.testing.Http;
import org.sqlflow.playground.testing.Http.Reply;

/**
 * The certificate rules of standalone TLS, over real handshakes, against a certs directory made by the certs
 * tool's own code (init-ca, server, user, admin, revoke): its empty CRL lets users in, revoking a user by id
 * takes effect on the running server, and certificates that would alias another user are refused.
 *
 * <p>Where a refusal shows: a certificate the CA did not sign fails the TLS handshake (trust is the TLS
 * layer's); a certificate the CA did sign but that names no single user (multi-valued RDN, two CNs, a CA
 * certificate) completes the handshake and gets 401 with the JSON error, because only the application knows
 * the user-id rule and can say what is wrong; a legacy-looking name with an OU is a user of that whole name,
 * so acting for the shorter name is 403.
 */
@SpringBootTest(
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {
            "playground.local.enabled=true",
            "playground.local.database-start-delay=0s",
            "playground.reaper.schedule=false",
            "server.ssl.client-auth=need",
            "server.ssl.enabled-protocols=TLSv1.3,TLSv1.2",
            "playground.kubernetes.request-timeout=30s",
            "playground.kubernetes.write-timeout=30s",
            "management.server.port=0"
        })
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CertificateRulesTest {

    private static final Path DIR;
    private static final CertsDirectory CERTS;
    private static final CertificateAuthority CA;

    static {
        try {
            DIR = Files.createTempDirectory("playground-rules").resolve("playground-certs");
            CERTS = new CertsDirectory(DIR);
            CA = CERTS.initCa("playground-rules-ca", Duration.ofDays(2));
            CERTS.issueServer(List.of("DNS:localhost", "IP:127.0.0.1"), Duration.ofDays(1), false);
            for (String user : List.of("alice", "bob", "dave")) {
                CERTS.issueBundle(CertIndex.Kind.USER, user, CERTS.userBundle(user), Duration.ofDays(1), null, false);
            }
            CERTS.issueBundle(CertIndex.Kind.ADMIN, "ops", CERTS.adminBundle("ops"), Duration.ofDays(1), null, false);

            Instant from = Instant.now().minusSeconds(60);
            Instant to = Instant.now().plus(Duration.ofDays(1));
            // What an older certs tool issued for "sqlflow-playground-bob": with the users' OU.
            bundle(
                    "legacy-name-with-ou",
                    CA.issueClient("sqlflow-playground-bob", CertificateAuthority.USERS_OU, from, to));
            // The original server's gen_cert.sh: O=sqlflow.tech, CN=sqlflow-playground-NAME, no OU.
            bundle(
                    "legacy-carol",
                    clientCertificate(
                            new X500NameBuilder(BCStyle.INSTANCE)
                                    .addRDN(BCStyle.O, "sqlflow.tech")
                                    .addRDN(BCStyle.CN, "sqlflow-playground-carol")
                                    .build(),
                            from,
                            to));
            bundle(
                    "multi-valued",
                    clientCertificate(
                            new X500NameBuilder(BCStyle.INSTANCE)
                                    .addRDN(BCStyle.OU, CertificateAuthority.USERS_OU)
                                    .addMultiValuedRDN(
                                            new ASN1ObjectIdentifier[] {BCStyle.CN, BCStyle.CN},
                                            new String[] {"bob", "zed"})
                                    .build(),
                            from,
                            to));
            bundle(
                    "two-cns",
                    clientCertificate(
                            new X500NameBuilder(BCStyle.INSTANCE)
                                    .addRDN(BCStyle.OU, CertificateAuthority.USERS_OU)
                                    .addRDN(BCStyle.CN, "bob")
                                    .addRDN(BCStyle.CN, "zed")
                                    .build(),
                            from,
                            to));
            bundle(
                    "admin-among-others",
                    clientCertificate(
                            new X500NameBuilder(BCStyle.INSTANCE)
                                    .addRDN(BCStyle.OU, CertificateAuthority.USERS_OU)
                                    .addRDN(BCStyle.OU, CertificateAuthority.ADMINS_OU)
                                    .addRDN(BCStyle.CN, "mallory")
                                    .build(),
                            from,
                            to));
            bundle("ca-itself", new IssuedCertificate(CA.certificate(), CA.privateKey()));
            bundle("ca-flagged-leaf", caFlaggedLeaf("bob", from, to));
            bundle(
                    "forged",
                    CertificateAuthority.create("playground-rules-ca", Duration.ofDays(1))
                            .issueUser("alice", Duration.ofDays(1)));
            IssuedCertificate selfSigned =
                    CertificateAuthority.create("alice", Duration.ofDays(1)).issueUser("x", Duration.ofDays(1));
            bundle("self-signed", selfSigned);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A client certificate from the test CA for any subject, also ones the certs tool would refuse to issue. */
    private static IssuedCertificate clientCertificate(X500Name subject, Instant from, Instant to) throws Exception {
        return CA.issue(subject, KeyPurposeId.id_kp_clientAuth, null, from, to);
    }

    private static void bundle(String name, IssuedCertificate issued) throws IOException {
        Path dir = DIR.resolve("odd").resolve(name);
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("client.crt"), issued.certificatePem());
        Files.writeString(dir.resolve("client.key"), issued.privateKeyPem());
    }

    /** A certificate our CA signed with basicConstraints CA=true and everything a TLS client certificate needs. */
    private static IssuedCertificate caFlaggedLeaf(String cn, Instant from, Instant to) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair keys = generator.generateKeyPair();
        X500Name issuer =
                X500Name.getInstance(CA.certificate().getSubjectX500Principal().getEncoded());
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE)
                .addRDN(BCStyle.OU, CertificateAuthority.USERS_OU)
                .addRDN(BCStyle.CN, cn)
                .build();
        var builder = new JcaX509v3CertificateBuilder(
                        issuer,
                        BigInteger.valueOf(System.nanoTime()),
                        Date.from(from),
                        Date.from(to),
                        subject,
                        keys.getPublic())
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
                .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyCertSign))
                .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth));
        X509Certificate certificate = new JcaX509CertificateConverter()
                .getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(CA.privateKey())));
        return new IssuedCertificate(certificate, keys.getPrivate());
    }

    @DynamicPropertySource
    static void tls(DynamicPropertyRegistry registry) {
        registry.add("server.ssl.trust-certificate", () -> CERTS.caCert().toString());
        registry.add("server.ssl.certificate", () -> CERTS.serverCert().toString());
        registry.add(
                "server.ssl.certificate-private-key", () -> CERTS.serverKey().toString());
        // The CRL init-ca wrote: empty, signed by the CA.
        registry.add("playground.tls.crl", () -> CERTS.crl().toString());
    }

    @Autowired
    Environment env;

    private Http as(Path bundle) {
        try {
            return new Http(
                    "https://localhost:" + env.getProperty("local.server.port"),
                    MutualTls.clientContext(
                            CERTS.caCert(), bundle.resolve("client.crt"), bundle.resolve("client.key")));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private Http user(String id) {
        return as(CERTS.userBundle(id));
    }

    private Http odd(String name) {
        return as(DIR.resolve("odd").resolve(name));
    }

    private static Reply beat(Http http, String user) {
        return http.get("/api/heart_beat?user_id=" + user, Map.of());
    }

    private static void assertUnauthenticated(Reply reply, String what) {
        assertThat(reply.status()).as(what + ": " + reply.body()).isEqualTo(401);
        assertThat(reply.json().get("error").asString()).as(what).isEqualTo("unauthenticated");
        assertThat(reply.json().get("message").asString()).as(what).isNotBlank();
    }

    @Test
    @Order(1)
    void theEmptyCrlOfInitCaLetsTheToolsUsersIn() throws Exception {
        assertThat(Pem.readCrl(CERTS.crl()).getRevokedCertificates()).isNull();
        assertThat(beat(user("alice"), "alice").status()).isEqualTo(200);
        assertThat(beat(as(CERTS.adminBundle("ops")), "bob").status()).isEqualTo(200);
    }

    @Test
    void aLegacyNameWithAnOuIsAUserOfThatWholeName() {
        Reply asBob = beat(odd("legacy-name-with-ou"), "bob");
        assertThat(asBob.status()).as(asBob.body()).isEqualTo(403);
        assertThat(asBob.json().get("error").asString()).isEqualTo("forbidden_user");
        assertThat(beat(odd("legacy-name-with-ou"), "sqlflow-playground-bob").status())
                .isEqualTo(200);
        // The original server's certificates, without an OU, still act for the name after the prefix.
        assertThat(beat(odd("legacy-carol"), "carol").status()).isEqualTo(200);
        assertThat(beat(odd("legacy-carol"), "sqlflow-playground-carol").status())
                .isEqualTo(403);
    }

    @Test
    void subjectsNamingMoreThanOneUserGet401() {
        for (String bundle : List.of("multi-valued", "two-cns")) {
            for (String user : List.of("bob", "zed")) {
                assertUnauthenticated(beat(odd(bundle), user), bundle + " as " + user);
            }
            assertUnauthenticated(odd(bundle).post("/api/create_db", "{\"user_id\": \"bob\"}", Map.of()), bundle);
        }
    }

    @Test
    void caCertificatesGet401() {
        // The CA's CN is a valid user id, so only its being the CA keeps it from acting for that user.
        assertUnauthenticated(beat(odd("ca-itself"), "playground-rules-ca"), "the CA's own certificate");
        assertUnauthenticated(beat(odd("ca-flagged-leaf"), "bob"), "a CA=true certificate signed by the CA");
    }

    @Test
    void theAdminOuAmongOthersIsNoAdmin() {
        assertThat(beat(odd("admin-among-others"), "bob").status()).isEqualTo(403);
        assertThat(beat(odd("admin-among-others"), "mallory").status()).isEqualTo(200);
        assertThat(odd("admin-among-others")
                        .post("/api/reap_stale", "{\"dry_run\": true}", Map.of())
                        .status())
                .isEqualTo(403);
    }

    @Test
    void forgedCertificatesFailTheHandshake() {
        for (String bundle : List.of("forged", "self-signed")) {
            assertThatThrownBy(() -> beat(odd(bundle), "alice")).as(bundle).isInstanceOf(UncheckedIOException.class);
        }
    }

    @Test
    @Order(Integer.MAX_VALUE) // it changes the CRL the others run under
    void revokingAUserWithTheToolRevokesEveryCertificateThatActsForThem() throws Exception {
        // Two more of dave's in the index: the original server's naming (acts for dave), and an older tool's
        // "sqlflow-playground-dave" with an OU (acts for that whole name, so it is not dave's).
        Instant from = Instant.now().minusSeconds(60);
        Instant to = Instant.now().plus(Duration.ofDays(1));
        IssuedCertificate legacy = clientCertificate(
                new X500NameBuilder(BCStyle.INSTANCE)
                        .addRDN(BCStyle.O, "sqlflow.tech")
                        .addRDN(BCStyle.CN, "sqlflow-playground-dave")
                        .build(),
                from,
                to);
        IssuedCertificate longName = CA.issueClient("sqlflow-playground-dave", CertificateAuthority.USERS_OU, from, to);
        bundle("legacy-dave", legacy);
        bundle("long-name-dave", longName);
        CertIndex index = CertIndex.read(CERTS.index());
        index.add(legacy.certificate(), CertIndex.Kind.OTHER);
        index.add(longName.certificate(), CertIndex.Kind.USER);
        index.save();
        assertThat(beat(user("dave"), "dave").status()).isEqualTo(200);
        assertThat(beat(odd("legacy-dave"), "dave").status()).isEqualTo(200);

        List<CertIndex.Entry> revoked = CERTS.revoke("dave", Duration.ofDays(1));

        assertThat(revoked)
                .extracting(CertIndex.Entry::serial)
                .containsExactlyInAnyOrder(
                        Pem.readCertificate(CERTS.userBundle("dave").resolve("client.crt"))
                                .getSerialNumber(),
                        legacy.serial());
        assertThatThrownBy(() -> beat(user("dave"), "dave")).isInstanceOf(UncheckedIOException.class);
        assertThatThrownBy(() -> beat(odd("legacy-dave"), "dave")).isInstanceOf(UncheckedIOException.class);
        assertThat(beat(odd("long-name-dave"), "sqlflow-playground-dave").status())
                .isEqualTo(200);
        assertThat(beat(user("alice"), "alice").status()).isEqualTo(200);
    }
}
