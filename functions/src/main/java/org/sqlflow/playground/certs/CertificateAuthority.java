package org.sqlflow.playground.certs;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLNumber;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CRLConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The playground's certificate authority: an EC P-256 key and a self-signed CA certificate, and the profiles
 * it issues (server, user, admin, CRL).
 *
 * <p>EC P-256 with ECDSA-SHA256 because every party in the path accepts it: JSSE, OpenSSL (curl, Python's ssl,
 * tornado) and Envoy's BoringSSL, and cert-manager can issue the same key type. Keys come from the JDK's
 * default providers; BouncyCastle only builds the ASN.1, so nothing here registers a global security provider.
 *
 * <p>The methods taking explicit instants exist for tests that need odd certificates (expired, not yet valid,
 * from another CA, server-only presented by a client).
 */
public final class CertificateAuthority {

    /** Organisational unit of every user certificate. */
    public static final String USERS_OU = "sqlflow-playground-users";
    /** Organisational unit that marks an admin; the CN never does (docs/security.md). */
    public static final String ADMINS_OU = "sqlflow-playground-admins";
    /** Default subject CN of a new CA. */
    public static final String DEFAULT_CA_NAME = "sqlflow-playground CA";
    /** Issued certificates start a little in the past so a client with a slow clock accepts them at once. */
    public static final Duration CLOCK_SKEW = Duration.ofMinutes(5);

    private static final String SIGNATURE_ALGORITHM = "SHA256withECDSA";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final X509Certificate certificate;
    private final PrivateKey privateKey;

    private CertificateAuthority(X509Certificate certificate, PrivateKey privateKey) {
        this.certificate = certificate;
        this.privateKey = privateKey;
    }

    /** A CA whose key is already known, e.g. loaded from ca.crt and ca.key. */
    public static CertificateAuthority of(X509Certificate certificate, PrivateKey privateKey) {
        return new CertificateAuthority(certificate, privateKey);
    }

    public static CertificateAuthority load(Path caCertificate, Path caKey) throws IOException {
        return of(Pem.readCertificate(caCertificate), Pem.readPrivateKey(caKey));
    }

    /** A new CA valid from now (minus {@link #CLOCK_SKEW}) for {@code validity}. */
    public static CertificateAuthority create(String name, Duration validity) {
        Instant now = Instant.now();
        return create(name, now.minus(CLOCK_SKEW), now.plus(validity));
    }

    public static CertificateAuthority create(String name, Instant notBefore, Instant notAfter) {
        KeyPair keys = newKeyPair();
        X500Name subject =
                new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, name).build();
        try {
            JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
                            subject, newSerial(), Date.from(notBefore), Date.from(notAfter), subject, keys.getPublic())
                    // Path length 0: this CA signs leaf certificates only, never another CA.
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(
                            Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(keys.getPublic()));
            return new CertificateAuthority(sign(builder, keys.getPrivate()), keys.getPrivate());
        } catch (GeneralSecurityException | CertIOException e) {
            throw new IllegalStateException("cannot create CA certificate", e);
        }
    }

    public X509Certificate certificate() {
        return certificate;
    }

    public PrivateKey privateKey() {
        return privateKey;
    }

    /** A user certificate: CN = user id, OU = {@link #USERS_OU}, client auth only. */
    public IssuedCertificate issueUser(String userId, Duration validity) {
        Instant now = Instant.now();
        return issueClient(userId, USERS_OU, now.minus(CLOCK_SKEW), now.plus(validity));
    }

    /** An admin certificate: CN = name, OU = {@link #ADMINS_OU}, client auth only. */
    public IssuedCertificate issueAdmin(String name, Duration validity) {
        Instant now = Instant.now();
        return issueClient(name, ADMINS_OU, now.minus(CLOCK_SKEW), now.plus(validity));
    }

    /**
     * A client certificate with subject {@code CN=commonName,OU=organizationalUnit} (RFC 2253 order, as Envoy and
     * the JDK print it) and extended key usage clientAuth only. {@code organizationalUnit} may be null for a
     * certificate with no OU (like those of the original playground's gen_cert.sh).
     */
    public IssuedCertificate issueClient(
            String commonName, String organizationalUnit, Instant notBefore, Instant notAfter) {
        X500NameBuilder subject = new X500NameBuilder(BCStyle.INSTANCE);
        if (organizationalUnit != null) {
            subject.addRDN(BCStyle.OU, organizationalUnit);
        }
        subject.addRDN(BCStyle.CN, commonName);
        return issue(subject.build(), KeyPurposeId.id_kp_clientAuth, null, notBefore, notAfter);
    }

    /** A server certificate for the given SANs ("DNS:name" or "IP:address"); CN = the first SAN's value. */
    public IssuedCertificate issueServer(List<String> subjectAltNames, Duration validity) {
        Instant now = Instant.now();
        return issueServer(subjectAltNames, now.minus(CLOCK_SKEW), now.plus(validity));
    }

    public IssuedCertificate issueServer(List<String> subjectAltNames, Instant notBefore, Instant notAfter) {
        if (subjectAltNames.isEmpty()) {
            throw new IllegalArgumentException("a server certificate needs at least one SAN");
        }
        GeneralName[] names =
                subjectAltNames.stream().map(CertificateAuthority::generalName).toArray(GeneralName[]::new);
        String commonName =
                subjectAltNames.get(0).substring(subjectAltNames.get(0).indexOf(':') + 1);
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE)
                .addRDN(BCStyle.CN, commonName)
                .build();
        return issue(subject, KeyPurposeId.id_kp_serverAuth, new GeneralNames(names), notBefore, notAfter);
    }

    /**
     * The general case: an end-entity certificate with a fresh EC P-256 key, one extended key usage and optional
     * subject alternative names.
     */
    public IssuedCertificate issue(
            X500Name subject,
            KeyPurposeId extendedKeyUsage,
            GeneralNames subjectAltNames,
            Instant notBefore,
            Instant notAfter) {
        KeyPair keys = newKeyPair();
        try {
            JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
                            issuerName(),
                            newSerial(),
                            Date.from(notBefore),
                            Date.from(notAfter),
                            subject,
                            keys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    // ECDSA keys only sign in TLS (ECDHE), so digitalSignature is the only usage they need.
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(extendedKeyUsage))
                    .addExtension(
                            Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(keys.getPublic()))
                    .addExtension(Extension.authorityKeyIdentifier, false, authorityKeyIdentifier());
            if (subjectAltNames != null) {
                builder.addExtension(Extension.subjectAlternativeName, false, subjectAltNames);
            }
            return new IssuedCertificate(sign(builder, privateKey), keys.getPrivate());
        } catch (GeneralSecurityException | CertIOException e) {
            throw new IllegalStateException("cannot issue certificate for " + subject, e);
        }
    }

    /**
     * A v2 CRL signed by this CA listing {@code revoked} (serial to revocation time), with a CRL number (which
     * must grow from one CRL to the next) and an authority key identifier.
     */
    public X509CRL crl(Map<BigInteger, Instant> revoked, Instant thisUpdate, Instant nextUpdate, BigInteger number) {
        try {
            X509v2CRLBuilder builder = new X509v2CRLBuilder(issuerName(), Date.from(thisUpdate))
                    .setNextUpdate(Date.from(nextUpdate))
                    .addExtension(Extension.cRLNumber, false, new CRLNumber(number))
                    .addExtension(Extension.authorityKeyIdentifier, false, authorityKeyIdentifier());
            // No reason code: RFC 5280 says "unspecified" should be expressed by leaving it out.
            revoked.forEach((serial, when) -> builder.addCRLEntry(serial, Date.from(when), (Extensions) null));
            return new JcaX509CRLConverter().getCRL(builder.build(signer(privateKey)));
        } catch (GeneralSecurityException | CertIOException e) {
            throw new IllegalStateException("cannot sign CRL", e);
        }
    }

    /** True when this CA's key signed {@code candidate}. */
    public boolean issued(X509Certificate candidate) {
        if (!candidate.getIssuerX500Principal().equals(certificate.getSubjectX500Principal())) {
            return false;
        }
        try {
            candidate.verify(certificate.getPublicKey());
            return true;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    public PublicKey publicKey() {
        return certificate.getPublicKey();
    }

    /**
     * The key identifier only (no issuer name and serial), taken from the CA's own subject key identifier: it
     * keeps matching if the CA certificate is ever re-issued for the same key.
     */
    private AuthorityKeyIdentifier authorityKeyIdentifier() throws GeneralSecurityException {
        byte[] ski = certificate.getExtensionValue(Extension.subjectKeyIdentifier.getId());
        try {
            if (ski != null) {
                return new AuthorityKeyIdentifier(
                        SubjectKeyIdentifier.getInstance(JcaX509ExtensionUtils.parseExtensionValue(ski))
                                .getKeyIdentifier());
            }
        } catch (IOException e) {
            throw new GeneralSecurityException("unreadable subject key identifier in the CA certificate", e);
        }
        return new JcaX509ExtensionUtils().createAuthorityKeyIdentifier(certificate.getPublicKey());
    }

    private X500Name issuerName() {
        return X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded());
    }

    /** "DNS:host" or "IP:literal"; IP literals are parsed by BouncyCastle, so nothing is ever looked up. */
    static GeneralName generalName(String san) {
        int colon = san.indexOf(':');
        String type = colon < 0 ? "" : san.substring(0, colon);
        String value = colon < 0 ? "" : san.substring(colon + 1);
        if (value.isEmpty()) {
            throw new IllegalArgumentException("SAN must look like DNS:name or IP:address, got \"" + san + "\"");
        }
        switch (type.toUpperCase(Locale.ROOT)) {
            case "DNS":
                if (!value.matches(
                        "(\\*\\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*")) {
                    throw new IllegalArgumentException("not a DNS name: \"" + value + "\"");
                }
                return new GeneralName(GeneralName.dNSName, value);
            case "IP":
                try {
                    return new GeneralName(GeneralName.iPAddress, value);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("not an IP address: \"" + value + "\"", e);
                }
            default:
                throw new IllegalArgumentException("SAN must start with DNS: or IP:, got \"" + san + "\"");
        }
    }

    private static KeyPair newKeyPair() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("EC P-256 is not available in this JDK", e);
        }
    }

    /** 128 random bits, positive and non-zero: unique without a counter, within RFC 5280's 20 octets. */
    private static BigInteger newSerial() {
        BigInteger serial;
        do {
            serial = new BigInteger(128, RANDOM);
        } while (serial.signum() == 0);
        return serial;
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey key)
            throws GeneralSecurityException {
        X509CertificateHolder holder = builder.build(signer(key));
        return new JcaX509CertificateConverter().getCertificate(holder);
    }

    private static ContentSigner signer(PrivateKey key) throws GeneralSecurityException {
        try {
            return new JcaContentSignerBuilder(SIGNATURE_ALGORITHM).build(key);
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException("cannot sign with " + SIGNATURE_ALGORITHM, e);
        }
    }
}
