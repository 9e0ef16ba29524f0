using Microsoft.Extensions.Logging;

namespace Compose.Gateway;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Gateway: host {Host} composes {Running} running plugin(s) (composition {Composition}), read from {Address}")]
    public static partial void HostRead(ILogger logger, string host, int running, string? composition, string address);

    [LoggerMessage(2, LogLevel.Warning, "Gateway: the catalog of host {Host} could not be read from any of its {Count} address(es): {Error}")]
    public static partial void HostUnreachable(ILogger logger, string host, int count, string error);

    [LoggerMessage(3, LogLevel.Error, "Gateway: plugin {PluginId} is composed and running on hosts {Hosts}; the id is ambiguous, so the gateway routes it to none of them. Switch it off on all but one (Compose:Plugins:{PluginId}:Enabled=false)")]
    public static partial void Ambiguous(ILogger logger, string pluginId, string hosts);

    [LoggerMessage(4, LogLevel.Warning, "Gateway: replicas of host {Host} report different compositions ({Compositions}); routing by the catalog of {Address}")]
    public static partial void ReplicasDisagree(ILogger logger, string host, string compositions, string address);

    [LoggerMessage(5, LogLevel.Information, "Gateway: routes updated: {Routes} route(s) to {Clusters} host(s)")]
    public static partial void RoutesUpdated(ILogger logger, int routes, int clusters);

    [LoggerMessage(6, LogLevel.Error, "Gateway: refreshing the hosts' catalogs failed")]
    public static partial void RefreshFailed(ILogger logger, Exception exception);

    [LoggerMessage(7, LogLevel.Warning, "Gateway: host {Host} has no addresses (Compose:Gateway:Hosts:{Host}:Addresses); it is left out")]
    public static partial void NoAddresses(ILogger logger, string host);

    [LoggerMessage(8, LogLevel.Warning, "Gateway: address {Address} of host {Host} is not an absolute http(s) URL; it is left out")]
    public static partial void BadAddress(ILogger logger, string host, string address);
}
