package org.sqlflow.playground.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.EndpointAddress;
import io.fabric8.kubernetes.api.model.Endpoints;
import io.fabric8.kubernetes.api.model.Pod;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.sqlflow.playground.testing.Http.Reply;

/**
 * What the node tier's end-to-end classes do against their standalone server and its database pods: the SQLFlow
 * client's create_db, and a database reached the way its Service would be inside the cluster (the data source's
 * host names a Service, whose ready Endpoints give the pod's address in the node's pod range).
 */
public final class NodeTierCalls {

    private static final String SERVICE_DOMAIN = ".svc.cluster.local";

    private final RealApiTestCluster cluster;
    private final TestCertificates certs;
    private final IntSupplier serverPort;
    private final Duration wait;
    private final String label;

    /**
     * @param serverPort the standalone server's port, asked for at each call (Spring knows it once the context
     *                   started)
     * @param wait       how long a pod may take: a bound, not a timing
     * @param label      what the class's log lines start with
     */
    public NodeTierCalls(
            RealApiTestCluster cluster, TestCertificates certs, IntSupplier serverPort, Duration wait, String label) {
        this.cluster = cluster;
        this.certs = certs;
        this.serverPort = serverPort;
        this.wait = wait;
        this.label = label;
    }

    /**
     * A test cluster whose namespace lets its pods onto the node: admission turns the namespace's annotation into a
     * toleration of the node's taint, so the product's pod spec stays as it is.
     */
    public static RealApiTestCluster toleratingCluster(Class<?> testClass) {
        RealApiTestCluster cluster = new RealApiTestCluster(testClass);
        cluster.admin().namespaces().withName(cluster.namespace()).edit(n -> {
            Map<String, String> annotations =
                    new HashMap<>(Objects.requireNonNullElse(n.getMetadata().getAnnotations(), Map.of()));
            annotations.putAll(RealNode.settings().tolerationAnnotation());
            n.getMetadata().setAnnotations(annotations);
            return n;
        });
        return cluster;
    }

    /** A fresh client per call: a new TLS handshake each time, as the SQLFlow client does. */
    public Http as(String bundle) {
        return new Http("https://localhost:" + serverPort.getAsInt(), certs.clientContext(bundle));
    }

    /**
     * create_db exactly as the client sends it (json.dumps body, form content type), repeated on 503 as the
     * notebook's user re-runs the cell, until the database is Ready and the data source comes back.
     */
    public SqlflowDataSource createDb(String user) {
        long t0 = System.nanoTime();
        Reply last = await("create_db for " + user + " to return a data source", () -> {
            Reply r = as(user).post(
                            "/api/create_db",
                            "{\"user_id\": \"" + user + "\"}",
                            Map.of("Content-Type", "application/x-www-form-urlencoded"));
            return r.status() == 503 ? null : r;
        });
        assertThat(last.status()).as(last.body()).isEqualTo(200);
        System.out.printf(
                "%s create_db for %s returned a data source after %.1f s%n",
                label, user, (System.nanoTime() - t0) / 1e9);
        return SqlflowDataSource.parse(last.json().get("data_source").asString());
    }

    /** The ready endpoint of the data source's Service: what the Service's name resolves to inside the cluster. */
    public EndpointAddress endpointOf(SqlflowDataSource ds) {
        String ns = cluster.namespace();
        String suffix = "." + ns + SERVICE_DOMAIN;
        assertThat(ds.host()).endsWith(suffix);
        String service = ds.host().substring(0, ds.host().length() - suffix.length());
        return await("a ready endpoint of Service " + ns + "/" + service, () -> {
            Endpoints e = cluster.admin()
                    .endpoints()
                    .inNamespace(ns)
                    .withName(service)
                    .get();
            if (e == null || e.getSubsets() == null) {
                return null;
            }
            return e.getSubsets().stream()
                    .filter(s -> s.getPorts() != null && s.getPorts().stream().anyMatch(p -> p.getPort() == ds.port()))
                    .flatMap(s -> s.getAddresses() == null ? Stream.empty() : s.getAddresses().stream())
                    .findFirst()
                    .orElse(null);
        });
    }

    /** The pod behind the data source's Service, at an address of the node's pod range. */
    public Pod podOf(SqlflowDataSource ds) {
        EndpointAddress address = endpointOf(ds);
        Pod pod = cluster.admin()
                .pods()
                .inNamespace(cluster.namespace())
                .withName(address.getTargetRef().getName())
                .get();
        assertThat(pod.getStatus().getPodIP()).isEqualTo(address.getIp());
        assertThat(RealNode.settings().inPodSubnet(address.getIp()))
                .as(address.getIp())
                .isTrue();
        return pod;
    }

    /** A MySQL connection with exactly the data source's user and password, to the Service's endpoint. */
    public Connection connect(SqlflowDataSource ds) throws SQLException {
        EndpointAddress address = endpointOf(ds);
        Properties p = new Properties();
        p.setProperty("user", ds.user());
        p.setProperty("password", ds.password());
        // Bounds, not timings: the pod shares two cores and a 1.5 GB node with the rest of the suite.
        p.setProperty("connectTimeout", "30000");
        p.setProperty("socketTimeout", "30000");
        return DriverManager.getConnection("jdbc:mariadb://" + address.getIp() + ":" + ds.port() + "/", p);
    }

    /** Waits up to this class's bound until {@code check} returns something, and returns that. */
    public <T> T await(String what, Supplier<T> check) {
        return Waits.await(what, wait).until(check::get, Objects::nonNull);
    }

    public static void update(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.executeUpdate(sql);
        }
    }

    public static String queryOne(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement();
                ResultSet r = s.executeQuery(sql)) {
            assertThat(r.next()).as(sql).isTrue();
            return r.getString(1);
        }
    }
}
