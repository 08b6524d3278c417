package org.sqlflow.playground.certs;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * PEM text for certificates, PKCS#8 private keys and CRLs: the formats that curl, OpenSSL, Python's ssl,
 * Envoy and the JDK all read.
 */
public final class Pem {

    private Pem() {}

    public static String encode(X509Certificate certificate) {
        try {
            return block("CERTIFICATE", certificate.getEncoded());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot encode certificate", e);
        }
    }

    /** PKCS#8, unencrypted ("BEGIN PRIVATE KEY"): the one key format every client we care about loads. */
    public static String encode(PrivateKey key) {
        if (!"PKCS#8".equals(key.getFormat())) {
            throw new IllegalArgumentException("expected a PKCS#8 key, got " + key.getFormat());
        }
        return block("PRIVATE KEY", key.getEncoded());
    }

    public static String encode(X509CRL crl) {
        try {
            return block("X509 CRL", crl.getEncoded());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot encode CRL", e);
        }
    }

    /** Every certificate in the file, in order (a CA file may hold several). */
    public static List<X509Certificate> readCertificates(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            List<X509Certificate> result = new ArrayList<>();
            for (var certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                result.add((X509Certificate) certificate);
            }
            if (result.isEmpty()) {
                throw new IOException(file + " holds no certificate");
            }
            return result;
        } catch (GeneralSecurityException e) {
            throw new IOException(file + " is not a PEM or DER certificate file: " + e.getMessage(), e);
        }
    }

    public static X509Certificate readCertificate(Path file) throws IOException {
        return readCertificates(file).get(0);
    }

    public static X509CRL readCrl(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return (X509CRL) CertificateFactory.getInstance("X.509").generateCRL(in);
        } catch (GeneralSecurityException e) {
            throw new IOException(file + " is not a PEM or DER CRL: " + e.getMessage(), e);
        }
    }

    /**
     * Reads PKCS#8 ("PRIVATE KEY") and the traditional OpenSSL forms ("RSA PRIVATE KEY", "EC PRIVATE KEY"),
     * so keys made by the original playground's gen_cert.sh ({@code openssl genrsa}) keep working as --server_key.
     */
    public static PrivateKey readPrivateKey(Path file) throws IOException {
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
                PEMParser parser = new PEMParser(reader)) {
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            for (Object item = parser.readObject(); item != null; item = parser.readObject()) {
                if (item instanceof PrivateKeyInfo info) {
                    return converter.getPrivateKey(info);
                }
                if (item instanceof PEMKeyPair pair) {
                    return converter.getKeyPair(pair).getPrivate();
                }
            }
        }
        throw new IOException(file + " holds no unencrypted private key");
    }

    private static String block(String type, byte[] der) {
        String body = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der);
        return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
    }
}
