package org.sqlflow.playground;

import java.util.ArrayList;
import java.util.List;

/**
 * Translates the original server's command line ({@code --port --ca_crt --server_key --server_crt}, plus
 * {@code --crl} and {@code --local}) into Spring properties, so existing start scripts keep working.
 */
public record LaunchOptions(boolean local, List<String> springArguments0) {

    public static LaunchOptions parse(String[] args) {
        List<String> out = new ArrayList<>();
        boolean local = false;
        boolean tls = false;
        for (String arg : args) {
            String name = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
            String value = arg.contains("=") ? arg.substring(arg.indexOf('=') + 1) : "";
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
                default -> out.add(arg);
            }
        }
        if (tls) {
            out.add("--server.ssl.client-auth=need");
            out.add("--server.ssl.enabled-protocols=TLSv1.3,TLSv1.2");
        }
        return new LaunchOptions(local, List.copyOf(out));
    }

    public String[] springArguments() {
        return springArguments0.toArray(String[]::new);
    }
}
