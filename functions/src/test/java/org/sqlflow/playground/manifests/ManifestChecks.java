package org.sqlflow.playground.manifests;

import io.fabric8.istio.api.api.networking.v1alpha3.HTTPMatchRequest;
import io.fabric8.istio.api.api.networking.v1alpha3.HTTPRoute;
import io.fabric8.istio.api.api.networking.v1alpha3.HTTPRouteDestination;
import io.fabric8.istio.api.api.networking.v1alpha3.Headers;
import io.fabric8.istio.api.api.networking.v1alpha3.HeadersHeaderOperations;
import io.fabric8.istio.api.api.networking.v1alpha3.Server;
import io.fabric8.istio.api.api.networking.v1alpha3.ServerTLSSettings;
import io.fabric8.istio.api.api.networking.v1alpha3.ServerTLSSettingsTLSProtocol;
import io.fabric8.istio.api.api.networking.v1alpha3.ServerTLSSettingsTLSmode;
import io.fabric8.istio.api.api.networking.v1alpha3.StringMatch;
import io.fabric8.istio.api.api.networking.v1alpha3.StringMatchExact;
import io.fabric8.istio.api.api.security.v1beta1.AuthorizationPolicyAction;
import io.fabric8.istio.api.api.security.v1beta1.Operation;
import io.fabric8.istio.api.api.security.v1beta1.PeerAuthenticationMutualTLSMode;
import io.fabric8.istio.api.api.security.v1beta1.Rule;
import io.fabric8.istio.api.api.security.v1beta1.RuleFrom;
import io.fabric8.istio.api.api.security.v1beta1.RuleTo;
import io.fabric8.istio.api.api.security.v1beta1.Source;
import io.fabric8.istio.api.networking.v1.Gateway;
import io.fabric8.istio.api.networking.v1.VirtualService;
import io.fabric8.istio.api.security.v1.AuthorizationPolicy;
import io.fabric8.istio.api.security.v1.PeerAuthentication;
import io.fabric8.knative.serving.v1.Service;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import io.fabric8.kubernetes.api.model.batch.v1.CronJobSpec;
import io.fabric8.kubernetes.api.model.batch.v1.JobSpec;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The deployment's rules as pure functions: each takes the parsed manifests and returns the
 * problems it finds, one sentence each; an empty list means the rule holds. Tests run every check
 * against the repository's manifests and against copies broken on purpose, so that each check is
 * seen to fail.
 */
final class ManifestChecks {

    /** The one header the functions trust in gateway mode (docs/design.md, Identity). */
    static final String IDENTITY_HEADER = "x-playground-client-subject";
    /** The gateway's proof: the functions believe the identity header only next to it. */
    static final String PROOF_HEADER = "x-playground-gateway-proof";
    /** What the committed VirtualService holds instead of the proof; the install step fills in the value. */
    static final String PROOF_PLACEHOLDER = org.sqlflow.playground.identity.GatewayProof.PLACEHOLDER;
    /** playground.identity.proof-directory. */
    static final String PROOF_DIRECTORY_ENV = "PLAYGROUND_IDENTITY_PROOF_DIRECTORY";
    /** The Secrets the install step makes: the public gateway's value and the reaper CronJob's own. */
    static final String GATEWAY_PROOF_SECRET = "playground-gateway-proof";

    static final String REAPER_PROOF_SECRET = "playground-reaper-proof";
    /** Envoy's formatter for the verified client certificate's subject DN. */
    static final String PEER_SUBJECT = "%DOWNSTREAM_PEER_SUBJECT%";
    /** Where Istio's ingress gateway sends traffic for cluster-local Knative Services. */
    static final String LOCAL_GATEWAY = "knative-local-gateway.istio-system.svc.cluster.local";
    /** The default istio-ingressgateway's mesh identity (serves the public gateway and knative-local-gateway). */
    static final String INGRESS_PRINCIPAL = "cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account";

    static final String KNATIVE_SYSTEM_NAMESPACE = "knative-serving";

    /** The functions routed from outside, with the one method each accepts. */
    static final Map<String, String> PUBLIC_FUNCTIONS =
            Map.of("create_db", "POST", "heart_beat", "GET", "databases", "GET");
    /** What the notebook calls, with its 20 s patience: these Services keep a warm pod (the operators' listing need not). */
    static final Set<String> NOTEBOOK_FUNCTIONS = Set.of("create_db", "heart_beat");

    static final String REAPER_FUNCTION = "reap_stale";
    /** The Knative Service that serves each function. */
    static final Map<String, String> SERVICE_FOR_FUNCTION = Map.of(
            "create_db", "playground-create-db",
            "heart_beat", "playground-heart-beat",
            "reap_stale", "playground-reap-stale",
            "databases", "playground-databases");

    /** playground.reaper.schedule: off where the CronJob triggers the sweeps. */
    static final String REAPER_SCHEDULE_ENV = "PLAYGROUND_REAPER_SCHEDULE";
    /** playground.api.reaper-trigger: the reaper trusts the mesh's AuthorizationPolicy instead of a certificate. */
    static final String REAPER_TRIGGER_ENV = "PLAYGROUND_API_REAPER_TRIGGER";

    /** Each Knative Service runs as a ServiceAccount of its own name, bound to a Role of that name. */
    static final String REAPER_SERVICE_ACCOUNT = "playground-reaper";

    static final String REAPER_CRONJOB = "playground-reaper";

    /** playground.database.ready-wait's default, and the margin the request timeout keeps above it. */
    static final Duration CREATE_DB_WAIT = Duration.ofSeconds(15);

    static final Duration TIMEOUT_MARGIN = Duration.ofSeconds(10);
    /** Tornado's default request timeout in the SQLFlow magic. */
    static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(20);
    /** Knative's default max-revision-timeout-seconds. */
    static final long KNATIVE_MAX_TIMEOUT_SECONDS = 600;

    static final String REAPER_SCHEDULE = "*/5 * * * *";
    static final long REAPER_PERIOD_SECONDS = 300;

    static final Map<String, Class<? extends KubernetesResource>> EXPECTED_TYPES = Map.ofEntries(
            Map.entry("v1/Namespace", Namespace.class),
            Map.entry("v1/ServiceAccount", ServiceAccount.class),
            Map.entry("rbac.authorization.k8s.io/v1/Role", Role.class),
            Map.entry("rbac.authorization.k8s.io/v1/RoleBinding", RoleBinding.class),
            Map.entry("batch/v1/CronJob", CronJob.class),
            Map.entry("networking.k8s.io/v1/NetworkPolicy", NetworkPolicy.class),
            Map.entry("serving.knative.dev/v1/Service", Service.class),
            Map.entry("networking.istio.io/v1/Gateway", Gateway.class),
            Map.entry("networking.istio.io/v1/VirtualService", VirtualService.class),
            Map.entry("security.istio.io/v1/PeerAuthentication", PeerAuthentication.class),
            Map.entry("security.istio.io/v1/AuthorizationPolicy", AuthorizationPolicy.class));

    private ManifestChecks() {}

    // ---------------------------------------------------------------------------------------------
    // Files: typed parsing, unknown fields

    /** Every document is one of the kinds we deploy and fabric8 parsed it into that kind's model. */
    static List<String> typedModels(List<ManifestFolder.Doc> docs) {
        List<String> problems = new ArrayList<>();
        for (ManifestFolder.Doc doc : docs) {
            Class<? extends KubernetesResource> expected = EXPECTED_TYPES.get(doc.apiVersion() + "/" + doc.kind());
            if (expected == null) {
                problems.add(doc.where() + ": " + doc.apiVersion() + " " + doc.kind()
                        + " is not a kind this deployment uses");
            } else if (!expected.isInstance(doc.resource())) {
                problems.add(doc.where() + ": parsed as "
                        + doc.resource().getClass().getName() + ", expected " + expected.getName());
            }
        }
        return problems;
    }

    /**
     * Paths of fields that the typed model did not recognise (fabric8 keeps them in
     * additionalProperties): a misspelt or misplaced field that the API server would drop or reject.
     */
    static List<String> unknownFields(Object model) {
        List<String> found = new ArrayList<>();
        collectUnknown(model, "", found);
        return found;
    }

    private static void collectUnknown(Object value, String path, List<String> found) {
        if (value == null) {
            return;
        }
        if (value instanceof Collection<?> list) {
            int i = 0;
            for (Object item : list) {
                collectUnknown(item, path + "[" + i++ + "]", found);
            }
            return;
        }
        if (value instanceof Map<?, ?> map) {
            map.forEach((k, v) -> collectUnknown(v, path + "[" + k + "]", found));
            return;
        }
        if (!value.getClass().getName().startsWith("io.fabric8.")
                || value.getClass().isEnum()) {
            return;
        }
        for (Method getter : value.getClass().getMethods()) {
            if (getter.getParameterCount() != 0
                    || Modifier.isStatic(getter.getModifiers())
                    || !getter.getName().startsWith("get")
                    || getter.getDeclaringClass() == Object.class) {
                continue;
            }
            Object child;
            try {
                child = getter.invoke(value);
            } catch (IllegalAccessException | InvocationTargetException e) {
                continue;
            }
            String name = Character.toLowerCase(getter.getName().charAt(3))
                    + getter.getName().substring(4);
            if (name.equals("additionalProperties")) {
                if (child instanceof Map<?, ?> extra && !extra.isEmpty()) {
                    extra.keySet().forEach(k -> found.add(path + "." + k));
                }
            } else {
                collectUnknown(child, path + "." + name, found);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Knative Services

    /** The three Services exist, each serves its one function in gateway mode, cluster-local, sized and probed so that stock Knative accepts and keeps them. */
    static List<String> knativeServices(Deployment d) {
        List<String> problems = new ArrayList<>();
        Map<String, String> servedBy = new LinkedHashMap<>();
        for (Map.Entry<String, String> expected : SERVICE_FOR_FUNCTION.entrySet()) {
            if (d.named(Service.class, expected.getValue()).isEmpty()) {
                problems.add("no Knative Service " + expected.getValue() + " for " + expected.getKey());
            }
        }
        for (Service s : d.knativeServices()) {
            String name = s.getMetadata().getName();
            String where = "Knative Service " + name;
            Map<String, String> labels = orEmpty(s.getMetadata().getLabels());
            if (!"cluster-local".equals(labels.get("networking.knative.dev/visibility"))) {
                problems.add(
                        where
                                + " is not labelled networking.knative.dev/visibility=cluster-local (it would get a public route that bypasses the mutual-TLS gateway)");
            }
            List<Container> containers = s.getSpec().getTemplate().getSpec().getContainers();
            if (containers.size() != 1) {
                problems.add(where + " must have exactly one container, has " + containers.size());
                continue;
            }
            Container c = containers.get(0);
            List<String> functions = Deployment.functionsOf(s);
            if (functions.size() != 1) {
                problems.add(
                        where + " must serve exactly one function (PLAYGROUND_API_FUNCTIONS), serves " + functions);
            } else {
                String function = functions.get(0);
                if (!name.equals(SERVICE_FOR_FUNCTION.get(function))) {
                    problems.add(
                            where + " serves " + function + ", which belongs to " + SERVICE_FOR_FUNCTION.get(function));
                }
                String previous = servedBy.put(function, name);
                if (previous != null) {
                    problems.add(function + " is served by both " + previous + " and " + name);
                }
            }
            if (!"gateway".equals(envValue(c, "PLAYGROUND_IDENTITY_SOURCE"))) {
                problems.add(where + " must run with PLAYGROUND_IDENTITY_SOURCE=gateway");
            }
            for (EnvVar e : c.getEnv()) {
                if (e.getValueFrom() != null
                        && (e.getValueFrom().getFieldRef() != null
                                || e.getValueFrom().getResourceFieldRef() != null)) {
                    problems.add(
                            where + " env " + e.getName()
                                    + " uses a downward-API reference, which stock Knative rejects (feature flag kubernetes.podspec-fieldref is off by default)");
                }
            }
            if (!name.equals(s.getSpec().getTemplate().getSpec().getServiceAccountName())) {
                problems.add(where + " must run as its own service account " + name
                        + " (one per function, each with only its Role)");
            }
            if (c.getPorts().size() != 1) {
                problems.add(where + " must declare exactly one container port (Knative allows one), has "
                        + c.getPorts().size());
            }
            int servingPort = c.getPorts().isEmpty() || c.getPorts().get(0).getContainerPort() == null
                    ? 8080
                    : c.getPorts().get(0).getContainerPort();
            problems.addAll(probeProblems(where + " readinessProbe", c.getReadinessProbe(), servingPort));
            problems.addAll(probeProblems(where + " livenessProbe", c.getLivenessProbe(), servingPort));
            problems.addAll(resourceProblems(where, c.getResources()));
            Long concurrency = s.getSpec().getTemplate().getSpec().getContainerConcurrency();
            if (concurrency == null || concurrency < 1) {
                problems.add(where + " must set containerConcurrency to a positive hard limit");
            }
            Long timeout = s.getSpec().getTemplate().getSpec().getTimeoutSeconds();
            if (timeout == null || timeout < 1 || timeout > KNATIVE_MAX_TIMEOUT_SECONDS) {
                problems.add(where + " must set timeoutSeconds between 1 and " + KNATIVE_MAX_TIMEOUT_SECONDS);
            }
            Map<String, String> annotations = orEmpty(
                    s.getSpec().getTemplate().getMetadata() == null
                            ? null
                            : s.getSpec().getTemplate().getMetadata().getAnnotations());
            Integer minScale = intAnnotation(annotations, "autoscaling.knative.dev/min-scale");
            Integer maxScale = intAnnotation(annotations, "autoscaling.knative.dev/max-scale");
            if (minScale == null || maxScale == null) {
                problems.add(where + " must set autoscaling.knative.dev/min-scale and max-scale deliberately");
            } else {
                if (maxScale < Math.max(1, minScale)) {
                    problems.add(where + " has max-scale " + maxScale + " below min-scale " + minScale + " or 1");
                }
                boolean notebook = functions.stream().anyMatch(NOTEBOOK_FUNCTIONS::contains);
                if (notebook && minScale < 1) {
                    problems.add(
                            where
                                    + " is public and must keep a warm pod (min-scale >= 1): a cold JVM plus the database wait can exceed the notebook's 20 s");
                }
            }
        }
        return problems;
    }

    /**
     * The reaper's Service leaves scheduling to the CronJob ({@value #REAPER_SCHEDULE_ENV}=false) and
     * accepts the mesh's caller without a certificate ({@value #REAPER_TRIGGER_ENV}=true). A
     * publicly routed Service (serving a public function, or the target of any route) sets neither:
     * opened to the mesh, it would let every request through the gateway act without an identity.
     */
    static List<String> reaperSettings(Deployment d) {
        List<String> problems = new ArrayList<>();
        Set<String> routed = new TreeSet<>();
        for (VirtualService vs : d.virtualServices()) {
            for (HTTPRoute route : vs.getSpec().getHttp()) {
                String authority =
                        route.getRewrite() == null ? null : route.getRewrite().getAuthority();
                if (authority != null) {
                    routed.add(authority.contains(".") ? authority.substring(0, authority.indexOf('.')) : authority);
                }
            }
        }
        for (Service s : d.knativeServices()) {
            String name = s.getMetadata().getName();
            String where = "Knative Service " + name;
            Container c = Deployment.container(s);
            List<String> functions = Deployment.functionsOf(s);
            for (String env : List.of(REAPER_SCHEDULE_ENV, REAPER_TRIGGER_ENV)) {
                long count =
                        c.getEnv().stream().filter(e -> env.equals(e.getName())).count();
                if (count > 1) {
                    problems.add(where + " sets " + env + " " + count + " times (Kubernetes keeps the last)");
                }
            }
            boolean isPublic = routed.contains(name) || functions.stream().anyMatch(PUBLIC_FUNCTIONS::containsKey);
            if (isPublic) {
                for (String env : List.of(REAPER_TRIGGER_ENV, REAPER_SCHEDULE_ENV)) {
                    if (Deployment.env(c, env).isPresent()) {
                        problems.add(where + " is publicly routed and must not set " + env
                                + (env.equals(REAPER_TRIGGER_ENV)
                                        ? " (a reaper open to the mesh would be open to every caller through the gateway)"
                                        : " (only the reaper's Service has a schedule to turn off)"));
                    }
                }
            } else if (functions.contains(REAPER_FUNCTION)) {
                if (!"false".equals(envValue(c, REAPER_SCHEDULE_ENV))) {
                    problems.add(where + " must set " + REAPER_SCHEDULE_ENV + "=\"false\": the CronJob "
                            + REAPER_CRONJOB + " triggers the sweeps, the pod must not schedule its own");
                }
                if (!"true".equals(envValue(c, REAPER_TRIGGER_ENV))) {
                    problems.add(where + " must set " + REAPER_TRIGGER_ENV
                            + "=\"true\": its caller, the CronJob, has no client"
                            + " certificate and no gateway header; the mesh's AuthorizationPolicy decides who gets in");
                }
            }
        }
        return problems;
    }

    /**
     * Knative executes the serving container's readiness probe in queue-proxy against the serving
     * port and rewrites liveness probe ports to it (a custom liveness port needs Knative >= 1.22 with
     * multi-container-probing, knative/serving#16572). An HTTP probe aimed at another port, such as
     * the management port 8081, would silently hit the API port instead.
     */
    static List<String> probeProblems(String where, Probe probe, int servingPort) {
        List<String> problems = new ArrayList<>();
        if (probe == null) {
            problems.add(where + " is missing");
            return problems;
        }
        IntOrString port = null;
        if (probe.getHttpGet() != null) {
            port = probe.getHttpGet().getPort();
        } else if (probe.getTcpSocket() != null) {
            port = probe.getTcpSocket().getPort();
        } else {
            problems.add(where + " must be an httpGet or tcpSocket probe");
        }
        if (port != null && (port.getIntVal() == null || port.getIntVal() != servingPort)) {
            problems.add(where + " targets port " + (port.getIntVal() != null ? port.getIntVal() : port.getStrVal())
                    + ", but Knative rewrites serving-container probes to the serving port " + servingPort);
        }
        return problems;
    }

    private static List<String> resourceProblems(String where, ResourceRequirements r) {
        List<String> problems = new ArrayList<>();
        for (String kind : List.of("cpu", "memory")) {
            if (r == null || orEmpty(r.getRequests()).get(kind) == null) {
                problems.add(where + " must request " + kind);
            }
            if (r == null || orEmpty(r.getLimits()).get(kind) == null) {
                problems.add(where + " must limit " + kind);
            }
        }
        return problems;
    }

    // ---------------------------------------------------------------------------------------------
    // Gateway and routes

    /** Every server of every Gateway is HTTPS with mutual TLS from a credential, TLS 1.2 at least. */
    static List<String> gateways(Deployment d) {
        List<String> problems = new ArrayList<>();
        if (d.gateways().isEmpty()) {
            problems.add("no Istio Gateway");
        }
        for (Gateway g : d.gateways()) {
            String where = "Gateway " + g.getMetadata().getName();
            if (g.getSpec() == null || g.getSpec().getServers().isEmpty()) {
                problems.add(where + " has no servers");
                continue;
            }
            for (Server server : g.getSpec().getServers()) {
                String srv = where + " port "
                        + (server.getPort() == null ? "?" : server.getPort().getNumber());
                if (server.getPort() == null || !"HTTPS".equals(server.getPort().getProtocol())) {
                    problems.add(srv + " must use protocol HTTPS");
                }
                ServerTLSSettings tls = server.getTls();
                if (tls == null || tls.getMode() != ServerTLSSettingsTLSmode.MUTUAL) {
                    problems.add(srv + " must use tls.mode MUTUAL (a verified client certificate on every request)");
                }
                if (tls == null
                        || tls.getCredentialName() == null
                        || tls.getCredentialName().isBlank()) {
                    problems.add(srv + " must name its certificates with tls.credentialName");
                }
                if (tls == null
                        || tls.getMinProtocolVersion() == null
                        || !Set.of(ServerTLSSettingsTLSProtocol.TLSV1_2, ServerTLSSettingsTLSProtocol.TLSV1_3)
                                .contains(tls.getMinProtocolVersion())) {
                    problems.add(srv + " must set minProtocolVersion TLSV1_2 or higher");
                }
            }
        }
        return problems;
    }

    /**
     * Exactly the public functions are routed, each by one exact path and one method, through
     * knative-local-gateway to the cluster-local Knative Service that serves that function; no
     * route can reach the reaper.
     */
    static List<String> routes(Deployment d) {
        List<String> problems = new ArrayList<>();
        String ns = d.knativeNamespace();
        Set<String> routedFunctions = new TreeSet<>();
        for (VirtualService vs : d.virtualServices()) {
            String where = "VirtualService " + vs.getMetadata().getName();
            for (String gw : vs.getSpec().getGateways()) {
                if (gw.equals("mesh")
                        || d.named(Gateway.class, gw.contains("/") ? gw.substring(gw.indexOf('/') + 1) : gw)
                                .isEmpty()) {
                    problems.add(where + " is bound to " + gw + ", which is not a Gateway of this deployment");
                }
            }
            if (!vs.getSpec().getTcp().isEmpty() || !vs.getSpec().getTls().isEmpty()) {
                problems.add(where + " must route HTTP only");
            }
            for (HTTPRoute route : vs.getSpec().getHttp()) {
                String r = where + " route " + route.getName();
                if (route.getMatch().size() != 1) {
                    problems.add(r + " must have exactly one match (an empty match routes everything)");
                    continue;
                }
                HTTPMatchRequest match = route.getMatch().get(0);
                String path = exact(match.getUri());
                String method = exact(match.getMethod());
                if (path == null) {
                    problems.add(r + " must match the path exactly (no prefix or regex)");
                    continue;
                }
                String function = path.startsWith("/api/") ? path.substring("/api/".length()) : path;
                if (function.equals(REAPER_FUNCTION)) {
                    problems.add(r + " routes " + path + " from outside: the reaper must never be public");
                } else if (!PUBLIC_FUNCTIONS.containsKey(function)) {
                    problems.add(r + " routes " + path + ", which is not a public function");
                } else {
                    routedFunctions.add(function);
                    if (!PUBLIC_FUNCTIONS.get(function).equals(method)) {
                        problems.add(r + " must match method " + PUBLIC_FUNCTIONS.get(function) + " exactly, matches "
                                + method);
                    }
                }
                if (route.getRoute().size() != 1 || route.getRoute().get(0).getDestination() == null) {
                    problems.add(r + " must have exactly one destination");
                    continue;
                }
                String host = route.getRoute().get(0).getDestination().getHost();
                if (!LOCAL_GATEWAY.equals(host)) {
                    problems.add(r + " must send to " + LOCAL_GATEWAY
                            + " (how a cluster-local Knative Service is reached), sends to " + host);
                }
                String authority =
                        route.getRewrite() == null ? null : route.getRewrite().getAuthority();
                String suffix = "." + ns + ".svc.cluster.local";
                if (authority == null || !authority.endsWith(suffix)) {
                    problems.add(r + " must rewrite the authority to <service>" + suffix + ", has " + authority);
                    continue;
                }
                String target = authority.substring(0, authority.length() - suffix.length());
                Optional<Service> service = d.named(Service.class, target);
                if (service.isEmpty()) {
                    problems.add(r + " targets Knative Service " + target + ", which does not exist");
                } else {
                    List<String> served = Deployment.functionsOf(service.get());
                    if (served.contains(REAPER_FUNCTION)) {
                        problems.add(r + " reaches " + target + ", which serves the reaper");
                    }
                    if (!served.contains(function)) {
                        problems.add(r + " sends " + path + " to " + target + ", which serves " + served);
                    }
                }
            }
        }
        for (String function : PUBLIC_FUNCTIONS.keySet()) {
            if (!routedFunctions.contains(function)) {
                problems.add("no route for the public function " + function);
            }
        }
        return problems;
    }

    /**
     * Each routed request carries the identity header, set by the gateway from the verified client
     * certificate, and the gateway's proof, set to the placeholder the install step replaces; a
     * client's copy of either is removed first (Envoy removes before it adds, and adds nothing for
     * an empty value). Nothing else in the deployment writes either header.
     */
    static List<String> identityHeader(Deployment d) {
        List<String> problems = new ArrayList<>();
        for (VirtualService vs : d.virtualServices()) {
            for (String gw : vs.getSpec().getGateways()) {
                d.named(Gateway.class, gw).ifPresent(g -> {
                    boolean mutual = g.getSpec().getServers().stream()
                            .allMatch(
                                    s -> s.getTls() != null && s.getTls().getMode() == ServerTLSSettingsTLSmode.MUTUAL);
                    if (!mutual) {
                        problems.add("Gateway " + gw + " does not require client certificates, so " + PEER_SUBJECT
                                + " can be empty");
                    }
                });
            }
            boolean publicGateway = !vs.getSpec().getGateways().isEmpty()
                    && vs.getSpec().getGateways().stream().noneMatch("mesh"::equals);
            for (HTTPRoute route : vs.getSpec().getHttp()) {
                String r = "VirtualService " + vs.getMetadata().getName() + " route " + route.getName();
                HeadersHeaderOperations ops =
                        route.getHeaders() == null ? null : route.getHeaders().getRequest();
                for (HTTPRouteDestination dest : route.getRoute()) {
                    Headers h = dest.getHeaders();
                    for (String header : List.of(IDENTITY_HEADER, PROOF_HEADER)) {
                        if (h != null
                                && h.getRequest() != null
                                && (getIgnoreCase(h.getRequest().getSet(), header) != null
                                        || getIgnoreCase(h.getRequest().getAdd(), header) != null)) {
                            problems.add(r + " writes " + header + " again at destination level");
                        }
                    }
                }
                if (!publicGateway) {
                    if (ops != null) {
                        for (String header : List.of(IDENTITY_HEADER, PROOF_HEADER)) {
                            if (getIgnoreCase(ops.getSet(), header) != null
                                    || getIgnoreCase(ops.getAdd(), header) != null) {
                                problems.add(r + " is no public gateway route and must not write " + header);
                            }
                        }
                    }
                    continue;
                }
                if (ops == null) {
                    problems.add(r + " does not write " + IDENTITY_HEADER + " and " + PROOF_HEADER);
                    continue;
                }
                for (String header : List.of(IDENTITY_HEADER, PROOF_HEADER)) {
                    if (!containsIgnoreCase(ops.getRemove(), header)) {
                        problems.add(r + " must remove a client's " + header
                                + " (remove runs before set, and set adds nothing when its value is empty)");
                    }
                    if (getIgnoreCase(ops.getAdd(), header) != null) {
                        problems.add(r + " must not add (append to) " + header);
                    }
                }
                String value = getIgnoreCase(ops.getSet(), IDENTITY_HEADER);
                if (!PEER_SUBJECT.equals(value)) {
                    problems.add(r + " must set " + IDENTITY_HEADER + " to " + PEER_SUBJECT + ", sets " + value);
                }
                String proof = getIgnoreCase(ops.getSet(), PROOF_HEADER);
                if (proof == null) {
                    problems.add(r + " must set " + PROOF_HEADER + " (the functions answer 401 without it)");
                } else if (!PROOF_PLACEHOLDER.equals(proof)) {
                    problems.add(r + " must hold the placeholder " + PROOF_PLACEHOLDER + " for " + PROOF_HEADER
                            + ", never a value: the install step fills it in");
                }
            }
        }
        return problems;
    }

    /**
     * Each Knative Service reads its proof from a Secret volume: the public functions the gateway's,
     * the reaper its own (which the CronJob mounts and sends); the gateway's proof never reaches the
     * reaper or the CronJob, and the reaper's never a public function.
     */
    static List<String> proofMounts(Deployment d) {
        List<String> problems = new ArrayList<>();
        for (Service s : d.knativeServices()) {
            String where = "Knative Service " + s.getMetadata().getName();
            boolean reaper = Deployment.functionsOf(s).contains(REAPER_FUNCTION);
            String expected = reaper ? REAPER_PROOF_SECRET : GATEWAY_PROOF_SECRET;
            Container c = Deployment.container(s);
            String dir = envValue(c, PROOF_DIRECTORY_ENV);
            if (dir == null) {
                problems.add(where + " must set " + PROOF_DIRECTORY_ENV
                        + ": gateway mode refuses to start without the proof");
                continue;
            }
            problems.addAll(secretAt(where, s.getSpec().getTemplate().getSpec().getVolumes(), c, dir, expected));
        }
        d.named(CronJob.class, REAPER_CRONJOB).ifPresent(cj -> {
            PodSpec pod = cj.getSpec().getJobTemplate().getSpec().getTemplate().getSpec();
            String where = "CronJob " + REAPER_CRONJOB;
            if (pod.getContainers().size() == 1) {
                Container c = pod.getContainers().get(0);
                String dir = "/var/run/secrets/sqlflow-playground/proof";
                problems.addAll(secretAt(where, pod.getVolumes(), c, dir, REAPER_PROOF_SECRET));
                String script =
                        withoutComments(String.join("\n", c.getCommand()) + "\n" + String.join("\n", c.getArgs()));
                if (!script.contains(dir + "/current") || !script.contains(PROOF_HEADER + ": ")) {
                    problems.add(where + " must send " + PROOF_HEADER + " with the value of " + dir + "/current");
                }
                if (Pattern.compile("-H\\s+['\"]?" + PROOF_HEADER)
                        .matcher(script)
                        .find()) {
                    problems.add(where + " must not pass the proof on curl's command line (-H), where /proc shows it");
                }
            }
        });
        return problems;
    }

    private static List<String> secretAt(
            String where,
            List<io.fabric8.kubernetes.api.model.Volume> volumes,
            Container c,
            String dir,
            String expected) {
        List<String> problems = new ArrayList<>();
        var mount = c.getVolumeMounts().stream()
                .filter(m -> dir.equals(m.getMountPath()))
                .findFirst();
        if (mount.isEmpty()) {
            problems.add(where + " mounts nothing at " + dir);
            return problems;
        }
        var volume = volumes.stream()
                .filter(v -> mount.get().getName().equals(v.getName()))
                .findFirst();
        String secret = volume.map(
                        v -> v.getSecret() == null ? null : v.getSecret().getSecretName())
                .orElse(null);
        if (!expected.equals(secret)) {
            problems.add(where + " must mount Secret " + expected + " at " + dir + ", mounts " + secret);
        }
        for (var v : volumes) {
            String other = v.getSecret() == null ? null : v.getSecret().getSecretName();
            if (other != null
                    && !other.equals(expected)
                    && (other.equals(GATEWAY_PROOF_SECRET) || other.equals(REAPER_PROOF_SECRET))) {
                problems.add(where + " must not mount " + other + " (only " + expected + " belongs here)");
            }
        }
        return problems;
    }

    /**
     * create_db's request timeout exceeds its database wait by the margin; each route's timeout
     * equals its Knative Service's; a heartbeat is answered within the client's timeout.
     */
    static List<String> timeouts(Deployment d) {
        List<String> problems = new ArrayList<>();
        d.serving("create_db").ifPresent(s -> {
            Long t = s.getSpec().getTemplate().getSpec().getTimeoutSeconds();
            Duration min = CREATE_DB_WAIT.plus(TIMEOUT_MARGIN);
            if (t == null || Duration.ofSeconds(t).compareTo(min) < 0) {
                problems.add("create_db's Knative timeoutSeconds " + t + " must be at least " + min.toSeconds()
                        + " (the " + CREATE_DB_WAIT.toSeconds() + " s database wait + " + TIMEOUT_MARGIN.toSeconds()
                        + " s)");
            }
        });
        d.serving("heart_beat").ifPresent(s -> {
            Long t = s.getSpec().getTemplate().getSpec().getTimeoutSeconds();
            if (t == null || Duration.ofSeconds(t).compareTo(CLIENT_TIMEOUT) > 0) {
                problems.add("heart_beat's Knative timeoutSeconds " + t + " must be short, at most the client's "
                        + CLIENT_TIMEOUT.toSeconds() + " s");
            }
        });
        for (VirtualService vs : d.virtualServices()) {
            for (HTTPRoute route : vs.getSpec().getHttp()) {
                String r = "VirtualService " + vs.getMetadata().getName() + " route " + route.getName();
                Duration routeTimeout = parseDuration(route.getTimeout());
                Optional<Service> target = targetService(d, route);
                if (routeTimeout == null) {
                    problems.add(r + " must set a timeout");
                } else if (target.isPresent()) {
                    Long t = target.get().getSpec().getTemplate().getSpec().getTimeoutSeconds();
                    if (t == null || !routeTimeout.equals(Duration.ofSeconds(t))) {
                        problems.add(r + " timeout " + route.getTimeout() + " differs from "
                                + target.get().getMetadata().getName() + "'s timeoutSeconds " + t);
                    }
                }
            }
        }
        return problems;
    }

    private static Optional<Service> targetService(Deployment d, HTTPRoute route) {
        if (route.getRewrite() == null || route.getRewrite().getAuthority() == null) {
            return Optional.empty();
        }
        String authority = route.getRewrite().getAuthority();
        return d.named(Service.class, authority.split("\\.", 2)[0]);
    }

    // ---------------------------------------------------------------------------------------------
    // Reaper trigger

    /**
     * The CronJob calls the reaper's in-cluster address with POST every 5 minutes, one run at a time,
     * cleans up after itself, and its Job completes under an Istio sidecar.
     */
    static List<String> reaperCronJob(Deployment d) {
        List<String> problems = new ArrayList<>();
        Optional<CronJob> found = d.named(CronJob.class, REAPER_CRONJOB);
        if (found.isEmpty()) {
            problems.add("no CronJob " + REAPER_CRONJOB);
            return problems;
        }
        CronJob cj = found.get();
        String where = "CronJob " + REAPER_CRONJOB;
        CronJobSpec spec = cj.getSpec();
        if (!REAPER_SCHEDULE.equals(spec.getSchedule())) {
            problems.add(where + " must run on schedule " + REAPER_SCHEDULE + ", has " + spec.getSchedule());
        }
        if (!"Forbid".equals(spec.getConcurrencyPolicy())) {
            problems.add(where + " must use concurrencyPolicy Forbid (one sweep at a time)");
        }
        if (spec.getStartingDeadlineSeconds() == null
                || spec.getStartingDeadlineSeconds() < 1
                || spec.getStartingDeadlineSeconds() >= REAPER_PERIOD_SECONDS) {
            problems.add(where + " must set startingDeadlineSeconds below the " + REAPER_PERIOD_SECONDS + " s period");
        }
        for (Integer limit :
                java.util.Arrays.asList(spec.getSuccessfulJobsHistoryLimit(), spec.getFailedJobsHistoryLimit())) {
            if (limit == null || limit > 3) {
                problems.add(
                        where + " must keep at most 3 finished Jobs of each kind (successful/failedJobsHistoryLimit)");
                break;
            }
        }
        JobSpec job = spec.getJobTemplate().getSpec();
        PodTemplateSpec template = job.getTemplate();
        PodSpec pod = template.getSpec();
        Map<String, String> annotations = orEmpty(
                template.getMetadata() == null ? null : template.getMetadata().getAnnotations());
        if (!REAPER_SERVICE_ACCOUNT.equals(pod.getServiceAccountName())) {
            problems.add(where + " must run as service account " + REAPER_SERVICE_ACCOUNT
                    + " (the identity the reaper admits)");
        }
        if (d.named(ServiceAccount.class, REAPER_SERVICE_ACCOUNT).isEmpty()) {
            problems.add("no ServiceAccount " + REAPER_SERVICE_ACCOUNT);
        }
        if (!Set.of("Never", "OnFailure").contains(pod.getRestartPolicy())) {
            problems.add(where + " pods must use restartPolicy Never or OnFailure");
        }
        if (pod.getContainers().size() != 1) {
            problems.add(where + " must have exactly one container");
            return problems;
        }
        Container c = pod.getContainers().get(0);
        String script = withoutComments(String.join("\n", c.getCommand()) + "\n" + String.join("\n", c.getArgs()));
        Optional<Service> reaper = d.serving(REAPER_FUNCTION);
        if (reaper.isEmpty()) {
            problems.add("no Knative Service serves " + REAPER_FUNCTION);
        } else {
            String expectedUrl = "http://" + reaper.get().getMetadata().getName() + "." + d.knativeNamespace()
                    + ".svc.cluster.local/api/" + REAPER_FUNCTION;
            String url = envValue(c, "REAPER_URL");
            if (!expectedUrl.equals(url)) {
                problems.add(where + " must call " + expectedUrl + " (env REAPER_URL), calls " + url);
            }
            if (!script.contains("\"$REAPER_URL\"")) {
                problems.add(where + "'s command never uses \"$REAPER_URL\"");
            }
            Long reaperTimeout = reaper.get().getSpec().getTemplate().getSpec().getTimeoutSeconds();
            Long maxTime = curlMaxTime(script);
            Long deadline = job.getActiveDeadlineSeconds();
            if (maxTime == null) {
                problems.add(where + "'s curl must bound its call with --max-time");
            } else if (reaperTimeout != null && maxTime < reaperTimeout) {
                problems.add(where + "'s curl --max-time " + maxTime + " gives up before the reaper's timeoutSeconds "
                        + reaperTimeout);
            }
            if (deadline == null || deadline >= REAPER_PERIOD_SECONDS || (maxTime != null && deadline <= maxTime)) {
                problems.add(where + " must set activeDeadlineSeconds above curl's --max-time and below the "
                        + REAPER_PERIOD_SECONDS
                        + " s period, so a stuck Job cannot block later runs (concurrencyPolicy Forbid)");
            }
        }
        if (!Pattern.compile("(^|\\s)-X\\s+POST(\\s|$)").matcher(script).find()) {
            problems.add(where + " must call the reaper with POST (-X POST)");
        }
        // Completion under the mesh.
        if ("false".equals(annotations.get("sidecar.istio.io/inject"))) {
            problems.add(where + " must not opt out of the mesh: the reaper admits the CronJob's mesh identity only");
        }
        if (!"true".equals(annotations.get("sidecar.istio.io/nativeSidecar"))) {
            problems.add(
                    where
                            + " pods must ask for a native Istio sidecar (annotation sidecar.istio.io/nativeSidecar: \"true\"), which the kubelet stops when the Job's container exits");
        }
        if (!Pattern.compile("(?m)^\\s*trap\\s+'[^']*15020/quitquitquit[^']*'\\s+EXIT\\s*$")
                .matcher(script)
                .find()) {
            problems.add(where
                    + "'s script must stop a classic Istio sidecar on exit (trap '... 15020/quitquitquit ...' EXIT)");
        }
        return problems;
    }

    /** The script's lines that are not shell comments, so that a commented-out command counts for nothing. */
    static String withoutComments(String script) {
        return script.lines().filter(l -> !l.trim().startsWith("#")).collect(java.util.stream.Collectors.joining("\n"));
    }

    private static Long curlMaxTime(String script) {
        Matcher m = Pattern.compile("--max-time[ =](\\d+)").matcher(script);
        return m.find() ? Long.valueOf(m.group(1)) : null;
    }

    // ---------------------------------------------------------------------------------------------
    // Mesh security

    /**
     * Each function admits only its expected callers: the public functions the ingress gateway (with
     * their one method and path) and Knative's system namespace (activator, probes, metrics); the
     * reaper only the CronJob's service account and Knative's system namespace.
     */
    static List<String> authorization(Deployment d) {
        List<String> problems = new ArrayList<>();
        String ns = d.knativeNamespace();
        String reaperPrincipal = "cluster.local/ns/" + ns + "/sa/" + REAPER_SERVICE_ACCOUNT;
        for (Service s : d.knativeServices()) {
            String name = s.getMetadata().getName();
            List<AuthorizationPolicy> policies = d.authorizationPolicies().stream()
                    .filter(p -> p.getSpec().getSelector() != null
                            && name.equals(orEmpty(p.getSpec().getSelector().getMatchLabels())
                                    .get("serving.knative.dev/service")))
                    .toList();
            if (policies.size() != 1) {
                problems.add("Knative Service " + name
                        + " must have exactly one AuthorizationPolicy selecting serving.knative.dev/service=" + name
                        + ", has " + policies.size());
                continue;
            }
            AuthorizationPolicy p = policies.get(0);
            String where = "AuthorizationPolicy " + p.getMetadata().getName();
            if (p.getSpec().getAction() != null && p.getSpec().getAction() != AuthorizationPolicyAction.ALLOW) {
                problems.add(where + " must be an ALLOW policy");
            }
            List<String> functions = Deployment.functionsOf(s);
            boolean reaper = functions.contains(REAPER_FUNCTION);
            String expectedPrincipal = reaper ? reaperPrincipal : INGRESS_PRINCIPAL;
            boolean admitsExpected = false;
            for (Rule rule : p.getSpec().getRules()) {
                List<Source> sources = rule.getFrom().stream()
                        .map(RuleFrom::getSource)
                        .filter(Objects::nonNull)
                        .toList();
                if (sources.isEmpty()) {
                    problems.add(where + " has a rule without `from`: it admits any caller");
                    continue;
                }
                for (Source src : sources) {
                    if (src.getPrincipals().isEmpty() && src.getNamespaces().isEmpty()) {
                        problems.add(where + " has a source that names neither principals nor namespaces");
                    }
                    if (!src.getNotPrincipals().isEmpty()
                            || !src.getNotNamespaces().isEmpty()
                            || !src.getIpBlocks().isEmpty()
                            || !src.getRemoteIpBlocks().isEmpty()
                            || !src.getRequestPrincipals().isEmpty()
                            || !src.getServiceAccounts().isEmpty()) {
                        problems.add(where + " uses a source field this deployment does not reason about");
                    }
                    for (String ns2 : src.getNamespaces()) {
                        if (!KNATIVE_SYSTEM_NAMESPACE.equals(ns2)) {
                            problems.add(where + " admits namespace " + ns2 + "; only " + KNATIVE_SYSTEM_NAMESPACE
                                    + " (the activator) is expected");
                        }
                    }
                    for (String principal : src.getPrincipals()) {
                        if (!principal.equals(expectedPrincipal)) {
                            problems.add(where + " admits " + principal + "; " + name + " expects only "
                                    + expectedPrincipal);
                        } else {
                            admitsExpected = true;
                            problems.addAll(operationProblems(where, rule, functions));
                        }
                    }
                }
            }
            if (!admitsExpected) {
                problems.add(where + " never admits " + expectedPrincipal);
            }
        }
        return problems;
    }

    private static List<String> operationProblems(String where, Rule rule, List<String> functions) {
        List<String> problems = new ArrayList<>();
        List<Operation> ops = rule.getTo().stream()
                .map(RuleTo::getOperation)
                .filter(Objects::nonNull)
                .toList();
        if (ops.size() != 1) {
            problems.add(where + " must restrict its principal rule to one operation (method and path)");
            return problems;
        }
        String function = functions.isEmpty() ? "?" : functions.get(0);
        String method = function.equals(REAPER_FUNCTION) ? "POST" : PUBLIC_FUNCTIONS.get(function);
        if (!List.of(String.valueOf(method)).equals(ops.get(0).getMethods())) {
            problems.add(where + " must admit method " + method + " only, admits "
                    + ops.get(0).getMethods());
        }
        if (!List.of("/api/" + function).equals(ops.get(0).getPaths())) {
            problems.add(where + " must admit path /api/" + function + " only, admits "
                    + ops.get(0).getPaths());
        }
        return problems;
    }

    /**
     * Mutual TLS is STRICT for the whole namespace, with no exception. The user databases are out of the mesh instead
     * (their pod template, from {@code databasePodLabels}, carries {@code sidecar.istio.io/inject: "false"}): a sidecar
     * on a PERMISSIVE MySQL port breaks the server-first protocol, and a policy that selects those pods would have no
     * sidecar to enforce it, so none may.
     */
    static List<String> peerAuthentication(Deployment d, Map<String, String> databasePodLabels) {
        List<String> problems = new ArrayList<>();
        if (!"false".equals(databasePodLabels.get("sidecar.istio.io/inject"))) {
            problems.add("database pods must carry the label sidecar.istio.io/inject: \"false\" (MySQL is server-first:"
                    + " a sidecar breaks it), their template has " + databasePodLabels);
        }
        boolean strictNamespace = false;
        for (PeerAuthentication pa : d.peerAuthentications()) {
            String where = "PeerAuthentication " + pa.getMetadata().getName();
            PeerAuthenticationMutualTLSMode mode = pa.getSpec().getMtls() == null
                    ? null
                    : pa.getSpec().getMtls().getMode();
            Map<String, String> selector = pa.getSpec().getSelector() == null
                    ? Map.of()
                    : orEmpty(pa.getSpec().getSelector().getMatchLabels());
            if (selector.isEmpty()) {
                if (mode == PeerAuthenticationMutualTLSMode.STRICT) {
                    strictNamespace = true;
                } else {
                    problems.add(where + " applies to the whole namespace and must be STRICT, is " + mode);
                }
            } else if (databasePodLabels.entrySet().containsAll(selector.entrySet())) {
                problems.add(where + " selects the database pods, which have no sidecar to enforce it");
            } else if (mode != PeerAuthenticationMutualTLSMode.STRICT) {
                problems.add(where + " relaxes mutual TLS for " + selector + "; every meshed pod stays STRICT");
            }
            if (!orEmpty(pa.getSpec().getPortLevelMtls()).isEmpty()) {
                problems.add(where + " has port exceptions "
                        + pa.getSpec().getPortLevelMtls().keySet() + "; no port of a meshed pod may be relaxed");
            }
        }
        if (!strictNamespace) {
            problems.add("no namespace-wide PeerAuthentication with mtls.mode STRICT");
        }
        return problems;
    }

    /** User databases accept TCP 3306 from the SQLFlow server's pods only. */
    static List<String> networkPolicy(Deployment d) {
        List<String> problems = new ArrayList<>();
        List<NetworkPolicy> dbPolicies = d.networkPolicies().stream()
                .filter(np -> {
                    Map<String, String> sel = orEmpty(
                            np.getSpec().getPodSelector() == null
                                    ? null
                                    : np.getSpec().getPodSelector().getMatchLabels());
                    return "database".equals(sel.get("app.kubernetes.io/component"))
                            && "sqlflow-playground".equals(sel.get("app.kubernetes.io/managed-by"));
                })
                .toList();
        if (dbPolicies.size() != 1) {
            problems.add(
                    "expected one NetworkPolicy selecting app.kubernetes.io/component=database,app.kubernetes.io/managed-by=sqlflow-playground, found "
                            + dbPolicies.size());
            return problems;
        }
        NetworkPolicy np = dbPolicies.get(0);
        String where = "NetworkPolicy " + np.getMetadata().getName();
        if (!np.getSpec().getPolicyTypes().contains("Ingress")) {
            problems.add(where + " must list policyTypes Ingress");
        }
        List<NetworkPolicyIngressRule> rules = np.getSpec().getIngress();
        if (rules.size() != 1) {
            problems.add(where + " must have exactly one ingress rule, has " + rules.size());
            return problems;
        }
        NetworkPolicyIngressRule rule = rules.get(0);
        List<NetworkPolicyPort> ports = rule.getPorts();
        if (ports.size() != 1
                || !"TCP".equals(Optional.ofNullable(ports.get(0).getProtocol()).orElse("TCP"))
                || ports.get(0).getPort() == null
                || !Integer.valueOf(3306).equals(ports.get(0).getPort().getIntVal())
                || ports.get(0).getEndPort() != null) {
            problems.add(where + " must admit exactly TCP 3306");
        }
        if (rule.getFrom().isEmpty()) {
            problems.add(where + " admits every source (empty from)");
        }
        for (NetworkPolicyPeer peer : rule.getFrom()) {
            LabelSelector pods = peer.getPodSelector();
            if (peer.getIpBlock() != null) {
                problems.add(where + " must not admit IP blocks");
            }
            if (pods == null
                    || (orEmpty(pods.getMatchLabels()).isEmpty()
                            && pods.getMatchExpressions().isEmpty())) {
                problems.add(where + " must admit pods by a non-empty podSelector (the SQLFlow server's labels)");
            }
        }
        problems.addAll(databaseEgress(where, np));
        return problems;
    }

    /** A database opens no connection of its own: egress is DNS to the cluster's DNS pods, nothing else. */
    private static List<String> databaseEgress(String where, NetworkPolicy np) {
        List<String> problems = new ArrayList<>();
        if (!np.getSpec().getPolicyTypes().contains("Egress")) {
            problems.add(where + " must list policyTypes Egress (without it the database pods may connect anywhere)");
            return problems;
        }
        for (var rule : np.getSpec().getEgress()) {
            if (rule.getTo().isEmpty()) {
                problems.add(where + " has an egress rule to every destination (empty to)");
            }
            for (NetworkPolicyPeer peer : rule.getTo()) {
                if (peer.getIpBlock() != null) {
                    problems.add(where + " must not allow egress to IP blocks");
                }
                Map<String, String> pods = orEmpty(
                        peer.getPodSelector() == null
                                ? null
                                : peer.getPodSelector().getMatchLabels());
                Map<String, String> nss = orEmpty(
                        peer.getNamespaceSelector() == null
                                ? null
                                : peer.getNamespaceSelector().getMatchLabels());
                if (!"kube-dns".equals(pods.get("k8s-app"))
                        || !"kube-system".equals(nss.get("kubernetes.io/metadata.name"))) {
                    problems.add(where + " allows egress to something other than the cluster DNS pods: " + pods + " in "
                            + nss);
                }
            }
            if (rule.getPorts().isEmpty()) {
                problems.add(where + " has an egress rule for every port");
            }
            for (NetworkPolicyPort port : rule.getPorts()) {
                if (port.getPort() == null
                        || !Integer.valueOf(53).equals(port.getPort().getIntVal())
                        || port.getEndPort() != null) {
                    problems.add(where + " allows egress to a port other than 53 (DNS)");
                }
            }
        }
        return problems;
    }

    /** Each Role is namespace-scoped and bounded; bindings and service accounts line up, one per function. */
    static List<String> rbac(Deployment d) {
        List<String> problems = new ArrayList<>();
        for (String account : SERVICE_FOR_FUNCTION.values()) {
            if (d.named(Role.class, account).isEmpty()) {
                problems.add("no Role " + account);
            }
            boolean bound = d.roleBindings().stream()
                    .anyMatch(rb -> account.equals(rb.getRoleRef().getName())
                            && rb.getSubjects().size() == 1
                            && account.equals(rb.getSubjects().get(0).getName()));
            if (!bound) {
                problems.add("no RoleBinding gives ServiceAccount " + account + " (and only it) the Role " + account);
            }
        }
        for (Role role : d.all(Role.class)) {
            String roleName = role.getMetadata().getName();
            for (PolicyRule rule : role.getRules()) {
                for (List<String> field : List.of(rule.getApiGroups(), rule.getResources(), rule.getVerbs())) {
                    if (field.contains("*")) {
                        problems.add("Role " + roleName + " uses a wildcard: " + field);
                    }
                }
                if (!rule.getResourceNames().isEmpty() && rule.getVerbs().contains("create")) {
                    problems.add(
                            "Role " + roleName + " restricts create by resourceNames, which Kubernetes cannot enforce");
                }
                if (rule.getResources().contains("secrets")
                        && (rule.getVerbs().contains("list") || rule.getVerbs().contains("watch"))) {
                    problems.add("Role " + roleName + " lets a function list or watch every Secret of the namespace");
                }
                for (String verb : List.of("escalate", "bind", "impersonate")) {
                    if (rule.getVerbs().contains(verb)) {
                        problems.add("Role " + roleName + " grants " + verb);
                    }
                }
            }
        }
        for (RoleBinding rb : d.roleBindings()) {
            String where = "RoleBinding " + rb.getMetadata().getName();
            if (!"Role".equals(rb.getRoleRef().getKind())
                    || d.named(Role.class, rb.getRoleRef().getName()).isEmpty()) {
                problems.add(where + " must bind a Role of this deployment");
            }
            for (Subject subject : rb.getSubjects()) {
                if (!"ServiceAccount".equals(subject.getKind())
                        || d.named(ServiceAccount.class, subject.getName()).isEmpty()) {
                    problems.add(where + " binds " + subject.getKind() + " " + subject.getName()
                            + ", not a ServiceAccount of this deployment");
                }
                if (REAPER_SERVICE_ACCOUNT.equals(subject.getName())) {
                    problems.add(where + " gives the reaper CronJob Kubernetes permissions it does not need");
                }
                if (subject.getNamespace() != null && !subject.getNamespace().equals(d.knativeNamespace())) {
                    problems.add(where + " binds a service account of namespace " + subject.getNamespace());
                }
            }
        }
        for (Service s : d.knativeServices()) {
            String sa = s.getSpec().getTemplate().getSpec().getServiceAccountName();
            if (sa == null || d.named(ServiceAccount.class, sa).isEmpty()) {
                problems.add("Knative Service " + s.getMetadata().getName() + " runs as " + sa
                        + ", which is not a ServiceAccount of this deployment");
            }
        }
        return problems;
    }

    // ---------------------------------------------------------------------------------------------
    // Names and namespaces across files

    /** One namespace everywhere: both kustomizations, the Namespace object, and every string that spells it. */
    static List<String> namespaces(Deployment d) {
        List<String> problems = new ArrayList<>();
        String ns = d.knativeNamespace();
        if (ns == null || ns.isBlank()) {
            problems.add("knative/kustomization.yaml sets no namespace");
            return problems;
        }
        if (!ns.equals(d.istioNamespace())) {
            problems.add("istio/kustomization.yaml namespace " + d.istioNamespace() + " differs from knative/'s " + ns);
        }
        List<Namespace> nsObjects = d.namespaceObjects();
        if (nsObjects.size() != 1 || !ns.equals(nsObjects.get(0).getMetadata().getName())) {
            problems.add("expected one Namespace object named " + ns);
        } else {
            Map<String, String> labels = orEmpty(nsObjects.get(0).getMetadata().getLabels());
            if (!"enabled".equals(labels.get("istio-injection"))) {
                problems.add("Namespace " + ns
                        + " must be labelled istio-injection=enabled: without sidecars no mesh policy applies");
            }
            if (!"baseline".equals(labels.get("pod-security.kubernetes.io/enforce"))) {
                problems.add("Namespace " + ns
                        + " must enforce Pod Security baseline (label pod-security.kubernetes.io/enforce: baseline)");
            }
            if (!"restricted".equals(labels.get("pod-security.kubernetes.io/warn"))) {
                problems.add("Namespace " + ns
                        + " must warn at Pod Security restricted (label pod-security.kubernetes.io/warn: restricted)");
            }
        }
        for (KubernetesResource r : d.resources()) {
            if (r instanceof HasMetadata m
                    && !(r instanceof Namespace)
                    && m.getMetadata().getNamespace() != null
                    && !ns.equals(m.getMetadata().getNamespace())) {
                problems.add(m.getKind() + " " + m.getMetadata().getName() + " is in namespace "
                        + m.getMetadata().getNamespace() + ", not " + ns);
            }
        }
        for (Service s : d.knativeServices()) {
            String value = envValue(Deployment.container(s), "PLAYGROUND_NAMESPACE");
            if (!ns.equals(value)) {
                problems.add("Knative Service " + s.getMetadata().getName() + " has PLAYGROUND_NAMESPACE " + value
                        + ", not " + ns);
            }
        }
        Set<String> ownAccounts = new TreeSet<>();
        d.serviceAccounts().forEach(sa -> ownAccounts.add(sa.getMetadata().getName()));
        Pattern principal = Pattern.compile("cluster\\.local/ns/([^/]+)/sa/(.+)");
        for (AuthorizationPolicy p : d.authorizationPolicies()) {
            for (Rule rule : p.getSpec().getRules()) {
                for (RuleFrom from : rule.getFrom()) {
                    if (from.getSource() == null) {
                        continue;
                    }
                    for (String value : from.getSource().getPrincipals()) {
                        Matcher m = principal.matcher(value);
                        if (m.matches() && ownAccounts.contains(m.group(2)) && !ns.equals(m.group(1))) {
                            problems.add(
                                    "AuthorizationPolicy " + p.getMetadata().getName() + " names " + value + " but "
                                            + m.group(2) + " lives in " + ns);
                        }
                    }
                }
            }
        }
        return problems;
    }

    // ---------------------------------------------------------------------------------------------
    // Small helpers

    /** An Istio duration ("30s", "1.5s", "250ms", "2m", "1h") or null when absent or malformed. */
    static Duration parseDuration(String value) {
        if (value == null) {
            return null;
        }
        Matcher m = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h)").matcher(value.trim());
        if (!m.matches()) {
            return null;
        }
        BigDecimal amount = new BigDecimal(m.group(1));
        BigDecimal millis = switch (m.group(2)) {
            case "ms" -> amount;
            case "s" -> amount.movePointRight(3);
            case "m" -> amount.multiply(BigDecimal.valueOf(60_000));
            default -> amount.multiply(BigDecimal.valueOf(3_600_000));
        };
        return Duration.ofMillis(millis.longValue());
    }

    private static String exact(StringMatch match) {
        return match != null && match.getMatchType() instanceof StringMatchExact e ? e.getExact() : null;
    }

    private static String envValue(Container c, String name) {
        return Deployment.env(c, name).map(EnvVar::getValue).orElse(null);
    }

    private static Integer intAnnotation(Map<String, String> annotations, String key) {
        try {
            return annotations.containsKey(key) ? Integer.valueOf(annotations.get(key)) : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static boolean containsIgnoreCase(List<String> values, String wanted) {
        return values != null && values.stream().anyMatch(v -> v.equalsIgnoreCase(wanted));
    }

    private static String getIgnoreCase(Map<String, String> map, String key) {
        if (map == null) {
            return null;
        }
        return map.entrySet().stream()
                .filter(e -> e.getKey().toLowerCase(Locale.ROOT).equals(key))
                .map(Map.Entry::getValue)
                .findFirst()
                .orElse(null);
    }

    private static <K, V> Map<K, V> orEmpty(Map<K, V> map) {
        return map == null ? Map.of() : map;
    }
}
