package org.sqlflow.playground;

import java.util.Arrays;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.sqlflow.playground.certs.CertsCommand;
import org.sqlflow.playground.local.LocalRunBanner;

/**
 * The playground server: {@code java -jar sqlflow-playground.jar [--local] [--port=N --ca_crt=F --server_crt=F
 * --server_key=F [--crl=F]]}. {@code java -jar sqlflow-playground.jar certs ...} is the maintainer's certs tool.
 */
@SpringBootApplication
public class PlaygroundApplication {

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("certs")) {
            System.exit(CertsCommand.run(Arrays.copyOfRange(args, 1, args.length), System.out, System.err));
        }
        // The server's PKCS12 key stores (Spring's PEM SSL bundle, Tomcat's key managers, MutualTls) live in
        // memory only and are never written out; the JDK's default 10,000 PBKDF2 rounds to protect and then
        // unprotect each key there were several percent of start-up CPU (measured by bench/ with JFR).
        if (System.getProperty("keystore.pkcs12.keyPbeIterationCount") == null) {
            System.setProperty("keystore.pkcs12.keyPbeIterationCount", "1");
        }
        LaunchOptions options;
        try {
            options = LaunchOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("sqlflow-playground: " + e.getMessage());
            System.exit(2);
            return;
        }
        SpringApplication app = new SpringApplication(PlaygroundApplication.class);
        if (options.devCertificates() != null) {
            app.addListeners(new LocalRunBanner(options.devCertificates()));
        }
        app.run(options.springArguments());
    }
}
