package org.sqlflow.playground.certs;

/** A refusal or a missing precondition, with a message written for the maintainer (printed as is by the CLI). */
public class CertsException extends Exception {

    private static final long serialVersionUID = 1L;

    public CertsException(String message) {
        super(message);
    }

    public CertsException(String message, Throwable cause) {
        super(message, cause);
    }
}
