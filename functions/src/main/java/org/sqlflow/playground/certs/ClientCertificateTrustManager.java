package org.sqlflow.playground.certs;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.GeneralSecurityException;
import java.security.cert.CertPathValidator;
import java.security.cert.CertStore;
import java.security.cert.CertificateException;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.PKIXRevocationChecker;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import javax.net.ssl.CertPathTrustManagerParameters;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Trusts certificates issued by the given CA(s), checks the JDK's PKIX rules (validity, key usage, and for TLS
 * clients the clientAuth extended key usage) and, when a CRL file is configured, revocation against it.
 *
 * <p>The CRL file is re-read whenever it changes (its modification time, size or inode), checked on each
 * handshake with one file stat, so a revocation takes effect without a restart. A replacement that cannot be
 * read or is not signed by the CA is ignored with a warning and the previous CRL stays in force: the certs tool
 * replaces the file atomically, so this only happens by hand, and rejecting every client would be worse. An
 * unreadable CRL at start is an error. An outdated CRL (past nextUpdate) fails every client, as in Envoy.
 */
public final class ClientCertificateTrustManager extends X509ExtendedTrustManager {

    private static final System.Logger LOG = System.getLogger(ClientCertificateTrustManager.class.getName());

    private final Set<TrustAnchor> anchors;
    private final X509Certificate[] acceptedIssuers;
    private final Path crlFile;
    private volatile State state;

    /**
     * Chains {@link #checkStillTrusted} accepted, with the trust state in force then. A full PKIX validation
     * (a signature check) on every request of a kept-alive connection costs more than the rest of a heartbeat;
     * a repeat of the same chain under the same CRL only needs its validity dates checked. A changed CRL file
     * is a new trust state, so a revocation still takes effect at the next request, and every chain is fully
     * validated again at least every few seconds (so a CRL that goes past its nextUpdate fails it as before).
     */
    private final Map<List<X509Certificate>, Verified> verified = new ConcurrentHashMap<>();

    private static final int MAX_VERIFIED = 10_000;
    private static final long REVERIFY_NANOS = TimeUnit.SECONDS.toNanos(10);

    private record Verified(X509ExtendedTrustManager delegate, long atNanos) {}

    /** What is in force, and the file stamp it came from (or the stamp of a rejected file, to warn only once). */
    private record State(Object stamp, X509ExtendedTrustManager delegate) {}

    /**
     * @param caCertificates the CA(s) whose certificates are accepted
     * @param crlFile a PEM or DER CRL, or null for no revocation checking
     */
    public ClientCertificateTrustManager(List<X509Certificate> caCertificates, Path crlFile)
            throws IOException, GeneralSecurityException {
        this.anchors =
                caCertificates.stream().map(c -> new TrustAnchor(c, null)).collect(Collectors.toSet());
        this.acceptedIssuers = caCertificates.toArray(X509Certificate[]::new);
        this.crlFile = crlFile;
        if (crlFile == null) {
            this.state = new State(null, delegate(null));
        } else {
            Object stamp = stamp(crlFile);
            this.state = new State(stamp, delegate(readVerified(crlFile)));
        }
    }

    public static ClientCertificateTrustManager of(Path caCertificates, Path crlFile)
            throws IOException, GeneralSecurityException {
        return new ClientCertificateTrustManager(Pem.readCertificates(caCertificates), crlFile);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        current().checkClientTrusted(chain, authType, socket);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        current().checkClientTrusted(chain, authType, engine);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        current().checkClientTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        current().checkServerTrusted(chain, authType, socket);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        current().checkServerTrusted(chain, authType, engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        current().checkServerTrusted(chain, authType);
    }

    /**
     * Checks a client chain again, outside a handshake: expiry, and revocation against the CRL in force now. A
     * server should call it on each request with the connection's peer certificates, because TLS session
     * resumption (JDK TLS 1.3 session tickets, for one) skips the trust manager: a client revoked after its
     * first handshake could otherwise keep resuming its old session.
     */
    public void checkStillTrusted(X509Certificate[] chain) throws CertificateException {
        X509ExtendedTrustManager delegate = current();
        List<X509Certificate> key = List.of(chain);
        long now = System.nanoTime();
        Verified seen = verified.get(key);
        if (seen != null && seen.delegate() == delegate && now - seen.atNanos() < REVERIFY_NANOS) {
            // Same chain, same CRL in force, checked moments ago: only expiry can have changed.
            for (X509Certificate certificate : chain) {
                certificate.checkValidity();
            }
            return;
        }
        // The JDK's PKIX trust manager checks a client's chain the same whatever the key exchange was.
        delegate.checkClientTrusted(chain, "UNKNOWN");
        if (verified.size() >= MAX_VERIFIED) {
            verified.clear();
        }
        verified.put(key, new Verified(delegate, now));
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return acceptedIssuers.clone();
    }

    private X509ExtendedTrustManager current() {
        if (crlFile == null) {
            return state.delegate();
        }
        Object stamp;
        try {
            stamp = stamp(crlFile);
        } catch (IOException e) {
            stamp = "missing";
        }
        State seen = state;
        if (Objects.equals(stamp, seen.stamp())) {
            return seen.delegate();
        }
        return reload(stamp);
    }

    private synchronized X509ExtendedTrustManager reload(Object stamp) {
        State seen = state;
        if (Objects.equals(stamp, seen.stamp())) {
            return seen.delegate();
        }
        try {
            X509ExtendedTrustManager delegate = delegate(readVerified(crlFile));
            state = new State(stamp, delegate);
            LOG.log(Level.INFO, "loaded the changed CRL " + crlFile);
            return delegate;
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            LOG.log(Level.WARNING, "ignoring the changed CRL " + crlFile + ", keeping the previous one: " + e);
            state = new State(stamp, seen.delegate());
            return seen.delegate();
        }
    }

    private X509CRL readVerified(Path file) throws IOException, GeneralSecurityException {
        X509CRL crl = Pem.readCrl(file);
        for (TrustAnchor anchor : anchors) {
            X509Certificate ca = anchor.getTrustedCert();
            if (ca.getSubjectX500Principal().equals(crl.getIssuerX500Principal())) {
                crl.verify(ca.getPublicKey());
                return crl;
            }
        }
        throw new GeneralSecurityException(file + " is not issued by a trusted CA: " + crl.getIssuerX500Principal());
    }

    private X509ExtendedTrustManager delegate(X509CRL crl) throws GeneralSecurityException {
        PKIXBuilderParameters parameters = new PKIXBuilderParameters(anchors, null);
        if (crl == null) {
            parameters.setRevocationEnabled(false);
        } else {
            // CRLs only: our certificates name no OCSP responder or CRL distribution point to fall back to.
            PKIXRevocationChecker checker = (PKIXRevocationChecker)
                    CertPathValidator.getInstance("PKIX").getRevocationChecker();
            checker.setOptions(
                    EnumSet.of(PKIXRevocationChecker.Option.PREFER_CRLS, PKIXRevocationChecker.Option.NO_FALLBACK));
            parameters.addCertPathChecker(checker);
            parameters.setRevocationEnabled(true);
            parameters.addCertStore(
                    CertStore.getInstance("Collection", new CollectionCertStoreParameters(List.of(crl))));
        }
        TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
        factory.init(new CertPathTrustManagerParameters(parameters));
        for (TrustManager manager : factory.getTrustManagers()) {
            if (manager instanceof X509ExtendedTrustManager x509) {
                return x509;
            }
        }
        throw new GeneralSecurityException("no X509ExtendedTrustManager from the PKIX TrustManagerFactory");
    }

    private static Object stamp(Path file) throws IOException {
        BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
        return List.of(
                attributes.lastModifiedTime(),
                attributes.size(),
                Objects.requireNonNullElse(attributes.fileKey(), "no-key"));
    }
}
