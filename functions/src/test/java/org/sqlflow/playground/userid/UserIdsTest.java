package org.sqlflow.playground.userid;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import javax.security.auth.x500.X500Principal;
import org.junit.jupiter.api.Test;

/** The one user-id rule, on subjects as the JDK prints them (X500Principal, RFC 2253). */
class UserIdsTest {

    private static Optional<String> userOf(String subject) {
        // Through the JDK's own printer, as the server reads a peer certificate.
        return UserIds.userIdOf(new X500Principal(subject).getName());
    }

    @Test
    void theCnIsTheUserAndTheLegacyPrefixCountsOnlyWithoutAnOu() {
        assertThat(userOf("CN=alice, OU=sqlflow-playground-users")).contains("alice");
        assertThat(userOf("CN=sqlflow-playground-bob, O=sqlflow.tech")).contains("bob");
        assertThat(userOf("CN=sqlflow-playground-bob, OU=sqlflow-playground-users"))
                .contains("sqlflow-playground-bob");
        assertThat(userOf("CN=sqlflow-playground-")).contains("sqlflow-playground-");
    }

    @Test
    void subjectsThatDoNotNameExactlyOneValidUserNameNobody() {
        assertThat(new X500Principal("CN=bob+CN=zed").getName()).isEqualTo("CN=bob+CN=zed");
        for (String subject : List.of(
                "CN=bob+CN=zed",
                "OU=x, CN=zed+CN=bob",
                "CN=bob+OU=sqlflow-playground-admins",
                "CN=bob, CN=zed",
                "OU=sqlflow-playground-users",
                "O=sqlflow.tech",
                "CN=al ice",
                "CN=" + "x".repeat(64),
                "CN=sqlflow-playground-b@b")) {
            assertThat(userOf(subject)).as(subject).isEmpty();
        }
        assertThat(UserIds.userIdOf("not a name")).isEmpty();
        assertThat(UserIds.userIdOf("")).isEmpty();
        assertThat(UserIds.userIdOf(null)).isEmpty();
        // Envoy (gateway mode) prints the same RFC 2253 text; an OID spelling of CN is still a CN.
        assertThat(UserIds.userIdOf("CN=bob,2.5.4.3=zed")).isEmpty();
    }

    @Test
    void organisationalUnitsAreReportedInOrder() {
        assertThat(UserIds.parse(new X500Principal("CN=ops, OU=a, OU=b").getName())
                        .orElseThrow()
                        .organizationalUnits())
                .containsExactly("b", "a"); // LdapName lists RDNs from the right
    }

    @Test
    void theToolMayIssueOnlyNamesTheServerReadsBackAsThemselves() {
        assertThat(UserIds.refusalToIssue("alice", "sqlflow-playground-users")).isEmpty();
        assertThat(UserIds.refusalToIssue("sqlflow-playground", "sqlflow-playground-users"))
                .isEmpty();
        assertThat(UserIds.refusalToIssue("sqlflow-playground-bob", "sqlflow-playground-users")
                        .orElseThrow())
                .contains("\"bob\"")
                .contains("sqlflow-playground-");
        assertThat(UserIds.refusalToIssue("al ice", "sqlflow-playground-users").orElseThrow())
                .contains("invalid user id");
    }
}
