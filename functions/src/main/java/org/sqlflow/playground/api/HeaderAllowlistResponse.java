package org.sqlflow.playground.api;

import java.util.Set;

import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;

/** Lets through only the response headers we mean to send, so nothing from the request is ever echoed. */
final class HeaderAllowlistResponse extends HttpServletResponseWrapper {

    private static final Set<String> ALLOWED = Set.of("content-type", "content-length", "retry-after",
            "cache-control", "allow");

    HeaderAllowlistResponse(HttpServletResponse response) {
        super(response);
    }

    private static boolean allowed(String name) {
        return name != null && ALLOWED.contains(name.toLowerCase());
    }

    @Override
    public void setHeader(String name, String value) {
        if (allowed(name)) {
            super.setHeader(name, value);
        }
    }

    @Override
    public void addHeader(String name, String value) {
        if (allowed(name)) {
            super.addHeader(name, value);
        }
    }

    @Override
    public void setIntHeader(String name, int value) {
        if (allowed(name)) {
            super.setIntHeader(name, value);
        }
    }

    @Override
    public void addIntHeader(String name, int value) {
        if (allowed(name)) {
            super.addIntHeader(name, value);
        }
    }

    @Override
    public void setDateHeader(String name, long date) {
        if (allowed(name)) {
            super.setDateHeader(name, date);
        }
    }

    @Override
    public void addDateHeader(String name, long date) {
        if (allowed(name)) {
            super.addDateHeader(name, date);
        }
    }
}
