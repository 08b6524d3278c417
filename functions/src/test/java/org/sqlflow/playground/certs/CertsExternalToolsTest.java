package org.sqlflow.playground.certs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.sqlflow.playground.certs.CertsTestSupport.available;
import static org.sqlflow.playground.certs.CertsTestSupport.exec;
import static org.sqlflow.playground.certs.CertsTestSupport.ok;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The files as OpenSSL (curl, tornado) and Python (the SQLFlow magic) read them. Each test skips, saying why,
 * when its tool is missing.
 */
class CertsExternalToolsTest {

    @TempDir
    Path tmp;

    Path dir;

    @BeforeEach
    void issue() {
        dir = tmp.resolve("certs");
        ok(dir, "init-ca");
        ok(dir, "server", "--san", "DNS:localhost", "--san", "IP:127.0.0.1");
        ok(
                dir,
                "user",
                "alice",
                "--server",
                "https://play.example.org:50052",
                "--sqlflow-server",
                "sqlflow.example.org:50051");
        ok(dir, "user", "bob");
        ok(dir, "admin", "ops");
    }

    @Test
    void opensslVerifiesEveryChainForItsPurposeOnly() throws Exception {
        requireOpenssl();
        assertThat(openssl("verify", "-CAfile", "ca.crt", "users/alice/client.crt")
                        .output())
                .contains("users/alice/client.crt: OK");
        assertThat(openssl(
                                "verify",
                                "-purpose",
                                "sslclient",
                                "-CAfile",
                                "ca.crt",
                                "users/alice/client.crt",
                                "admins/ops/client.crt")
                        .exitCode())
                .isZero();
        assertThat(openssl("verify", "-purpose", "sslserver", "-CAfile", "ca.crt", "server.crt")
                        .exitCode())
                .isZero();
        assertThat(openssl("verify", "-purpose", "sslserver", "-CAfile", "ca.crt", "users/alice/client.crt")
                        .exitCode())
                .isNotZero();
        assertThat(openssl("verify", "-purpose", "sslclient", "-CAfile", "ca.crt", "server.crt")
                        .exitCode())
                .isNotZero();
        assertThat(openssl("x509", "-in", "users/alice/client.crt", "-noout", "-subject")
                        .output())
                .contains("OU = sqlflow-playground-users, CN = alice");
    }

    @Test
    void opensslReadsTheCrlAndRejectsTheRevokedCertificate() throws Exception {
        requireOpenssl();
        ok(dir, "revoke", "alice");
        String serial = Pem.readCertificate(dir.resolve("users/alice/client.crt"))
                .getSerialNumber()
                .toString(16)
                .toUpperCase(java.util.Locale.ROOT);
        CertsTestSupport.Process text = openssl("crl", "-in", "ca.crl", "-noout", "-text");
        assertThat(text.exitCode()).isZero();
        assertThat(text.output())
                .contains("Version 2")
                .contains("X509v3 CRL Number")
                .contains(serial);
        assertThat(openssl("crl", "-in", "ca.crl", "-noout", "-CAfile", "ca.crt")
                        .output())
                .contains("verify OK");

        CertsTestSupport.Process revoked =
                openssl("verify", "-crl_check", "-CAfile", "ca.crt", "-CRLfile", "ca.crl", "users/alice/client.crt");
        assertThat(revoked.exitCode()).isNotZero();
        assertThat(revoked.output()).contains("certificate revoked");
        assertThat(openssl("verify", "-crl_check", "-CAfile", "ca.crt", "-CRLfile", "ca.crl", "users/bob/client.crt")
                        .exitCode())
                .isZero();
    }

    @Test
    void opensslReadsTheKeyAsUnencryptedPkcs8MatchingTheCertificate() throws Exception {
        requireOpenssl();
        for (String bundle : List.of("users/alice", "admins/ops")) {
            String fromKey =
                    openssl("pkey", "-in", bundle + "/client.key", "-pubout").output();
            String fromCert = openssl("x509", "-in", bundle + "/client.crt", "-noout", "-pubkey")
                    .output();
            assertThat(fromKey).startsWith("-----BEGIN PUBLIC KEY-----").isEqualTo(fromCert);
        }
        assertThat(openssl("pkey", "-in", "server.key", "-pubout").output())
                .isEqualTo(openssl("x509", "-in", "server.crt", "-noout", "-pubkey")
                        .output());
    }

    /**
     * The bundle as the SQLFlow magic uses it: python-dotenv loads the env file (expanding ${HOME}), then the
     * magic's exact ssl calls load the files the variables name.
     */
    @Test
    void pythonLoadsTheEnvFileAndTheBundleLikeTheSqlflowMagic() throws Exception {
        assumeTrue(
                available("python3", "-c", "import ssl, dotenv"),
                "python3 with python-dotenv not found: skipping the SQLFlow magic check");
        Path home = tmp.resolve("home");
        Path target = home.resolve(".sqlflow_playground");
        Files.createDirectories(target);
        for (String file : List.of("ca.crt", "client.crt", "client.key", ".sqlflow_playground.env")) {
            Files.copy(dir.resolve("users/alice").resolve(file), target.resolve(file));
        }
        String script = String.join(
                "\n",
                "import os, ssl, dotenv",
                "dotenv.load_dotenv(os.environ['SQLFLOW_JUPYTER_ENV_PATH'])",
                "user_id = os.getenv(os.getenv('SQLFLOW_PLAYGROUND_USER_ID_ENV'))",
                "ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)",
                "ctx.load_cert_chain(os.getenv('SQLFLOW_PLAYGROUND_CLIENT_CERT'), os.getenv('SQLFLOW_PLAYGROUND_CLIENT_KEY'))",
                "ctx.load_verify_locations(os.getenv('SQLFLOW_PLAYGROUND_SERVER_CA'))",
                "print('user', user_id)",
                "print('server', os.getenv('SQLFLOW_PLAYGROUND_SERVRE'))",
                "print('sqlflow', os.getenv('SQLFLOW_SERVER'))",
                "print('ca', os.getenv('SQLFLOW_PLAYGROUND_SERVER_CA'))");
        ProcessBuilder builder = new ProcessBuilder("python3", "-c", script).redirectErrorStream(true);
        builder.environment().put("HOME", home.toString());
        builder.environment()
                .put(
                        "SQLFLOW_JUPYTER_ENV_PATH",
                        target.resolve(".sqlflow_playground.env").toString());
        for (String variable : List.of(
                "SQLFLOW_SERVER",
                "SQLFLOW_PLAYGROUND_USER_ID_ENV",
                "SQLFLOW_USER_ID",
                "SQLFLOW_PLAYGROUND_SERVRE",
                "SQLFLOW_PLAYGROUND_SERVER_CA",
                "SQLFLOW_PLAYGROUND_CLIENT_KEY",
                "SQLFLOW_PLAYGROUND_CLIENT_CERT")) {
            builder.environment().remove(variable);
        }
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(process.waitFor()).as(output).isZero();
        assertThat(output)
                .contains("user alice\n")
                .contains("server https://play.example.org:50052\n")
                .contains("sqlflow sqlflow.example.org:50051\n")
                .contains("ca " + target.resolve("ca.crt") + "\n");
    }

    private static void requireOpenssl() {
        assumeTrue(available("openssl", "version"), "openssl not found: skipping the OpenSSL compatibility check");
    }

    private CertsTestSupport.Process openssl(String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        return exec(dir, command);
    }
}
