package org.sqlflow.playground.local;

import java.nio.file.Path;
import org.springframework.boot.web.server.context.WebServerInitializedEvent;
import org.springframework.context.ApplicationListener;

/** Prints a ready curl command once the local run listens, so the first request is one paste away. */
public class LocalRunBanner implements ApplicationListener<WebServerInitializedEvent> {

    private final Path certs;

    public LocalRunBanner(Path certs) {
        this.certs = certs;
    }

    @Override
    public void onApplicationEvent(WebServerInitializedEvent event) {
        if (!"server".equals(event.getApplicationContext().getServerNamespace())
                && event.getApplicationContext().getServerNamespace() != null) {
            return; // the management server
        }
        int port = event.getWebServer().getPort();
        String d = certs.toString();
        System.out.printf(
                "%n  sqlflow-playground is running in LOCAL mode on https://localhost:%d (mutual TLS).%n"
                        + "  Try, as alice:%n%n"
                        + "    curl --cacert %2$s/ca.crt --cert %2$s/alice/client.crt --key %2$s/alice/client.key \\%n"
                        + "         -X POST https://localhost:%1$d/api/create_db -d '{\"user_id\": \"alice\"}'%n%n"
                        + "    curl --cacert %2$s/ca.crt --cert %2$s/alice/client.crt --key %2$s/alice/client.key \\%n"
                        + "         'https://localhost:%1$d/api/heart_beat?user_id=alice'%n%n",
                port, d);
    }
}
