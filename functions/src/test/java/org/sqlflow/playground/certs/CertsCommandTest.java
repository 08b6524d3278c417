package org.sqlflow.playground.certs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.sqlflow.playground.certs.CertsTestSupport.cli;
import static org.sqlflow.playground.certs.CertsTestSupport.ok;
import static org.sqlflow.playground.certs.CertsTestSupport.permissions;
import static org.sqlflow.playground.certs.CertsTestSupport.validate;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertPathValidatorException;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The certs CLI, step by step, on a temporary directory. */
class CertsCommandTest {

    @TempDir
    Path tmp;

    Path dir;

    @BeforeEach
    void initCa() {
        dir = tmp.resolve("playground-certs");
        String out = ok(dir, "init-ca", "--name", "Test Playground CA", "--days", "30");
        assertThat(out).contains("never send it");
    }

    @Test
    void initCaWritesAnOwnerOnlyKeyInAnOwnerOnlyDirectory() throws Exception {
        assertThat(permissions(dir)).isEqualTo("rwx------");
        assertThat(permissions(dir.resolve("ca.key"))).isEqualTo("rw-------");
        X509Certificate ca = Pem.readCertificate(dir.resolve("ca.crt"));
        assertThat(ca.getSubjectX500Principal().getName()).isEqualTo("CN=Test Playground CA");
        assertThat(Duration.between(Instant.now(), ca.getNotAfter().toInstant()).toDays())
                .isBetween(29L, 30L);
        assertThat(Files.readString(dir.resolve("ca.key"))).startsWith("-----BEGIN PRIVATE KEY-----\n");
    }

    @Test
    void initCaNeverOverwritesEvenWithForce() throws Exception {
        String before = Files.readString(dir.resolve("ca.key"));
        CertsTestSupport.Result again = cli(dir, "init-ca");
        assertThat(again.exitCode()).isEqualTo(1);
        assertThat(again.err()).contains("refusing to overwrite").contains("ca.key");
        assertThat(cli(dir, "init-ca", "--force").exitCode()).isEqualTo(2);
        assertThat(Files.readString(dir.resolve("ca.key"))).isEqualTo(before);
    }

    @Test
    void serverCertificateHasTheSansAndRefusesToBeOverwrittenWithoutForce() throws Exception {
        String out = ok(dir, "server", "--san", "DNS:play.example.org", "--san=IP:10.0.0.7");
        assertThat(out).contains("--server_key").contains("gateway-secret");
        X509Certificate server = Pem.readCertificate(dir.resolve("server.crt"));
        validate(server, Pem.readCertificate(dir.resolve("ca.crt")), null);
        assertThat(server.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1");
        assertThat(server.getSubjectX500Principal().getName()).isEqualTo("CN=play.example.org");
        assertThat(permissions(dir.resolve("server.key"))).isEqualTo("rw-------");
        assertThat(Pem.readPrivateKey(dir.resolve("server.key"))).isNotNull();

        CertsTestSupport.Result refused = cli(dir, "server", "--san", "DNS:other.example.org");
        assertThat(refused.exitCode()).isEqualTo(1);
        assertThat(refused.err()).contains("refusing to overwrite").contains("--force");
        assertThat(Pem.readCertificate(dir.resolve("server.crt"))).isEqualTo(server);

        ok(dir, "server", "--san", "DNS:other.example.org", "--force");
        assertThat(Pem.readCertificate(dir.resolve("server.crt"))
                        .getSubjectX500Principal()
                        .getName())
                .isEqualTo("CN=other.example.org");
        assertThat(permissions(dir.resolve("server.key"))).isEqualTo("rw-------");
    }

    @Test
    void serverNeedsAtLeastOneValidSan() {
        assertThat(cli(dir, "server").exitCode()).isEqualTo(2);
        CertsTestSupport.Result bad = cli(dir, "server", "--san", "play.example.org");
        assertThat(bad.exitCode()).isEqualTo(1);
        assertThat(bad.err()).contains("DNS:");
        assertThat(dir.resolve("server.key")).doesNotExist();
    }

    @Test
    void userBundleHasEverythingTheMagicNeedsAndSaysWhatToSend() throws Exception {
        String out = ok(
                dir,
                "user",
                "alice",
                "--server",
                "https://play.example.org:50052",
                "--sqlflow-server",
                "sqlflow.example.org:50051");
        Path bundle = dir.resolve("users/alice");
        assertThat(out)
                .contains("Send the folder " + bundle + "/")
                .contains("to alice over a private channel")
                .contains("Keep " + dir.resolve("ca.key") + " here");
        try (Stream<Path> files = Files.list(bundle)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("ca.crt", "client.crt", "client.key", ".sqlflow_playground.env");
        }
        assertThat(permissions(bundle)).isEqualTo("rwx------");
        assertThat(permissions(dir.resolve("users"))).isEqualTo("rwx------");
        assertThat(permissions(bundle.resolve("client.key"))).isEqualTo("rw-------");
        assertThat(Files.readString(bundle.resolve("client.key"))).startsWith("-----BEGIN PRIVATE KEY-----");
        assertThat(Files.readString(bundle.resolve("ca.crt"))).isEqualTo(Files.readString(dir.resolve("ca.crt")));

        X509Certificate client = Pem.readCertificate(bundle.resolve("client.crt"));
        validate(client, Pem.readCertificate(bundle.resolve("ca.crt")), null);
        assertThat(client.getSubjectX500Principal().getName()).isEqualTo("CN=alice,OU=sqlflow-playground-users");
        assertThat(client.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.2");
        // The key in the bundle belongs to the certificate in the bundle.
        assertThat(publicKeyOf(bundle)).isEqualTo(client.getPublicKey());

        Map<String, String> env = parseEnv(bundle.resolve(".sqlflow_playground.env"));
        assertThat(env)
                .containsExactly(
                        Map.entry("SQLFLOW_SERVER", "sqlflow.example.org:50051"),
                        Map.entry("SQLFLOW_PLAYGROUND_USER_ID_ENV", "SQLFLOW_USER_ID"),
                        Map.entry("SQLFLOW_USER_ID", "alice"),
                        Map.entry("SQLFLOW_PLAYGROUND_SERVRE", "https://play.example.org:50052"),
                        Map.entry("SQLFLOW_PLAYGROUND_SERVER_CA", "${HOME}/.sqlflow_playground/ca.crt"),
                        Map.entry("SQLFLOW_PLAYGROUND_CLIENT_KEY", "${HOME}/.sqlflow_playground/client.key"),
                        Map.entry("SQLFLOW_PLAYGROUND_CLIENT_CERT", "${HOME}/.sqlflow_playground/client.crt"));
        assertThat(Files.readString(bundle.resolve(".sqlflow_playground.env")))
                .contains("# The paths below expect this whole folder")
                .contains("${HOME}/.sqlflow_playground/");
    }

    @Test
    void userWithoutServerOptionsGetsDefaultsAndIsToldSo() throws Exception {
        String out = ok(dir, "user", "bob");
        assertThat(out).contains("Note: the env file names the playground as https://localhost:50052");
        assertThat(parseEnv(dir.resolve("users/bob/.sqlflow_playground.env")))
                .containsEntry("SQLFLOW_PLAYGROUND_SERVRE", "https://localhost:50052")
                .containsEntry("SQLFLOW_SERVER", "localhost:50051");
    }

    @Test
    void envFileValuesAreCheckedBeforeAnythingIsIssued() throws Exception {
        CertsTestSupport.Result noScheme = cli(dir, "user", "alice", "--server", "play.example.org:50052");
        assertThat(noScheme.exitCode()).isEqualTo(1);
        assertThat(noScheme.err()).contains("https://host:port");
        CertsTestSupport.Result quote = cli(dir, "user", "alice", "--sqlflow-server", "x\"y");
        assertThat(quote.exitCode()).isEqualTo(1);
        assertThat(dir.resolve("users/alice")).doesNotExist();
        assertThat(dir.resolve("index.tsv")).doesNotExist();

        ok(dir, "user", "alice", "--server", "https://play.example.org/");
        assertThat(parseEnv(dir.resolve("users/alice/.sqlflow_playground.env")))
                .containsEntry("SQLFLOW_PLAYGROUND_SERVRE", "https://play.example.org");
    }

    @Test
    void userRefusesToOverwriteABundleUnlessForced() throws Exception {
        ok(dir, "user", "alice");
        Path key = dir.resolve("users/alice/client.key");
        String first = Files.readString(key);
        CertsTestSupport.Result refused = cli(dir, "user", "alice");
        assertThat(refused.exitCode()).isEqualTo(1);
        assertThat(refused.err())
                .contains("refusing to overwrite")
                .contains("client.key")
                .contains("--force");
        assertThat(Files.readString(key)).isEqualTo(first);

        ok(dir, "user", "alice", "--force");
        assertThat(Files.readString(key)).isNotEqualTo(first);
        assertThat(permissions(key)).isEqualTo("rw-------");
        try (Stream<Path> files = Files.list(key.getParent())) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(name -> name.endsWith(".tmp"));
        }
    }

    @Test
    void invalidUserIdsAreRefused() {
        for (String id : List.of("al ice", "../evil", "x".repeat(64), "ali/ce", "..", "é")) {
            CertsTestSupport.Result result = cli(dir, "user", id);
            assertThat(result.exitCode()).as(id).isEqualTo(1);
            assertThat(result.err()).as(id).contains("invalid user id");
        }
        assertThat(dir.resolve("users")).doesNotExist();
        assertThat(cli(dir, "user", "a.b_c-9".repeat(9)).exitCode()).isZero(); // 63 characters
    }

    @Test
    void adminBundleCarriesTheAdminOu() throws Exception {
        ok(dir, "admin", "ops");
        X509Certificate admin = Pem.readCertificate(dir.resolve("admins/ops/client.crt"));
        assertThat(admin.getSubjectX500Principal().getName()).isEqualTo("CN=ops,OU=sqlflow-playground-admins");
        assertThat(admin.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.2");
        assertThat(permissions(dir.resolve("admins/ops/client.key"))).isEqualTo("rw-------");
    }

    @Test
    void revokeByUserIdPutsEveryCertificateOfThatIdInTheCrl() throws Exception {
        ok(dir, "user", "alice");
        X509Certificate first = Pem.readCertificate(dir.resolve("users/alice/client.crt"));
        ok(dir, "user", "alice", "--force");
        X509Certificate second = Pem.readCertificate(dir.resolve("users/alice/client.crt"));
        ok(dir, "user", "bob");
        X509Certificate bob = Pem.readCertificate(dir.resolve("users/bob/client.crt"));
        X509Certificate ca = Pem.readCertificate(dir.resolve("ca.crt"));

        String out = ok(dir, "revoke", "alice", "--crl-days", "10");
        assertThat(out)
                .contains(first.getSerialNumber().toString(16))
                .contains(second.getSerialNumber().toString(16))
                .contains("gateway-secret");
        X509CRL crl = Pem.readCrl(dir.resolve("ca.crl"));
        crl.verify(ca.getPublicKey());
        assertThat(Files.readString(dir.resolve("ca.crl"))).startsWith("-----BEGIN X509 CRL-----");
        assertThat(crl.isRevoked(first)).isTrue();
        assertThat(crl.isRevoked(second)).isTrue();
        assertThat(crl.isRevoked(bob)).isFalse();
        assertThat(Duration.between(Instant.now(), crl.getNextUpdate().toInstant())
                        .toDays())
                .isBetween(9L, 10L);
        assertThatThrownBy(() -> validate(second, ca, crl))
                .isInstanceOf(CertPathValidatorException.class)
                .satisfies(e -> assertThat(((CertPathValidatorException) e).getReason())
                        .isEqualTo(CertPathValidatorException.BasicReason.REVOKED));
        validate(bob, ca, crl);
        assertThat(ok(dir, "list")).contains("CN=alice,OU=sqlflow-playground-users");
    }

    @Test
    void revokeByPathAndBySerial() throws Exception {
        ok(dir, "user", "alice");
        ok(dir, "admin", "ops");
        ok(dir, "revoke", dir.resolve("users/alice/client.crt").toString());
        X509Certificate admin = Pem.readCertificate(dir.resolve("admins/ops/client.crt"));
        ok(dir, "revoke", "serial:" + admin.getSerialNumber().toString(16));
        X509CRL crl = Pem.readCrl(dir.resolve("ca.crl"));
        assertThat(crl.isRevoked(Pem.readCertificate(dir.resolve("users/alice/client.crt"))))
                .isTrue();
        assertThat(crl.isRevoked(admin)).isTrue();
        assertThat(crl.getRevokedCertificates()).hasSize(2);
    }

    @Test
    void revokeRefusesUnknownIdsAndForeignCertificates() throws Exception {
        CertsTestSupport.Result unknown = cli(dir, "revoke", "nobody");
        assertThat(unknown.exitCode()).isEqualTo(1);
        assertThat(unknown.err()).contains("no certificate for \"nobody\"");

        Path foreign = tmp.resolve("foreign.crt");
        Files.writeString(
                foreign,
                CertificateAuthority.create("other", Duration.ofDays(1))
                        .issueUser("mallory", Duration.ofDays(1))
                        .certificatePem());
        CertsTestSupport.Result refused = cli(dir, "revoke", foreign.toString());
        assertThat(refused.exitCode()).isEqualTo(1);
        assertThat(refused.err()).contains("was not issued by the CA");
        assertThat(Pem.readCrl(dir.resolve("ca.crl")).getRevokedCertificates()).isNull();
    }

    @Test
    void initCaWritesAnEmptySignedCrl() throws Exception {
        X509CRL crl = Pem.readCrl(dir.resolve("ca.crl"));
        crl.verify(Pem.readCertificate(dir.resolve("ca.crt")).getPublicKey());
        assertThat(crl.getRevokedCertificates()).isNull();
        assertThat(Duration.between(Instant.now(), crl.getNextUpdate().toInstant())
                        .toDays())
                .isBetween(364L, 365L);
        assertThat(permissions(dir.resolve("ca.crl"))).isEqualTo("rw-r--r--");
        assertThat(ok(dir, "server", "--san", "DNS:play.example.org")).contains("--crl=" + dir.resolve("ca.crl"));
    }

    @Test
    void namesTheServerWouldReadAsAnotherUserAreRefused() throws Exception {
        for (String command : List.of("user", "admin")) {
            CertsTestSupport.Result refused = cli(dir, command, "sqlflow-playground-bob");
            assertThat(refused.exitCode()).as(command).isEqualTo(1);
            assertThat(refused.err()).as(command).contains("\"bob\"").contains("sqlflow-playground-");
        }
        assertThat(dir.resolve("users")).doesNotExist();
        assertThat(dir.resolve("admins")).doesNotExist();
        assertThat(ok(dir, "list")).doesNotContain("sqlflow-playground-bob");
        // A longer name that merely contains the prefix elsewhere is its own user.
        ok(dir, "user", "bob-sqlflow-playground-x");
    }

    @Test
    void crlRefreshKeepsRevocationsAndRaisesTheCrlNumber() throws Exception {
        ok(dir, "user", "alice");
        ok(dir, "revoke", "alice");
        X509CRL before = Pem.readCrl(dir.resolve("ca.crl"));
        String out = ok(dir, "crl", "--crl-days", "3");
        assertThat(out).contains("1 revoked");
        X509CRL after = Pem.readCrl(dir.resolve("ca.crl"));
        assertThat(crlNumber(after)).isGreaterThan(crlNumber(before));
        assertThat(after.getRevokedCertificates()).hasSize(1);
        assertThat(after.isRevoked(Pem.readCertificate(dir.resolve("users/alice/client.crt"))))
                .isTrue();
        assertThat(Duration.between(Instant.now(), after.getNextUpdate().toInstant())
                        .toDays())
                .isBetween(2L, 3L);
        assertThat(permissions(dir.resolve("ca.crl"))).isEqualTo("rw-r--r--");
    }

    @Test
    void gatewaySecretHoldsExactlyTheFilesBase64Encoded() throws Exception {
        ok(dir, "server", "--san", "DNS:play.example.org");
        assertThat(secretData(ok(dir, "gateway-secret", "--name", "playground-credential")))
                .containsOnlyKeys("tls.crt", "tls.key", "ca.crt", "ca.crl");
        Files.delete(dir.resolve("ca.crl")); // a directory from before init-ca wrote one
        String withoutCrl = ok(dir, "gateway-secret", "--name", "playground-credential", "--namespace", "istio-system");
        assertThat(secretData(withoutCrl)).containsOnlyKeys("tls.crt", "tls.key", "ca.crt");
        assertThat(withoutCrl)
                .contains("kind: Secret")
                .contains("type: Opaque")
                .contains("  name: playground-credential\n")
                .contains("  namespace: istio-system\n");

        ok(dir, "user", "alice");
        ok(dir, "revoke", "alice");
        Path out = tmp.resolve("secret.yaml");
        CertsTestSupport.Result written = cli(
                dir,
                "gateway-secret",
                "--name",
                "playground-credential",
                "--namespace",
                "istio-system",
                "--out",
                out.toString());
        assertThat(written.exitCode()).isZero();
        assertThat(written.out()).isEmpty();
        assertThat(written.err()).contains("do not commit it");
        assertThat(permissions(out)).isEqualTo("rw-------");
        Map<String, byte[]> data = secretData(Files.readString(out));
        assertThat(data).containsOnlyKeys("tls.crt", "tls.key", "ca.crt", "ca.crl");
        assertThat(data.get("tls.crt")).isEqualTo(Files.readAllBytes(dir.resolve("server.crt")));
        assertThat(data.get("tls.key")).isEqualTo(Files.readAllBytes(dir.resolve("server.key")));
        assertThat(data.get("ca.crt")).isEqualTo(Files.readAllBytes(dir.resolve("ca.crt")));
        assertThat(data.get("ca.crl")).isEqualTo(Files.readAllBytes(dir.resolve("ca.crl")));

        CertsTestSupport.Result refused =
                cli(dir, "gateway-secret", "--name", "playground-credential", "--out", out.toString());
        assertThat(refused.exitCode()).isEqualTo(1);
        assertThat(refused.err()).contains("refusing to overwrite");
        assertThat(cli(dir, "gateway-secret", "--name", "x", "--out", out.toString(), "--force")
                        .exitCode())
                .isZero();
        assertThat(Files.readString(out)).contains("  name: x\n");
    }

    @Test
    void gatewaySecretNeedsAServerCertificateAndValidNames() {
        assertThat(cli(dir, "gateway-secret", "--name", "creds").err()).contains("run init-ca and server first");
        ok(dir, "server", "--san", "DNS:play.example.org");
        assertThat(cli(dir, "gateway-secret").exitCode()).isEqualTo(2);
        assertThat(cli(dir, "gateway-secret", "--name", "Bad_Name").exitCode()).isEqualTo(2);
    }

    @Test
    void commandsWithoutACaSayToRunInitCa() {
        Path empty = tmp.resolve("empty");
        CertsTestSupport.Result result = cli(empty, "user", "alice");
        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.err()).contains("run init-ca first");
    }

    @Test
    void usageErrorsExitWithTwo() {
        assertThat(cli(dir).exitCode()).isEqualTo(2);
        assertThat(cli(dir, "frobnicate").exitCode()).isEqualTo(2);
        assertThat(cli(dir, "user").exitCode()).isEqualTo(2);
        assertThat(cli(dir, "user", "alice", "--san", "DNS:x").exitCode()).isEqualTo(2);
        assertThat(cli(dir, "user", "alice", "--days", "0").exitCode()).isEqualTo(2);
        assertThat(cli(dir, "user", "alice", "--days").exitCode()).isEqualTo(2);
        CertsTestSupport.Result help = cli(dir, "--help");
        assertThat(help.exitCode()).isZero();
        assertThat(help.out()).contains("init-ca").contains("gateway-secret");
    }

    private static java.security.PublicKey publicKeyOf(Path bundle) throws Exception {
        var key = (java.security.interfaces.ECPrivateKey) Pem.readPrivateKey(bundle.resolve("client.key"));
        // Sign with the private key and verify with the certificate: proves they are a pair.
        var signature = java.security.Signature.getInstance("SHA256withECDSA");
        signature.initSign(key);
        signature.update(new byte[] {1, 2, 3});
        byte[] signed = signature.sign();
        X509Certificate cert = Pem.readCertificate(bundle.resolve("client.crt"));
        signature.initVerify(cert.getPublicKey());
        signature.update(new byte[] {1, 2, 3});
        assertThat(signature.verify(signed)).isTrue();
        return cert.getPublicKey();
    }

    /** KEY="value" lines in order; comments skipped. */
    static Map<String, String> parseEnv(Path file) throws Exception {
        Map<String, String> env = new LinkedHashMap<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int eq = line.indexOf('=');
            String value = line.substring(eq + 1);
            assertThat(value).startsWith("\"").endsWith("\"");
            env.put(line.substring(0, eq), value.substring(1, value.length() - 1));
        }
        return env;
    }

    private static Map<String, byte[]> secretData(String yaml) {
        Map<String, byte[]> data = new LinkedHashMap<>();
        boolean inData = false;
        for (String line : yaml.split("\n")) {
            if (line.equals("data:")) {
                inData = true;
            } else if (inData && line.startsWith("  ")) {
                int colon = line.indexOf(':');
                data.put(
                        line.substring(2, colon),
                        Base64.getDecoder().decode(line.substring(colon + 1).trim()));
            } else {
                inData = false;
            }
        }
        return data;
    }

    private static BigInteger crlNumber(X509CRL crl) throws Exception {
        return ASN1Integer.getInstance(
                        JcaX509ExtensionUtils.parseExtensionValue(crl.getExtensionValue(Extension.cRLNumber.getId())))
                .getValue();
    }
}
