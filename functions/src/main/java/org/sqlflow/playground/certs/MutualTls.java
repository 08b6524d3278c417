package org.sqlflow.playground.certs;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Collections;
import java.util.List;

import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * SSLContexts from the certs tool's PEM files, for the standalone server and for test clients.
 *
 * <p>The server's context trusts only the playground CA and checks the (reloading) CRL through
 * {@link ClientCertificateTrustManager}. The caller still has to require the client certificate (see
 * {@link #serverParameters(SSLContext)}) and should re-check each request's peer chain with
 * {@link ClientCertificateTrustManager#checkStillTrusted}, because a resumed TLS session never reaches the
 * trust manager.
 */
public final class MutualTls {

    /** TLS 1.2 or newer only. */
    public static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

    /** A server's context and the trust manager inside it (for per-request re-checks). */
    public record Server(SSLContext context, ClientCertificateTrustManager trustManager) {
    }

    private MutualTls() {
    }

    /**
     * The standalone server's TLS: its own certificate and key, client certificates checked against
     * {@code caCertificates} and, if {@code crl} is not null, that CRL file, re-read when it changes. On a
     * CRL change the context's cached sessions are invalidated; stateless session tickets cannot be, hence
     * {@link ClientCertificateTrustManager#checkStillTrusted}.
     */
    public static Server server(Path caCertificates, Path serverCertificate, Path serverKey, Path crl)
            throws IOException, GeneralSecurityException {
        SSLContext context = SSLContext.getInstance("TLS");
        SSLSessionContext[] sessions = new SSLSessionContext[1];
        ClientCertificateTrustManager trust = ClientCertificateTrustManager.of(caCertificates, crl,
                () -> invalidateAll(sessions[0]));
        context.init(keyManagers(serverCertificate, serverKey), new TrustManager[] {trust}, null);
        sessions[0] = context.getServerSessionContext();
        return new Server(context, trust);
    }

    /**
     * A client's context (tests, tools): trusts only {@code caCertificates} and always presents the given
     * certificate, like curl does. (The JDK's default key manager silently sends no certificate when the server
     * does not list its issuer, so "a certificate from another CA" would never reach the server's check.)
     * {@code clientCertificate} may be null for a client without certificate.
     */
    public static SSLContext clientContext(Path caCertificates, Path clientCertificate, Path clientKey)
            throws IOException, GeneralSecurityException {
        SSLContext context = SSLContext.getInstance("TLS");
        KeyManager[] keys = clientCertificate == null ? null : new KeyManager[] {new ClientKeyManager(
                Pem.readCertificates(clientCertificate).toArray(X509Certificate[]::new), Pem.readPrivateKey(clientKey))};
        context.init(keys,
                new TrustManager[] {ClientCertificateTrustManager.of(caCertificates, null, null)}, null);
        return context;
    }

    /** Server parameters: client certificate required, TLS 1.2 or newer. */
    public static SSLParameters serverParameters(SSLContext context) {
        SSLParameters parameters = context.getDefaultSSLParameters();
        parameters.setNeedClientAuth(true);
        parameters.setProtocols(PROTOCOLS.toArray(String[]::new));
        return parameters;
    }

    /** The JDK's key managers for a PEM certificate chain file and its private key file (EC or RSA). */
    public static KeyManager[] keyManagers(Path certificateChain, Path privateKey)
            throws IOException, GeneralSecurityException {
        char[] password = new char[0];
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("key", Pem.readPrivateKey(privateKey), password,
                Pem.readCertificates(certificateChain).toArray(X509Certificate[]::new));
        KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        factory.init(store, password);
        return factory.getKeyManagers();
    }

    private static void invalidateAll(SSLSessionContext sessions) {
        if (sessions != null) {
            for (byte[] id : Collections.list(sessions.getIds())) {
                var session = sessions.getSession(id);
                if (session != null) {
                    session.invalidate();
                }
            }
        }
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
