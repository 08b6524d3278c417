package org.sqlflow.playground.certs;

import java.io.IOException;
import java.io.PrintStream;
import java.math.BigInteger;
import java.nio.file.Path;
import java.security.cert.X509CRL;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The maintainer's certs tool: {@code java -jar sqlflow-playground.jar certs [--dir DIR] COMMAND ...}, one
 * command per step. Each command says what it wrote and who should get which file.
 *
 * <p>Exit codes: 0 done, 1 refused or failed (nothing half-written), 2 wrong usage.
 */
public final class CertsCommand {

    public static final String DEFAULT_DIR = "playground-certs";
    /** The standalone server's default address (the original playground server's port), used without --server. */
    public static final String DEFAULT_PLAYGROUND_URL = "https://localhost:50052";
    /** The SQLFlow server's default gRPC address, used when --sqlflow-server is not given. */
    public static final String DEFAULT_SQLFLOW_SERVER = "localhost:50051";

    static final String USAGE = """
            usage: playground-certs [--dir DIR] COMMAND [OPTIONS]
                   (the same as: java -jar sqlflow-playground.jar certs [--dir DIR] COMMAND [OPTIONS])

            Works on DIR (default ./playground-certs, created 0700). Never overwrites a file unless the
            command takes --force and you give it. Private keys are written owner-only (0600).

              init-ca [--name NAME] [--days N]
                  Create the CA: ca.crt and ca.key (EC P-256), and an empty signed ca.crl (valid 365 days).
                  Default 3650 days. No --force: a new CA voids every certificate issued so far.
              server --san DNS:HOST|IP:ADDR [--san ...] [--days N] [--force]
                  Issue server.crt and server.key (server auth only). CN = the first SAN. Default 365 days.
              user ID [--server URL] [--sqlflow-server HOST:PORT] [--days N] [--force]
                  Issue the bundle users/ID/: ca.crt, client.crt (CN=ID, client auth only), client.key and
                  .sqlflow_playground.env. --server is the playground URL (default https://localhost:50052),
                  --sqlflow-server the SQLFlow gRPC server (default localhost:50051). Default 365 days.
                  ID: 1 to 63 characters of A-Z a-z 0-9 . _ -, not starting with sqlflow-playground- (the
                  original server's certificates CN=sqlflow-playground-NAME act for NAME).
              admin NAME [same options as user]
                  Like user, into admins/NAME/, marked admin by OU=sqlflow-playground-admins.
              revoke ID|PATH|serial:HEX [--crl-days N]
                  Revoke every certificate in the index that acts for the user ID, whatever its kind (or the
                  certificate file PATH: write ./x.crt for a file here, or one serial) and rewrite ca.crl.
                  Default CRL validity 365 days.
              crl [--crl-days N]
                  Re-sign ca.crl from the index with a new nextUpdate. Run it before the old one's nextUpdate:
                  an outdated CRL makes the server and the gateway reject every client.
              gateway-secret --name NAME [--namespace NS] [--out FILE] [--force]
                  Print the Kubernetes Secret for the Istio gateway (tls.crt, tls.key, ca.crt, ca.crl if any)
                  or write it to FILE (0600). Default namespace istio-system.
              list
                  Show every certificate issued (from index.tsv).
              databases NAME|PATH [--server URL] [--page-size N]
                  With the admin bundle admins/NAME/ (or the bundle folder PATH, e.g. ./playground-dev-certs/admin),
                  print the playground's databases as a table (GET
                  /api/databases, every page; N entries per request, 1 to 500, default 500). --server as for user.
            """;

    private static final Map<String, Set<String>> OPTIONS = Map.of(
            "init-ca", Set.of("--name", "--days"),
            "server", Set.of("--san", "--days", "--force"),
            "user", Set.of("--server", "--sqlflow-server", "--days", "--force"),
            "admin", Set.of("--server", "--sqlflow-server", "--days", "--force"),
            "revoke", Set.of("--crl-days"),
            "crl", Set.of("--crl-days"),
            "gateway-secret", Set.of("--name", "--namespace", "--out", "--force"),
            "list", Set.of(),
            "databases", Set.of("--server", "--page-size"));
    private static final Set<String> FLAGS = Set.of("--force", "--help");
    private static final DateTimeFormatter DATE = DateTimeFormatter.ISO_LOCAL_DATE.withZone(ZoneOffset.UTC);

    private final PrintStream out;
    private final PrintStream err;

    private CertsCommand(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    /** Runs one command; {@code args} start after "certs". Returns the exit code. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        Args parsed;
        try {
            parsed = Args.parse(args);
        } catch (IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            err.print(USAGE);
            return 2;
        }
        if ("help".equals(parsed.command) || "-h".equals(parsed.command) || parsed.flags.contains("--help")) {
            out.print(USAGE);
            return 0;
        }
        if (parsed.command == null) {
            err.println("error: no command given");
            err.print(USAGE);
            return 2;
        }
        try {
            parsed.check();
            return new CertsCommand(out, err).dispatch(parsed);
        } catch (UsageException e) {
            err.println("error: " + e.getMessage());
            err.println("run with --help for usage");
            return 2;
        } catch (CertsException e) {
            err.println("error: " + e.getMessage());
            return 1;
        } catch (IOException e) {
            err.println("error: " + e);
            return 1;
        }
    }

    private int dispatch(Args args) throws IOException, CertsException, UsageException {
        CertsDirectory dir = new CertsDirectory(Path.of(args.single("--dir", DEFAULT_DIR)));
        // Args.check() admitted only the commands of OPTIONS, each of which has its case here.
        switch (args.command) {
            case "init-ca" -> initCa(dir, args);
            case "server" -> server(dir, args);
            case "user" -> bundle(dir, args, CertIndex.Kind.USER);
            case "admin" -> bundle(dir, args, CertIndex.Kind.ADMIN);
            case "revoke" -> revoke(dir, args);
            case "crl" -> crl(dir, args);
            case "gateway-secret" -> gatewaySecret(dir, args);
            case "list" -> list(dir, args);
            case "databases" -> databases(dir, args);
        }
        return 0;
    }

    private void initCa(CertsDirectory dir, Args args) throws IOException, CertsException, UsageException {
        args.positionals(0);
        CertificateAuthority ca = dir.initCa(
                args.single("--name", CertificateAuthority.DEFAULT_CA_NAME),
                args.days("--days", CertsDirectory.DEFAULT_CA_VALIDITY));
        out.println(
                "Created the CA \"" + ca.certificate().getSubjectX500Principal().getName() + "\", valid until "
                        + DATE.format(ca.certificate().getNotAfter().toInstant()) + ":");
        out.println("  " + dir.caCert() + "  public: it goes into every bundle and the gateway secret");
        out.println("  " + dir.caKey() + "  keep it here, private and backed up; never send it to anyone:"
                + " whoever holds it can issue any identity, admins included");
        out.println("  " + dir.crl() + "  the (empty) revocation list: the standalone server needs it (--crl),"
                + " the gateway secret carries it");
        out.println("Next: " + self(dir) + " server --san DNS:your.host");
    }

    private void server(CertsDirectory dir, Args args) throws IOException, CertsException, UsageException {
        args.positionals(0);
        List<String> sans = args.all("--san");
        if (sans.isEmpty()) {
            throw new UsageException("server needs at least one --san DNS:host or --san IP:address");
        }
        CertsDirectory.Server server = dir.issueServer(
                sans, args.days("--days", CertsDirectory.DEFAULT_LEAF_VALIDITY), args.flags.contains("--force"));
        out.println("Issued the server certificate " + describe(server.issued()) + " for " + String.join(", ", sans));
        capped(server.cappedToCa());
        out.println("  " + dir.serverCert() + " and " + dir.serverKey() + " (owner-only)");
        out.println("Standalone: start the jar with --ca_crt=" + dir.caCert() + " --server_crt=" + dir.serverCert()
                + " --server_key=" + dir.serverKey() + " --crl=" + dir.crl() + " (if this CA predates " + dir.crl()
                + ", write it with " + self(dir) + " crl).");
        out.println(
                "Gateway: " + self(dir) + " gateway-secret --name NAME --namespace istio-system | kubectl apply -f -");
        out.println("The server key stays on the server or in that Secret; do not send it to users.");
    }

    private void bundle(CertsDirectory dir, Args args, CertIndex.Kind kind)
            throws IOException, CertsException, UsageException {
        String id = args.positionals(1).get(0);
        String url = args.single("--server", null);
        String sqlflow = args.single("--sqlflow-server", null);
        CertsDirectory.EnvSettings env = new CertsDirectory.EnvSettings(
                url == null ? DEFAULT_PLAYGROUND_URL : url,
                sqlflow == null ? DEFAULT_SQLFLOW_SERVER : sqlflow,
                EnvFile.DEFAULT_BUNDLE_LOCATION);
        Path target = kind == CertIndex.Kind.ADMIN ? dir.adminBundle(id) : dir.userBundle(id);
        CertsDirectory.Bundle bundle = dir.issueBundle(
                kind,
                id,
                target,
                args.days("--days", CertsDirectory.DEFAULT_LEAF_VALIDITY),
                env,
                args.flags.contains("--force"));
        out.println("Issued " + (kind == CertIndex.Kind.ADMIN ? "an ADMIN" : "a user") + " certificate "
                + describe(bundle.issued()) + ", subject "
                + bundle.issued().certificate().getSubjectX500Principal().getName());
        capped(bundle.cappedToCa());
        if (url == null) {
            out.println("Note: the env file names the playground as " + DEFAULT_PLAYGROUND_URL
                    + " (no --server given); re-issue with --force --server URL if that is wrong.");
        }
        if (sqlflow == null) {
            out.println("Note: the env file names the SQLFlow server as " + DEFAULT_SQLFLOW_SERVER
                    + " (no --sqlflow-server given).");
        }
        out.println("Send the folder " + target + "/ (ca.crt, client.crt, client.key, " + EnvFile.FILE_NAME + ") to "
                + id + " over a private channel: whoever holds client.key is " + id + " to the playground.");
        out.println(id + " puts it at ~/.sqlflow_playground/ (the env file's paths point there), then runs:");
        out.println("  export SQLFLOW_JUPYTER_ENV_PATH=\"$HOME/.sqlflow_playground/" + EnvFile.FILE_NAME + "\"");
        out.println("Keep " + dir.caKey() + " here; never send it.");
    }

    private void revoke(CertsDirectory dir, Args args) throws IOException, CertsException, UsageException {
        String target = args.positionals(1).get(0);
        List<CertIndex.Entry> revoked =
                dir.revoke(target, args.days("--crl-days", CertsDirectory.DEFAULT_CRL_VALIDITY));
        for (CertIndex.Entry entry : revoked) {
            out.println("Revoked " + entry.kind().label() + " certificate serial "
                    + entry.serial().toString(16) + " (" + entry.subject() + ") at " + entry.revokedAt());
        }
        crlWritten(dir, Pem.readCrl(dir.crl()));
    }

    private void crl(CertsDirectory dir, Args args) throws IOException, CertsException, UsageException {
        args.positionals(0);
        crlWritten(dir, dir.refreshCrl(args.days("--crl-days", CertsDirectory.DEFAULT_CRL_VALIDITY)));
    }

    private void crlWritten(CertsDirectory dir, X509CRL crl) {
        int count = crl.getRevokedCertificates() == null
                ? 0
                : crl.getRevokedCertificates().size();
        out.println("Wrote " + dir.crl() + ": " + count + " revoked, next update "
                + DATE.format(crl.getNextUpdate().toInstant()) + ". Run `crl` again before then: an outdated CRL"
                + " makes the server and the gateway reject every client.");
        out.println("Deploy it: standalone, the server re-reads its CRL file when it changes (copy it there if it"
                + " lives elsewhere); gateway, " + self(dir)
                + " gateway-secret --name NAME --namespace istio-system | kubectl apply -f -");
    }

    private void gatewaySecret(CertsDirectory dir, Args args) throws IOException, CertsException, UsageException {
        args.positionals(0);
        String name = args.single("--name", null);
        if (name == null) {
            throw new UsageException("gateway-secret needs --name (the Gateway's tls.credentialName)");
        }
        String namespace = args.single("--namespace", "istio-system");
        for (Path required : List.of(dir.caCert(), dir.serverCert(), dir.serverKey())) {
            if (!java.nio.file.Files.exists(required)) {
                throw new CertsException(required + " is missing: run init-ca and server first");
            }
        }
        Map<String, Path> files = GatewaySecret.files(dir);
        String yaml;
        try {
            yaml = GatewaySecret.render(name, namespace, files);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        String file = args.single("--out", null);
        // The YAML may go to stdout, so everything meant for the maintainer goes to stderr here.
        if (file == null) {
            out.print(yaml);
        } else {
            try {
                SecureFiles.write(Path.of(file), yaml, SecureFiles.OWNER_ONLY, args.flags.contains("--force"));
            } catch (java.nio.file.FileAlreadyExistsException e) {
                throw new CertsException("refusing to overwrite " + file + ": use --force to replace it", e);
            }
            err.println("Wrote " + file + " (owner-only).");
        }
        err.println("Secret " + namespace + "/" + name + " with " + String.join(", ", files.keySet())
                + ". It holds the server key: kubectl apply it, do not commit it. The Gateway uses tls.mode MUTUAL"
                + " and credentialName " + name + ", in the ingress gateway's namespace.");
    }

    private void list(CertsDirectory dir, Args args) throws IOException, UsageException {
        args.positionals(0);
        out.println("serial\tkind\tnot_after\trevoked_at\tsubject");
        for (CertIndex.Entry e : CertIndex.read(dir.index()).entries()) {
            out.println(e.serial().toString(16) + "\t" + e.kind().label() + "\t" + e.notAfter() + "\t"
                    + (e.revoked() ? e.revokedAt() : "-") + "\t" + e.subject());
        }
    }

    private void databases(CertsDirectory dir, Args args) throws IOException, CertsException, UsageException {
        String name = args.positionals(1).get(0);
        Path bundle = name.contains("/") ? Path.of(name) : dir.adminBundle(name);
        String size = args.single("--page-size", "500");
        if (!size.matches("[1-9][0-9]{0,2}") || Integer.parseInt(size) > 500) {
            throw new UsageException("--page-size takes 1 to 500, got " + size);
        }
        out.print(DatabasesTable.render(
                DatabasesTable.fetch(args.single("--server", DEFAULT_PLAYGROUND_URL), bundle, Integer.parseInt(size))));
    }

    private void capped(boolean capped) {
        if (capped) {
            out.println("Note: the expiry was cut to the CA's own expiry.");
        }
    }

    private static String describe(IssuedCertificate issued) {
        BigInteger serial = issued.serial();
        Instant notAfter = issued.certificate().getNotAfter().toInstant();
        return "(serial " + serial.toString(16) + ", expires " + DATE.format(notAfter) + ")";
    }

    private static String self(CertsDirectory dir) {
        String root = dir.root().toString();
        return "playground-certs" + (DEFAULT_DIR.equals(root) ? "" : " --dir " + root);
    }

    /** Wrong usage (exit code 2), as opposed to a refusal (exit code 1). */
    private static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    /** The command line: one command, its positionals, "--opt value" / "--opt=value" options and flags. */
    private static final class Args {
        String command;
        final List<String> positionals = new ArrayList<>();
        final Map<String, List<String>> options = new HashMap<>();
        final Set<String> flags = new java.util.HashSet<>();

        static Args parse(String[] argv) {
            Args args = new Args();
            for (int i = 0; i < argv.length; i++) {
                String arg = argv[i];
                if (arg.startsWith("--")) {
                    int eq = arg.indexOf('=');
                    String name = eq < 0 ? arg : arg.substring(0, eq);
                    if (FLAGS.contains(name)) {
                        if (eq >= 0) {
                            throw new IllegalArgumentException(name + " takes no value");
                        }
                        args.flags.add(name);
                        continue;
                    }
                    String value;
                    if (eq >= 0) {
                        value = arg.substring(eq + 1);
                    } else if (i + 1 < argv.length) {
                        value = argv[++i];
                    } else {
                        throw new IllegalArgumentException(name + " needs a value");
                    }
                    args.options.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
                } else if (args.command == null) {
                    args.command = arg;
                } else {
                    args.positionals.add(arg);
                }
            }
            return args;
        }

        void check() throws UsageException {
            Set<String> allowed = OPTIONS.get(command);
            if (allowed == null) {
                throw new UsageException("unknown command \"" + command + "\"");
            }
            for (String name : options.keySet()) {
                if (!"--dir".equals(name) && !allowed.contains(name)) {
                    throw new UsageException(command + " does not take " + name);
                }
            }
            for (String flag : flags) {
                if (!"--help".equals(flag) && !allowed.contains(flag)) {
                    throw new UsageException(command + " does not take " + flag);
                }
            }
        }

        List<String> positionals(int expected) throws UsageException {
            if (positionals.size() != expected) {
                throw new UsageException(command + " takes " + (expected == 0 ? "no arguments" : "one argument")
                        + " besides options, got " + positionals);
            }
            return positionals;
        }

        String single(String name, String fallback) throws UsageException {
            List<String> values = options.getOrDefault(name, List.of());
            if (values.size() > 1) {
                throw new UsageException(name + " given more than once");
            }
            return values.isEmpty() ? fallback : values.get(0);
        }

        List<String> all(String name) {
            return options.getOrDefault(name, List.of());
        }

        Duration days(String name, Duration fallback) throws UsageException {
            String value = single(name, null);
            if (value == null) {
                return fallback;
            }
            try {
                long days = Long.parseLong(value);
                if (days < 1 || days > 36500) {
                    throw new NumberFormatException();
                }
                return Duration.ofDays(days);
            } catch (NumberFormatException e) {
                throw new UsageException(
                        name + " must be a whole number of days from 1 to 36500, got \"" + value + "\"");
            }
        }
    }
}
