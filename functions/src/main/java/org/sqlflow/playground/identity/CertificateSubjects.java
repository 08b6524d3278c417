package org.sqlflow.playground.identity;

import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import org.sqlflow.playground.userid.UserIds;

/**
 * Turns a verified certificate subject into a caller identity, by the one user-id rule ({@link UserIds}): one
 * CN in an RDN of its own, no multi-valued RDN, and the original server's {@code CN=sqlflow-playground-NAME}
 * standing for NAME only in a certificate without an OU. The admin mark is an organisational unit, never the
 * CN (a user who picks the id "admin" is no admin), and it must be the only OU: a certificate whose OUs include
 * the admin OU among others was not issued as an admin's.
 */
public final class CertificateSubjects {

    private CertificateSubjects() {}

    public static Optional<CallerIdentity> identify(String subjectDn, String adminOrganizationalUnit) {
        return UserIds.parse(subjectDn)
                .map(subject -> new CallerIdentity(
                        subject.userId(), subject.organizationalUnits().equals(List.of(adminOrganizationalUnit))));
    }

    /**
     * The identity of a peer certificate the TLS handshake accepted. A CA certificate names no user, even when
     * it validates: the JDK accepts a client chain that is just a trust anchor and skips its end-entity checks
     * then ("omit EE extension check if EE cert is also trust anchor", openjdk/jdk
     * sun/security/validator/Validator.java at 317e50581c410d2325da10ca9426c3459a4ac7be), so the CA's own
     * certificate (or any certificate with basicConstraints CA=true) would otherwise act for its CN.
     *
     * @param anchors the CA certificates the server trusts
     */
    public static Optional<CallerIdentity> identify(
            X509Certificate peer, Collection<X509Certificate> anchors, String adminOrganizationalUnit) {
        if (peer.getBasicConstraints() >= 0 || isAnchor(peer, anchors)) {
            return Optional.empty();
        }
        return identify(peer.getSubjectX500Principal().getName(), adminOrganizationalUnit);
    }

    // The anchor itself, or a copy of it: same subject and key (a v1 CA certificate has no basicConstraints).
    private static boolean isAnchor(X509Certificate peer, Collection<X509Certificate> anchors) {
        for (X509Certificate anchor : anchors) {
            if (anchor.equals(peer)
                    || (anchor.getSubjectX500Principal().equals(peer.getSubjectX500Principal())
                            && anchor.getPublicKey().equals(peer.getPublicKey()))) {
                return true;
            }
        }
        return false;
    }
}
