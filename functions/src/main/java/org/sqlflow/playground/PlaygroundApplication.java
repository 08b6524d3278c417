package org.sqlflow.playground;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/** The playground server. {@code java -jar sqlflow-playground.jar [--local] [seed flags]}. */
@SpringBootApplication
public class PlaygroundApplication {

    public static void main(String[] args) {
        LaunchOptions options = LaunchOptions.parse(args);
        SpringApplication app = new SpringApplication(PlaygroundApplication.class);
        app.run(options.springArguments());
    }
}
