package org.sqlflow.playground.certs;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import org.sqlflow.playground.userid.UserIds;

/**
 * index.tsv: one line per certificate the CA issued (serial, kind, expiry, revocation time, subject). It is what
 * lets the maintainer revoke "alice" without keeping alice's certificate, and what the CRL is rebuilt from.
 * Tab-separated text so that it can be read with grep, and diffs well if the maintainer keeps it in a vault.
 */
public final class CertIndex {

    /** What a certificate is for; the names are what index.tsv stores. */
    public enum Kind {
        SERVER,
        USER,
        ADMIN,
        OTHER;

        String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        static Kind parse(String label) {
            return valueOf(label.toUpperCase(java.util.Locale.ROOT));
        }
    }

    /** One issued certificate. {@code revokedAt} is null while it is valid. */
    public record Entry(BigInteger serial, Kind kind, Instant notAfter, Instant revokedAt, String subject) {

        public boolean revoked() {
            return revokedAt != null;
        }

        /** The subject's CN, or "" when it has none. */
        public String commonName() {
            return attribute(subject, "CN");
        }

        Entry revoke(Instant when) {
            return new Entry(serial, kind, notAfter, when, subject);
        }

        String line() {
            return String.join(
                    "\t",
                    serial.toString(16),
                    kind.label(),
                    notAfter.toString(),
                    revokedAt == null ? "-" : revokedAt.toString(),
                    subject);
        }

        static Entry parse(String line) {
            String[] fields = line.split("\t", 5);
            if (fields.length != 5) {
                throw new IllegalArgumentException("malformed index line: " + line);
            }
            return new Entry(
                    new BigInteger(fields[0], 16),
                    Kind.parse(fields[1]),
                    Instant.parse(fields[2]),
                    "-".equals(fields[3]) ? null : Instant.parse(fields[3]),
                    fields[4]);
        }
    }

    private static final String HEADER = "# serial(hex)\tkind\tnot_after\trevoked_at\tsubject\n";

    private final Path file;
    private final Map<BigInteger, Entry> entries = new LinkedHashMap<>();

    private CertIndex(Path file) {
        this.file = file;
    }

    /** Reads the index; a missing file is an empty index. */
    public static CertIndex read(Path file) throws IOException {
        CertIndex index = new CertIndex(file);
        if (Files.exists(file)) {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (!line.isBlank() && !line.startsWith("#")) {
                    Entry entry = Entry.parse(line);
                    index.entries.put(entry.serial(), entry);
                }
            }
        }
        return index;
    }

    public List<Entry> entries() {
        return Collections.unmodifiableList(new ArrayList<>(entries.values()));
    }

    public Optional<Entry> find(BigInteger serial) {
        return Optional.ofNullable(entries.get(serial));
    }

    /**
     * Every certificate in the index that the server would let act for {@code userId}: its subject maps to that
     * id by the server's own rule ({@link UserIds}), so {@code CN=sqlflow-playground-bob} without an OU (the
     * original server's naming) is bob's, and {@code CN=sqlflow-playground-bob,OU=...} is not. Server
     * certificates are left out: their CN is a host name, and they cannot authenticate a client anyway.
     */
    public List<Entry> clientsActingFor(String userId) {
        return entries.values().stream()
                .filter(e ->
                        e.kind() != Kind.SERVER && UserIds.userIdOf(e.subject()).equals(Optional.of(userId)))
                .toList();
    }

    public void add(X509Certificate certificate, Kind kind) {
        entries.put(
                certificate.getSerialNumber(),
                new Entry(
                        certificate.getSerialNumber(),
                        kind,
                        certificate.getNotAfter().toInstant(),
                        null,
                        subjectOf(certificate)));
    }

    /** Marks the entry revoked (keeping the first revocation time if it already was). */
    public Entry revoke(BigInteger serial, Instant when) {
        Entry entry = entries.get(serial);
        if (entry == null) {
            throw new IllegalArgumentException("serial " + serial.toString(16) + " is not in the index");
        }
        if (!entry.revoked()) {
            // Whole seconds: the CRL's time format holds no more, and the index then says exactly what it says.
            entry = entry.revoke(when.truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
            entries.put(serial, entry);
        }
        return entry;
    }

    /** Serial to revocation time, for the CRL. */
    public Map<BigInteger, Instant> revocations() {
        Map<BigInteger, Instant> result = new LinkedHashMap<>();
        entries.values().stream().filter(Entry::revoked).forEach(e -> result.put(e.serial(), e.revokedAt()));
        return result;
    }

    public void save() throws IOException {
        StringBuilder text = new StringBuilder(HEADER);
        entries.values().forEach(e -> text.append(e.line()).append('\n'));
        SecureFiles.replace(file, text.toString(), SecureFiles.PUBLIC_READ);
    }

    /** RFC 2253, e.g. "CN=alice,OU=sqlflow-playground-users": the same text Envoy and the JDK print. */
    static String subjectOf(X509Certificate certificate) {
        return certificate.getSubjectX500Principal().getName();
    }

    static String attribute(String rfc2253, String type) {
        try {
            for (Rdn rdn : new LdapName(rfc2253).getRdns()) {
                if (rdn.getType().equalsIgnoreCase(type)) {
                    return String.valueOf(rdn.getValue());
                }
            }
            return "";
        } catch (InvalidNameException e) {
            return "";
        }
    }
}
