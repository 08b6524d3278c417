package org.sqlflow.playground.config;

import org.springframework.core.env.Environment;
import org.sqlflow.playground.config.PlaygroundProperties.IdentitySource;

/**
 * Refuses to start a server that would answer without mutual TLS, or that mixes the two identity sources.
 * Standalone (identity from the peer certificate) the jar must terminate TLS itself and require a client
 * certificate; only in gateway mode, where Istio's gateway and mesh carry mutual TLS, may the API port speak
 * plain HTTP. Gateway identity on a server that terminates TLS itself would let any certificate holder who adds
 * the identity header act as someone else, so that combination refuses to start too.
 */
public final class TransportGuard {

    private TransportGuard() {
    }

    public static void check(PlaygroundProperties props, Environment env) {
        boolean sslOn = env.getProperty("server.ssl.enabled", Boolean.class, true);
        if (props.identity().source() == IdentitySource.GATEWAY) {
            if (sslOn && (env.getProperty("server.ssl.certificate") != null
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
    }
}
