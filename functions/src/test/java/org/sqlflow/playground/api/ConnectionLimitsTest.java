package org.sqlflow.playground.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.core.env.Environment;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.sqlflow.playground.testing.TestCertificates;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The API port's connection limits over real mutual TLS, with the timeouts of application.yaml as shipped
 * (server.tomcat.connection-timeout 10 s): a client that stops sending in the middle of its headers is cut, idle
 * connections that never authenticate cannot keep a legitimate client out, and what Tomcat itself rejects is
 * answered as our JSON. Only the connection limit is made small here, so a handful of sockets reach it.
 *
 * <p>The sockets' read timeout (30 s) only bounds the test; the outcome asserted is what the server did: closed
 * the connection, or answered. With Tomcat's default timeout (60 s) both connection tests fail.
 */
@SpringBootTest(
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {
            "playground.local.enabled=true",
            "playground.local.database-start-delay=0s",
            "playground.reaper.schedule=false",
            "server.ssl.client-auth=need",
            "server.ssl.enabled-protocols=TLSv1.3,TLSv1.2",
            "server.tomcat.max-connections=" + ConnectionLimitsTest.MAX_CONNECTIONS,
            "playground.kubernetes.request-timeout=30s",
            "playground.kubernetes.write-timeout=30s",
            "management.server.port=0"
        })
class ConnectionLimitsTest {

    static final int MAX_CONNECTIONS = 4;
    private static final int BOUND_MILLIS = 30_000;
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final TestCertificates CERTS = new TestCertificates("playground-connections");

    static {
        CERTS.bundle("alice", CERTS.ca().issueUser("alice", Duration.ofDays(1)));
    }

    @DynamicPropertySource
    static void tls(DynamicPropertyRegistry registry) {
        CERTS.register(registry);
    }

    @Autowired
    Environment env;

    private int port() {
        return Integer.parseInt(env.getProperty("local.server.port"));
    }

    private SSLSocket alice() throws IOException {
        SSLSocket socket =
                (SSLSocket) CERTS.clientContext("alice").getSocketFactory().createSocket();
        socket.connect(new InetSocketAddress("127.0.0.1", port()), BOUND_MILLIS);
        socket.setSoTimeout(BOUND_MILLIS);
        socket.startHandshake();
        return socket;
    }

    /** Sends raw bytes as alice and reads until the server closes the connection. */
    private String exchange(String request) throws IOException {
        try (SSLSocket socket = alice()) {
            OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            return readToEnd(socket.getInputStream());
        }
    }

    private static String readToEnd(InputStream in) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        try {
            for (int n; (n = in.read(buf)) >= 0; ) {
                all.write(buf, 0, n);
            }
        } catch (SocketException e) {
            // A reset is a close too.
        }
        return all.toString(StandardCharsets.ISO_8859_1);
    }

    @Test
    void aClientThatStopsInTheMiddleOfItsHeadersIsCut() throws IOException {
        try (SSLSocket socket = alice()) {
            OutputStream out = socket.getOutputStream();
            out.write("GET /api/heart_beat?user_id=alice HTTP/1.1\r\nHost: localhost\r\nX-Slow: "
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            String answer;
            try {
                answer = readToEnd(socket.getInputStream());
            } catch (SocketTimeoutException e) {
                throw new AssertionError("the server kept a connection whose headers stopped arriving", e);
            }
            assertThat(answer)
                    .as("closed without serving the half-sent request")
                    .doesNotContain("200");
        }
    }

    @Test
    void idleConnectionsThatNeverAuthenticateDoNotLockOutAClient() throws IOException {
        List<Socket> idle = new ArrayList<>();
        try {
            // Enough silent connections (no TLS handshake, no byte) to take every connection slot.
            for (int i = 0; i < MAX_CONNECTIONS; i++) {
                Socket s = new Socket();
                s.connect(new InetSocketAddress("127.0.0.1", port()), BOUND_MILLIS);
                idle.add(s);
            }
            String answer;
            try {
                answer = exchange("GET /api/heart_beat?user_id=alice HTTP/1.1\r\nHost: localhost\r\n"
                        + "Connection: close\r\n\r\n");
            } catch (SocketTimeoutException e) {
                throw new AssertionError("idle connections kept the client out", e);
            }
            assertThat(answer).startsWith("HTTP/1.1 200");
        } finally {
            for (Socket s : idle) {
                s.close();
            }
        }
    }

    @Test
    void whatTomcatRejectsItselfIsAnsweredAsJson() throws IOException {
        String spaces = exchange("GET /api/heart beat HTTP/1.1\r\nHost: localhost\r\n\r\n");
        assertJsonError(spaces, 400, "bad_request");

        String garbage = exchange("NOT-HTTP\r\n\r\n");
        assertJsonError(garbage, 400, "bad_request");

        String hugeHeader = exchange("GET /api/heart_beat?user_id=alice HTTP/1.1\r\nHost: localhost\r\nX-Big: "
                + "a".repeat(16 * 1024) + "\r\n\r\n");
        assertJsonError(hugeHeader, 400, "bad_request");

        String encoding =
                exchange("POST /api/create_db HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip\r\n\r\n");
        assertJsonError(encoding, 501, "not_implemented");
    }

    private static void assertJsonError(String response, int status, String code) {
        assertThat(response).as(response).startsWith("HTTP/1.1 " + status);
        int split = response.indexOf("\r\n\r\n");
        String head = response.substring(0, split).toLowerCase(java.util.Locale.ROOT);
        assertThat(head).contains("content-type: application/json").doesNotContain("text/html");
        JsonNode body = JSON.readTree(response.substring(split + 4));
        assertThat(body.get("error").asString()).isEqualTo(code);
        assertThat(body.get("message").asString()).isNotBlank();
    }
}
