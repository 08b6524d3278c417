package org.sqlflow.playground.certs;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

/**
 * A minimal mTLS HTTP server on 127.0.0.1 for handshake tests: answers every request with 200 and the client
 * certificate's subject, so a test sees both that the handshake passed and who the server saw. Like the real
 * server should, it re-checks the peer chain per request (a resumed session skips the handshake's check) and
 * answers 403 when that fails.
 */
final class TlsEchoServer implements AutoCloseable {

    private final SSLServerSocket server;
    private final ClientCertificateTrustManager trust;
    private final Thread thread;
    /** What went wrong on the server side, one entry per failed connection. */
    final BlockingQueue<Throwable> failures = new LinkedBlockingQueue<>();

    TlsEchoServer(MutualTls.Server tls) throws IOException {
        SSLContext context = tls.context();
        trust = tls.trustManager();
        server = (SSLServerSocket) context.getServerSocketFactory().createServerSocket(0, 50,
                InetAddress.getLoopbackAddress());
        server.setSSLParameters(MutualTls.serverParameters(context));
        thread = new Thread(this::serve, "tls-echo-server");
        thread.setDaemon(true);
        thread.start();
    }

    int port() {
        return server.getLocalPort();
    }

    private void serve() {
        while (!server.isClosed()) {
            try (SSLSocket socket = (SSLSocket) server.accept()) {
                socket.setSoTimeout(10_000);
                handle(socket);
            } catch (IOException | RuntimeException e) {
                if (!server.isClosed()) {
                    failures.add(e);
                }
            }
        }
    }

    private void handle(SSLSocket socket) throws IOException {
        socket.startHandshake();
        String subject = socket.getSession().getPeerPrincipal().getName();
        String status = "200 OK";
        try {
            trust.checkStillTrusted((X509Certificate[]) socket.getSession().getPeerCertificates());
        } catch (CertificateException e) {
            failures.add(e);
            status = "403 Forbidden";
        }
        InputStream in = socket.getInputStream();
        // Read the request head; the tests send no body.
        int matched = 0;
        byte[] end = "\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        while (matched < end.length) {
            int b = in.read();
            if (b < 0) {
                return;
            }
            matched = b == end[matched] ? matched + 1 : (b == end[0] ? 1 : 0);
        }
        byte[] body = subject.getBytes(StandardCharsets.UTF_8);
        OutputStream out = socket.getOutputStream();
        out.write(("HTTP/1.1 " + status + "\r\nContent-Type: text/plain\r\nContent-Length: " + body.length
                + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
    }

    /** One request over a new connection with {@code client}; returns the body, or throws what failed. */
    static String get(SSLContext client, int port) throws IOException {
        try (Socket plain = new Socket(InetAddress.getLoopbackAddress(), port);
             SSLSocket socket = (SSLSocket) client.getSocketFactory()
                     .createSocket(plain, "localhost", port, true)) {
            socket.setSoTimeout(10_000);
            var parameters = socket.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS"); // the server certificate must name localhost
            socket.setSSLParameters(parameters);
            socket.startHandshake();
            OutputStream out = socket.getOutputStream();
            out.write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!response.startsWith("HTTP/1.1 200 ")) {
                throw new IOException("no 200 response: " + response);
            }
            return response.substring(response.indexOf("\r\n\r\n") + 4);
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
