using Compose.Gateway;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Yarp.ReverseProxy.Configuration;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Compose gateway: YARP, fed from the catalogs of the hosts behind it.</summary>
public static class ServerPluginGatewayServiceCollectionExtensions
{
    /// <summary>
    /// Adds the gateway: options bound from <c>Compose:Gateway</c> (reloaded with the configuration), the directory that
    /// reads every host's catalog at start-up and every <see cref="ServerPluginGatewayOptions.RefreshInterval"/>, YARP
    /// with that directory as its configuration provider, and the health check <c>compose-gateway</c> (Degraded when a
    /// host is down). Map it with <c>app.MapServerPluginGateway()</c>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The application's configuration; the section <c>Compose:Gateway</c> is read from it.</param>
    /// <returns>The service collection.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static IServiceCollection AddServerPluginGateway(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<ServerPluginGatewayOptions>().Bind(configuration.GetSection(ServerPluginGatewayOptions.SectionName));
        services.AddSingleton<GatewayDirectory>();
        services.AddSingleton<IProxyConfigProvider>(provider => provider.GetRequiredService<GatewayDirectory>());
        services.AddHostedService(provider => provider.GetRequiredService<GatewayDirectory>());
        services.AddReverseProxy();
        services.AddHealthChecks().AddCheck<GatewayHealthCheck>("compose-gateway", HealthStatus.Degraded, ["compose", "gateway"]);
        return services;
    }
}
