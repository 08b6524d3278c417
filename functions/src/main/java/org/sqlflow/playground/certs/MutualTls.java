package org.sqlflow.playground.certs;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * A client's SSLContext from the certs tool's PEM files, for tests and tools. (The standalone server's TLS is
 * Tomcat's, with {@link ClientCertificateTrustManager} as its trust manager.)
 */
public final class MutualTls {

    private MutualTls() {}

    /**
     * A client's context (tests, tools): trusts only {@code caCertificates} and always presents the given
     * certificate, like curl does. (The JDK's default key manager silently sends no certificate when the server
     * does not list its issuer, so "a certificate from another CA" would never reach the server's check.)
     * {@code clientCertificate} may be null for a client without certificate.
     */
    public static SSLContext clientContext(Path caCertificates, Path clientCertificate, Path clientKey)
            throws IOException, GeneralSecurityException {
        SSLContext context = SSLContext.getInstance("TLS");
        KeyManager[] keys = clientCertificate == null
                ? null
                : new KeyManager[] {
                    new ClientKeyManager(
                            Pem.readCertificates(clientCertificate).toArray(X509Certificate[]::new),
                            Pem.readPrivateKey(clientKey))
                };
        context.init(keys, new TrustManager[] {ClientCertificateTrustManager.of(caCertificates, null)}, null);
        return context;
    }

    /** A client's one key and chain, offered whatever the server asks for; trusting it is the server's call. */
    private static final class ClientKeyManager extends X509ExtendedKeyManager {
        private static final String ALIAS = "client";
        private final X509Certificate[] chain;
        private final PrivateKey key;

        ClientKeyManager(X509Certificate[] chain, PrivateKey key) {
            this.chain = chain;
            this.key = key;
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return new String[] {ALIAS};
        }

        @Override
        public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
            return ALIAS;
        }

        @Override
        public String chooseEngineClientAlias(String[] keyTypes, Principal[] issuers, SSLEngine engine) {
            return ALIAS;
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return null;
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            return null;
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return ALIAS.equals(alias) ? chain.clone() : null;
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return ALIAS.equals(alias) ? key : null;
        }
    }
}
