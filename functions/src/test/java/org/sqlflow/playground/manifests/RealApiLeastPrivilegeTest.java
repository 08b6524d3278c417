package org.sqlflow.playground.manifests;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.Test;
import org.sqlflow.playground.testing.LeastPrivilegeAudit;
import org.sqlflow.playground.testing.PlaygroundServiceAccount;
import org.sqlflow.playground.testing.RealApi;
import org.sqlflow.playground.testing.RealApiTestCluster;
import org.sqlflow.playground.testing.RealApiTier;

/**
 * The API server enforces each function's Role of knative/rbac.yaml for its ServiceAccount. That each Role grants
 * exactly what its function uses is judged from the audit log by {@link LeastPrivilegeAudit} after every real-API
 * class, in whatever order they run; {@link LeastPrivilegeTest} shows its comparison catching each kind of violation.
 */
@RealApiTier
class RealApiLeastPrivilegeTest {

    /** RBAC is on and the binding is the Role's: asked as admin (SubjectAccessReview), so the SA's record stays clean. */
    @Test
    void theApiServerEnforcesTheRoleForTheServiceAccount() {
        try (KubernetesClient admin = RealApi.newAdminClient()) {
            String ns = RealApiTestCluster.RUN_PREFIX + "rbac";
            admin.namespaces()
                    .resource(new NamespaceBuilder()
                            .withNewMetadata()
                            .withName(ns)
                            .endMetadata()
                            .build())
                    .create();
            try {
                PlaygroundServiceAccount.apply(admin, ns);
                String sa = PlaygroundServiceAccount.username(ns, "create_db");
                assertThat(allowed(admin, sa, ns, "apps", "deployments", "create"))
                        .as("granted by the Role")
                        .isTrue();
                assertThat(allowed(
                                admin,
                                PlaygroundServiceAccount.username(ns, "heart_beat"),
                                ns,
                                "apps",
                                "deployments",
                                "delete"))
                        .as("heart_beat deletes nothing")
                        .isFalse();
                assertThat(allowed(
                                admin, PlaygroundServiceAccount.username(ns, "heart_beat"), ns, "", "secrets", "get"))
                        .as("heart_beat reads no password")
                        .isFalse();
                assertThat(allowed(admin, sa, ns, "", "secrets", "list"))
                        .as("never granted")
                        .isFalse();
                assertThat(allowed(admin, sa, ns, "", "secrets", "delete"))
                        .as("create_db deletes nothing")
                        .isFalse();
                assertThat(allowed(admin, sa, ns, "", "services", "delete"))
                        .as("create_db deletes nothing")
                        .isFalse();
                assertThat(allowed(admin, sa, ns, "", "pods", "list"))
                        .as("never granted")
                        .isFalse();
                assertThat(allowed(admin, sa, "default", "apps", "deployments", "create"))
                        .as("another namespace")
                        .isFalse();
                assertThat(allowed(admin, "system:serviceaccount:" + ns + ":default", ns, "apps", "deployments", "get"))
                        .as("another ServiceAccount of the namespace")
                        .isFalse();
            } finally {
                admin.namespaces().withName(ns).delete();
            }
        }
    }

    private static boolean allowed(
            KubernetesClient admin, String user, String ns, String group, String resource, String verb) {
        SubjectAccessReview review = admin.authorization()
                .v1()
                .subjectAccessReview()
                .create(new SubjectAccessReviewBuilder()
                        .withNewSpec()
                        .withUser(user)
                        .withGroups("system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated")
                        .withNewResourceAttributes()
                        .withNamespace(ns)
                        .withGroup(group)
                        .withResource(resource)
                        .withVerb(verb)
                        .endResourceAttributes()
                        .endSpec()
                        .build());
        return Boolean.TRUE.equals(review.getStatus().getAllowed());
    }
}
