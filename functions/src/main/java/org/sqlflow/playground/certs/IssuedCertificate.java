package org.sqlflow.playground.certs;

import java.math.BigInteger;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;

/** A certificate and the private key that goes with it. */
public record IssuedCertificate(X509Certificate certificate, PrivateKey privateKey) {

    public BigInteger serial() {
        return certificate.getSerialNumber();
    }

    public String certificatePem() {
        return Pem.encode(certificate);
    }

    public String privateKeyPem() {
        return Pem.encode(privateKey);
    }
}
