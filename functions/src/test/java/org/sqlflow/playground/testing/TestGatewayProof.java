package org.sqlflow.playground.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.sqlflow.playground.identity.GatewayProof;

/**
 * A gateway proof for tests that run the application in gateway mode: a random value, written as the mounted
 * Secret would be (a directory with the file {@value GatewayProof#CURRENT}, and {@value GatewayProof#NEXT}
 * during a rotation). Made fresh per JVM; never a value of any installation.
 */
public final class TestGatewayProof {

    /** The proof header's default name (playground.identity.proof-header). */
    public static final String HEADER = "x-playground-gateway-proof";
    /** The value every gateway-mode test context accepts. */
    public static final String VALUE = newValue();

    private static Path shared;

    private TestGatewayProof() {}

    /** A value as the install step makes it: 32 random bytes, base64url without padding (43 characters). */
    public static String newValue() {
        byte[] bytes = new byte[32];
        new SecureRandom().nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /** The directory holding {@link #VALUE} as its current value. */
    public static synchronized Path directory() {
        if (shared == null) {
            shared = newDirectory("playground-gateway-proof", VALUE, null);
        }
        return shared;
    }

    /** A new temporary directory, written as {@link #write} does. */
    public static Path newDirectory(String prefix, String current, String next) {
        try {
            return write(Files.createTempDirectory(prefix), current, next);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes {@code current} and, when not null, {@code next} into {@code dir}; a null next removes the file. */
    public static Path write(Path dir, String current, String next) {
        try {
            Files.writeString(dir.resolve(GatewayProof.CURRENT), current + "\n", StandardCharsets.UTF_8);
            if (next == null) {
                Files.deleteIfExists(dir.resolve(GatewayProof.NEXT));
            } else {
                Files.writeString(dir.resolve(GatewayProof.NEXT), next + "\n", StandardCharsets.UTF_8);
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** For {@code @DynamicPropertySource}: points playground.identity.proof-directory at {@link #directory()}. */
    public static void register(DynamicPropertyRegistry registry) {
        registry.add("playground.identity.proof-directory", () -> directory().toString());
    }
}
