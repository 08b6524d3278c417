package org.sqlflow.playground.testing;

import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Least privilege, proven from the API server's audit log: each function's ServiceAccount uses exactly the (resource,
 * verb) pairs its own Role in knative/rbac.yaml grants, is never refused, and never asks for anything outside its
 * namespace. Registered by {@link RealApiTier}, it judges after every real-API class, in whatever order the classes
 * run:
 * <ul>
 * <li>after each class, that class's requests: nothing refused, nothing outside the Role or the namespace;</li>
 * <li>once every class of {@link #TIER} has finished in this JVM, also their union: nothing granted that none of
 * them used. A run of part of the tier (one {@code -Dtest} class) judges its parts only.</li>
 * </ul>
 * A violation fails the class after which it was found, with the Role, the request and the rule.
 */
public final class LeastPrivilegeAudit implements AfterAllCallback {

    /** The classes whose requests together are "what the code uses": between them every granted verb is used. */
    public static final Set<String> TIER = Set.of(
            "RealApiProvisioningTest",
            "RealApiNamesTest",
            "RealApiReaperTest",
            "RealApiWarmPoolTest",
            "RealApiListingTest");

    private static final String NEVER_USED = "granted but never used";
    private static final Set<String> FINISHED = ConcurrentHashMap.newKeySet();

    @Override
    public void afterAll(ExtensionContext context) {
        String testClass = context.getRequiredTestClass().getSimpleName();
        if (RealApi.unavailableReason() != null) {
            return;
        }
        Set<String> own = namespacesOf(Set.of(testClass));
        if (!own.isEmpty()) {
            Map<String, List<String>> found = judge(own, false);
            if (!found.values().stream().allMatch(List::isEmpty)) {
                throw new AssertionError("least privilege: requests of " + testClass + " that knative/rbac.yaml's Roles"
                        + " do not allow, by function: " + found);
            }
        }
        if (TIER.contains(testClass) && FINISHED.add(testClass) && FINISHED.containsAll(TIER)) {
            Map<String, List<String>> found = judge(namespacesOf(TIER), true);
            if (!found.values().stream().allMatch(List::isEmpty)) {
                throw new AssertionError("least privilege: each function's Role in knative/rbac.yaml against what "
                        + TIER + " used, by function: " + found);
            }
        }
    }

    private static Set<String> namespacesOf(Set<String> testClasses) {
        return RealApiTestCluster.namespacesOfThisRun().entrySet().stream()
                .filter(e -> testClasses.contains(e.getValue()))
                .map(Map.Entry::getKey)
                .collect(Collectors.toCollection(TreeSet::new));
    }

    /** Violations by function in {@code namespaces}; "granted but never used" only when {@code whole}. */
    private static Map<String, List<String>> judge(Set<String> namespaces, boolean whole) {
        List<AuditLog.Entry> log = AuditLog.read(RealApi.settings().auditLog());
        Map<String, List<String>> violations = new TreeMap<>();
        for (String function : new TreeSet<>(PlaygroundServiceAccount.FOR_FUNCTION.keySet())) {
            Map<String, String> users = namespaces.stream()
                    .collect(Collectors.toMap(ns -> PlaygroundServiceAccount.username(ns, function), ns -> ns));
            Role role;
            try (KubernetesClient admin = RealApi.newAdminClient()) {
                role = PlaygroundServiceAccount.role(admin, function);
            }
            LeastPrivilege.Report report = LeastPrivilege.compare(role, users, log);
            List<String> found = new ArrayList<>();
            for (String violation : report.violations()) {
                if (whole || !violation.startsWith(NEVER_USED)) {
                    found.add(violation);
                }
            }
            if (whole) {
                System.out.println("Requests of " + function + "'s ServiceAccount "
                        + PlaygroundServiceAccount.FOR_FUNCTION.get(function) + " across " + namespaces.size()
                        + " namespaces of " + TIER + " (audit log "
                        + RealApi.settings().auditLog() + "):");
                System.out.print(report.table());
                if (log.stream().noneMatch(e -> users.containsKey(e.username()))) {
                    found.add("no request of " + function + "'s ServiceAccount reached the audit log");
                }
            }
            violations.put(function, found);
        }
        return violations;
    }
}
