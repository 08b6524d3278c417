package org.sqlflow.playground.certs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The Kubernetes Secret an Istio Gateway names in {@code tls.credentialName} for {@code mode: MUTUAL}: a generic
 * (Opaque) Secret with tls.crt, tls.key, ca.crt and ca.crl (init-ca writes an empty one). The values are the
 * files' exact bytes, base64-encoded, so what the gateway loads is byte for byte what this tool wrote.
 */
public final class GatewaySecret {

    private static final Pattern DNS_SUBDOMAIN =
            Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");

    private GatewaySecret() {}

    /** Secret key to file, in the order written; ca.crl only if the file exists. */
    public static Map<String, Path> files(CertsDirectory dir) {
        Map<String, Path> files = new LinkedHashMap<>();
        files.put("tls.crt", dir.serverCert());
        files.put("tls.key", dir.serverKey());
        files.put("ca.crt", dir.caCert());
        if (Files.exists(dir.crl())) {
            files.put("ca.crl", dir.crl());
        }
        return files;
    }

    public static String render(String name, String namespace, Map<String, Path> files) throws IOException {
        if (name.length() > 253 || !DNS_SUBDOMAIN.matcher(name).matches()) {
            throw new IllegalArgumentException("secret name must be a DNS subdomain (lower case): \"" + name + "\"");
        }
        if (namespace.length() > 63 || !DNS_LABEL.matcher(namespace).matches()) {
            throw new IllegalArgumentException("namespace must be a DNS label (lower case): \"" + namespace + "\"");
        }
        StringBuilder yaml = new StringBuilder()
                .append("# Istio gateway credential (tls.mode: MUTUAL, credentialName: ")
                .append(name)
                .append(").\n")
                .append("# Holds the server's private key: apply it, do not commit it.\n")
                .append("apiVersion: v1\n")
                .append("kind: Secret\n")
                .append("metadata:\n")
                .append("  name: ")
                .append(name)
                .append('\n')
                .append("  namespace: ")
                .append(namespace)
                .append('\n')
                // part-of only: managed-by would make it look like one of the objects our functions own and clean up.
                .append("  labels:\n")
                .append("    app.kubernetes.io/part-of: sqlflow-playground\n")
                .append("type: Opaque\n")
                .append("data:\n");
        for (Map.Entry<String, Path> file : files.entrySet()) {
            yaml.append("  ")
                    .append(file.getKey())
                    .append(": ")
                    .append(Base64.getEncoder().encodeToString(Files.readAllBytes(file.getValue())))
                    .append('\n');
        }
        return yaml.toString();
    }
}
