package org.sqlflow.playground.testing;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Skips a test class whose {@link Tier} cannot run here, with the reason, before any of its set-up (a Spring
 * context included) runs; where CI requires the tier, the condition throws, which fails the class.
 */
public final class TierCondition implements ExecutionCondition {

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        Tier tier = context.getTestClass().map(Tier::of).orElse(Tier.FAST);
        String skip = tier.skipReason();
        return skip == null
                ? ConditionEvaluationResult.enabled("the " + tier + " tier runs here")
                : ConditionEvaluationResult.disabled(skip);
    }
}
