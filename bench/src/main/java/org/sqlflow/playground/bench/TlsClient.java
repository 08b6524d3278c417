package org.sqlflow.playground.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import org.sqlflow.playground.certs.CertsDirectory;
import org.sqlflow.playground.certs.ClientCertificateTrustManager;
import org.sqlflow.playground.certs.Pem;

/**
 * One identity (a client certificate) against one port, with the playground's own PEM reading and trust check.
 * {@link #open()} may resume a cached TLS session; {@link #openFresh()} makes a full handshake, like a client that
 * keeps no sessions (tornado).
 */
final class TlsClient {

    final int port;
    /** The server this client measures (its CPU time goes into the figures), or null for an API server. */
    final MeasuredProcess server;

    private final KeyManager[] keys;
    private final TrustManager[] trust;
    private final SSLSocketFactory shared;

    private TlsClient(KeyManager[] keys, TrustManager[] trust, int port, MeasuredProcess server)
            throws GeneralSecurityException {
        this.keys = keys;
        this.trust = trust;
        this.port = port;
        this.server = server;
        this.shared = context().getSocketFactory();
    }

    static TlsClient of(Path caCertificates, Path clientCertificate, Path clientKey, int port, MeasuredProcess server)
            throws IOException, GeneralSecurityException {
        return new TlsClient(
                keyManagers(clientCertificate, clientKey),
                new TrustManager[] {ClientCertificateTrustManager.of(caCertificates, null)},
                port,
                server);
    }

    /** The client's key and chain; the server trusts their issuer, so the JDK's key manager presents them. */
    private static KeyManager[] keyManagers(Path certificateChain, Path privateKey)
            throws IOException, GeneralSecurityException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        char[] none = new char[0];
        store.setKeyEntry(
                "client",
                Pem.readPrivateKey(privateKey),
                none,
                Pem.readCertificates(certificateChain).toArray(X509Certificate[]::new));
        KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        factory.init(store, none);
        return factory.getKeyManagers();
    }

    /** A certs bundle directory as the certs tool writes one: ca.crt, client.crt, client.key. */
    static TlsClient bundle(Path bundle, int port, MeasuredProcess server)
            throws IOException, GeneralSecurityException {
        return of(
                bundle.resolve(CertsDirectory.CA_CERT),
                bundle.resolve(CertsDirectory.CLIENT_CERT),
                bundle.resolve(CertsDirectory.CLIENT_KEY),
                port,
                server);
    }

    /** A context of its own, with an empty session cache; the key and trust managers are shared. */
    private SSLContext context() throws GeneralSecurityException {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keys, trust, null);
        return context;
    }

    Connection open() throws IOException {
        return Connection.tls(shared, port);
    }

    Connection openFresh() throws IOException {
        try {
            return Connection.tls(context().getSocketFactory(), port);
        } catch (GeneralSecurityException e) {
            throw new IOException(e);
        }
    }
}
