package org.sqlflow.playground.certs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.interfaces.ECPublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * certs/cert-manager/ makes the same kind of certificates as the certs tool: same key type, same subject
 * layout, client-only users, server-only gateway, one issuer chain in one namespace.
 */
class CertsCertManagerManifestTest {

    private static final Path MANIFESTS = Path.of("..", "certs", "cert-manager");

    @Test
    void caChainIsSelfSignedBootstrapThenCaCertificateThenCaIssuer() throws Exception {
        List<Map<String, Object>> docs = load("ca-issuer.yaml");
        assertThat(docs).extracting(d -> d.get("kind")).containsExactly("Issuer", "Certificate", "Issuer");
        Map<String, Object> bootstrap = docs.get(0);
        Map<String, Object> ca = docs.get(1);
        Map<String, Object> caIssuer = docs.get(2);
        assertThat(map(bootstrap, "spec")).containsKey("selfSigned");
        assertThat(map(ca, "spec"))
                .containsEntry("isCA", true)
                .containsEntry("secretName", map(map(caIssuer, "spec"), "ca").get("secretName"));
        assertThat(map(map(ca, "spec"), "issuerRef"))
                .containsEntry("name", name(bootstrap))
                .containsEntry("kind", "Issuer");
        assertThat(list(map(ca, "spec"), "usages")).containsExactlyInAnyOrder("cert sign", "crl sign");
        assertKeyMatchesTheCertsTool(map(ca, "spec"));
    }

    @Test
    void userCertificateIsClientOnlyWithTheUserIdAsCnAndTheUsersOu() throws Exception {
        Map<String, Object> spec = map(single("user-certificate.yaml"), "spec");
        assertThat(spec).containsEntry("commonName", "alice");
        assertThat(list(map(spec, "subject"), "organizationalUnits")).containsExactly(CertificateAuthority.USERS_OU);
        assertThat(list(spec, "usages"))
                .contains("client auth", "digital signature")
                .doesNotContain("server auth");
        assertThat(spec).doesNotContainKeys("dnsNames", "ipAddresses", "isCA");
        assertKeyMatchesTheCertsTool(spec);
        assertIssuedByTheCaIssuer(single("user-certificate.yaml"));
    }

    @Test
    void gatewayCertificateIsServerOnlyAndItsSecretIsTheGatewayCredential() throws Exception {
        Map<String, Object> certificate = single("gateway-certificate.yaml");
        Map<String, Object> spec = map(certificate, "spec");
        assertThat(list(spec, "usages")).contains("server auth").doesNotContain("client auth");
        assertThat(list(spec, "dnsNames")).isNotEmpty();
        assertKeyMatchesTheCertsTool(spec);
        assertIssuedByTheCaIssuer(certificate);
    }

    @Test
    void everythingLivesInOneNamespace() throws Exception {
        List<Object> namespaces = new ArrayList<>();
        for (String file : List.of("ca-issuer.yaml", "gateway-certificate.yaml", "user-certificate.yaml")) {
            for (Map<String, Object> doc : load(file)) {
                assertThat(doc).containsEntry("apiVersion", "cert-manager.io/v1");
                namespaces.add(map(doc, "metadata").get("namespace"));
            }
        }
        assertThat(namespaces).hasSize(5).containsOnly("istio-system");
    }

    private void assertIssuedByTheCaIssuer(Map<String, Object> certificate) throws IOException {
        Map<String, Object> caIssuer = load("ca-issuer.yaml").get(2);
        assertThat(map(map(certificate, "spec"), "issuerRef"))
                .containsEntry("name", name(caIssuer))
                .containsEntry("kind", "Issuer");
    }

    /** ECDSA P-256 in PKCS#8, as CertificateAuthority issues (checked against a real issued key). */
    private static void assertKeyMatchesTheCertsTool(Map<String, Object> spec) {
        ECPublicKey ours = (ECPublicKey) CertificateAuthority.create("probe", Duration.ofDays(1))
                .issueUser("probe", Duration.ofDays(1))
                .certificate()
                .getPublicKey();
        assertThat(map(spec, "privateKey"))
                .containsEntry("algorithm", "ECDSA")
                .containsEntry("size", ours.getParams().getCurve().getField().getFieldSize())
                .containsEntry("encoding", "PKCS8");
    }

    private static String name(Map<String, Object> doc) {
        return (String) map(doc, "metadata").get("name");
    }

    private static Map<String, Object> single(String file) throws IOException {
        List<Map<String, Object>> docs = load(file);
        assertThat(docs).hasSize(1);
        return docs.get(0);
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> load(String file) throws IOException {
        List<Map<String, Object>> docs = new ArrayList<>();
        try (Reader reader = Files.newBufferedReader(MANIFESTS.resolve(file))) {
            for (Object doc : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(reader)) {
                docs.add((Map<String, Object>) doc);
            }
        }
        return docs;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Map<String, Object> parent, String key) {
        assertThat(parent).containsKey(key);
        return (Map<String, Object>) parent.get(key);
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Map<String, Object> parent, String key) {
        assertThat(parent).containsKey(key);
        return (List<Object>) parent.get(key);
    }
}
