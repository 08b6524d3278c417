package org.sqlflow.playground.identity;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proof that a request came through the playground's public gateway (or, on the reaper's instance, from
 * the reaper's CronJob): a per-installation random value that the gateway adds to every routed request and
 * that no client, pod or other hop knows. Without it the identity header means nothing, because any pod of
 * the cluster can reach the functions through knative-local-gateway or the activator and write that header.
 *
 * <p>The value comes from a directory mounted from a Kubernetes Secret: the file {@value #CURRENT}, and during
 * a rotation also {@value #NEXT}; either is accepted. The files are re-read every {@code refresh} (by the
 * injected clock), so a rotation reaches a running pod without a restart: the kubelet replaces a mounted
 * Secret's files atomically (a symlink swap) after the Secret changes. A re-read that fails keeps the values
 * read before and logs that it failed, never the value.
 *
 * <p>Comparison is {@link MessageDigest#isEqual}, whose time does not depend on where two equal-length values
 * first differ, against every accepted value (no early exit).
 */
public final class GatewayProof {

    public static final String CURRENT = "current";
    public static final String NEXT = "next";
    /** What the committed VirtualService and the installation's examples hold instead of a value. */
    public static final String PLACEHOLDER = "REPLACED-AT-INSTALL-BY-istio-gateway-proof";
    /** A value shorter than this cannot be the 256-bit random value the install step makes. */
    public static final int MIN_LENGTH = 32;

    private static final Logger log = LoggerFactory.getLogger(GatewayProof.class);

    private final Path directory;
    private final Duration refresh;
    private final Clock clock;
    private volatile Loaded loaded;

    private record Loaded(List<byte[]> accepted, Instant readAt) {}

    private GatewayProof(Path directory, Duration refresh, Clock clock, Loaded first) {
        this.directory = directory;
        this.refresh = refresh;
        this.clock = clock;
        this.loaded = first;
    }

    /**
     * Reads the proof for the first time; a missing directory, a missing or unusable {@value #CURRENT}, or the
     * placeholder refuses the start, naming the property and never the value.
     */
    public static GatewayProof load(Path directory, Duration refresh, Clock clock) {
        if (directory == null) {
            throw new IllegalStateException("Refusing to start in gateway mode without the gateway's proof: set "
                    + "playground.identity.proof-directory to the directory where the proof Secret is mounted "
                    + "(docs/deploy.md, \"The gateway's proof of identity\").");
        }
        try {
            return new GatewayProof(directory, refresh, clock, read(directory, clock));
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalStateException(
                    "Refusing to start: playground.identity.proof-directory " + directory + ": " + e.getMessage(), e);
        }
    }

    /** Whether {@code presented} (the request's proof header, null if absent) is one of the accepted values. */
    public boolean accepts(String presented) {
        if (presented == null || presented.isEmpty()) {
            return false;
        }
        byte[] given = presented.getBytes(StandardCharsets.UTF_8);
        boolean match = false;
        for (byte[] value : current().accepted()) {
            match |= MessageDigest.isEqual(given, value);
        }
        return match;
    }

    /** How many values are accepted right now: 1, or 2 during a rotation. */
    public int acceptedCount() {
        return current().accepted().size();
    }

    private Loaded current() {
        Loaded now = loaded;
        Instant instant = clock.instant();
        if (instant.isBefore(now.readAt().plus(refresh))) {
            return now;
        }
        synchronized (this) {
            now = loaded;
            if (instant.isBefore(now.readAt().plus(refresh))) {
                return now;
            }
            try {
                loaded = read(directory, clock);
            } catch (IOException | IllegalArgumentException e) {
                // Keep answering with what was read before; try again after the next interval.
                log.warn(
                        "could not re-read the gateway proof in {} ({}); keeping the values read before",
                        directory,
                        e.getMessage());
                loaded = new Loaded(now.accepted(), instant);
            }
            return loaded;
        }
    }

    private static Loaded read(Path directory, Clock clock) throws IOException {
        List<byte[]> accepted = new ArrayList<>(2);
        accepted.add(value(directory.resolve(CURRENT), true));
        byte[] next = value(directory.resolve(NEXT), false);
        if (next != null) {
            accepted.add(next);
        }
        return new Loaded(List.copyOf(accepted), clock.instant());
    }

    private static byte[] value(Path file, boolean required) throws IOException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8).strip();
        } catch (NoSuchFileException e) {
            if (required) {
                throw new IllegalArgumentException("the file " + file.getFileName() + " is missing");
            }
            return null;
        }
        if (!required && text.isEmpty()) {
            return null;
        }
        if (text.contains(PLACEHOLDER)) {
            throw new IllegalArgumentException(
                    "the file " + file.getFileName() + " holds the placeholder, not a value; run the install step");
        }
        if (text.length() < MIN_LENGTH) {
            throw new IllegalArgumentException("the file " + file.getFileName() + " holds fewer than " + MIN_LENGTH
                    + " characters; make the value with the install step");
        }
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
