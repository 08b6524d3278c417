package org.sqlflow.playground.bench;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * The benchmark's one HTTP client: blocking HTTP/1.1 over one socket, kept alive, to 127.0.0.1. Plain enough to
 * stay out of the way of the server on a 2-core machine, and a new connection is a new TCP connection and TLS
 * handshake, nothing pooled behind the caller's back.
 */
final class Connection implements Closeable {

    static final String HOST = "127.0.0.1";
    /** How the SQLFlow magic (tornado) labels its JSON bodies. */
    static final String FORM = "application/x-www-form-urlencoded";

    static final String JSON = "application/json";
    static final String MERGE_PATCH = "application/merge-patch+json";

    /** One answer: the status and the body as text. */
    record Response(int status, String body) {}

    final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final String hostHeader;
    private volatile boolean closed;
    /** Sent with every request: "Authorization: Bearer ..." (the embedded API server), the gateway's headers. */
    private final StringBuilder headers = new StringBuilder();

    private Connection(Socket socket, int port) throws IOException {
        this.socket = socket;
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(60_000);
        this.in = new BufferedInputStream(socket.getInputStream(), 8192);
        this.out = new BufferedOutputStream(socket.getOutputStream(), 4096);
        this.hostHeader = HOST + ":" + port;
    }

    static Connection tls(SSLSocketFactory factory, int port) throws IOException {
        SSLSocket s = (SSLSocket) factory.createSocket();
        try {
            s.connect(new InetSocketAddress(HOST, port), 5000);
            s.startHandshake();
            return new Connection(s, port);
        } catch (IOException e) {
            s.close();
            throw e;
        }
    }

    static Connection plain(int port) throws IOException {
        Socket s = new Socket();
        try {
            s.connect(new InetSocketAddress(HOST, port), 5000);
            return new Connection(s, port);
        } catch (IOException e) {
            s.close();
            throw e;
        }
    }

    Connection bearer(String token) {
        return header("Authorization", "Bearer " + token);
    }

    /** Sends this header with every request from now on. */
    Connection header(String name, String value) {
        headers.append(name).append(": ").append(value).append("\r\n");
        return this;
    }

    /** True once either side ended the connection (the server may, after so many requests on it). */
    boolean closed() {
        return closed;
    }

    Response get(String path) throws IOException {
        return send("GET", path, null, null);
    }

    /** A POST as the SQLFlow magic sends one: JSON labelled as a form. */
    Response post(String path, String json) throws IOException {
        return send("POST", path, json, FORM);
    }

    Response send(String method, String path, String body, String contentType) throws IOException {
        byte[] b = body == null ? null : body.getBytes(StandardCharsets.UTF_8);
        StringBuilder h = new StringBuilder(160)
                .append(method)
                .append(' ')
                .append(path)
                .append(" HTTP/1.1\r\nHost: ")
                .append(hostHeader)
                .append("\r\n");
        h.append(headers);
        if (b != null) {
            h.append("Content-Type: ")
                    .append(contentType)
                    .append("\r\nContent-Length: ")
                    .append(b.length)
                    .append("\r\n");
        }
        h.append("\r\n");
        out.write(h.toString().getBytes(StandardCharsets.ISO_8859_1));
        if (b != null) {
            out.write(b);
        }
        out.flush();
        return read();
    }

    private Response read() throws IOException {
        String status = line();
        if (status == null) {
            throw new IOException("connection closed");
        }
        int code = Integer.parseInt(status.substring(9, 12));
        long length = -1;
        boolean chunked = false;
        boolean close = false;
        String l;
        while ((l = line()) != null && !l.isEmpty()) {
            int colon = l.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String name = l.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = l.substring(colon + 1).trim();
            switch (name) {
                case "content-length" -> length = Long.parseLong(value);
                case "transfer-encoding" ->
                    chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
                case "connection" -> close = value.equalsIgnoreCase("close");
                default -> {
                    // not needed to read the body
                }
            }
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        if (chunked) {
            while (true) {
                String size = line();
                if (size == null) {
                    throw new IOException("connection closed inside a chunked body");
                }
                int n = Integer.parseInt(size.split(";")[0].trim(), 16);
                if (n == 0) {
                    while ((l = line()) != null && !l.isEmpty()) {
                        // trailers: skipped
                    }
                    break;
                }
                body.write(in.readNBytes(n));
                line();
            }
        } else if (length >= 0) {
            body.write(in.readNBytes((int) length));
        } else if (close) {
            body.write(in.readAllBytes());
        }
        if (close) {
            close();
        }
        return new Response(code, body.toString(StandardCharsets.UTF_8));
    }

    private String line() throws IOException {
        StringBuilder sb = new StringBuilder(64);
        int c;
        while ((c = in.read()) != -1) {
            if (c == '\n') {
                int len = sb.length();
                return len > 0 && sb.charAt(len - 1) == '\r' ? sb.substring(0, len - 1) : sb.toString();
            }
            sb.append((char) c);
        }
        return sb.length() == 0 ? null : sb.toString();
    }

    @Override
    public void close() {
        closed = true;
        try {
            socket.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
