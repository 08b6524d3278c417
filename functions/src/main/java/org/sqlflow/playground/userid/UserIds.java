package org.sqlflow.playground.userid;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * The one user-id rule: which strings are user ids, and which user a certificate subject names. The API, the
 * server's certificate check (standalone and gateway mode) and the certs tool all ask here, so a name the tool
 * issues is exactly the user the server lets it act for, and {@code revoke ID} finds exactly the certificates
 * that act for ID.
 *
 * <p>A subject names a user when it has exactly one CN, in an RDN of its own, and every RDN holds one
 * attribute. The user is the CN, except in a certificate without any OU whose CN is
 * {@code sqlflow-playground-NAME}: that is the original server's gen_cert.sh naming, and it stands for NAME.
 * Everything the certs tool (and cert-manager's template) issues carries an OU, so the legacy mapping cannot
 * turn one of those into another user.
 *
 * <p>Multi-valued RDNs ({@code CN=bob+CN=zed}) are refused outright: {@link Rdn#getType()} and
 * {@link Rdn#getValue()} report one arbitrary pair of such an RDN (openjdk/jdk, Rdn.java at
 * 07882ffc532b068aef5de1c1699495d964c06189), so reading them attribute by attribute would let a certificate
 * pick which of its names counts.
 */
public final class UserIds {

    /** The API contract's user ids. */
    public static final Pattern PATTERN = Pattern.compile("[A-Za-z0-9._-]{1,63}");

    /** The CN prefix of the original server's gen_cert.sh; honoured only in certificates without an OU. */
    public static final String LEGACY_PREFIX = "sqlflow-playground-";

    /** What a certificate subject says: the user it names and its organisational units, in subject order. */
    public record Subject(String userId, List<String> organizationalUnits) {}

    private UserIds() {}

    public static boolean isValid(String userId) {
        return userId != null && PATTERN.matcher(userId).matches();
    }

    /**
     * The user an RFC 2253 subject (as the JDK's X500Principal and Envoy print it) names, with its OUs; empty
     * when it names no user, or more than one, or a user id that is not valid.
     */
    public static Optional<Subject> parse(String rfc2253) {
        if (rfc2253 == null || rfc2253.isBlank()) {
            return Optional.empty();
        }
        List<Rdn> rdns;
        try {
            rdns = new LdapName(rfc2253).getRdns();
        } catch (InvalidNameException | IllegalArgumentException e) {
            return Optional.empty();
        }
        List<String> commonNames = new ArrayList<>();
        List<String> units = new ArrayList<>();
        for (Rdn rdn : rdns) {
            if (rdn.size() != 1) {
                return Optional.empty();
            }
            String type = rdn.getType();
            boolean cn = is(type, "CN", "2.5.4.3");
            boolean ou = is(type, "OU", "2.5.4.11");
            if (!cn && !ou) {
                continue;
            }
            // A value the printer could only show as #hex (a non-string encoding) names nobody.
            if (!(rdn.getValue() instanceof String value)) {
                return Optional.empty();
            }
            (cn ? commonNames : units).add(value);
        }
        if (commonNames.size() != 1) {
            return Optional.empty();
        }
        String id = commonNames.get(0);
        if (units.isEmpty() && id.startsWith(LEGACY_PREFIX) && id.length() > LEGACY_PREFIX.length()) {
            id = id.substring(LEGACY_PREFIX.length());
        }
        return isValid(id) ? Optional.of(new Subject(id, List.copyOf(units))) : Optional.empty();
    }

    /** The user id a subject names, if any. */
    public static Optional<String> userIdOf(String rfc2253) {
        return parse(rfc2253).map(Subject::userId);
    }

    /**
     * Why the certs tool must not issue a certificate with CN={@code id}, or empty when it may: the id must be
     * valid, and the server must map it to itself both with the OU the tool writes and without any OU (as a
     * copy made without the OU, say by hand or from cert-manager's template, would be read). So the tool
     * never issues {@code sqlflow-playground-bob}, which without an OU is bob.
     */
    public static Optional<String> refusalToIssue(String id, String organizationalUnit) {
        if (!isValid(id)) {
            return Optional.of("invalid user id \"" + id + "\": use 1 to 63 characters of A-Z a-z 0-9 . _ -");
        }
        for (String subject : List.of("CN=" + id + ",OU=" + Rdn.escapeValue(organizationalUnit), "CN=" + id)) {
            Optional<String> mapped = userIdOf(subject);
            if (!mapped.equals(Optional.of(id))) {
                return Optional.of("refusing the user id \"" + id + "\": the server would read a certificate " + subject
                        + " as " + mapped.map(m -> "the user \"" + m + "\"").orElse("no user")
                        + (id.startsWith(LEGACY_PREFIX)
                                ? " (the original server's naming, " + LEGACY_PREFIX
                                        + "NAME for NAME); pick an id that does not start with " + LEGACY_PREFIX
                                : ""));
            }
        }
        return Optional.empty();
    }

    private static boolean is(String type, String keyword, String oid) {
        return type.equalsIgnoreCase(keyword) || type.equals(oid) || type.equalsIgnoreCase("OID." + oid);
    }
}
