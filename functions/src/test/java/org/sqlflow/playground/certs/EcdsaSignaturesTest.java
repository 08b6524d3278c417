package org.sqlflow.playground.certs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Security;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import javax.crypto.Cipher;
import org.junit.jupiter.api.Test;

class EcdsaSignaturesTest {

    private static final byte[] MESSAGE = "CertificateVerify transcript".getBytes(StandardCharsets.UTF_8);

    /** A P-256 key as the JDK makes and reads them (the certs tool's keys, Tomcat's PEM reading). */
    private static KeyPair jdkKey() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC", "SunEC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        return generator.generateKeyPair();
    }

    @Test
    void onceInstalledTheJdksEcdsaLookupsGetItAndNothingElseDoes() throws Exception {
        EcdsaSignatures.install();
        EcdsaSignatures.install();
        assertThat(Security.getProviders()[0].getName()).isEqualTo(EcdsaSignatures.NAME);
        assertThat(Arrays.stream(Security.getProviders())
                        .filter(p -> p.getName().equals(EcdsaSignatures.NAME)))
                .hasSize(1);
        KeyPair key = jdkKey();
        for (String algorithm : new String[] {"SHA256withECDSA", "SHA384withECDSA", "SHA512withECDSA"}) {
            // As JSSE asks: by name only, the provider chosen when the key arrives.
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key.getPrivate());
            assertThat(signer.getProvider().getName()).isEqualTo(EcdsaSignatures.NAME);
        }
        Signature byOid = Signature.getInstance("1.2.840.10045.4.3.2");
        byOid.initVerify(key.getPublic());
        assertThat(byOid.getProvider().getName()).as("looked up by its OID").isEqualTo(EcdsaSignatures.NAME);
        assertThat(Cipher.getInstance("AES/GCM/NoPadding").getProvider().getName())
                .isEqualTo("SunJCE");
        Signature rsa = Signature.getInstance("SHA256withRSA");
        KeyPairGenerator rsaKeys = KeyPairGenerator.getInstance("RSA");
        rsaKeys.initialize(2048);
        rsa.initSign(rsaKeys.generateKeyPair().getPrivate());
        assertThat(rsa.getProvider().getName()).isEqualTo("SunRsaSign");
    }

    @Test
    void itsSignaturesAndTheJdksAreInterchangeableAndAForgeryFails() throws Exception {
        EcdsaSignatures.install();
        KeyPair key = jdkKey();

        Signature ours = Signature.getInstance("SHA256withECDSA");
        ours.initSign(key.getPrivate());
        ours.update(MESSAGE);
        byte[] signedByUs = ours.sign();
        assertThat(ours.getProvider().getName()).isEqualTo(EcdsaSignatures.NAME);
        Signature jdk = Signature.getInstance("SHA256withECDSA", "SunEC");
        jdk.initVerify(key.getPublic());
        jdk.update(MESSAGE);
        assertThat(jdk.verify(signedByUs)).isTrue();

        jdk.initSign(key.getPrivate());
        jdk.update(MESSAGE);
        byte[] signedByJdk = jdk.sign();
        Signature verifier = Signature.getInstance("SHA256withECDSA");
        verifier.initVerify(key.getPublic());
        verifier.update(MESSAGE);
        assertThat(verifier.verify(signedByJdk)).isTrue();
        assertThat(verifier.getProvider().getName()).isEqualTo(EcdsaSignatures.NAME);

        verifier.initVerify(key.getPublic());
        verifier.update("another transcript".getBytes(StandardCharsets.UTF_8));
        assertThat(verifier.verify(signedByJdk)).isFalse();
        verifier.initVerify(jdkKey().getPublic());
        verifier.update(MESSAGE);
        assertThat(verifier.verify(signedByJdk)).as("another key's signature").isFalse();
    }
}
