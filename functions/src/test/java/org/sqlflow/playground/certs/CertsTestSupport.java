package org.sqlflow.playground.certs;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.cert.CertPathValidator;
import java.security.cert.CertStore;
import java.security.cert.CertificateFactory;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXParameters;
import java.security.cert.PKIXRevocationChecker;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/** Shared helpers for the certs tests. */
final class CertsTestSupport {

    private CertsTestSupport() {}

    /** The CLI's result. */
    record Result(int exitCode, String out, String err) {}

    static Result cli(Path dir, String... args) {
        List<String> argv = new ArrayList<>(List.of("--dir", dir.toString()));
        argv.addAll(List.of(args));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = CertsCommand.run(
                argv.toArray(String[]::new),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** The CLI, which must succeed; returns stdout. */
    static String ok(Path dir, String... args) {
        Result result = cli(dir, args);
        if (result.exitCode() != 0) {
            throw new AssertionError(
                    "certs " + String.join(" ", args) + " exited " + result.exitCode() + ": " + result.err());
        }
        return result.out();
    }

    static String permissions(Path path) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
    }

    /**
     * Validates leaf -> ca with the JDK's PKIX CertPathValidator; with a CRL, revocation is checked against it
     * alone (no OCSP, no fallback), as the server does.
     */
    static void validate(X509Certificate leaf, X509Certificate ca, X509CRL crl) throws GeneralSecurityException {
        PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(ca, null)));
        if (crl == null) {
            parameters.setRevocationEnabled(false);
        } else {
            PKIXRevocationChecker checker = (PKIXRevocationChecker)
                    CertPathValidator.getInstance("PKIX").getRevocationChecker();
            checker.setOptions(
                    EnumSet.of(PKIXRevocationChecker.Option.PREFER_CRLS, PKIXRevocationChecker.Option.NO_FALLBACK));
            parameters.addCertPathChecker(checker);
            parameters.addCertStore(
                    CertStore.getInstance("Collection", new CollectionCertStoreParameters(List.of(crl))));
        }
        CertPathValidator.getInstance("PKIX")
                .validate(CertificateFactory.getInstance("X.509").generateCertPath(List.of(leaf)), parameters);
    }

    /** Output of a finished process (stdout and stderr merged). */
    record Process(int exitCode, String output) {}

    static Process exec(Path workingDir, List<String> command) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        if (workingDir != null) {
            builder.directory(workingDir.toFile());
        }
        java.lang.Process process = builder.start();
        process.getOutputStream().close();
        byte[] output = process.getInputStream().readAllBytes();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("timed out: " + command);
        }
        return new Process(process.exitValue(), new String(output, StandardCharsets.UTF_8));
    }

    /** True when {@code tool} runs (e.g. openssl, curl, python3). */
    static boolean available(String... versionCommand) {
        try {
            return exec(null, List.of(versionCommand)).exitCode() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
