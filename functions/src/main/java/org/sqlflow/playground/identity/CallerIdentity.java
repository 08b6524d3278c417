package org.sqlflow.playground.identity;

/**
 * Who is calling, as proven by a client certificate: the user it names and whether it carries the admin mark.
 * A user may act only for themselves; an admin for anyone.
 */
public record CallerIdentity(String userId, boolean admin) {

    public boolean mayActFor(String requestedUserId) {
        return admin || userId.equals(requestedUserId);
    }
}
