package org.sqlflow.playground.config;

import org.apache.catalina.Valve;
import org.apache.catalina.core.StandardHost;
import org.apache.catalina.valves.ErrorReportValve;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.sqlflow.playground.api.JsonErrorReportValve;

/**
 * The API port's Tomcat: its error answers are our JSON. The connection limits themselves are Spring Boot's
 * server.tomcat.* settings in application.yaml (docs/security.md, "Limits", lists them).
 *
 * <p>Spring Boot adds its own ErrorReportValve to the Host from a context customizer (spring-boot-tomcat 4.0.7,
 * TomcatWebServerFactoryCustomizer#customizeErrorReportValve), and Tomcat's StandardHost adds one of its
 * errorReportValveClass at start unless one of that class is there (apache/tomcat 11.0.x,
 * java/org/apache/catalina/core/StandardHost.java, startInternal). So this customizer runs last, takes every
 * ErrorReportValve off the Host and names ours as the Host's class.
 */
@Configuration(proxyBeanMethods = false)
public class ConnectorLimits {

    @Bean
    WebServerFactoryCustomizer<TomcatServletWebServerFactory> jsonConnectorErrors() {
        return new JsonConnectorErrors();
    }

    private static final class JsonConnectorErrors
            implements WebServerFactoryCustomizer<TomcatServletWebServerFactory>, Ordered {

        @Override
        public void customize(TomcatServletWebServerFactory factory) {
            factory.addContextCustomizers(context -> {
                if (context.getParent() instanceof StandardHost host) {
                    for (Valve valve : host.getPipeline().getValves()) {
                        if (valve instanceof ErrorReportValve && !(valve instanceof JsonErrorReportValve)) {
                            host.getPipeline().removeValve(valve);
                        }
                    }
                    host.setErrorReportValveClass(JsonErrorReportValve.class.getName());
                    host.getPipeline().addValve(new JsonErrorReportValve());
                }
            });
        }

        @Override
        public int getOrder() {
            return Ordered.LOWEST_PRECEDENCE;
        }
    }
}
