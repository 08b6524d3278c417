package org.sqlflow.playground.config;

import org.springframework.core.env.Environment;
import org.sqlflow.playground.settings.PlaygroundProperties;
import org.sqlflow.playground.settings.PlaygroundProperties.IdentitySource;

/**
 * Refuses to start a server that would answer without mutual TLS, or that mixes the two identity sources.
 * Standalone (identity from the peer certificate) the jar must terminate TLS itself and require a client
 * certificate; only in gateway mode, where Istio's gateway and mesh carry mutual TLS, may the API port speak
 * plain HTTP. Gateway identity on a server that terminates TLS itself would let any certificate holder who adds
 * the identity header act as someone else, so that combination refuses to start too.
 *
 * <p>Standalone, it also refuses to start without a CRL unless told so ({@code --no-crl}): a server started
 * without one would silently ignore every later revocation. The certs tool's {@code init-ca} and the local
 * run's dev certificates come with an empty signed CRL, so giving one costs nothing.
 */
public final class TransportGuard {

    private TransportGuard() {}

    public static void check(PlaygroundProperties props, Environment env) {
        boolean sslOn = env.getProperty("server.ssl.enabled", Boolean.class, true);
        if (props.identity().source() == IdentitySource.GATEWAY) {
            if (sslOn
                    && (env.getProperty("server.ssl.certificate") != null
                            || env.getProperty("server.ssl.trust-certificate") != null
                            || env.getProperty("server.ssl.bundle") != null)) {
                throw new IllegalStateException("Refusing to start: playground.identity.source=gateway with the "
                        + "server's own TLS (--ca_crt/--server_crt): gateway identity is only for the Istio ingress "
                        + "gateway, which terminates TLS itself. Standalone, leave playground.identity.source=tls.");
            }
            return;
        }
        if (props.api().reaperTrigger()) {
            throw new IllegalStateException("Refusing to start: playground.api.reaper-trigger=true is for the "
                    + "reaper's Knative Service in gateway mode only.");
        }
        boolean tls = sslOn
                && env.getProperty("server.ssl.certificate") != null
                && env.getProperty("server.ssl.trust-certificate") != null;
        String clientAuth = env.getProperty("server.ssl.client-auth", "none");
        if (!tls || !"need".equalsIgnoreCase(clientAuth)) {
            throw new IllegalStateException("Refusing to start without mutual TLS: give --ca_crt, --server_crt and "
                    + "--server_key (standalone), use --local for a local run, or set "
                    + "playground.identity.source=gateway behind the Istio ingress gateway.");
        }
        PlaygroundProperties.Tls tlsProps = props.tls();
        if (tlsProps.crl() != null && tlsProps.noCrl()) {
            throw new IllegalStateException("Both --crl (playground.tls.crl) and --no-crl (playground.tls.no-crl) "
                    + "were given: give one of them.");
        }
        if (tlsProps.crl() == null && !tlsProps.noCrl()) {
            throw new IllegalStateException("Refusing to start without a CRL: without one, revoking a certificate "
                    + "never takes effect. Give --crl=FILE (playground.tls.crl; the certs tool's init-ca writes an "
                    + "empty ca.crl, and `playground-certs crl` writes one for an older CA), or --no-crl "
                    + "(playground.tls.no-crl=true) to run without revocation.");
        }
    }
}
