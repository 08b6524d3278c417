package org.sqlflow.playground.config;

import org.springframework.core.env.Environment;
import org.sqlflow.playground.config.PlaygroundProperties.IdentitySource;

/**
 * Refuses to start a server that would answer without mutual TLS. Standalone (identity from the peer
 * certificate) the jar must terminate TLS itself and require a client certificate; only in gateway mode,
 * where Istio's gateway and mesh carry mutual TLS, may the API port speak plain HTTP.
 */
public final class TransportGuard {

    private TransportGuard() {
    }

    public static void check(PlaygroundProperties props, Environment env) {
        if (props.identity().source() != IdentitySource.TLS) {
            return;
        }
        boolean tls = env.getProperty("server.ssl.enabled", Boolean.class, true)
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
