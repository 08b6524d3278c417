package org.sqlflow.playground.identity;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import org.sqlflow.playground.certs.ClientCertificateTrustManager;

/**
 * Tomcat builds client-certificate trust managers from a class name (its {@code trustManagerClassName}), with a
 * no-argument constructor. This class is that name: it delegates to the playground's trust manager (the CA,
 * plus a CRL re-read whenever its file changes), installed once at start. One server per JVM.
 */
public final class TomcatTrustManager extends X509ExtendedTrustManager {

    private static volatile ClientCertificateTrustManager installed;

    static void install(ClientCertificateTrustManager trustManager) {
        installed = trustManager;
    }

    private static ClientCertificateTrustManager delegate() {
        ClientCertificateTrustManager d = installed;
        if (d == null) {
            throw new IllegalStateException("the playground's client trust manager was not installed");
        }
        return d;
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        delegate().checkClientTrusted(chain, authType, socket);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        delegate().checkClientTrusted(chain, authType, engine);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        delegate().checkClientTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        throw new CertificateException("the playground server trusts clients only");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        throw new CertificateException("the playground server trusts clients only");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("the playground server trusts clients only");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return delegate().getAcceptedIssuers();
    }
}
