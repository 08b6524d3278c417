package org.sqlflow.playground.api;

import java.io.IOException;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterChain;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.cloud.function.context.FunctionCatalog;
import org.springframework.web.filter.OncePerRequestFilter;
import org.sqlflow.playground.PlaygroundException;

/**
 * The API port's front door, in front of spring-cloud-function-web, which serves all three functions. It answers
 * every request that is not exactly one of our endpoints with a JSON 404 or 405, has {@link ApiInput} read the
 * request and check its caller, and hands the framework a {@link CanonicalRequest}. create_db runs inside a slot
 * of {@link InFlightLimits}: the framework calls the function on this thread before the chain returns, so the
 * slot is held exactly as long as the function runs. Every answer carries {@code Cache-Control: no-store}
 * (create_db's holds the database password; a cached heart_beat would be a beat not stored). Errors, from here
 * or from the functions, leave as JSON.
 */
public class ApiEdgeFilter extends OncePerRequestFilter {

    private final Set<Endpoint> served = EnumSet.noneOf(Endpoint.class);
    private final ApiInput input;
    private final InFlightLimits limits;
    private final Duration retryAfter;
    private final MeterRegistry meters;

    /**
     * @param servedFunctions the endpoints this instance answers; each must be a function the framework can find
     *     by its alias, or the application does not start
     */
    public ApiEdgeFilter(Set<String> servedFunctions, FunctionCatalog functions, ApiInput input,
            InFlightLimits limits, Duration retryAfter, MeterRegistry meters) {
        for (Endpoint e : Endpoint.values()) {
            if (servedFunctions.contains(e.function())) {
                if (functions.lookup(e.function()) == null) {
                    throw new IllegalStateException("playground.api.functions names " + e.function()
                            + ", but spring-cloud-function finds no function bean of that name");
                }
                served.add(e);
            }
        }
        this.input = input;
        this.limits = limits;
        this.retryAfter = retryAfter;
        this.meters = meters;
    }

    @Override
    protected boolean shouldNotFilterErrorDispatch() {
        // Container-level errors (e.g. a malformed request line) must leave as our JSON too.
        return false;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        if (request.getDispatcherType() == DispatcherType.ERROR) {
            Object status = request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE);
            int code = status instanceof Integer i ? i : 500;
            ApiErrors.write(response, code, code == 404 ? "not_found" : code < 500 ? "bad_request" : "internal_error",
                    code < 500 ? "The request could not be understood." : "Something went wrong on the playground server.",
                    null);
            return;
        }
        Timer.Sample sample = Timer.start(meters);
        String endpointTag = "none";
        try {
            Endpoint endpoint = route(request);
            endpointTag = endpoint.function();
            ApiInput.Checked checked = input.check(endpoint, request);
            HttpServletRequest canonical = new CanonicalRequest(request, checked.json());
            response.setHeader("Cache-Control", "no-store");
            if (endpoint == Endpoint.CREATE_DB) {
                InFlightLimits.Permit permit = limits.acquire(checked.userId(), checked.caller());
                try {
                    chain.doFilter(canonical, response);
                } finally {
                    permit.close();
                }
            } else {
                chain.doFilter(canonical, response);
            }
        } catch (PlaygroundException e) {
            fail(response, e, endpointTag);
        } catch (ServletException | RuntimeException e) {
            fail(response, ApiErrors.classify(e, retryAfter), endpointTag);
        } finally {
            sample.stop(meters.timer("playground.api.requests", "endpoint", endpointTag,
                    "status", Integer.toString(response.getStatus())));
        }
    }

    private void fail(HttpServletResponse response, PlaygroundException e, String endpoint) throws IOException {
        meters.counter("playground.api.errors", "endpoint", endpoint, "code", e.code()).increment();
        ApiErrors.write(response, e);
    }

    private Endpoint route(HttpServletRequest request) {
        Optional<Endpoint> found = Endpoint.forPath(request.getRequestURI()).filter(served::contains);
        if (found.isEmpty()) {
            throw new PlaygroundException(404, "not_found", "No such endpoint. This server answers POST "
                    + "/api/create_db and GET /api/heart_beat?user_id=ID.");
        }
        Endpoint endpoint = found.get();
        if (!endpoint.method().equals(request.getMethod())) {
            throw new PlaygroundException(405, "method_not_allowed",
                    endpoint.path() + " takes " + endpoint.method() + " only.");
        }
        return endpoint;
    }
}
