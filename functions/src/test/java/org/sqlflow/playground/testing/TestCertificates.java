package org.sqlflow.playground.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.sqlflow.playground.certs.CertificateAuthority;
import org.sqlflow.playground.certs.IssuedCertificate;
import org.sqlflow.playground.certs.MutualTls;
import org.sqlflow.playground.certs.Pem;

/**
 * A standalone server's certificates for one test class, as files in a temporary directory, made by the certs
 * tool's code: a CA, a server certificate for localhost, client bundles ({@code NAME/client.crt} and
 * {@code NAME/client.key}) and a CRL, and the server properties that point at them. Tests that need odd
 * certificates (expired, from another CA) issue them with {@link #ca()} and add them with {@link #bundle}.
 */
public final class TestCertificates {

    private final Path dir;
    private final CertificateAuthority ca;

    /** A new CA named after the test, its server certificate and an empty CRL. */
    public TestCertificates(String name) {
        ca = CertificateAuthority.create(name + " CA", Duration.ofDays(2));
        try {
            dir = Files.createTempDirectory(name.replace(' ', '-'));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        write("ca.crt", Pem.encode(ca.certificate()));
        IssuedCertificate server = ca.issueServer(List.of("DNS:localhost", "IP:127.0.0.1"), Duration.ofDays(1));
        write("server.crt", server.certificatePem());
        write("server.key", server.privateKeyPem());
        writeCrl(Map.of(), BigInteger.ONE);
    }

    public CertificateAuthority ca() {
        return ca;
    }

    public Path file(String name) {
        return dir.resolve(name);
    }

    /** A client bundle under {@code name/}. */
    public void bundle(String name, IssuedCertificate cert) {
        write(name + "/client.crt", cert.certificatePem());
        write(name + "/client.key", cert.privateKeyPem());
    }

    /** Replaces the CRL at once (a server watching the file never reads half of it). */
    public void writeCrl(Map<BigInteger, Instant> revoked, BigInteger number) {
        replaceCrl(Pem.encode(
                ca.crl(revoked, Instant.now().minusSeconds(60), Instant.now().plus(Duration.ofDays(1)), number)));
    }

    /** Replaces the CRL file at once with {@code content}, a CRL or not. */
    public synchronized void replaceCrl(String content) {
        write("crl.pem.tmp", content);
        try {
            Files.move(
                    file("crl.pem.tmp"),
                    file("crl.pem"),
                    StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The standalone server's TLS settings (the original playground server's flags, as the jar translates them). */
    public void register(DynamicPropertyRegistry registry) {
        registry.add("server.ssl.trust-certificate", () -> file("ca.crt").toString());
        registry.add("server.ssl.certificate", () -> file("server.crt").toString());
        registry.add(
                "server.ssl.certificate-private-key", () -> file("server.key").toString());
        registry.add("playground.tls.crl", () -> file("crl.pem").toString());
    }

    /** A client's TLS context trusting the CA, presenting the bundle's certificate (none for null). */
    public SSLContext clientContext(String bundle) {
        try {
            return bundle == null
                    ? MutualTls.clientContext(file("ca.crt"), null, null)
                    : MutualTls.clientContext(
                            file("ca.crt"), file(bundle + "/client.crt"), file(bundle + "/client.key"));
        } catch (Exception e) {
            throw new IllegalStateException("reading the client bundle " + bundle, e);
        }
    }

    private void write(String name, String content) {
        try {
            Path file = file(name);
            Files.createDirectories(file.getParent());
            Files.writeString(file, content, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
