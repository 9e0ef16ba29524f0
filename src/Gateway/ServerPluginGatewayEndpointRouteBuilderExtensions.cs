using Compose.Gateway;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the Compose gateway's endpoints.</summary>
public static class ServerPluginGatewayEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the gateway: YARP's routes (<c>{RoutePrefix}/{id}/{**rest}</c> and <c>{AssetsPrefix}/{id}/{**rest}</c> of each
    /// running plugin, to a cluster of the replicas of the host composing it, with the prefixes that host's catalog
    /// names), the gateway catalog at <c>GET {RoutePrefix}</c> (options), and an answer for plugin paths no host serves
    /// (under the gateway's <c>RoutePrefix</c> and <c>AssetsPrefix</c>):
    /// 404 problem+json for an unknown or switched-off plugin, 503 for an ambiguous or failed one. With no healthy replica
    /// left, YARP's routes answer 503 problem+json naming the plugin and its host. A bodiless GET, HEAD or OPTIONS whose
    /// forward failed before any response is retried once on each other available replica; any other failed forward
    /// answers 502 problem+json naming them.
    /// </summary>
    /// <remarks>
    /// Requests are forwarded by YARP: the client's <c>Authorization</c> and cookies unchanged, <c>X-Forwarded-For</c>,
    /// <c>-Proto</c>, <c>-Host</c> and <c>-Prefix</c> set, hop-by-hop headers dropped, WebSockets tunnelled. The catalog
    /// credential is used only by the gateway's own catalog requests. The returned builder's conventions
    /// (<c>RequireAuthorization()</c>, <c>RequireRateLimiting()</c>, CORS) apply to everything this maps, including routes
    /// added later by a refresh.
    /// </remarks>
    /// <param name="endpoints">The application.</param>
    /// <returns>A convention builder for every endpoint the gateway maps.</returns>
    /// <exception cref="InvalidOperationException"><c>AddServerPluginGateway</c> was not called.</exception>
    public static IEndpointConventionBuilder MapServerPluginGateway(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var directory = endpoints.ServiceProvider.GetService<GatewayDirectory>()
            ?? throw new InvalidOperationException(
                "The gateway is not registered: call builder.Services.AddServerPluginGateway(builder.Configuration) before app.MapServerPluginGateway().");
        var options = endpoints.ServiceProvider.GetRequiredService<IOptionsMonitor<ServerPluginGatewayOptions>>();
        var routePrefix = "/" + options.CurrentValue.RoutePrefix.Trim('/');

        var proxy = endpoints.MapReverseProxy(pipeline =>
        {
            pipeline.Use((context, next) => GatewayProblems.ForwardAsync(context, next, options.CurrentValue));
            pipeline.UseSessionAffinity();
            pipeline.UseLoadBalancing();
            pipeline.UsePassiveHealthChecks();
        });
        var catalog = endpoints.MapGet(routePrefix, context => GatewayCatalog.WriteAsync(context, directory, endpoints.ServiceProvider.GetRequiredService<IProxyStateLookup>()))
            .WithName("ServerPluginGatewayCatalog");
        var unserved = endpoints.Map(routePrefix + "/{id}/{**rest}", context => GatewayProblems.UnservedAsync(context, directory.View))
            .WithOrder(int.MaxValue)
            .WithName("ServerPluginGatewayUnserved");
        var assetsPrefix = "/" + options.CurrentValue.AssetsPrefix.Trim('/');
        var unservedAssets = endpoints.Map(assetsPrefix + "/{id}/{**rest}", context => GatewayProblems.UnservedAsync(context, directory.View))
            .WithOrder(int.MaxValue)
            .WithName("ServerPluginGatewayUnservedAssets");
        return new CompositeConventionBuilder([proxy, catalog, unserved, unservedAssets]);
    }

    private sealed class CompositeConventionBuilder(IReadOnlyList<IEndpointConventionBuilder> builders) : IEndpointConventionBuilder
    {
        public void Add(Action<EndpointBuilder> convention)
        {
            foreach (var builder in builders)
            {
                builder.Add(convention);
            }
        }

        public void Finally(Action<EndpointBuilder> finallyConvention)
        {
            foreach (var builder in builders)
            {
                builder.Finally(finallyConvention);
            }
        }
    }
}
