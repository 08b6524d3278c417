package org.sqlflow.playground.api;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import org.springframework.cloud.function.web.constants.WebRequestConstants;

/**
 * What spring-cloud-function-web sees of a request that passed the edge: a GET whose function input is the
 * validated JSON, with no body, no query, no parameters and none of the caller's headers. The framework hands a
 * GET's function the request attribute {@link WebRequestConstants#ARGUMENT} (otherwise the rest of the path
 * after the function's name, which the edge never lets through) as its input; the edge puts the JSON there. So
 * its defaults never come into play: a form body read as a map, query parameters and request headers turned
 * into message headers, which it then copies into the response. It reads parameters only as a map or by name.
 */
final class CanonicalRequest extends HttpServletRequestWrapper {

    CanonicalRequest(HttpServletRequest request, String json) {
        super(request);
        setAttribute(WebRequestConstants.ARGUMENT, json);
    }

    @Override
    public String getMethod() {
        return "GET";
    }

    @Override
    public String getContentType() {
        return null;
    }

    @Override
    public String getQueryString() {
        return null;
    }

    @Override
    public Map<String, String[]> getParameterMap() {
        return Map.of();
    }

    @Override
    public String[] getParameterValues(String name) {
        return null;
    }

    /** Only Accept, so that Spring MVC picks the framework's JSON handler and not its event stream. */
    @Override
    public String getHeader(String name) {
        return "accept".equalsIgnoreCase(name) ? "application/json" : null;
    }

    @Override
    public Enumeration<String> getHeaders(String name) {
        String value = getHeader(name);
        return value == null ? Collections.emptyEnumeration() : Collections.enumeration(List.of(value));
    }

    @Override
    public Enumeration<String> getHeaderNames() {
        return Collections.enumeration(List.of("accept"));
    }
}
