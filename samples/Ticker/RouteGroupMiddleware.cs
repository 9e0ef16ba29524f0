using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Ticker;

/// <summary>
/// Luker's <c>router.use(...)</c> for a route group: middleware around every endpoint of the group, and only those.
/// </summary>
/// <remarks>
/// It is a convention that wraps each endpoint's <see cref="EndpointBuilder.RequestDelegate"/>, so unlike an endpoint
/// filter it runs before parameter binding reads the body (a body limit must), sees the status code actually sent,
/// and covers endpoints mapped with a <see cref="RequestDelegate"/> (the WebSocket endpoint) without sending them
/// through the reflection-based <c>RequestDelegateFactory</c>, which filters would do: it stays Native AOT safe.
/// </remarks>
internal static class RouteGroupMiddleware
{
    /// <summary>Runs <paramref name="middleware"/> around every endpoint of the group, the first given outermost.</summary>
    /// <typeparam name="TBuilder">The group (or any endpoint convention builder).</typeparam>
    /// <param name="builder">The group.</param>
    /// <param name="middleware">Middleware in the order they run; each calls <c>next</c> to go on, or answers itself.</param>
    /// <returns>The group, for chaining.</returns>
    public static TBuilder UseMiddleware<TBuilder>(this TBuilder builder, params Func<HttpContext, RequestDelegate, Task>[] middleware)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(middleware);
        var pipeline = middleware.ToArray();
        builder.Add(endpoint =>
        {
            var next = endpoint.RequestDelegate ?? throw new InvalidOperationException($"Endpoint '{endpoint.DisplayName}' has no request delegate.");
            for (var i = pipeline.Length - 1; i >= 0; i--)
            {
                var current = pipeline[i];
                var inner = next;
                next = context => current(context, inner);
            }

            endpoint.RequestDelegate = next;
        });
        return builder;
    }
}
