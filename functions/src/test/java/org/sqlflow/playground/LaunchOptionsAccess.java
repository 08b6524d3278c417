package org.sqlflow.playground;

import java.nio.file.Path;

/** Test access to {@link LaunchOptions}, which translates the jar's command line. */
public final class LaunchOptionsAccess {

    private LaunchOptionsAccess() {
    }

    /** The Spring arguments the jar would run with; {@code --local} dev certificates go to {@code devDir}. */
    public static String[] springArguments(String[] args, Path devDir) throws Exception {
        return LaunchOptions.parse(args, devDir).springArguments();
    }

    /** As the jar does, for command lines that give their own certificates (no dev certificates made). */
    public static String[] springArguments(String[] args) throws Exception {
        return LaunchOptions.parse(args).springArguments();
    }
}
