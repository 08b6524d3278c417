package org.sqlflow.playground.api;

import java.io.IOException;
import java.io.Writer;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ErrorReportValve;
import org.sqlflow.playground.error.PlaygroundError;
import tools.jackson.databind.json.JsonMapper;

/**
 * Tomcat's own error answers as our JSON error instead of its HTML page. Requests Tomcat rejects before any
 * filter runs (a malformed request line or header, an invalid URI, an unsupported transfer encoding, a header
 * section over server.max-http-request-header-size) are reported by the Host's ErrorReportValve; this one
 * takes its place (config/ConnectorLimits installs it). It never says why beyond the status: Tomcat's own
 * message can quote the request.
 *
 * <p>Upstream fact (apache/tomcat 11.0.x, java/org/apache/catalina/valves/ErrorReportValve.java): {@code invoke}
 * calls {@code report} after the rest of the pipeline for every uncommitted response with an error status;
 * {@code report} must do nothing below 400, when content was already written (our filter's JSON), or when
 * {@code setErrorReported()} says another valve reported it.
 */
public class JsonErrorReportValve extends ErrorReportValve {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Override
    protected void report(Request request, Response response, Throwable throwable) {
        int status = response.getStatus();
        if (status < 400 || response.getContentWritten() > 0 || !response.setErrorReported()) {
            return;
        }
        Map<String, String> body = new LinkedHashMap<>();
        PlaygroundError error = PlaygroundError.forStatus(status);
        body.put("error", error.code());
        body.put("message", error.message());
        try {
            response.setContentType("application/json");
            response.setCharacterEncoding("UTF-8");
            response.setHeader("Cache-Control", "no-store");
            Writer writer = response.getReporter();
            if (writer != null) {
                writer.write(JSON.writeValueAsString(body));
                response.finishResponse();
            }
        } catch (IOException | IllegalStateException e) {
            // The connection is gone or the response was committed meanwhile: nothing left to tell the client.
        }
    }
}
