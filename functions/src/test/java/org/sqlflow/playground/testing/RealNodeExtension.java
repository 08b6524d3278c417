package org.sqlflow.playground.testing;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/** See {@link RealNodeTier}; like {@link RealApiExtension}, a class-level condition that throws under CI. */
public final class RealNodeExtension implements ExecutionCondition {

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        String reason = RealNode.unavailableReason();
        if (reason == null) {
            return ConditionEvaluationResult.enabled("node " + RealNode.settings().nodeName() + " runs pods");
        }
        if (RealApi.underCi()) {
            throw new IllegalStateException("CI=true and the node tier cannot run: " + reason);
        }
        String message = "node tier skipped: " + reason;
        System.err.println("[WARNING] " + message);
        return ConditionEvaluationResult.disabled(message);
    }
}
