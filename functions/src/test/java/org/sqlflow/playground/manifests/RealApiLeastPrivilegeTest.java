package org.sqlflow.playground.manifests;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.sqlflow.playground.testing.AuditLog;
import org.sqlflow.playground.testing.LeastPrivilege;
import org.sqlflow.playground.testing.PlaygroundServiceAccount;
import org.sqlflow.playground.testing.RealApi;
import org.sqlflow.playground.testing.RealApiTestCluster;
import org.sqlflow.playground.testing.RealApiTier;

/**
 * Least privilege, proven from the API server's audit log, account by account: across every real-API scenario
 * of this run, each function's ServiceAccount used exactly the (resource, verb) pairs its own Role in
 * knative/rbac.yaml grants, was never refused, and never asked for anything outside its namespace. Runs last
 * (junit-platform.properties orders classes by @Order), after the classes that exercised the code.
 */
@RealApiTier
@Order(Integer.MAX_VALUE)
class RealApiLeastPrivilegeTest {

    /** The real-API classes whose ServiceAccount requests make up "what the code uses". */
    static final Set<String> TIER = Set.of("RealApiProvisioningTest", "RealApiNamesTest", "RealApiReaperTest");

    @Test
    void eachFunctionsRoleGrantsExactlyWhatThatFunctionUses() {
        Map<String, String> namespaces = RealApiTestCluster.namespacesOfThisRun();
        assertThat(new TreeSet<>(namespaces.values()))
                .as("the least-privilege check reads what the rest of the real-API tier did in this JVM; run it with "
                        + "the tier (./mvnw verify, or -Dtest='RealApi*'), which it follows by @Order")
                .containsAll(TIER);
        List<AuditLog.Entry> log = AuditLog.read(RealApi.settings().auditLog());
        Map<String, List<String>> violations = new TreeMap<>();
        for (String function : new TreeSet<>(PlaygroundServiceAccount.FOR_FUNCTION.keySet())) {
            Map<String, String> users = namespaces.keySet().stream()
                    .collect(Collectors.toMap(ns -> PlaygroundServiceAccount.username(ns, function), ns -> ns));
            Role role;
            try (KubernetesClient admin = RealApi.newAdminClient()) {
                role = PlaygroundServiceAccount.role(admin, function);
            }
            LeastPrivilege.Report report = LeastPrivilege.compare(role, users, log);
            System.out.println("Requests of " + function + "'s ServiceAccount "
                    + PlaygroundServiceAccount.FOR_FUNCTION.get(function) + " across " + namespaces.size()
                    + " real-API scenario namespaces (audit log " + RealApi.settings().auditLog() + "):");
            System.out.print(report.table());
            Set<String> seen = log.stream().filter(e -> users.containsKey(e.username()))
                    .map(e -> namespaces.get(users.get(e.username()))).collect(Collectors.toCollection(TreeSet::new));
            assertThat(seen).as("test classes whose " + function + " requests reached the audit log").isNotEmpty();
            violations.put(function, report.violations());
        }
        assertThat(violations).as("each function's Role in knative/rbac.yaml against what its code used")
                .allSatisfy((function, found) -> assertThat(found).as(function).isEmpty());
    }

    /** RBAC is on and the binding is the Role's: asked as admin (SubjectAccessReview), so the SA's record stays clean. */
    @Test
    void theApiServerEnforcesTheRoleForTheServiceAccount() {
        try (KubernetesClient admin = RealApi.newAdminClient()) {
            String ns = RealApiTestCluster.RUN_PREFIX + "rbac";
            admin.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
                    .create();
            try {
                PlaygroundServiceAccount.apply(admin, ns);
                String sa = PlaygroundServiceAccount.username(ns, "create_db");
                assertThat(allowed(admin, sa, ns, "apps", "deployments", "create")).as("granted by the Role").isTrue();
                assertThat(allowed(admin, PlaygroundServiceAccount.username(ns, "heart_beat"), ns, "apps",
                        "deployments", "delete")).as("heart_beat deletes nothing").isFalse();
                assertThat(allowed(admin, PlaygroundServiceAccount.username(ns, "heart_beat"), ns, "",
                        "secrets", "get")).as("heart_beat reads no password").isFalse();
                assertThat(allowed(admin, sa, ns, "", "secrets", "list")).as("never granted").isFalse();
                assertThat(allowed(admin, sa, ns, "", "pods", "list")).as("never granted").isFalse();
                assertThat(allowed(admin, sa, "default", "apps", "deployments", "create")).as("another namespace")
                        .isFalse();
                assertThat(allowed(admin, "system:serviceaccount:" + ns + ":default", ns, "apps", "deployments", "get"))
                        .as("another ServiceAccount of the namespace").isFalse();
            } finally {
                admin.namespaces().withName(ns).delete();
            }
        }
    }

    private static boolean allowed(KubernetesClient admin, String user, String ns, String group, String resource,
            String verb) {
        SubjectAccessReview review = admin.authorization().v1().subjectAccessReview().create(
                new SubjectAccessReviewBuilder().withNewSpec().withUser(user)
                        .withGroups("system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated")
                        .withNewResourceAttributes().withNamespace(ns).withGroup(group).withResource(resource)
                        .withVerb(verb).endResourceAttributes().endSpec().build());
        return Boolean.TRUE.equals(review.getStatus().getAllowed());
    }
}
