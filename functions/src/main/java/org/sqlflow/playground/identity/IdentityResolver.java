package org.sqlflow.playground.identity;

import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

import jakarta.servlet.http.HttpServletRequest;
import org.sqlflow.playground.certs.ClientCertificateTrustManager;
import org.sqlflow.playground.config.PlaygroundProperties;
import org.sqlflow.playground.config.PlaygroundProperties.IdentitySource;

/**
 * Reads the caller's identity from the one source this deployment trusts. Standalone, that is the peer
 * certificate the TLS handshake verified, and any identity header is ignored. Behind the Istio ingress
 * gateway, it is the header the gateway writes from the verified client certificate, overwriting whatever a
 * client sent; the mesh keeps every other route to the functions closed.
 */
public class IdentityResolver {

    private static final String PEER_CERTIFICATES = "jakarta.servlet.request.X509Certificate";

    private final PlaygroundProperties.Identity config;
    private final ClientCertificateTrustManager trust;

    /** @param trust re-checks each request's peer chain (standalone); null in gateway mode */
    public IdentityResolver(PlaygroundProperties.Identity config, ClientCertificateTrustManager trust) {
        this.config = config;
        this.trust = trust;
    }

    public Optional<CallerIdentity> resolve(HttpServletRequest request) {
        if (config.source() == IdentitySource.GATEWAY) {
            List<String> values = Collections.list(request.getHeaders(config.header()));
            // More than one copy means something other than our gateway wrote one: trust none.
            if (values.size() != 1) {
                return Optional.empty();
            }
            return CertificateSubjects.identify(values.get(0), config.adminOrganizationalUnit());
        }
        Object attribute = request.getAttribute(PEER_CERTIFICATES);
        if (attribute instanceof X509Certificate[] chain && chain.length > 0) {
            if (trust != null) {
                try {
                    // A resumed TLS session never met the handshake's check: a certificate revoked since
                    // must not keep working.
                    trust.checkStillTrusted(chain);
                } catch (CertificateException e) {
                    return Optional.empty();
                }
            }
            return CertificateSubjects.identify(chain[0],
                    trust == null ? List.of() : List.of(trust.getAcceptedIssuers()), config.adminOrganizationalUnit());
        }
        return Optional.empty();
    }

    /** The header that must never be taken from a client in standalone mode; hidden from the functions. */
    public String header() {
        return config.header();
    }
}
