package org.sqlflow.playground.certs;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The bundle's .sqlflow_playground.env for the SQLFlow magic (sqlflow 0.15.0). The magic loads it with
 * python-dotenv when SQLFLOW_JUPYTER_ENV_PATH names it, then reads these variables; the server URL variable is
 * really spelt SQLFLOW_PLAYGROUND_SERVRE in that client.
 *
 * <p>The certificate paths are absolute at run time but written as {@code ${HOME}/...}: the bundle is made on
 * the maintainer's machine and used on the user's. python-dotenv expands {@code ${VAR}} inside double quotes (not
 * {@code $VAR}), and so does a shell that sources the file. A relative path would instead resolve against the
 * notebook's working directory, which changes from notebook to notebook.
 */
public final class EnvFile {

    public static final String FILE_NAME = ".sqlflow_playground.env";
    /** Where the README tells the user to put the bundle folder. */
    public static final String DEFAULT_BUNDLE_LOCATION = "${HOME}/.sqlflow_playground";
    /** The variable SQLFLOW_PLAYGROUND_USER_ID_ENV names, the one the original playground's README named too. */
    public static final String USER_ID_VARIABLE = "SQLFLOW_USER_ID";

    // Values go between double quotes; these characters would end the value or trigger expansion/escapes.
    private static final Pattern SAFE_VALUE = Pattern.compile("[^\"\\\\$`\\s]+");

    private EnvFile() {}

    /**
     * Variable to value, in file order; values are as written (before python-dotenv expands ${HOME}). A trailing
     * slash is dropped from the URL, because the magic appends "/api/...".
     */
    public static Map<String, String> variables(
            String userId, String playgroundUrl, String sqlflowServer, String bundleLocation) {
        requireSafe("playground URL", playgroundUrl);
        if (!playgroundUrl.matches("https?://[^/?#]+(/[^?#]*)?")) {
            throw new IllegalArgumentException(
                    "playground URL must look like https://host:port, got \"" + playgroundUrl + "\"");
        }
        String url = playgroundUrl.replaceAll("/+$", "");
        requireSafe("SQLFlow server", sqlflowServer);
        Map<String, String> variables = new LinkedHashMap<>();
        variables.put("SQLFLOW_SERVER", sqlflowServer);
        variables.put("SQLFLOW_PLAYGROUND_USER_ID_ENV", USER_ID_VARIABLE);
        variables.put(USER_ID_VARIABLE, userId);
        variables.put("SQLFLOW_PLAYGROUND_SERVRE", url);
        variables.put("SQLFLOW_PLAYGROUND_SERVER_CA", bundleLocation + "/" + CertsDirectory.CA_CERT);
        variables.put("SQLFLOW_PLAYGROUND_CLIENT_KEY", bundleLocation + "/" + CertsDirectory.CLIENT_KEY);
        variables.put("SQLFLOW_PLAYGROUND_CLIENT_CERT", bundleLocation + "/" + CertsDirectory.CLIENT_CERT);
        return variables;
    }

    public static String render(String userId, String playgroundUrl, String sqlflowServer, String bundleLocation) {
        StringBuilder text = new StringBuilder()
                .append("# SQLFlow playground settings for user ")
                .append(userId)
                .append(".\n")
                .append("# The paths below expect this whole folder (ca.crt, client.crt, client.key, this file) at ")
                .append(bundleLocation)
                .append("/\n")
                .append("# Then: export SQLFLOW_JUPYTER_ENV_PATH=\"")
                .append(bundleLocation)
                .append('/')
                .append(FILE_NAME)
                .append("\" before starting jupyter notebook.\n");
        variables(userId, playgroundUrl, sqlflowServer, bundleLocation)
                .forEach((name, value) ->
                        text.append(name).append("=\"").append(value).append("\"\n"));
        return text.toString();
    }

    private static void requireSafe(String what, String value) {
        if (!SAFE_VALUE.matcher(value).matches()) {
            throw new IllegalArgumentException(
                    what + " must be non-empty without quotes, backslashes, $, ` or " + "spaces: \"" + value + "\"");
        }
    }
}
