package org.sqlflow.playground.identity;

import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import org.apache.tomcat.util.net.SSLHostConfig;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.sqlflow.playground.certs.ClientCertificateTrustManager;
import org.sqlflow.playground.certs.EcdsaSignatures;
import org.sqlflow.playground.settings.PlaygroundProperties;

/**
 * Standalone mutual TLS: Spring Boot terminates TLS from the original playground server's PEM flags and
 * requires a client certificate; this configuration swaps Tomcat's client-certificate check for the playground's,
 * which also honours a CRL ({@code --crl}) and re-reads it when the file changes, so a revocation takes effect without a
 * restart. The same trust manager re-checks each request's peer chain, because a resumed TLS session skips
 * the handshake's check.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(name = "server.ssl.trust-certificate")
public class StandaloneTlsConfiguration {

    @Bean
    ClientCertificateTrustManager clientCertificateTrustManager(Environment env, PlaygroundProperties props)
            throws IOException, GeneralSecurityException {
        Path ca = Path.of(stripFilePrefix(env.getRequiredProperty("server.ssl.trust-certificate")));
        ClientCertificateTrustManager trust =
                ClientCertificateTrustManager.of(ca, props.tls().crl());
        TomcatTrustManager.install(trust);
        // Every handshake signs and verifies an ECDSA CertificateVerify here: the faster implementation.
        EcdsaSignatures.install();
        return trust;
    }

    @Bean
    WebServerFactoryCustomizer<TomcatServletWebServerFactory> playgroundTrustManager(
            ClientCertificateTrustManager trust) {
        return factory -> factory.addConnectorCustomizers(connector -> {
            for (SSLHostConfig host : connector.findSslHostConfigs()) {
                host.setTrustManagerClassName(TomcatTrustManager.class.getName());
                host.setCertificateVerification("required");
            }
        });
    }

    private static String stripFilePrefix(String location) {
        return location.startsWith("file:") ? location.substring("file:".length()) : location;
    }
}
