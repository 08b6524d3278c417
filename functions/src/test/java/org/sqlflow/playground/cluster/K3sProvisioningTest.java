package org.sqlflow.playground.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.sqlflow.playground.testing.Waits.await;

import io.fabric8.kubernetes.client.LocalPortForward;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Objects;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.sqlflow.playground.error.PlaygroundException;
import org.sqlflow.playground.testing.K3sTier;
import org.sqlflow.playground.testing.PlaygroundParts;
import org.sqlflow.playground.testing.SqlflowDataSource;

/**
 * The provisioning scenarios on k3s (Testcontainers), where a kubelet runs real MySQL pods, ending with a real
 * MySQL connection through the data source create_db returns. Skipped, saying why, wherever the k3s container
 * cannot start (no container engine, or rancher/k3s or the MySQL image cannot be pulled).
 */
@K3sTier
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class K3sProvisioningTest extends ProvisioningScenarios {

    @Test
    @Order(Integer.MAX_VALUE)
    void endToEndTheReturnedDataSourceConnectsToARealMysql() throws SQLException, java.io.IOException {
        PlaygroundParts p = playground(cluster.database(Duration.ofSeconds(15), 10));
        UserKey user = UserKey.of("Notebook.User_1");
        DatabaseProvisioner.Provisioned answer = await("MySQL to be ready", Duration.ofMinutes(5))
                .until(() -> createOrStarting(p, user), Objects::nonNull);
        SqlflowDataSource ds = SqlflowDataSource.parse(answer.dataSource());
        assertThat(ds.host()).isEqualTo(user.resourceName() + "." + cluster.namespace() + ".svc.cluster.local");

        // The test runs outside the cluster network: reach the user's Service through a port forward.
        try (LocalPortForward forward = cluster.admin()
                        .services()
                        .inNamespace(cluster.namespace())
                        .withName(user.resourceName())
                        .portForward(ds.port());
                Connection db = DriverManager.getConnection(
                        "jdbc:mysql://127.0.0.1:" + forward.getLocalPort()
                                + "/?allowPublicKeyRetrieval=true&connectTimeout=10000",
                        ds.user(),
                        ds.password());
                Statement sql = db.createStatement()) {
            sql.execute("CREATE DATABASE iris");
            sql.execute("CREATE TABLE iris.train (sepal_length FLOAT, class INT)");
            sql.execute("INSERT INTO iris.train VALUES (5.1, 0), (7.0, 1)");
            try (ResultSet rows = sql.executeQuery("SELECT COUNT(*), MAX(class) FROM iris.train")) {
                assertThat(rows.next()).isTrue();
                assertThat(rows.getInt(1)).isEqualTo(2);
                assertThat(rows.getInt(2)).isEqualTo(1);
            }
        }
        assertThat(p.provisioner.createOrGet(user).dataSource())
                .as("the same data source again")
                .isEqualTo(answer.dataSource());
    }

    /** create_db as the notebook user runs it: on a 503 for a starting database, they re-run the cell. */
    private static DatabaseProvisioner.Provisioned createOrStarting(PlaygroundParts p, UserKey user) {
        try {
            return p.provisioner.createOrGet(user);
        } catch (PlaygroundException e) {
            assertThat(e.code()).isEqualTo("database_starting");
            return null;
        }
    }
}
