package org.sqlflow.playground.testing;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/** See {@link RealApiTier}. */
public final class RealApiExtension implements BeforeAllCallback {

    @Override
    public void beforeAll(ExtensionContext context) {
        RealApi.require();
    }
}
