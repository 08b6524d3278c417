package org.sqlflow.playground.api;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.IOException;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;
import org.springframework.cloud.function.context.FunctionCatalog;
import org.springframework.cloud.function.context.catalog.SimpleFunctionRegistry.FunctionInvocationWrapper;
import org.springframework.web.filter.OncePerRequestFilter;
import org.sqlflow.playground.error.PlaygroundError;
import org.sqlflow.playground.error.PlaygroundException;

/**
 * The API port's front door; spring-cloud-function-web behind it serves the three functions. It answers every
 * request that is not exactly one of our endpoints with a JSON 404 or 405, has {@link ApiInput} read the request
 * and check its caller, and hands the framework a {@link CanonicalRequest}. The framework runs the function on
 * this thread before the chain returns, so create_db's slot of {@link InFlightLimits} is held exactly as long as
 * the function runs. Every answer is {@code Cache-Control: no-store} (create_db's holds a password; a cached
 * heart_beat would be a beat not stored). Each served function must exist when the filter is made, or the
 * application does not start. Errors leave as JSON; Tomcat's own are JsonErrorReportValve's.
 */
public class ApiEdgeFilter extends OncePerRequestFilter {

    private final Set<Endpoint> served = EnumSet.noneOf(Endpoint.class);
    private final ApiInput input;
    private final InFlightLimits limits;
    private final Duration retryAfter;
    private final MeterRegistry meters;

    public ApiEdgeFilter(
            Set<String> servedFunctions,
            FunctionCatalog functions,
            ApiInput input,
            InFlightLimits limits,
            Duration retryAfter,
            MeterRegistry meters) {
        for (Endpoint e : Endpoint.values()) {
            if (servedFunctions.contains(e.function)) {
                // Looked up by name, as the framework will; a catalog of one function answers any name with it.
                FunctionInvocationWrapper found = functions.lookup(e.function);
                if (found == null || !e.function.equals(found.getFunctionDefinition())) {
                    throw new IllegalStateException("playground.api.functions names " + e.function
                            + ", but spring-cloud-function finds no function of that name");
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
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        Timer.Sample sample = Timer.start(meters);
        String endpointTag = "none";
        try {
            Endpoint endpoint = route(request);
            endpointTag = endpoint.function;
            ApiInput.Checked checked = input.check(endpoint, request);
            response.setHeader("Cache-Control", "no-store");
            InFlightLimits.Permit permit =
                    endpoint == Endpoint.CREATE_DB ? limits.acquire(checked.userId(), checked.caller()) : null;
            try {
                chain.doFilter(new CanonicalRequest(request, checked.json()), new HttpServletResponseWrapper(response) {
                    @Override
                    public void flushBuffer() {
                        // Spring MVC flushes after writing, which sent the answer chunked, in two TLS records. Left
                        // alone, Tomcat sends it in one, with its Content-Length, when the request ends.
                    }
                });
            } finally {
                if (permit != null) {
                    permit.close();
                }
            }
        } catch (ServletException | RuntimeException e) {
            PlaygroundException error = ApiErrors.classify(e);
            meters.counter("playground.api.errors", "endpoint", endpointTag, "code", error.code())
                    .increment();
            ApiErrors.write(response, error, retryAfter);
        } finally {
            sample.stop(meters.timer(
                    "playground.api.requests",
                    "endpoint",
                    endpointTag,
                    "status",
                    Integer.toString(response.getStatus())));
        }
    }

    private Endpoint route(HttpServletRequest request) {
        for (Endpoint e : served) {
            if (e.path.equals(request.getRequestURI())) {
                if (!e.method.equals(request.getMethod())) {
                    throw PlaygroundError.WRONG_METHOD.exception(e.path, e.method);
                }
                return e;
            }
        }
        throw PlaygroundError.NOT_FOUND.exception();
    }
}
