package org.sqlflow.playground.identity;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * Turns a verified certificate subject into a caller identity. The user is the CN; certificates issued by the
 * original server's gen_cert.sh carry CN=sqlflow-playground-NAME and stand for NAME, so existing users keep
 * working. The admin mark is an organisational unit, never the CN: a user who picks the id "admin" is no admin.
 */
public final class CertificateSubjects {

    static final String LEGACY_PREFIX = "sqlflow-playground-";

    private CertificateSubjects() {
    }

    public static Optional<CallerIdentity> identify(String subjectDn, String adminOrganizationalUnit) {
        if (subjectDn == null || subjectDn.isBlank()) {
            return Optional.empty();
        }
        LdapName name;
        try {
            name = new LdapName(subjectDn);
        } catch (InvalidNameException e) {
            return Optional.empty();
        }
        List<String> commonNames = new ArrayList<>();
        boolean admin = false;
        for (Rdn rdn : name.getRdns()) {
            String type = rdn.getType();
            String value = String.valueOf(rdn.getValue());
            if ("CN".equalsIgnoreCase(type)) {
                commonNames.add(value);
            } else if ("OU".equalsIgnoreCase(type) && value.equals(adminOrganizationalUnit)) {
                admin = true;
            }
        }
        // Exactly one CN, or the certificate does not name one user.
        if (commonNames.size() != 1) {
            return Optional.empty();
        }
        String cn = commonNames.get(0);
        if (cn.startsWith(LEGACY_PREFIX) && cn.length() > LEGACY_PREFIX.length()) {
            cn = cn.substring(LEGACY_PREFIX.length());
        }
        return Optional.of(new CallerIdentity(cn, admin));
    }
}
