package org.sqlflow.playground.manifests;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.sqlflow.playground.testing.AuditLog;
import org.sqlflow.playground.testing.LeastPrivilege;

/** The least-privilege comparison on made-up audit lines (fast tier): each kind of violation is caught. */
class LeastPrivilegeTest {

    private static final String SA = "system:serviceaccount:ns1:playground-functions";
    private static final Map<String, String> USERS = Map.of(SA, "ns1");
    private static final Role ROLE = new RoleBuilder()
            .withNewMetadata()
            .withName("playground-functions")
            .endMetadata()
            .addNewRule()
            .withApiGroups("apps")
            .withResources("deployments")
            .withVerbs("get", "create")
            .endRule()
            .addNewRule()
            .withApiGroups("")
            .withResources("configmaps")
            .withVerbs("patch")
            .endRule()
            .build();

    private int ids;

    private AuditLog.Entry line(
            String user, String verb, String group, String resource, String sub, String ns, int code) {
        StringBuilder ref = new StringBuilder();
        if (resource != null) {
            ref.append(",\"objectRef\":{\"resource\":\"").append(resource).append('"');
            if (group != null) {
                ref.append(",\"apiGroup\":\"").append(group).append('"');
            }
            if (sub != null) {
                ref.append(",\"subresource\":\"").append(sub).append('"');
            }
            if (ns != null) {
                ref.append(",\"namespace\":\"").append(ns).append('"');
            }
            ref.append('}');
        }
        return AuditLog.parse("{\"kind\":\"Event\",\"level\":\"Metadata\",\"auditID\":\"" + (ids++)
                + "\",\"stage\":\"ResponseComplete\",\"requestURI\":\"/x\",\"verb\":\"" + verb
                + "\",\"user\":{\"username\":\"" + user + "\"}" + ref + ",\"responseStatus\":{\"code\":" + code + "}}");
    }

    private List<AuditLog.Entry> exactUse() {
        List<AuditLog.Entry> log = new ArrayList<>();
        log.add(line(SA, "get", "apps", "deployments", null, "ns1", 404));
        log.add(line(SA, "create", "apps", "deployments", null, "ns1", 201));
        log.add(line(SA, "patch", null, "configmaps", null, "ns1", 200));
        // Others are not judged: the admin, the controllers.
        log.add(line("playground-admin", "delete", null, "namespaces", null, null, 200));
        return log;
    }

    @Test
    void exactlyTheGrantedVerbsUsedPasses() {
        LeastPrivilege.Report r = LeastPrivilege.compare(ROLE, USERS, exactUse());
        assertThat(r.violations()).isEmpty();
        assertThat(r.used()).hasSize(3);
        assertThat(r.table()).contains("apps/deployments", "create(1) get(1)").contains("configmaps", "patch(1)");
    }

    @Test
    void aGrantedVerbNeverUsedFails() {
        List<AuditLog.Entry> log = exactUse();
        log.removeIf(e -> "patch".equals(e.verb()));
        assertThat(LeastPrivilege.compare(ROLE, USERS, log).violations())
                .containsExactly("granted but never used: configmaps patch");
    }

    @Test
    void aRefusedRequestFails() {
        List<AuditLog.Entry> log = exactUse();
        log.add(line(SA, "delete", "apps", "deployments", null, "ns1", 403));
        assertThat(LeastPrivilege.compare(ROLE, USERS, log).violations())
                .singleElement()
                .asString()
                .startsWith("refused (403), the Role lacks apps/deployments delete");
    }

    @Test
    void requestsOutsideTheNamespaceClusterWideOrExecFail() {
        List<AuditLog.Entry> log = exactUse();
        log.add(line(SA, "get", "apps", "deployments", null, "other", 403));
        log.add(line(SA, "list", null, "namespaces", null, null, 403));
        log.add(line(SA, "create", null, "pods", "exec", "ns1", 403));
        log.add(line(SA, "get", null, null, null, null, 200));
        List<String> v = LeastPrivilege.compare(ROLE, USERS, log).violations();
        assertThat(v)
                .anyMatch(s -> s.startsWith("a request outside the ServiceAccount's namespace ns1"))
                .anyMatch(s -> s.startsWith("a cluster-scoped request"))
                .anyMatch(s -> s.startsWith("pods/exec"))
                .anyMatch(s -> s.startsWith("a request outside the Role (non-resource URL)"));
    }
}
