package org.sqlflow.playground.testing;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * See {@link RealApiTier}. A class-level condition, so a skipped class is reported as skipped with its reason
 * and none of its set-up runs; under {@code CI=true} the condition throws, which fails the class.
 */
public final class RealApiExtension implements ExecutionCondition {

    private static boolean told;

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        String reason = RealApi.unavailableReason();
        if (reason == null) {
            return ConditionEvaluationResult.enabled("a real API server answers at " + RealApi.settings().apiUrl());
        }
        if (RealApi.underCi()) {
            throw new IllegalStateException("CI=true and the real-API tier cannot run: " + reason);
        }
        String message = "real-API tier skipped: " + reason;
        synchronized (RealApiExtension.class) {
            if (!told) {
                told = true;
                System.err.println("[WARNING] " + message);
            }
        }
        return ConditionEvaluationResult.disabled(message);
    }
}
