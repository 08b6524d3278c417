package org.sqlflow.playground.api;

import java.util.ArrayList;
import java.util.List;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.core.MethodParameter;
import org.springframework.web.context.request.NativeWebRequest;
import org.springframework.web.method.support.AsyncHandlerMethodReturnValueHandler;
import org.springframework.web.method.support.HandlerMethodReturnValueHandler;
import org.springframework.web.method.support.ModelAndViewContainer;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerAdapter;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityReturnValueHandler;
import reactor.core.publisher.Mono;

/**
 * spring-cloud-function-web answers with a Mono, which Spring MVC writes in a second, asynchronous dispatch of the
 * request (the filters, the handler and the function looked up all again). Our functions are plain, so the
 * framework has run the function before it makes the Mono, which holds the answer already: this handler, first
 * on Spring MVC's list, writes it at once on the request thread, as Spring MVC writes any ResponseEntity.
 */
final class CompletedAnswers implements AsyncHandlerMethodReturnValueHandler, BeanPostProcessor {

    private HandlerMethodReturnValueHandler entities;

    @Override
    public Object postProcessAfterInitialization(Object bean, String name) {
        if (bean instanceof RequestMappingHandlerAdapter adapter) {
            List<HandlerMethodReturnValueHandler> handlers = new ArrayList<>(adapter.getReturnValueHandlers());
            entities = handlers.stream()
                    .filter(ResponseEntityReturnValueHandler.class::isInstance)
                    .findFirst()
                    .orElseThrow();
            handlers.add(0, this);
            adapter.setReturnValueHandlers(handlers);
        }
        return bean;
    }

    @Override
    public boolean supportsReturnType(MethodParameter returnType) {
        return Mono.class.isAssignableFrom(returnType.getParameterType());
    }

    @Override
    public boolean isAsyncReturnValue(Object returnValue, MethodParameter returnType) {
        return returnValue instanceof Mono;
    }

    @Override
    public void handleReturnValue(
            Object returnValue,
            MethodParameter returnType,
            ModelAndViewContainer mavContainer,
            NativeWebRequest webRequest)
            throws Exception {
        entities.handleReturnValue(((Mono<?>) returnValue).block(), returnType, mavContainer, webRequest);
    }
}
