package org.sqlflow.playground.certs;

import java.io.File;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.sqlflow.playground.userid.UserIds;

/**
 * A certs directory and every step the maintainer takes on it. The CLI ({@link CertsCommand}) and the local
 * run's {@link DevCertificates} both go through here, so they make identical files.
 *
 * <pre>
 * DIR/                 0700
 *   ca.crt ca.key      the CA (ca.key 0600: whoever holds it can mint any identity)
 *   server.crt/.key    the server certificate (key 0600)
 *   ca.crl             the CRL, once something was revoked or `crl` ran
 *   index.tsv          every certificate issued (see {@link CertIndex})
 *   users/ID/          a user's bundle: ca.crt client.crt client.key(0600) .sqlflow_playground.env
 *   admins/NAME/       an admin's bundle, same files
 * </pre>
 *
 * <p>Mutating steps hold a lock on DIR/.lock so two runs cannot interleave their index updates.
 */
public final class CertsDirectory {

    public static final String CA_CERT = "ca.crt";
    public static final String CA_KEY = "ca.key";
    public static final String CRL = "ca.crl";
    public static final String INDEX = "index.tsv";
    public static final String SERVER_CERT = "server.crt";
    public static final String SERVER_KEY = "server.key";
    public static final String CLIENT_CERT = "client.crt";
    public static final String CLIENT_KEY = "client.key";

    public static final Duration DEFAULT_CA_VALIDITY = Duration.ofDays(3650);
    public static final Duration DEFAULT_LEAF_VALIDITY = Duration.ofDays(365);
    /**
     * The CRL is handed to the gateway and server by the maintainer, never fetched, so its nextUpdate protects
     * against nothing here; but once it passes, JSSE and Envoy reject every client. Hence a long default.
     */
    public static final Duration DEFAULT_CRL_VALIDITY = Duration.ofDays(365);

    // One JVM may run several steps at once (tests); FileLock is per process, so threads queue here first.
    private static final Object JVM_LOCK = new Object();
    // The directory whose lock this thread holds, if any (for re-entry).
    private static final ThreadLocal<Path> LOCK_HELD = new ThreadLocal<>();

    private final Path root;

    public CertsDirectory(Path root) {
        this.root = root;
    }

    /** Where a bundle went, what it holds, and whether its expiry was cut to the CA's. */
    public record Bundle(Path dir, IssuedCertificate issued, List<Path> files, boolean cappedToCa) {}

    /** A server certificate just written, and whether its expiry was cut to the CA's. */
    public record Server(IssuedCertificate issued, boolean cappedToCa) {}

    /** Settings for a bundle's .sqlflow_playground.env (see {@link EnvFile}). */
    public record EnvSettings(String playgroundUrl, String sqlflowServer, String bundleLocation) {}

    public Path root() {
        return root;
    }

    public Path caCert() {
        return root.resolve(CA_CERT);
    }

    public Path caKey() {
        return root.resolve(CA_KEY);
    }

    public Path crl() {
        return root.resolve(CRL);
    }

    public Path index() {
        return root.resolve(INDEX);
    }

    public Path serverCert() {
        return root.resolve(SERVER_CERT);
    }

    public Path serverKey() {
        return root.resolve(SERVER_KEY);
    }

    public Path userBundle(String userId) {
        return root.resolve("users").resolve(userId);
    }

    public Path adminBundle(String name) {
        return root.resolve("admins").resolve(name);
    }

    /**
     * A user id ({@link UserIds}, the API's rule) that is also a usable directory name: "." and ".." are valid
     * ids but cannot name a bundle folder.
     */
    public static boolean isValidUserId(String id) {
        return UserIds.isValid(id) && !".".equals(id) && !"..".equals(id);
    }

    public static void requireValidUserId(String id) throws CertsException {
        if (!isValidUserId(id)) {
            throw new CertsException("invalid user id \"" + id + "\": use 1 to 63 characters of A-Z a-z 0-9 . _ -"
                    + " (not \".\" or \"..\")");
        }
    }

    /** A valid id that the server would also read back as exactly this id (see {@link UserIds#refusalToIssue}). */
    static void requireIssuableUserId(String id, String organizationalUnit) throws CertsException {
        requireValidUserId(id);
        Optional<String> refusal = UserIds.refusalToIssue(id, organizationalUnit);
        if (refusal.isPresent()) {
            throw new CertsException(refusal.get());
        }
    }

    /** Creates the CA. There is deliberately no force: a new CA silently voids every certificate issued so far. */
    public CertificateAuthority initCa(String name, Duration validity) throws IOException, CertsException {
        return locked(() -> {
            refuseExisting(
                    List.of(caCert(), caKey()),
                    "a CA already exists here; a new one would void every "
                            + "certificate it issued. Delete ca.crt and ca.key yourself if that is really what you want");
            CertificateAuthority ca = CertificateAuthority.create(name, validity);
            // Key first: if writing it fails, no certificate exists to suggest the CA is usable.
            SecureFiles.writeNew(caKey(), Pem.encode(ca.privateKey()), SecureFiles.OWNER_ONLY);
            SecureFiles.writeNew(caCert(), Pem.encode(ca.certificate()), SecureFiles.PUBLIC_READ);
            // An empty signed CRL from the start: a standalone server refuses to start without one (unless told
            // --no-crl), so that the first revocation is a file change the running server picks up.
            writeCrl(ca, CertIndex.read(index()), DEFAULT_CRL_VALIDITY);
            return ca;
        });
    }

    /** Loads the CA, with a helpful message when there is none. */
    public CertificateAuthority ca() throws IOException, CertsException {
        if (!Files.exists(caCert()) || !Files.exists(caKey())) {
            throw new CertsException("no CA in " + root + " (ca.crt and ca.key): run init-ca first, or pass --dir");
        }
        return CertificateAuthority.load(caCert(), caKey());
    }

    public boolean hasCa() {
        return Files.exists(caCert()) && Files.exists(caKey());
    }

    public Server issueServer(List<String> subjectAltNames, Duration validity, boolean force)
            throws IOException, CertsException {
        return locked(() -> {
            if (!force) {
                refuseExisting(List.of(serverCert(), serverKey()), "use --force to replace the server certificate");
            }
            CertificateAuthority ca = ca();
            Instant now = Instant.now();
            Instant notAfter = capToCa(ca, now.plus(validity));
            IssuedCertificate issued;
            try {
                issued = ca.issueServer(subjectAltNames, now.minus(CertificateAuthority.CLOCK_SKEW), notAfter);
            } catch (IllegalArgumentException e) {
                throw new CertsException(e.getMessage(), e);
            }
            record(issued, CertIndex.Kind.SERVER);
            SecureFiles.write(serverKey(), issued.privateKeyPem(), SecureFiles.OWNER_ONLY, force);
            SecureFiles.write(serverCert(), issued.certificatePem(), SecureFiles.PUBLIC_READ, force);
            return new Server(issued, notAfter.isBefore(now.plus(validity)));
        });
    }

    /**
     * Issues a user or admin certificate and writes a bundle into {@code bundleDir}: ca.crt, client.crt,
     * client.key (0600) and, when {@code env} is given, .sqlflow_playground.env.
     */
    public Bundle issueBundle(
            CertIndex.Kind kind, String id, Path bundleDir, Duration validity, EnvSettings env, boolean force)
            throws IOException, CertsException {
        if (kind != CertIndex.Kind.USER && kind != CertIndex.Kind.ADMIN) {
            throw new IllegalArgumentException("bundles are for users and admins, not " + kind);
        }
        String ou = kind == CertIndex.Kind.ADMIN ? CertificateAuthority.ADMINS_OU : CertificateAuthority.USERS_OU;
        requireIssuableUserId(id, ou);
        return locked(() -> {
            Path key = bundleDir.resolve(CLIENT_KEY);
            Path cert = bundleDir.resolve(CLIENT_CERT);
            Path caCopy = bundleDir.resolve(CA_CERT);
            Path envFile = bundleDir.resolve(EnvFile.FILE_NAME);
            List<Path> files = new ArrayList<>(List.of(caCopy, cert, key));
            if (env != null) {
                files.add(envFile);
            }
            if (!force) {
                refuseExisting(
                        files,
                        "use --force to replace this bundle (the old certificate stays valid until it "
                                + "expires unless you revoke it)");
            }
            CertificateAuthority ca = ca();
            String envText = null;
            if (env != null) {
                try {
                    envText = EnvFile.render(id, env.playgroundUrl(), env.sqlflowServer(), env.bundleLocation());
                } catch (IllegalArgumentException e) {
                    throw new CertsException(e.getMessage(), e);
                }
            }
            Instant now = Instant.now();
            Instant notAfter = capToCa(ca, now.plus(validity));
            Instant notBefore = now.minus(CertificateAuthority.CLOCK_SKEW);
            IssuedCertificate issued = ca.issueClient(id, ou, notBefore, notAfter);
            // The certificate as the server will read it, not just the name we meant: nothing is written otherwise.
            String subject = CertIndex.subjectOf(issued.certificate());
            if (!UserIds.userIdOf(subject).equals(Optional.of(id))) {
                throw new CertsException(
                        "refusing to write " + subject + ": the server would not read it as \"" + id + "\"");
            }
            record(issued, kind);
            SecureFiles.createDirectories(bundleDir);
            SecureFiles.write(key, issued.privateKeyPem(), SecureFiles.OWNER_ONLY, force);
            SecureFiles.write(cert, issued.certificatePem(), SecureFiles.PUBLIC_READ, force);
            SecureFiles.write(caCopy, Pem.encode(ca.certificate()), SecureFiles.PUBLIC_READ, force);
            if (envText != null) {
                SecureFiles.write(envFile, envText, SecureFiles.PUBLIC_READ, force);
            }
            return new Bundle(bundleDir, issued, List.copyOf(files), notAfter.isBefore(now.plus(validity)));
        });
    }

    /**
     * Revokes by user id (every user and admin certificate with that CN), by "serial:HEX", or by the path of a
     * certificate file (anything containing a path separator), then rewrites the CRL. Returns the entries that
     * are now revoked, including any that already were.
     */
    public List<CertIndex.Entry> revoke(String target, Duration crlValidity) throws IOException, CertsException {
        return locked(() -> {
            CertificateAuthority ca = ca();
            CertIndex index = CertIndex.read(index());
            List<BigInteger> serials = serialsFor(target, ca, index);
            Instant now = Instant.now();
            List<CertIndex.Entry> revoked = new ArrayList<>();
            for (BigInteger serial : serials) {
                revoked.add(index.revoke(serial, now));
            }
            index.save();
            writeCrl(ca, index, crlValidity);
            return revoked;
        });
    }

    /** Re-signs the CRL from the index with a fresh thisUpdate/nextUpdate (and a higher CRL number). */
    public X509CRL refreshCrl(Duration validity) throws IOException, CertsException {
        return locked(() -> writeCrl(ca(), CertIndex.read(index()), validity));
    }

    private List<BigInteger> serialsFor(String target, CertificateAuthority ca, CertIndex index)
            throws IOException, CertsException {
        if (target.startsWith("serial:")) {
            BigInteger serial;
            try {
                serial = new BigInteger(target.substring("serial:".length()).replace(":", ""), 16);
            } catch (NumberFormatException e) {
                throw new CertsException("not a hex serial: " + target, e);
            }
            if (index.find(serial).isEmpty()) {
                throw new CertsException("serial " + serial.toString(16) + " is not in " + index());
            }
            return List.of(serial);
        }
        if (target.contains("/") || target.contains(File.separator)) {
            return List.of(serialOfFile(Path.of(target), ca, index));
        }
        if (!UserIds.isValid(target)) {
            throw new CertsException("invalid user id \"" + target + "\": use 1 to 63 characters of A-Z a-z 0-9 . _ -");
        }
        List<CertIndex.Entry> entries = index.clientsActingFor(target);
        if (entries.isEmpty()) {
            throw new CertsException("no certificate for \"" + target + "\" in " + index()
                    + " (to revoke a file in the current directory, write ./" + target + ")");
        }
        return entries.stream().map(CertIndex.Entry::serial).toList();
    }

    // A certificate file: it must be ours; if the index lacks it (e.g. lost), it is added so the CRL keeps it.
    private BigInteger serialOfFile(Path file, CertificateAuthority ca, CertIndex index)
            throws IOException, CertsException {
        if (!Files.exists(file)) {
            throw new CertsException("no such certificate file: " + file);
        }
        X509Certificate certificate = Pem.readCertificate(file);
        if (!ca.issued(certificate)) {
            throw new CertsException(file + " was not issued by the CA in " + root);
        }
        if (index.find(certificate.getSerialNumber()).isEmpty()) {
            index.add(certificate, kindOf(certificate));
        }
        return certificate.getSerialNumber();
    }

    private static CertIndex.Kind kindOf(X509Certificate certificate) throws IOException {
        String ou = CertIndex.attribute(CertIndex.subjectOf(certificate), "OU");
        if (CertificateAuthority.ADMINS_OU.equals(ou)) {
            return CertIndex.Kind.ADMIN;
        }
        if (CertificateAuthority.USERS_OU.equals(ou)) {
            return CertIndex.Kind.USER;
        }
        try {
            List<String> usages = certificate.getExtendedKeyUsage();
            if (usages != null && usages.contains("1.3.6.1.5.5.7.3.1")) {
                return CertIndex.Kind.SERVER;
            }
        } catch (java.security.cert.CertificateParsingException e) {
            throw new IOException("unreadable extended key usage", e);
        }
        return CertIndex.Kind.OTHER;
    }

    private X509CRL writeCrl(CertificateAuthority ca, CertIndex index, Duration validity) throws IOException {
        Instant now = Instant.now();
        X509CRL crl = ca.crl(index.revocations(), now, now.plus(validity), nextCrlNumber(now));
        SecureFiles.replace(crl(), Pem.encode(crl), SecureFiles.PUBLIC_READ);
        return crl;
    }

    /** Strictly above the current CRL's number, and never below the clock, so deleting ca.crl cannot go back. */
    private BigInteger nextCrlNumber(Instant now) {
        BigInteger next = BigInteger.valueOf(now.getEpochSecond());
        if (Files.exists(crl())) {
            try {
                byte[] value = Pem.readCrl(crl()).getExtensionValue(Extension.cRLNumber.getId());
                if (value != null) {
                    BigInteger current = ASN1Integer.getInstance(JcaX509ExtensionUtils.parseExtensionValue(value))
                            .getValue();
                    next = next.max(current.add(BigInteger.ONE));
                }
            } catch (IOException | RuntimeException e) {
                // An unreadable old CRL is replaced; the clock-based number still moves forward.
            }
        }
        return next;
    }

    private void record(IssuedCertificate issued, CertIndex.Kind kind) throws IOException {
        CertIndex index = CertIndex.read(index());
        index.add(issued.certificate(), kind);
        index.save();
    }

    /** A leaf cannot outlive its CA usefully, so its expiry is cut to the CA's. */
    private static Instant capToCa(CertificateAuthority ca, Instant wanted) {
        Instant caEnd = ca.certificate().getNotAfter().toInstant();
        return wanted.isAfter(caEnd) ? caEnd : wanted;
    }

    private static void refuseExisting(List<Path> files, String advice) throws CertsException {
        List<String> existing =
                files.stream().filter(Files::exists).map(Path::toString).toList();
        if (!existing.isEmpty()) {
            throw new CertsException("refusing to overwrite " + String.join(", ", existing) + ": " + advice);
        }
    }

    /** A step run under the directory lock. */
    interface Step<T> {
        T run() throws IOException, CertsException;
    }

    /**
     * Runs {@code step} holding the directory lock; re-entrant, so a caller can group several steps (as
     * {@link DevCertificates} does) and a second process waits instead of issuing the same certificates again.
     */
    <T> T locked(Step<T> step) throws IOException, CertsException {
        synchronized (JVM_LOCK) {
            Path key = root.toAbsolutePath().normalize();
            if (key.equals(LOCK_HELD.get())) {
                return step.run();
            }
            if (LOCK_HELD.get() != null) {
                throw new IllegalStateException("already holding the lock of " + LOCK_HELD.get());
            }
            SecureFiles.createDirectories(root);
            try (FileChannel channel =
                    FileChannel.open(root.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                FileLock lock = channel.lock();
                LOCK_HELD.set(key);
                try {
                    return step.run();
                } finally {
                    LOCK_HELD.remove();
                    lock.release();
                }
            }
        }
    }
}
