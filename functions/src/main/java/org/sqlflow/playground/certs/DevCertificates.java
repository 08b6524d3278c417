package org.sqlflow.playground.certs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;

/**
 * The local run's certificates (playground-dev-certs/): a CA, a server certificate for localhost, and client
 * bundles alice/, bob/ (users) and admin/ (an admin by OU). Made by {@link CertsDirectory}, the same code as the
 * certs CLI, so the CLI works on this directory too (e.g. {@code certs --dir playground-dev-certs revoke bob}).
 *
 * <p>The first call creates what is missing; later calls reuse it. A certificate that has expired (or will
 * within a day), or a server certificate lacking a requested SAN, is issued again.
 */
public record DevCertificates(Path dir) {

    public static final List<String> DEFAULT_SERVER_SANS = List.of("DNS:localhost", "IP:127.0.0.1", "IP:::1");
    public static final List<String> USERS = List.of("alice", "bob");
    public static final String ADMIN = "admin";

    private static final Duration VALIDITY = Duration.ofDays(365);
    private static final Duration RENEW_BEFORE = Duration.ofDays(1);

    /** Creates or reuses the dev certificates in {@code dir} for {@code serverSans} ("DNS:x", "IP:y"). */
    public static DevCertificates ensure(Path dir, List<String> serverSans) throws IOException, CertsException {
        CertsDirectory certs = new CertsDirectory(dir);
        return certs.locked(() -> ensure(certs, serverSans));
    }

    private static DevCertificates ensure(CertsDirectory certs, List<String> serverSans)
            throws IOException, CertsException {
        Path dir = certs.root();
        if (!certs.hasCa()) {
            if (Files.exists(certs.caCert()) || Files.exists(certs.caKey())) {
                throw new CertsException(
                        dir + " holds only half a CA (ca.crt or ca.key); delete " + dir + " to start over");
            }
            certs.initCa("sqlflow-playground dev CA", Duration.ofDays(3650));
        }
        if (needsRenewal(certs.serverCert(), certs) || !covers(certs.serverCert(), serverSans)) {
            certs.issueServer(serverSans, VALIDITY, true);
        }
        for (String user : USERS) {
            ensureBundle(certs, CertIndex.Kind.USER, user);
        }
        ensureBundle(certs, CertIndex.Kind.ADMIN, ADMIN);
        if (crlNeedsRefresh(certs)) {
            // Re-signed from the index, so a dev user revoked earlier stays revoked.
            certs.refreshCrl(CertsDirectory.DEFAULT_CRL_VALIDITY);
        }
        return new DevCertificates(dir);
    }

    /** {@link #ensure(Path, List)} with {@link #DEFAULT_SERVER_SANS}. */
    public static DevCertificates ensure(Path dir) throws IOException, CertsException {
        return ensure(dir, DEFAULT_SERVER_SANS);
    }

    public Path caCert() {
        return dir.resolve(CertsDirectory.CA_CERT);
    }

    public Path caKey() {
        return dir.resolve(CertsDirectory.CA_KEY);
    }

    public Path serverCert() {
        return dir.resolve(CertsDirectory.SERVER_CERT);
    }

    public Path serverKey() {
        return dir.resolve(CertsDirectory.SERVER_KEY);
    }

    /** The CRL: signed by the dev CA, empty until something is revoked; the local run always passes it. */
    public Path crl() {
        return dir.resolve(CertsDirectory.CRL);
    }

    /** alice, bob or admin. */
    public Path bundle(String name) {
        return dir.resolve(name);
    }

    public Path clientCert(String name) {
        return bundle(name).resolve(CertsDirectory.CLIENT_CERT);
    }

    public Path clientKey(String name) {
        return bundle(name).resolve(CertsDirectory.CLIENT_KEY);
    }

    /** The CA, e.g. to issue special certificates in tests. */
    public CertificateAuthority ca() throws IOException {
        return CertificateAuthority.load(caCert(), caKey());
    }

    private static void ensureBundle(CertsDirectory certs, CertIndex.Kind kind, String name)
            throws IOException, CertsException {
        Path bundle = certs.root().resolve(name);
        boolean complete = Files.exists(bundle.resolve(CertsDirectory.CLIENT_KEY))
                && Files.exists(bundle.resolve(CertsDirectory.CA_CERT));
        if (!complete || needsRenewal(bundle.resolve(CertsDirectory.CLIENT_CERT), certs)) {
            certs.issueBundle(kind, name, bundle, VALIDITY, null, true);
        }
    }

    // Also true when the certificate is not from the current CA (e.g. ca.* were replaced by hand).
    private static boolean needsRenewal(Path certificateFile, CertsDirectory certs) throws IOException {
        if (!Files.exists(certificateFile)) {
            return true;
        }
        X509Certificate certificate = Pem.readCertificate(certificateFile);
        boolean expiring =
                certificate.getNotAfter().toInstant().isBefore(Instant.now().plus(RENEW_BEFORE));
        return expiring
                || !CertificateAuthority.load(certs.caCert(), certs.caKey()).issued(certificate);
    }

    // Missing (a directory made before dev certificates came with a CRL), unreadable, not from the current CA, or
    // about to pass its nextUpdate (after which the server would reject every client).
    private static boolean crlNeedsRefresh(CertsDirectory certs) throws IOException {
        if (!Files.exists(certs.crl())) {
            return true;
        }
        try {
            X509CRL crl = Pem.readCrl(certs.crl());
            crl.verify(Pem.readCertificate(certs.caCert()).getPublicKey());
            return crl.getNextUpdate() == null
                    || crl.getNextUpdate().toInstant().isBefore(Instant.now().plus(RENEW_BEFORE));
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            return true;
        }
    }

    private static boolean covers(Path serverCertificate, List<String> sans) throws IOException {
        try {
            GeneralNames present = GeneralNames.fromExtensions(
                    new JcaX509CertificateHolder(Pem.readCertificate(serverCertificate)).getExtensions(),
                    Extension.subjectAlternativeName);
            Set<GeneralName> have = present == null ? Set.of() : Set.of(present.getNames());
            Set<GeneralName> want =
                    sans.stream().map(CertificateAuthority::generalName).collect(Collectors.toSet());
            return have.containsAll(want);
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IOException("unreadable server certificate " + serverCertificate, e);
        }
    }
}
