package org.sqlflow.playground.identity;

import jakarta.servlet.http.HttpServletRequest;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import org.sqlflow.playground.certs.ClientCertificateTrustManager;
import org.sqlflow.playground.settings.PlaygroundProperties;
import org.sqlflow.playground.settings.PlaygroundProperties.IdentitySource;

/**
 * Reads the caller's identity from the one source this deployment trusts. Standalone, that is the peer
 * certificate the TLS handshake verified, and any identity header (and any proof) is ignored. Behind the Istio
 * ingress gateway, it is the header the gateway writes from the verified client certificate, overwriting
 * whatever a client sent, and it counts only when the request also carries the gateway's proof: every pod of
 * the cluster can reach the functions through knative-local-gateway or the activator, and only the public
 * gateway knows the proof.
 */
public class IdentityResolver {

    private static final String PEER_CERTIFICATES = "jakarta.servlet.request.X509Certificate";

    private final PlaygroundProperties.Identity config;
    private final ClientCertificateTrustManager trust;
    private final GatewayProof proof;

    /**
     * @param trust re-checks each request's peer chain (standalone); null in gateway mode
     * @param proof the gateway's proof; required in gateway mode, ignored standalone
     */
    public IdentityResolver(
            PlaygroundProperties.Identity config, ClientCertificateTrustManager trust, GatewayProof proof) {
        if (config.source() == IdentitySource.GATEWAY && proof == null) {
            throw new IllegalStateException("gateway identity needs the gateway's proof");
        }
        this.config = config;
        this.trust = trust;
        this.proof = proof;
    }

    /**
     * Gateway mode: whether the request carries exactly one proof header with an accepted value. Standalone there
     * is no gateway, and this is always false.
     */
    public boolean provenByGateway(HttpServletRequest request) {
        if (config.source() != IdentitySource.GATEWAY) {
            return false;
        }
        List<String> values = Collections.list(request.getHeaders(config.proofHeader()));
        return values.size() == 1 && proof.accepts(values.get(0));
    }

    public Optional<CallerIdentity> resolve(HttpServletRequest request) {
        if (config.source() == IdentitySource.GATEWAY) {
            if (!provenByGateway(request)) {
                return Optional.empty();
            }
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
            return CertificateSubjects.identify(
                    chain[0],
                    trust == null ? List.of() : List.of(trust.getAcceptedIssuers()),
                    config.adminOrganizationalUnit());
        }
        return Optional.empty();
    }

    public boolean gatewayMode() {
        return config.source() == IdentitySource.GATEWAY;
    }
}
