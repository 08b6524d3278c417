package org.sqlflow.playground.certs;

import java.security.Provider;
import java.security.Security;
import java.util.List;
import java.util.Map;
import org.bouncycastle.jcajce.provider.asymmetric.ec.SignatureSpi;

/**
 * ECDSA signatures for the JVM's TLS, computed by BouncyCastle (already here for the certs tool) instead of the
 * JDK's SunEC: a provider of only these three Signature services, first in the JVM's list, so that JSSE's {@code
 * Signature.getInstance} finds it. Every other algorithm (AES-GCM with the JDK's intrinsics, key agreement,
 * RSA, SecureRandom) stays the JDK's.
 *
 * <p>Why: with the playground's EC P-256 certificates, TLS 1.3 makes the standalone server sign its
 * CertificateVerify and verify the client's on every handshake, and the SQLFlow client (tornado) makes a full
 * handshake per request. A JFR profile of the server under new-connection load put 35% of its CPU in SunEC's
 * verify and 24% in its sign, in its generic P-256 field arithmetic; BouncyCastle's P-256 code is specialised
 * for the curve (measured on JDK 17 with the image's C1-only flag: verify 0.27 ms against 0.93 ms, sign 0.33 ms
 * against 0.49 ms; bench/README.md has the handshake figures).
 */
public final class EcdsaSignatures extends Provider {

    public static final String NAME = "PlaygroundECDSA";

    private static final String EC_KEYS = "java.security.interfaces.ECPublicKey|java.security.interfaces.ECPrivateKey";

    private EcdsaSignatures() {
        super(NAME, "1.0", "ECDSA signatures by BouncyCastle, for the JDK's TLS");
        signature("SHA256withECDSA", SignatureSpi.ecDSA256.class, "1.2.840.10045.4.3.2");
        signature("SHA384withECDSA", SignatureSpi.ecDSA384.class, "1.2.840.10045.4.3.3");
        signature("SHA512withECDSA", SignatureSpi.ecDSA512.class, "1.2.840.10045.4.3.4");
    }

    private void signature(String algorithm, Class<?> implementation, String oid) {
        putService(new Service(
                this,
                "Signature",
                algorithm,
                implementation.getName(),
                List.of("OID." + oid, oid),
                Map.of("SupportedKeyClasses", EC_KEYS)));
    }

    /** Puts the provider first in the JVM's list, once; later calls change nothing. */
    public static synchronized void install() {
        if (Security.getProvider(NAME) == null) {
            Security.insertProviderAt(new EcdsaSignatures(), 1);
        }
    }
}
