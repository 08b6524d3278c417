package org.sqlflow.playground;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.sqlflow.playground.certs.CertsException;
import org.sqlflow.playground.certs.DevCertificates;

/**
 * Translates the command line into Spring properties. The original server's flags ({@code --port --ca_crt
 * --server_key --server_crt}) keep working, plus {@code --crl} (required standalone) or {@code --no-crl};
 * {@code --local} runs against an embedded Kubernetes API with development certificates made (once) in
 * {@code ./playground-dev-certs}, whose empty CRL it always passes, listening on 127.0.0.1 only unless an
 * address is given.
 */
public record LaunchOptions(Path devCertificates, List<String> springArguments0) {

    public static final String DEV_CERTS_DIR = "playground-dev-certs";
    /** The original server's flags that take a value. */
    private static final Set<String> VALUE_FLAGS =
            Set.of("--port", "--ca_crt", "--server_key", "--server_crt", "--crl");

    public static LaunchOptions parse(String[] args) throws IOException, CertsException {
        return parse(args, Path.of(DEV_CERTS_DIR));
    }

    /** {@link #parse(String[])} with the dev certificates (for {@code --local}) in {@code devCertificatesDir}. */
    static LaunchOptions parse(String[] args, Path devCertificatesDir) throws IOException, CertsException {
        List<String> out = new ArrayList<>();
        boolean local = false;
        boolean tls = false;
        boolean gateway = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            String name = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
            String value = arg.contains("=") ? arg.substring(arg.indexOf('=') + 1) : "";
            if (VALUE_FLAGS.contains(name) && !arg.contains("=")) {
                // "--port 50052" as well as "--port=50052": a flag without its value must not fall back to a default.
                if (i + 1 == args.length || args[i + 1].startsWith("--")) {
                    throw new IllegalArgumentException(name + " needs a value, e.g. " + name + "=VALUE");
                }
                value = args[++i];
            }
            switch (name) {
                case "--local" -> {
                    local = true;
                    out.add("--playground.local.enabled=true");
                }
                case "--port" -> out.add("--server.port=" + value);
                case "--ca_crt" -> {
                    out.add("--server.ssl.trust-certificate=" + value);
                    tls = true;
                }
                case "--server_key" -> out.add("--server.ssl.certificate-private-key=" + value);
                case "--server_crt" -> out.add("--server.ssl.certificate=" + value);
                case "--crl" -> out.add("--playground.tls.crl=" + value);
                case "--no-crl" -> out.add("--playground.tls.no-crl=true");
                default -> {
                    if (arg.replace('_', '-').equalsIgnoreCase("--playground.identity.source=gateway")) {
                        gateway = true;
                    }
                    out.add(arg);
                }
            }
        }
        Path dev = null;
        if (local) {
            // A local run is for one machine: its API and management ports listen on loopback only, unless the
            // command line or the environment names an address (e.g. --server.address=0.0.0.0).
            if (!named(args, "server.address") && System.getenv("SERVER_ADDRESS") == null) {
                out.add("--server.address=127.0.0.1");
            }
            if (!named(args, "management.server.address") && System.getenv("MANAGEMENT_SERVER_ADDRESS") == null) {
                out.add("--management.server.address=127.0.0.1");
            }
        }
        if (local && !tls && !gateway) {
            // The local run speaks mutual TLS from the first request, like production.
            DevCertificates certs = DevCertificates.ensure(devCertificatesDir);
            dev = certs.dir();
            out.add("--server.ssl.trust-certificate=" + certs.caCert());
            out.add("--server.ssl.certificate=" + certs.serverCert());
            out.add("--server.ssl.certificate-private-key=" + certs.serverKey());
            // Always there (DevCertificates writes an empty one), so revoking a dev user takes effect at once.
            out.add("--playground.tls.crl=" + certs.crl());
            tls = true;
        }
        if (tls) {
            out.add("--server.ssl.client-auth=need");
            out.add("--server.ssl.enabled-protocols=TLSv1.3,TLSv1.2");
        }
        return new LaunchOptions(dev, List.copyOf(out));
    }

    /** Whether the command line sets this Spring property ({@code --name=value}). */
    private static boolean named(String[] args, String property) {
        for (String arg : args) {
            if (arg.startsWith("--" + property + "=")) {
                return true;
            }
        }
        return false;
    }

    public String[] springArguments() {
        return springArguments0.toArray(String[]::new);
    }
}
